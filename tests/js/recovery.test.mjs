// Checkpoints and restart-from-checkpoint recovery: the reducer keeps both lists, the
// re-executed steps replace the lost ones, nodes show the new pids; tail latency numbers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkpointList, isRestarting, recoveryList, workerFault } from "../../frontend/static/js/core/faults.js";
import { applyEvent, initialState, reduceEvents } from "../../frontend/static/js/core/reducer.js";
import {
  completeStep,
  lossSeries,
  percentile,
  recordAt,
  stepTimeMs,
  tailLatency,
  tailLatencyApplies,
} from "../../frontend/static/js/core/selectors.js";
import { faultLines, recoveryText } from "../../frontend/static/js/views/faultlog.js";
import { checkpointXs, layoutSegments, lostBands } from "../../frontend/static/js/views/timeline.js";
import { timelineWindow } from "../../frontend/static/js/core/selectors.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

let seq = 0;
const ev = (type, fields) => ({ seq: ++seq, run_id: "r", t: seq * 0.1, rank: null, step: null, type, ...fields });
const step = (rank, s, extra = {}) =>
  ev("step", { rank, step: s, loss: 1 / s, compute_ms: 1, comm_ms: 0.5, wait_ms: 0, t_start: seq * 0.1, param_checksum: s, ...extra });

/** 3 ranks, checkpoints every 5, rank 1 killed after step 13, restart from 10. */
function recoveredRun({ upTo = 20 } = {}) {
  seq = 0;
  const evs = [ev("run_started", { config: { strategy: "data_parallel", workers: 3, checkpoint_every: 5, recovery: "restart" }, world_size: 3, strategy: "data_parallel" })];
  for (let r = 0; r < 3; r++) evs.push(ev("worker_started", { rank: r, pid: 100 + r }));
  for (let s = 1; s <= 13; s++) {
    for (let r = 0; r < 3; r++) evs.push(step(r, s, { loss: 5 + s }));
    if (s % 5 === 0) evs.push(ev("checkpoint_saved", { rank: 0, step: s, file: `step-${s}.pt`, bytes: 6441, duration_ms: 3.5 }));
  }
  evs.push(ev("fault", { rank: 1, action: "kill", factor: null, pid: 101 }));
  evs.push(ev("worker_failed", { rank: 1, cause: { code: "signal", signal: "SIGKILL" }, detection_ms: 8.4, pid: 101 }));
  evs.push(ev("recovery", { rank: 1, step: 10, policy: "restart", failed_rank: 1, from_step: 10, lost_steps: [11, 13], generation: 1, refused: [] }));
  const restart = evs.length;
  for (let r = 0; r < 3; r++) evs.push(ev("worker_started", { rank: r, pid: 200 + r }));
  for (let s = 11; s <= upTo; s++) for (let r = 0; r < 3; r++) evs.push(step(r, s));
  evs.push(ev("run_finished", { status: "finished", summary: { steps_completed: upTo } }));
  return { evs, restart };
}

