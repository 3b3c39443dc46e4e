// The chapter's comparison (表4) in the compare view: each number must come from the
// run's events. The fixtures below are small event logs whose expected values were worked
// out by hand (in the comments), so a change in what is read or how it is summarised fails.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { applyEvent, initialState } from "../../frontend/static/js/core/reducer.js";
import { bytesPerStep, idleFraction, median, memoryPerProcess, timePerStep, tradeoffRow } from "../../frontend/static/js/views/tradeoffs.js";

registerStrategies();
const close = (a, b, msg) => assert.ok(Math.abs(a - b) < 1e-9, `${msg}: ${a} vs ${b}`);

function reduce(events) {
  let s = initialState();
  let seq = 0;
  for (const e of events) s = applyEvent(s, { seq: ++seq, run_id: "r", t: 0, ...e });
  return s;
}

// Two data-parallel workers, three steps. Step 1 is the warm-up (left out of medians).
//   rank 0: step 2 100 ms (comm 20 + wait 5 → 0.25), step 3 200 ms (40 + 10 → 0.25), 1000 B
//   rank 1: step 2  80 ms (8 → 0.1),                step 3 250 ms (50 → 0.2),      3000 B
// time per step: slowest process per step: 100, 250 → median 175 ms
// bytes per step: [1000, 1000, 3000, 3000] → 2000 B
// idle: [0.1, 0.2, 0.25, 0.25] → (0.2 + 0.25) / 2 = 0.225
// memory: rank 0 holds 400 + 400 + 0 + 200 = 1000 B, rank 1 400 + 400 + 0 + 300 = 1100 B → rank 1
const dpEvents = [
  { type: "run_started", strategy: "data_parallel", world_size: 2, config: { strategy: "data_parallel", workers: 2 } },
  { type: "worker_started", rank: 0, pid: 1 },
  { type: "worker_started", rank: 1, pid: 2 },
  { type: "step", rank: 0, step: 1, t: 0.5, t_start: 0, comm_ms: 100, wait_ms: 0, bytes_sent: 1000, loss: 1, memory: { params: 400, grads: 400, optimizer: 0, activations: 200 } },
  { type: "step", rank: 1, step: 1, t: 0.6, t_start: 0, comm_ms: 100, wait_ms: 0, bytes_sent: 3000, loss: 1, memory: { params: 400, grads: 400, optimizer: 0, activations: 300 } },
  { type: "step", rank: 0, step: 2, t: 1.1, t_start: 1.0, comm_ms: 20, wait_ms: 5, bytes_sent: 1000, loss: 1 },
  { type: "step", rank: 1, step: 2, t: 1.08, t_start: 1.0, comm_ms: 8, wait_ms: 0, bytes_sent: 3000, loss: 1 },
  { type: "step", rank: 0, step: 3, t: 2.2, t_start: 2.0, comm_ms: 40, wait_ms: 10, bytes_sent: 1000, loss: 1 },
  { type: "step", rank: 1, step: 3, t: 2.25, t_start: 2.0, comm_ms: 50, wait_ms: 0, bytes_sent: 3000, loss: 1 },
];

test("data parallel: the four quantities are read from the step events", () => {
  const s = reduce(dpEvents);
  const row = tradeoffRow(s);
  close(row.time.ms, 175, "time per step");
  assert.equal(row.time.steps, 2);
  assert.equal(row.bytes, 2000);
  close(row.idle.value, 0.225, "idle");
  assert.equal(row.idle.kind, "collectives");
  assert.deepEqual(memoryPerProcess(s), { rank: 1, step: 1, params: 400, grads: 400, optimizer: 0, activations: 300, total: 1100 });
});

test("a step that changes changes the numbers (nothing is a constant)", () => {
  const events = dpEvents.map((e) => (e.type === "step" && e.rank === 1 && e.step === 3 ? { ...e, t: 2.5, bytes_sent: 5000 } : e));
  const s = reduce(events);
  close(timePerStep(s).ms, (100 + 500) / 2, "time per step");
  assert.equal(bytesPerStep(s), (1000 + 3000) / 2); // [1000, 1000, 3000, 5000]
  // rank 1 step 3: 50 / 500 = 0.1 → [0.1, 0.1, 0.25, 0.25]
  close(idleFraction(s).value, 0.175, "idle");
});

