// Fault injection: the reducer marks nodes from fault / worker_failed / nan_detected
// events, keeps a fault log, and the timeline and the log formatter read it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { faultMarkers, hasFaults, skippedSteps, workerFault } from "../../frontend/static/js/core/faults.js";
import {
  applyEvent,
  eventsBetween,
  COMMON_EVENT_TYPES,
  initialState,
  reduceEvents,
} from "../../frontend/static/js/core/reducer.js";
import { faultLines, fmtDetection } from "../../frontend/static/js/views/faultlog.js";
import { layoutSegments, skipBoxes } from "../../frontend/static/js/views/timeline.js";
import { t } from "../../frontend/static/js/core/i18n.js";
import { replicasBadge } from "../../frontend/static/js/strategies/data_parallel/topology.js";
import { timelineWindow } from "../../frontend/static/js/core/selectors.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

let seq = 0;
const ev = (type, fields) => ({ seq: ++seq, run_id: "r", t: seq * 0.1, rank: null, step: null, type, ...fields });

function dpRun(workers = 3) {
  seq = 0;
  const evs = [ev("run_started", { config: { strategy: "data_parallel", workers, nan_policy: "skip" }, world_size: workers, strategy: "data_parallel" })];
  for (let r = 0; r < workers; r++) evs.push(ev("worker_started", { rank: r, pid: 100 + r }));
  return evs;
}
const step = (rank, s, extra = {}) =>
  ev("step", { rank, step: s, loss: 0.5, compute_ms: 1, comm_ms: 0.5, wait_ms: 0, t_start: s * 0.2, param_checksum: 1, ...extra });

test("the fault events are handled", () => {
  for (const type of ["fault", "worker_failed", "nan_detected"]) assert.ok(COMMON_EVENT_TYPES.includes(type), type);
});

test("a killed worker is marked, then fails with its cause and detection time; the run fails", () => {
  const evs = dpRun(3);
  for (const s of [1, 2, 3]) for (const r of [0, 1, 2]) evs.push(step(r, s));
  evs.push(ev("fault", { rank: 1, action: "kill", factor: null, pid: 101 }));
  let s = reduceEvents(evs);
  assert.equal(workerFault(s, 1).state, "killed");
  assert.equal(workerFault(s, 0), null);
  assert.equal(s.workers[1].status, "running");
  assert.ok(hasFaults(s));
  evs.push(ev("worker_failed", { rank: 1, cause: { code: "signal", signal: "SIGKILL" }, detection_ms: 312.5, pid: 101 }));
  s = reduceEvents(evs);
  const f = workerFault(s, 1);
  assert.equal(f.state, "failed");
  assert.deepEqual(f.cause, { code: "signal", signal: "SIGKILL" });
  assert.equal(f.detectionMs, 312.5);
  assert.equal(s.workers[1].status, "failed");
  evs.push(ev("run_finished", { status: "failed", error: "rank 1 failed: killed by signal SIGKILL" }));
  s = reduceEvents(evs);
  assert.equal(s.status, "failed");
  assert.equal(s.workers[1].status, "failed");
  // the others were torn down, they did not fail
  assert.equal(s.workers[0].status, "stopped");
  assert.equal(s.workers[2].status, "stopped");
  assert.deepEqual(
    s.faultLog.map((e) => e.kind),
    ["fault", "failed", "end"],
  );
  assert.equal(s.faultLog[0].lastStep, 3);
  assert.deepEqual(faultMarkers(s), [{ t: s.faultLog[0].t, rank: 1, action: "kill", factor: null, step: 3 }]);
});

test("a failed run without a failed worker keeps every worker failed (as before)", () => {
  const evs = dpRun(2);
  evs.push(step(0, 1), step(1, 1), ev("run_finished", { status: "failed", error: "boom" }));
  const s = reduceEvents(evs);
  assert.equal(s.workers[0].status, "failed");
  assert.equal(s.workers[1].status, "failed");
  assert.ok(!hasFaults(s)); // only the "end" line: no fault panel for that
});

