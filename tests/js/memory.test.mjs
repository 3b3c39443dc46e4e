// Memory per process: the reducer keeps each rank's newest `memory`, and the card puts
// the ZeRO paper's accounting beside it (fp32: 4 bytes a parameter, Adam 8).
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { applyEvent, initialState } from "../../frontend/static/js/core/reducer.js";
import { accounting, memoryView } from "../../frontend/static/js/views/memory.js";

registerStrategies();

test("ZeRO's accounting: what each stage shards", () => {
  const psi = 1000;
  assert.deepEqual(accounting({ psi, n: 4, stage: 0, adam: true }), { params: 4000, grads: 4000, optimizer: 8000 });
  assert.deepEqual(accounting({ psi, n: 4, stage: 1, adam: true }), { params: 4000, grads: 4000, optimizer: 2000 });
  assert.deepEqual(accounting({ psi, n: 4, stage: 2, adam: true }), { params: 4000, grads: 1000, optimizer: 2000 });
  assert.deepEqual(accounting({ psi, n: 4, stage: 3, adam: true }), { params: 1000, grads: 1000, optimizer: 2000 });
  assert.equal(accounting({ psi, n: 4, stage: 0, adam: false }).optimizer, 0);
});

test("the card shows each rank's newest measurement, with the accounting of the run's stage", () => {
  let s = initialState();
  let seq = 0;
  const ev = (e) => {
    s = applyEvent(s, { seq: ++seq, run_id: "r", t: 1, ...e });
  };
  assert.equal(memoryView(s), null);
  ev({ type: "run_started", strategy: "zero", num_params: 1000, config: { strategy: "zero", workers: 2, optimizer: "adam", options: { stage: "3" } } });
  const mem = { params: 2000, grads: 2000, optimizer: 4000, activations: 500, gathered_params: 4000 };
  ev({ type: "step", rank: 0, step: 1, loss: 1, memory: mem });
  ev({ type: "step", rank: 1, step: 1, loss: 1, memory: { ...mem, activations: 700 } });
  ev({ type: "step", rank: 0, step: 2, loss: 1 }); // no memory this step: the newest stays
  const v = memoryView(s);
  assert.equal(v.stage, 3);
  assert.deepEqual(v.rows.map((r) => r.activations), [500, 700]);
  assert.deepEqual(v.expected, { params: 2000, grads: 2000, optimizer: 4000 });
  assert.equal(v.max, 2000 + 2000 + 4000 + 700);
});