test("the steps around the model's writing are left out: writing is not training", () => {
  // the model wrote after step 2 (a sample event): steps 2 and 3 are left out, step 4 stays
  const events = [
    ...dpEvents,
    { type: "sample", rank: 0, step: 2, prompt: "ab", text: "cd" },
    { type: "step", rank: 0, step: 4, t: 3.04, t_start: 3.0, comm_ms: 4, wait_ms: 0, bytes_sent: 1000, loss: 1 },
    { type: "step", rank: 1, step: 4, t: 3.05, t_start: 3.0, comm_ms: 10, wait_ms: 0, bytes_sent: 3000, loss: 1 },
  ];
  const s = reduce(events);
  assert.deepEqual(s.sampleSteps, [2]);
  close(timePerStep(s).ms, 50, "time per step"); // step 4 only: max(40, 50)
  close(idleFraction(s).value, (0.1 + 0.2) / 2, "idle"); // 4/40, 10/50
  // with nothing else left, the writing steps are used rather than nothing
  const fallback = timePerStep(reduce([...dpEvents, { type: "sample", rank: 0, step: 2, prompt: "a", text: "b" }]));
  close(fallback.ms, 175, "fallback");
  assert.equal(fallback.writing, true); // and the view says so
  assert.equal(timePerStep(s).writing, false);
});

test("nothing measured, nothing shown: no steps, no comm times, no memory", () => {
  const start = dpEvents.slice(0, 3);
  const none = tradeoffRow(reduce(start));
  assert.equal(none.memory, null);
  assert.equal(none.bytes, null);
  assert.equal(none.time, null);
  assert.deepEqual(none.idle, { value: null, reason: "noSteps" });
  const noComm = reduce([...start, { type: "step", rank: 0, step: 1, t: 1, t_start: 0, loss: 1 }, { type: "step", rank: 1, step: 1, t: 1, t_start: 0, loss: 1 }]);
  assert.deepEqual(idleFraction(noComm), { value: null, reason: "notMeasured" });
  assert.equal(median([]), null);
});

test("pipeline: the idle fraction is its bubble, measured from the stages' cells", () => {
  const fixture = JSON.parse(readFileSync(new URL("./fixtures/pipeline-steps.json", import.meta.url)));
  const events = [
    { type: "run_started", strategy: "pipeline", world_size: 2, config: { strategy: "pipeline", workers: 2, layers: 2, options: { schedule: "1f1b", micro_batches: 2 } } },
    { type: "worker_started", rank: 0, pid: 1 },
    { type: "worker_started", rank: 1, pid: 2 },
  ];
  // Two steps, the second the same cells one second later; the comm times would say
  // otherwise (0 ms), so the value can only be the bubble.
  for (const k of [1, 2]) {
    for (const rank of [0, 1]) {
      const cells = fixture.cells[rank].map((c) => [c[0], c[1], c[2] + k, c[3] + k]);
      events.push({ type: "step", rank, step: k, t: k + 0.9, t_start: k, comm_ms: 0, wait_ms: 0, bytes_sent: 512 * (rank + 1), loss: 1, schedule: cells });
    }
  }
  const row = tradeoffRow(reduce(events));
  assert.equal(row.idle.kind, "bubble");
  close(row.idle.value, fixture.bubble, "bubble");
  assert.ok(row.idle.value > 0);
  assert.equal(row.bytes, (512 + 1024) / 2);
  close(row.time.ms, 900, "time per step");
});

test("bytes across nodes and the modelled network: summed over processes, median over steps", () => {
  // step 2: 100 + 300 = 400 B across; step 3: 100 + 500 = 600 B → median 500 B
  // modelled: step 2 max(0.2, 0.4) = 0.4 ms, step 3 max(0.3, 0.1) = 0.3 → 0.35 ms
  const across = { 0: { 2: 100, 3: 100 }, 1: { 2: 300, 3: 500 } };
  const modelled = { 0: { 2: 0.2, 3: 0.3 }, 1: { 2: 0.4, 3: 0.1 } };
  const events = dpEvents.map((e) => (e.type === "step" && e.step > 1 ? { ...e, bytes_across_nodes: across[e.rank][e.step], comm_modelled_ms: modelled[e.rank][e.step] } : e));
  const row = tradeoffRow(reduce(events));
  assert.equal(row.across, 500);
  close(row.modelled, 0.35, "modelled");
  // a run without nodes or a network model says nothing (the rows are left out)
  const plain = tradeoffRow(reduce(dpEvents));
  assert.equal(plain.across, null);
  assert.equal(plain.modelled, null);
});