test("freeze, slow and corrupt mark the node; slow_factor on steps wins", () => {
  const evs = dpRun(3);
  evs.push(ev("fault", { rank: 0, action: "freeze", pid: 100 }));
  evs.push(ev("fault", { rank: 1, action: "slow", factor: 5, pid: 101 }));
  evs.push(ev("fault", { rank: 2, action: "corrupt", pid: 102 }));
  let s = reduceEvents(evs);
  assert.equal(workerFault(s, 0).state, "frozen");
  assert.equal(workerFault(s, 1).state, "slowed");
  assert.equal(workerFault(s, 1).slowFactor, 5);
  assert.equal(workerFault(s, 2).state, "corrupt");
  evs.push(step(1, 1, { slow_factor: 4 }));
  s = reduceEvents(evs);
  assert.equal(workerFault(s, 1).slowFactor, 4);
});

test("a NaN gradient: the step is skipped, the log says which rank and what happened", () => {
  const evs = dpRun(2);
  for (const s of [1, 2, 3]) for (const r of [0, 1]) evs.push(step(r, s));
  evs.push(ev("fault", { rank: 0, step: 3, action: "corrupt", pid: 100 }));
  evs.push(step(0, 4, { skipped: true }), step(1, 4, { skipped: true }));
  evs.push(ev("nan_detected", { step: 4, ranks: [0], action: "skipped" }));
  for (const r of [0, 1]) evs.push(step(r, 5));
  const s = reduceEvents(evs);
  assert.deepEqual(skippedSteps(s), [4]);
  assert.equal(s.history[0].items[3].skipped, true);
  assert.equal(s.workers[0].nan.step, 4);
  const lines = faultLines(s);
  assert.equal(lines.length, 2);
  assert.match(lines[1].text, /NaN/);
  assert.match(lines[1].text, /rank 0/);
  assert.match(lines[1].text, /skipped/);
  // the run goes on: nothing failed
  assert.equal(s.workers[0].status, "running");
  // scrubbing back before step 4 forgets the skip
  const early = reduceEvents(evs, 3);
  assert.deepEqual(skippedSteps(early), []);
  // the skip box covers the skipped step of each lane
  const win = timelineWindow(s, 30);
  const boxes = skipBoxes(win, layoutSegments(win, "wall"), new Set(skippedSteps(s)));
  assert.deepEqual(
    boxes.map((b) => [b.rank, b.step]),
    [
      [0, 4],
      [1, 4],
    ],
  );
});

test("a spread NaN is not a skip", () => {
  const evs = dpRun(2);
  evs.push(ev("nan_detected", { step: 2, ranks: [1], action: "spread" }));
  const s = reduceEvents(evs);
  assert.deepEqual(skippedSteps(s), []);
  assert.match(faultLines(s)[0].text, /spread/);
});

test("the fault log: one line per event, detection times, the reason the run failed", () => {
  const evs = dpRun(3);
  evs.push(step(0, 1), step(1, 1), step(2, 1));
  evs.push(ev("fault", { rank: 2, action: "freeze", pid: 4321 }));
  const frozen = { code: "frozen", silent_s: 3.1 };
  evs.push(ev("worker_failed", { rank: 2, cause: frozen, detection_ms: 3120, pid: 4321 }));
  evs.push(ev("run_finished", { status: "failed", error: "rank 2 (pid 4321): frozen: no heartbeat for 3.1 s", cause: { code: "rank_failed", rank: 2, pid: 4321, cause: frozen } }));
  const lines = faultLines(reduceEvents(evs));
  assert.equal(lines.length, 3);
  assert.match(lines[0].text, /SIGSTOP/);
  assert.match(lines[0].text, /4321/);
  assert.match(lines[1].text, /3\.12 s/);
  assert.match(lines[1].text, /no heartbeat/);
  assert.equal(lines[2].kind, "end");
  assert.match(lines[2].text, /rank 2 \(pid 4321\): frozen: no heartbeat for 3\.1 s/);
  assert.equal(fmtDetection(312.4), "312 ms");
  assert.equal(fmtDetection(3120), "3.12 s");
  assert.equal(fmtDetection(null), null);
});