test("checkpoints and recoveries are kept; re-executed steps replace the lost ones", () => {
  const { evs } = recoveredRun();
  const s = reduceEvents(evs);
  assert.deepEqual(checkpointList(s).map((c) => c.step), [5, 10]);
  assert.equal(checkpointList(s)[0].durationMs, 3.5);
  const recs = recoveryList(s);
  assert.equal(recs.length, 1);
  assert.deepEqual(recs[0].lostSteps, [11, 13]);
  assert.equal(recs[0].fromStep, 10);
  assert.equal(recs[0].generation, 1);
  assert.ok(recs[0].lostT1 > recs[0].lostT0);
  assert.equal(recs[0].lostRecs.length, 3); // every rank lost steps 11..13
  // one record per (rank, step), and the newer one wins
  for (let r = 0; r < 3; r++) {
    const steps = s.history[r].items.slice(0, s.history[r].length).map((x) => x.step);
    assert.deepEqual(steps, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(recordAt(s, r, 12).loss, 1 / 12);
    assert.equal(recordAt(s, r, 9).loss, 5 + 9);
  }
  const ls = lossSeries(s);
  assert.equal(ls.mean.x.length, 20);
  assert.equal(ls.mean.y[11], 1 / 12);
  assert.equal(completeStep(s), 20);
  assert.equal(s.status, "finished");
});

test("during the restart nodes are 'restarting', then show their new pids and are not red", () => {
  const { evs, restart } = recoveredRun();
  const mid = reduceEvents(evs.slice(0, restart));
  for (let r = 0; r < 3; r++) assert.ok(isRestarting(mid, r));
  assert.deepEqual(mid.restarting.pending, [0, 1, 2]);
  assert.equal(workerFault(mid, 1), null); // not red: the old process is gone
  assert.equal(completeStep(mid), 10); // the lost steps left the histories
  const some = reduceEvents(evs.slice(0, restart + 2));
  assert.deepEqual(some.restarting.pending, [2]);
  assert.ok(!isRestarting(some, 0) && isRestarting(some, 2));
  const s = reduceEvents(evs);
  assert.equal(s.restarting, null);
  assert.deepEqual([0, 1, 2].map((r) => s.workers[r].pid), [200, 201, 202]);
  assert.equal(workerFault(s, 1), null);
  // the fault log keeps the whole story
  assert.deepEqual(s.faultLog.map((e) => e.kind), ["fault", "failed", "recovery"]);
  const lines = faultLines(s);
  assert.equal(lines[2].kind, "recovery");
  assert.match(lines[2].text, /restarted all workers from step 10 \(generation 1\); steps 11–13 re-executed/);
});

test("refused checkpoints are named in the fault log; a restart from the start says so", () => {
  const text = recoveryText({ fromStep: 10, generation: 2, lostSteps: [11, 15], refused: ["step-15.pt: sha256 mismatch"] });
  assert.match(text, /generation 2/);
  assert.match(text, /steps 11–15 re-executed/);
  assert.match(text, /refused damaged checkpoints: step-15\.pt: sha256 mismatch/);
  assert.match(recoveryText({ fromStep: 0, generation: 1, lostSteps: [1, 3], refused: [] }), /from the start/);
});

test("scrubbing across a recovery works at every step and never duplicates a step", () => {
  const { evs } = recoveredRun();
  for (let k = 1; k <= 20; k++) {
    const s = reduceEvents(evs, k);
    for (let r = 0; r < 3; r++) {
      const log = s.history[r];
      const steps = log.items.slice(0, log.length).map((x) => x.step);
      assert.equal(new Set(steps).size, steps.length, `step ${k} rank ${r}`);
      assert.ok(steps.every((x) => x <= k));
    }
  }
});

test("the timeline places a lost-steps band and checkpoint flags", () => {
  const { evs } = recoveredRun();
  const s = reduceEvents(evs);
  const win = timelineWindow(s, 30);
  const layout = layoutSegments(win, "wall");
  const bands = lostBands(recoveryList(s), layout, "wall");
  assert.equal(bands.length, 1);
  assert.ok(bands[0].x1 > bands[0].x0);
  const cps = checkpointXs(checkpointList(s), layout, "wall");
  assert.deepEqual(cps.map((c) => c.cp.step), [5, 10]);
  const compact = layoutSegments(win, "compact");
  assert.equal(lostBands(recoveryList(s), compact, "compact").length, 1);
});

test("tail latency: per-step max and median over ranks, p50 and p99 of the max", () => {
  seq = 0;
  let s = applyEvent(initialState(), ev("run_started", { world_size: 3, strategy: "data_parallel", config: { strategy: "data_parallel", workers: 3 } }));
  // rank 2 is slow on step 10: 100 ms; otherwise each rank takes 10 + rank ms
  for (let k = 1; k <= 10; k++) {
    for (let r = 0; r < 3; r++) {
      const compute = k === 10 && r === 2 ? 97 : 7 + r;
      s = applyEvent(s, ev("step", { rank: r, step: k, compute_ms: compute, comm_ms: 2, wait_ms: 1, emulated_ms: 0 }));
    }
  }
  assert.ok(tailLatencyApplies(s));
  const tl = tailLatency(s);
  assert.equal(tl.steps, 10);
  assert.deepEqual(tl.max.slice(0, 3), [12, 12, 12]);
  assert.deepEqual(tl.median.slice(0, 3), [11, 11, 11]);
  assert.equal(tl.max[9], 100);
  assert.equal(tl.median[9], 11);
  assert.equal(tl.p50, 12);
  assert.equal(tl.p99, 100);
  assert.ok(tl.p99 >= tl.p50);
  // parameter-server worker: pull + compute + emulated + push
  assert.equal(stepTimeMs({ pull_ms: 2, compute_ms: 3, emulated_ms: 10, comm_ms: 1, wait_ms: 50 }), 16);
  assert.equal(percentile([5, 1, 3], 50), 3);
  assert.equal(percentile([], 99), null);
});
