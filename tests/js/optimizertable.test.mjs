// Chapter 9's comparison (表9) in the compare view: every number must come from the runs'
// events. The fixtures are small event logs whose expected values were worked out by hand
// (in the comments), with losses that are exact binary fractions so no rounding blurs
// "reached" from "not reached".
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { applyEvent, initialState } from "../../frontend/static/js/core/reducer.js";
import { readPage, writePage } from "../../frontend/static/js/core/urlstate.js";
import {
  bytesPerWorker,
  finalLoss,
  optimizerMemory,
  optimizerTable,
  parseTarget,
  seedGroups,
  seedSpread,
  toTarget,
  trailingMean,
} from "../../frontend/static/js/views/optimizertable.js";

registerStrategies();
const close = (a, b, msg) => assert.ok(Math.abs(a - b) < 1e-9, `${msg}: ${a} vs ${b}`);

function reduce(events) {
  let s = initialState();
  let seq = 0;
  for (const e of events) s = applyEvent(s, { seq: ++seq, run_id: "r", t: 0, ...e });
  return s;
}

// Three data-parallel workers, six steps.
//   mean loss by step: 0.75, 0.5, 0.25, 0.125, 0.25, 0.125 (rank r: mean + (r − 1)/16)
//   trailing mean over 3 steps: 0.75, 0.625, 0.5, 0.2917, 0.2083, 0.1667
//   → target 0.3 reached at step 4 smoothed (step 3 unsmoothed: one lucky batch)
//   times: step k starts at k (rank 0), k + 0.25 (rank 1), k + 0.5 (rank 2); it ends at
//   k + 0.5 + 0.25·r → step 4 ends at 5.0 (rank 2), training began at 1.0 → 4.0 s
//   bytes per step: rank 0 100, rank 1 300, rank 2 1000
//   → through step 4: [400, 1200, 4000] → median 1200; whole run: [600, 1800, 6000] → 1800
//   final loss (last 3 steps): (0.125 + 0.25 + 0.125) / 3 = 1/6
const MEANS = [0.75, 0.5, 0.25, 0.125, 0.25, 0.125];
const BYTES = [100, 300, 1000];

function runEvents({ optimizer = "sgd", seed = 0, lr = 0.5, optBytes = [0, 0, 0], means = MEANS } = {}) {
  const config = { strategy: "data_parallel", workers: 3, optimizer, seed, lr, options: { allreduce: "builtin" } };
  const events = [{ type: "run_started", strategy: "data_parallel", world_size: 3, config }];
  for (const rank of [0, 1, 2]) events.push({ type: "worker_started", rank, pid: rank + 1 });
  means.forEach((mean, i) => {
    const step = i + 1;
    for (const rank of [0, 1, 2]) {
      const e = { type: "step", rank, step, t_start: step + 0.25 * rank, t: step + 0.5 + 0.25 * rank, loss: mean + (rank - 1) / 16, bytes_sent: BYTES[rank] };
      if (step === 1) e.memory = { params: 4872, grads: 4872, optimizer: optBytes[rank], activations: 100 };
      events.push(e);
    }
  });
  return events;
}

test("the target is reached at the first step whose smoothed loss is at or below it", () => {
  const s = reduce(runEvents());
  const r = toTarget(s, 0.3, 3);
  assert.equal(r.step, 4);
  close(r.seconds, 4.0, "seconds since training began");
  close(r.smoothed, (0.5 + 0.25 + 0.125) / 3, "smoothed"); // steps 2-4
  // unsmoothed (a window of one step), the lucky step 3 would count
  assert.equal(toTarget(s, 0.3, 1).step, 3);
  // a lower target: step 6 (0.1667 ≤ 0.17)
  assert.equal(toTarget(s, 0.17, 3).step, 6);
});

test("not reached: null with the reason and the lowest smoothed loss", () => {
  const r = toTarget(reduce(runEvents()), 0.1, 3);
  assert.equal(r.step, null);
  assert.equal(r.reason, "notReached");
  close(r.best, 0.5 / 3, "best");
  assert.equal(r.steps, 6);
  const none = toTarget(reduce(runEvents().slice(0, 4)), 0.3, 3);
  assert.deepEqual(none, { step: null, reason: "noSteps" });
});

test("the trailing mean leaves out non-finite losses and starts with fewer steps", () => {
  assert.deepEqual(trailingMean([4, 2, NaN, 0, null], 2), [4, 3, 2, 0, 0]);
  assert.deepEqual(trailingMean([null, 1], 3), [null, 1]);
});

