// ZeRO's bytes per worker per step (frontend/static/js/strategies/zero/bytes.js) as the
// bytes card quotes them (strategies/data_parallel/linkbytes.js), against the bytes the
// engine reports for each stage (fixtures/zero-bytes.json, which tests/test_zero.py
// checks against real runs). Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { CATALOGS } from "../../frontend/static/js/core/i18n.js";
import { reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { linkBytesView } from "../../frontend/static/js/strategies/data_parallel/linkbytes.js";
import { expectedTraffic } from "../../frontend/static/js/strategies/data_parallel/slice.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { PAPER_PASSES, RING_PASSES, zeroTraffic } from "../../frontend/static/js/strategies/zero/bytes.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

const fixture = JSON.parse(readFileSync(new URL("./fixtures/zero-bytes.json", import.meta.url)));
const N = fixture.num_params * 4;
const STEPS = 3;

/** A finished ZeRO run whose step events report the fixture's bytes (no detail mode). */
function zeroRun({ stage, workers, bytes_sent, bytes_recv }) {
  const events = [];
  let seq = 0;
  const push = (e) => events.push({ seq: ++seq, run_id: "z", rank: null, step: null, t: seq * 0.001, ...e });
  push({
    type: "run_started",
    config: { strategy: "zero", options: { stage }, workers, steps: STEPS, optimizer: "adam" },
    world_size: workers,
    num_params: fixture.num_params,
    strategy: "zero",
  });
  for (let r = 0; r < workers; r++) push({ type: "worker_started", rank: r, pid: 100 + r });
  for (let k = 1; k <= STEPS; k++) {
    for (let r = 0; r < workers; r++) {
      push({ type: "step", rank: r, step: k, loss: 1 / k, comm_ms: 1, compute_ms: 1, bytes_sent: bytes_sent[r], bytes_recv: bytes_recv[r], param_checksum: k });
    }
  }
  push({ type: "run_finished", status: "finished", error: null, summary: null });
  return events;
}

test("the formula of each stage: 3, 2 and 2 times (n−1)/n·N per worker per step", () => {
  assert.deepEqual(RING_PASSES, { 1: 3, 2: 2, 3: 2 });
  for (const n of [2, 4, 8]) {
    const ring = ((n - 1) * N) / n;
    assert.equal(zeroTraffic("1", n, N).headline, 3 * ring); // all-reduce + all-gather
    assert.equal(zeroTraffic("2", n, N).headline, 2 * ring); // reduce-scatter + all-gather
    assert.equal(zeroTraffic("3", n, N).headline, 2 * ring); // all-gather + reduce-scatter
    // stage 2 is data parallelism's ring all-reduce, to the byte
    assert.equal(zeroTraffic("2", n, N).headline, expectedTraffic("ring", n, N).headline);
  }
  // where the paper counts otherwise, a second line says so: stage 3 gathers twice there
  assert.deepEqual(zeroTraffic("3", 4, N).note, { key: "zero.bytes.paper3", vars: { paper: (3 * 3 * N) / 4 } });
  assert.deepEqual(zeroTraffic("1", 4, N).note, { key: "zero.bytes.paper1", vars: { paper: (2 * 3 * N) / 4 } });
  assert.equal(zeroTraffic("2", 4, N).note, null);
  assert.deepEqual(PAPER_PASSES, { 1: 2, 2: 2, 3: 3 });
  // nothing to predict without a stage, a second worker or a size
  assert.equal(zeroTraffic("", 2, N).headline, null);
  assert.equal(zeroTraffic("2", 1, N).headline, null);
  assert.equal(zeroTraffic("2", 2, null).formula, null);
});

test("the bytes card quotes its stage's formula, and it predicts what the engine measured", () => {
  for (const c of fixture.cases) {
    const v = linkBytesView(reduceEvents(zeroRun(c)));
    const n = c.workers;
    const passes = RING_PASSES[c.stage];
    assert.equal(v.formula.key, `zero.bytes.${c.stage}`, `stage ${c.stage}`);
    assert.equal(v.headline, (passes * (n - 1) * N) / n);
    assert.equal(v.steps, STEPS);
    assert.equal(v.ring, true);
    // Together the ranks send exactly the formula's bytes: every phase moves (n−1)·N.
    const total = v.rows.reduce((a, r) => a + r.sent, 0);
    assert.equal(total, n * v.headline * STEPS, `stage ${c.stage}, ${n} workers`);
    for (const row of v.rows) {
      assert.equal(row.expectedSent, v.headline * STEPS);
      // Each rank: within a float per phase (chunks of unequal size).
      assert.ok(Math.abs(row.sent - row.expectedSent) <= 4 * passes * STEPS, JSON.stringify({ c, row }));
      assert.ok(Math.abs(row.recv - row.expectedRecv) <= 4 * passes * STEPS, JSON.stringify({ c, row }));
    }
  }
});

test("data parallelism's formula would not fit stage 1: the check can fail", () => {
  const c = fixture.cases.find((x) => x.stage === "1" && x.workers === 4);
  const dp = expectedTraffic("ring", 4, N).headline;
  assert.ok(Math.abs(c.bytes_sent[0] - dp) > 4 * RING_PASSES["1"]);
});

test("every stage's formula line is in English and Chinese, with the same placeholders", () => {
  const keys = ["zero.bytes.1", "zero.bytes.2", "zero.bytes.3", "zero.bytes.paper1", "zero.bytes.paper3", "zero.how1", "zero.how2", "zero.how3"];
  const slots = (s) => (s.match(/\{\w+\}/g) || []).sort().join();
  for (const key of keys) {
    const en = CATALOGS.en[key];
    const zh = CATALOGS.zh[key];
    assert.ok(en && zh, key);
    assert.notEqual(en, zh, key);
    assert.equal(slots(en), slots(zh), key);
    assert.match(zh, /[\u4e00-\u9fff]/, key);
  }
});
