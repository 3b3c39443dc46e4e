// Unit tests of the pure reducer (frontend/static/js/core/reducer.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { emptyLog, logAppend, logToArray, logTruncate } from "../../frontend/static/js/core/log.js";
import {
  applyEvent,
  eventsBetween,
  COMMON_EVENT_TYPES,
  handledEventTypes,
  initialState,
  reduceEvents,
} from "../../frontend/static/js/core/reducer.js";
import {
  completeStep,
  lossSeries,
  ranksOf,
  recordAt,
  replicasIdentical,
  stepSummary,
  timelineWindow,
} from "../../frontend/static/js/core/selectors.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

// ------------------------------------------------------------ synthetic run

/** A data-parallel run: run_started, worker_started × N, then per step one event per rank
 *  (ranks interleaved a little out of order), a boundary every 5 steps, run_finished. */
function syntheticRun({ workers = 4, steps = 12, differAt = null, finish = true } = {}) {
  const events = [];
  let seq = 0;
  const push = (e) => events.push({ seq: ++seq, run_id: "r1", rank: null, step: null, ...e });
  push({
    type: "run_started",
    t: 0,
    config: { strategy: "data_parallel", workers, steps, pace: 10, dataset: "spirals" },
    world_size: workers,
    backend: "gloo",
    num_params: 1234,
    schema_version: 1,
    strategy: "data_parallel",
    dataset: {
      name: "spirals",
      num_classes: 2,
      extent: [-1, 1, -1, 1],
      points: [
        [0.1, 0.2, 0, 0],
        [-0.3, 0.4, 1, 1],
      ],
    },
  });
  for (let r = 0; r < workers; r++) push({ type: "worker_started", t: 0.1, rank: r, pid: 1000 + r, role: "worker", device: "cpu", host: "h", shard_size: 50 });
  for (let k = 1; k <= steps; k++) {
    // rank order rotates so step k of the last rank can arrive after step k+1 of rank 0
    const order = [...Array(workers).keys()];
    for (const r of order) {
      const checksum = differAt && k >= differAt && r === 1 ? 42.5 : 42 + k / 100;
      push({
        type: "step",
        rank: r,
        step: k,
        t: k * 0.1 + 0.05,
        t_start: k * 0.1,
        loss: 1 / k + r * 0.01,
        grad_norm: 1,
        compute_ms: 2,
        comm_ms: 1.5,
        wait_ms: 0.5,
        bytes_sent: 1000,
        bytes_recv: 1000,
        param_checksum: checksum,
        param_hash: differAt && k >= differAt && r === 1 ? "bad" : `h${k}`,
        lr: 0.1,
        samples: 32,
      });
    }
    if (k % 5 === 0) push({ type: "boundary", rank: 0, step: k, t: k * 0.1 + 0.06, grid: { nx: 2, ny: 2, extent: [-1, 1, -1, 1], probs: [0, 0.5, 0.5, 1] } });
  }
  if (finish) {
    push({
      type: "run_finished",
      t: steps * 0.1 + 0.2,
      status: "finished",
      error: null,
      summary: { steps_completed: steps, wall_s: 1.4, steps_per_s: 8.5, final_loss: 0.08, events_dropped: 0 },
    });
  }
  return events;
}

/** Moves rank 3's step-k event after rank 0's step-(k+1) event, as a real stream can. */
function interleave(events, k) {
  const i = events.findIndex((e) => e.type === "step" && e.rank === 3 && e.step === k);
  const j = events.findIndex((e) => e.type === "step" && e.rank === 0 && e.step === k + 1);
  const copy = events.slice();
  const [moved] = copy.splice(i, 1);
  copy.splice(j, 0, moved); // j shifted by one after removal: lands right after rank 0's k+1
  return copy.map((e, idx) => ({ ...e, seq: idx + 1 }));
}