test("a worker that crashed on its own: no detection time", () => {
  const evs = dpRun(2);
  evs.push(ev("worker_failed", { rank: 0, cause: { code: "exit", exit_code: 1 }, detection_ms: null, pid: 100 }));
  const s = reduceEvents(evs);
  assert.equal(workerFault(s, 0).detectionMs, null);
  const [line] = faultLines(s);
  assert.match(line.text, /exited unexpectedly with code 1/);
  assert.doesNotMatch(line.text, /detected after/);
});

test("the reducer stays pure and replay folding agrees", () => {
  const evs = dpRun(2);
  for (const s of [1, 2]) for (const r of [0, 1]) evs.push(step(r, s));
  evs.push(ev("fault", { rank: 1, action: "kill", pid: 101 }));
  evs.push(ev("worker_failed", { rank: 1, cause: { code: "signal", signal: "SIGKILL" }, detection_ms: 10, pid: 101 }));
  const before = reduceEvents(evs.slice(0, -1));
  const snapshot = JSON.stringify(before);
  const after = applyEvent(before, evs[evs.length - 1]);
  assert.equal(JSON.stringify(before), snapshot);
  assert.equal(after.faultLog.length, 2);
  const folded = eventsBetween(evs, 1, 2).reduce(applyEvent, reduceEvents(evs, 1));
  assert.deepEqual(folded.faultLog, reduceEvents(evs).faultLog);
  assert.deepEqual(initialState().faultLog, []);
});

test("replicas badge: identical, then only the ranks still alive, then — when the run failed", () => {
  const evs = dpRun(3);
  for (let s = 1; s <= 3; s++) for (let r = 0; r < 3; r++) evs.push(step(r, s));
  assert.equal(replicasBadge(reduceEvents(evs)).state, "same");
  evs.push(ev("worker_failed", { rank: 2, cause: { code: "signal", signal: "SIGKILL" }, detection_ms: 10 }));
  evs.push(step(0, 4), step(1, 4));
  const mid = replicasBadge(reduceEvents(evs));
  assert.equal(mid.state, "same-alive");
  assert.equal(mid.params.ranks, "0, 1");
  evs.push(ev("run_finished", { status: "failed", error: "rank 2 (pid 102): killed by signal SIGKILL", summary: {} }));
  const end = replicasBadge(reduceEvents(evs));
  assert.equal(end.state, "failed");
  assert.equal(t(end.key), "replicas: —");
  // a run that finished normally keeps its verdict
  const ok = dpRun(2);
  for (let r = 0; r < 2; r++) ok.push(step(r, 1));
  ok.push(ev("run_finished", { status: "finished", error: null, summary: {} }));
  assert.equal(replicasBadge(reduceEvents(ok)).state, "same");
});

test("replicas badge: workers with replicas of their own differ by design, a split model is said to be split", async () => {
  const { setSpecs } = await import("../../frontend/static/js/core/specs.js");
  setSpecs([
    { name: "local_sgd", replicas: false, own_replicas: true },
    { name: "pipeline", replicas: false, own_replicas: false },
  ], null);
  try {
    const run = (strategy) => {
      seq = 0;
      const evs = [ev("run_started", { config: { strategy, workers: 2 }, world_size: 2, strategy })];
      for (let r = 0; r < 2; r++) evs.push(ev("worker_started", { rank: r, pid: 100 + r }));
      return evs;
    };
    const apart = run("local_sgd");
    apart.push(step(0, 1, { param_checksum: 1 }), step(1, 1, { param_checksum: 2 }));
    const own = replicasBadge(reduceEvents(apart));
    assert.equal(own.state, "own"); // not the alarm of "differ"
    assert.match(t(own.key), /own replica/);
    apart.push(step(0, 2, { param_checksum: 3 }), step(1, 2, { param_checksum: 3 }));
    assert.equal(replicasBadge(reduceEvents(apart)).state, "same"); // just averaged
    const parts = run("pipeline");
    parts.push(step(0, 1, { param_checksum: 1 }), step(1, 1, { param_checksum: 2 }));
    assert.equal(replicasBadge(reduceEvents(parts)).key, "badge.split");
  } finally {
    setSpecs([], null);
  }
});