test("bytes per worker: the median over workers of what each sent, to the target and in all", () => {
  const s = reduce(runEvents());
  assert.deepEqual(bytesPerWorker(s, 4), { upTo: 1200, run: 1800, workers: 3 });
  assert.deepEqual(bytesPerWorker(s, null), { upTo: null, run: 1800, workers: 3 });
  assert.equal(bytesPerWorker(reduce(runEvents().slice(0, 4)), null), null);
});

test("optimizer memory: from the step events, plain SGD's 0 said as such", () => {
  const sgd = optimizerMemory(reduce(runEvents()));
  assert.deepEqual(sgd, { bytes: 0, rank: 0, step: 1, plainSgd: true });
  const mom = optimizerMemory(reduce(runEvents({ optimizer: "momentum", optBytes: [4872, 5000, 4872] })));
  assert.deepEqual(mom, { bytes: 5000, rank: 1, step: 1, plainSgd: false });
  assert.equal(optimizerMemory(reduce(runEvents().slice(0, 4))), null);
});

test("final loss: the mean of the last steps' mean losses", () => {
  const f = finalLoss(reduce(runEvents()), 3);
  close(f.value, 1 / 6, "final");
  assert.equal(f.steps, 3);
});

test("seed groups: equal settings but for the seed (key order does not matter)", () => {
  const c = { strategy: "data_parallel", seed: 0, lr: 0.5, options: { a: 1, b: 2 } };
  const configs = [c, { options: { b: 2, a: 1 }, lr: 0.5, seed: 1, strategy: "data_parallel" }, { ...c, lr: 0.1 }, null];
  assert.deepEqual(seedGroups(configs), [[0, 1], [0, 1], [2], [3]]);
});

test("the table: a seed pair shows its spread, a run alone says why it has none", () => {
  // seed 1: the same settings, slower: mean losses 0.75, 0.75, 0.5, 0.5, 0.25, 0.125
  //   trailing 3: 0.75, 0.75, 0.667, 0.583, 0.417, 0.292 → step 6; final (0.5+0.25+0.125)/3
  const slow = [0.75, 0.75, 0.5, 0.5, 0.25, 0.125];
  const runs = [runEvents(), runEvents({ seed: 1, means: slow }), runEvents({ optimizer: "momentum", optBytes: [4872, 4872, 4872] })];
  const states = runs.map(reduce);
  const configs = states.map((s) => s.config);
  const rows = optimizerTable(states, configs, 0.3, 3);
  assert.deepEqual(rows.map((r) => r.target.step), [4, 6, 4]);
  for (const i of [0, 1]) {
    assert.equal(rows[i].seeds.runs, 2);
    assert.deepEqual(rows[i].seeds.seeds, [0, 1]);
    assert.equal(rows[i].seeds.steps, 2);
    close(rows[i].seeds.loss, 0.875 / 3 - 0.5 / 3, "final-loss spread");
  }
  assert.deepEqual(rows[2].seeds, { runs: 1, reason: "noSiblings" });
  assert.equal(rows[2].memory.bytes, 4872);
  assert.equal(rows[0].bytes.upTo, 1200);
  assert.equal(rows[1].bytes.upTo, 1800); // through step 6
  // a seed that never got there: no step spread, said why; the loss spread stays
  const lower = optimizerTable(states, configs, 0.2, 3);
  assert.deepEqual([lower[0].target.step, lower[1].target.step], [6, null]); // 0.1667 ≤ 0.2; 0.292 is its lowest
  assert.equal(lower[0].seeds.steps, null);
  assert.equal(lower[0].seeds.stepsReason, "notAllReached");
  assert.ok(lower[0].seeds.loss > 0);
  assert.deepEqual(seedSpread([0], lower, configs), { runs: 1, reason: "noSiblings" });
});

test("steps without times: reached, but no wall time", () => {
  const events = runEvents().map((e) => (e.type === "step" ? { ...e, t_start: undefined } : e));
  const r = toTarget(reduce(events), 0.3, 3);
  assert.equal(r.step, 4);
  assert.equal(r.seconds, null);
});

test("the target loss: a positive number, else refused; kept in the URL", () => {
  assert.equal(parseTarget("0.3"), 0.3);
  assert.equal(parseTarget(" 1e-1 "), 0.1);
  for (const bad of ["", "abc", "0", "-1", "Infinity", "0.3x", null]) assert.equal(parseTarget(bad), null, String(bad));
  assert.equal(readPage(new URLSearchParams("target=0.25")).target, 0.25);
  for (const bad of ["-1", "0", "x", ""]) assert.equal(readPage(new URLSearchParams(`target=${bad}`)).target, null, bad);
  assert.equal(writePage(new URLSearchParams(), { target: 0.5 }).toString(), "target=0.5");
  assert.equal(writePage(new URLSearchParams("target=0.5"), { target: null }).toString(), "");
});