function deepFreeze(o) {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

// ------------------------------------------------------------ tests

test("initial state is empty", () => {
  const s = initialState();
  assert.equal(s.status, "starting");
  assert.equal(s.lastStep, 0);
  assert.deepEqual(ranksOf(s), []);
  assert.equal(completeStep(s), 0);
});

test("a full run reduces to a finished state", () => {
  const s = reduceEvents(syntheticRun());
  assert.equal(s.status, "finished");
  assert.equal(s.finished, true);
  assert.equal(s.worldSize, 4);
  assert.equal(s.backend, "gloo");
  assert.equal(s.strategy, "data_parallel");
  assert.equal(s.lastStep, 12);
  assert.equal(completeStep(s), 12);
  assert.deepEqual(ranksOf(s), [0, 1, 2, 3]);
  assert.equal(s.workers[2].pid, 1002);
  assert.equal(s.workers[2].status, "finished");
  assert.equal(s.boundary.step, 10);
  assert.equal(s.summary.final_loss, 0.08);
  assert.equal(s.dataset.points.length, 2);
});

test("applyEvent never mutates its input (deep-frozen states)", () => {
  let s = deepFreeze(initialState());
  for (const e of syntheticRun({ steps: 6 })) {
    s = applyEvent(s, deepFreeze(e));
    // history objects are fresh each time, so freeze only the outer object
    Object.freeze(s);
  }
  assert.equal(s.lastStep, 6);
});

test("older state versions do not see later appends", () => {
  const events = syntheticRun({ steps: 6 });
  const mid = reduceEvents(events.slice(0, 12));
  const midLen = mid.history[0].length;
  const midLoss = lossSeries(mid).ranks[0].x.slice();
  const full = reduceEvents(events.slice(12), null, mid);
  assert.ok(full.history[0].length > midLen);
  assert.equal(mid.history[0].length, midLen);
  assert.deepEqual(lossSeries(mid).ranks[0].x, midLoss);
  // branch from the old version: its own append must not leak into `full`
  const branch = applyEvent(mid, { seq: 999, type: "step", rank: 0, step: 77, t: 9, loss: 5 });
  assert.equal(logToArray(branch.history[0]).at(-1).step, 77);
  assert.notEqual(logToArray(full.history[0]).at(-1).step, 77);
});

test("append-only log: append, truncate, branch", () => {
  let a = emptyLog();
  for (let i = 1; i <= 3; i++) a = logAppend(a, { step: i });
  const b = logAppend(a, { step: 4 });
  const c = logAppend(a, { step: 40 }); // branch from a: copies
  assert.deepEqual(logToArray(a).map((x) => x.step), [1, 2, 3]);
  assert.deepEqual(logToArray(b).map((x) => x.step), [1, 2, 3, 4]);
  assert.deepEqual(logToArray(c).map((x) => x.step), [1, 2, 3, 40]);
  const d = logAppend(logTruncate(b, 1), { step: 9 });
  assert.deepEqual(logToArray(d).map((x) => x.step), [1, 9]);
  assert.deepEqual(logToArray(b).map((x) => x.step), [1, 2, 3, 4]);
});

test("unknown event types are ignored (forward compatibility)", () => {
  const s0 = reduceEvents(syntheticRun({ steps: 3, finish: false }));
  const s1 = applyEvent(s0, { seq: s0.lastSeq + 1, type: "fault_injected_v9", rank: 2, step: 3, t: 1, foo: 1 });
  assert.equal(s1.numUnknown, 1);
  assert.equal(s1.lastSeq, s0.lastSeq + 1);
  assert.equal(s1.lastStep, s0.lastStep);
  assert.equal(s1.status, s0.status);
  assert.deepEqual(ranksOf(s1), ranksOf(s0));
  // garbage does not throw
  assert.equal(applyEvent(s1, null), s1);
  assert.doesNotThrow(() => applyEvent(s1, { type: "step", seq: 1e9 }));
});

test("replicas identical / differ badge logic", () => {
  const same = reduceEvents(syntheticRun({ steps: 5 }));
  assert.equal(replicasIdentical(same, 5), true);
  const diff = reduceEvents(syntheticRun({ steps: 5, differAt: 4 }));
  assert.equal(replicasIdentical(diff, 3), true);
  assert.equal(replicasIdentical(diff, 4), false);
  assert.equal(replicasIdentical(diff, 99), null); // unknown: nobody reported step 99
});

test("step summary feeds the narration", () => {
  const s = reduceEvents(syntheticRun({ steps: 4 }));
  const sm = stepSummary(s, 3);
  assert.equal(sm.complete, true);
  assert.equal(sm.bytesSent, 4000);
  assert.equal(sm.commMs, 1.5);
  assert.equal(sm.identical, true);
  assert.ok(Math.abs(sm.meanLoss - (1 / 3 + 0.015)) < 1e-12);
});

test("loss series: one per rank plus the mean at complete steps only", () => {
  const events = syntheticRun({ steps: 4, finish: false });
  const partial = events.filter((e) => !(e.type === "step" && e.step === 4 && e.rank === 3));
  const s = reduceEvents(partial);
  const ls = lossSeries(s);
  assert.equal(ls.ranks.length, 4);
  assert.deepEqual(ls.ranks[0].x, [1, 2, 3, 4]);
  assert.deepEqual(ls.ranks[3].x, [1, 2, 3]);
  assert.deepEqual(ls.mean.x, [1, 2, 3]);
  assert.ok(Math.abs(ls.mean.y[0] - (1 + 0.015)) < 1e-12);
  assert.equal(completeStep(s), 3);
});

test("scrubbing: reduceEvents(events, k) shows the run as of step k", () => {
  const events = interleave(syntheticRun({ steps: 12 }), 6);
  const s6 = reduceEvents(events, 6);
  assert.equal(s6.lastStep, 6);
  assert.equal(completeStep(s6), 6); // rank 3's late step-6 event is included
  assert.equal(s6.finished, false);
  assert.equal(s6.status, "running");
  assert.equal(s6.boundary.step, 5);
  assert.ok(recordAt(s6, 3, 6));
  assert.equal(recordAt(s6, 0, 7), undefined);
  const all = reduceEvents(events, 12);
  assert.equal(all.finished, true); // run_finished comes after the last step
  assert.deepEqual(reduceEvents(events, null).lastSeq, reduceEvents(events).lastSeq);
});

test("eventsBetween: folding the difference equals reducing from scratch", () => {
  const events = interleave(syntheticRun({ steps: 12 }), 6);
  for (const [a, b] of [
    [1, 2],
    [5, 7],
    [3, 12],
  ]) {
    const inc = reduceEvents(eventsBetween(events, a, b), null, reduceEvents(events, a));
    const scratch = reduceEvents(events, b);
    assert.equal(inc.lastStep, scratch.lastStep);
    assert.equal(inc.status, scratch.status);
    assert.equal(inc.boundary?.step, scratch.boundary?.step);
    assert.deepEqual(lossSeries(inc), lossSeries(scratch));
    assert.equal(inc.numEvents, scratch.numEvents);
  }
});

test("control events drive paused / running and pace", () => {
  let s = reduceEvents(syntheticRun({ steps: 2, finish: false }));
  s = applyEvent(s, { seq: 100, type: "control", action: "pause", pace: 10, t: 1, rank: null, step: null });
  assert.equal(s.status, "paused");
  assert.equal(s.workers[0].status, "paused");
  s = applyEvent(s, { seq: 101, type: "control", action: "set_pace", pace: null, t: 1.1, rank: null, step: null });
  assert.equal(s.pace, null);
  s = applyEvent(s, { seq: 102, type: "control", action: "resume", pace: null, t: 1.2, rank: null, step: null });
  assert.equal(s.status, "running");
  s = applyEvent(s, { seq: 103, type: "run_finished", status: "stopped", error: null, summary: null, t: 2 });
  assert.equal(s.status, "stopped");
  assert.equal(s.workers[1].status, "stopped");
  // control after the end does not resurrect the run
  s = applyEvent(s, { seq: 104, type: "control", action: "resume", t: 3 });
  assert.equal(s.status, "stopped");
});

test("failed run keeps the error", () => {
  let s = reduceEvents(syntheticRun({ steps: 2, finish: false }));
  s = applyEvent(s, { seq: 200, type: "run_finished", status: "failed", error: "rank 2 died", summary: null, t: 3 });
  assert.equal(s.status, "failed");
  assert.equal(s.error, "rank 2 died");
  assert.equal(s.workers[2].status, "failed");
});

test("comm events keep only the newest step", () => {
  let s = reduceEvents(syntheticRun({ steps: 1, finish: false }));
  const comm = (seq, step, bytes) => ({ seq, type: "comm", rank: 0, step, t: 1, op: "all_reduce", src: 0, dst: null, bytes, chunk: null, algo: "builtin", duration_ms: 0.3 });
  s = applyEvent(s, comm(50, 2, 100));
  s = applyEvent(s, comm(51, 2, 50));
  assert.equal(s.comm.step, 2);
  assert.equal(s.comm.count, 2);
  assert.equal(s.comm.bytes, 150);
  s = applyEvent(s, comm(52, 1, 7)); // late, older step: counted, not shown
  assert.equal(s.comm.step, 2);
  assert.equal(s.numCommEvents, 3);
  s = applyEvent(s, comm(53, 3, 9));
  assert.equal(s.comm.step, 3);
  assert.equal(s.comm.count, 1);
});

test("rollback: a rank repeating an older step replaces the later records", () => {
  let s = reduceEvents(syntheticRun({ steps: 5, finish: false }));
  s = applyEvent(s, { seq: 500, type: "step", rank: 0, step: 3, t: 2, t_start: 1.9, loss: 0.9 });
  assert.deepEqual(logToArray(s.history[0]).map((r) => r.step), [1, 2, 3]);
  assert.equal(recordAt(s, 0, 3).loss, 0.9);
});

test("timeline window holds the last N steps with times", () => {
  const s = reduceEvents(syntheticRun({ steps: 40 }));
  const w = timelineWindow(s, 30);
  assert.equal(w.fromStep, 11);
  assert.equal(w.toStep, 40);
  assert.equal(w.lanes.length, 4);
  assert.equal(w.lanes[0].recs.length, 30);
  assert.ok(Math.abs(w.t0 - 1.1) < 1e-9);
  assert.ok(Math.abs(w.t1 - 4.05) < 1e-9);
});

test("single-process run", () => {
  const events = [
    { seq: 1, type: "run_started", t: 0, rank: null, step: null, config: { strategy: "single", workers: 1 }, world_size: 1, strategy: "single" },
    { seq: 2, type: "worker_started", t: 0.1, rank: 0, step: null, pid: 7 },
    { seq: 3, type: "step", t: 0.2, rank: 0, step: 1, loss: 0.7, compute_ms: 1, comm_ms: 0, wait_ms: 0, param_checksum: 3 },
  ];
  const s = reduceEvents(events);
  assert.equal(s.strategy, "single");
  assert.deepEqual(ranksOf(s), [0]);
  assert.equal(replicasIdentical(s, 1), true);
  assert.equal(lossSeries(s).mean.x.length, 1);
});

test("every handled type is handled (not counted unknown), by the core or by one slice", () => {
  const handled = handledEventTypes();
  for (const type of handled) {
    const s = applyEvent(initialState(), { type, seq: 1, t: 0 });
    assert.equal(s.numUnknown, 0, type);
    assert.equal(s.numEvents, 1, type);
  }
  assert.equal(applyEvent(initialState(), { type: "no_such_event", seq: 1, t: 0 }).numUnknown, 1);
  assert.equal(new Set(handled).size, handled.length, "a type is handled by the core or by one slice, never both");
  assert.ok(COMMON_EVENT_TYPES.every((type) => handled.includes(type)));
});
