// Narration facts for presenter mode: computed from reducer state built from events.
import assert from "node:assert/strict";
import { test } from "node:test";
import { reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { checkpointAt, narrationLine, stragglerOf, workMs } from "../../frontend/static/js/views/narration.js";
import { isRunKey, KEY_SPEEDS, speedForKey } from "../../frontend/static/js/views/presenter.js";
import { readPage, writePage } from "../../frontend/static/js/core/urlstate.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

/** The view's part of the page keys: {presenter, hide, x, tl, at}. */
function viewParamsFrom(q) {
  const p = readPage(q);
  return { presenter: p.big === true, hide: p.hide, x: p.x, tl: p.tl, at: p.at };
}
const writeViewParams = (q, v) => writePage(q, Object.fromEntries(Object.entries(v).map(([k, x]) => [k === "presenter" ? "big" : k, x])));

let seq = 0;
const ev = (type, fields) => ({ seq: ++seq, run_id: "r", t: seq * 0.1, rank: null, step: null, type, ...fields });

function dpRun(workers = 4) {
  seq = 0;
  const evs = [ev("run_started", { config: { strategy: "data_parallel", workers }, world_size: workers, strategy: "data_parallel" })];
  for (let r = 0; r < workers; r++) evs.push(ev("worker_started", { rank: r, pid: 100 + r }));
  return evs;
}
const step = (rank, s, extra = {}) =>
  ev("step", { rank, step: s, loss: 0.5, compute_ms: 2, comm_ms: 0.5, wait_ms: 0, t_start: s * 0.2, param_checksum: 1, ...extra });

test("a rank 5× slower: named, with its factor and how long the others waited", () => {
  const evs = dpRun(4);
  for (const r of [0, 1, 2, 3]) {
    // the others sit in the all-reduce until rank 3 joins: 120.5 ms of comm, 0.5 of transfer
    evs.push(step(r, 1, r === 3 ? { compute_ms: 2, emulated_ms: 8 } : { comm_ms: 120.5 }));
  }
  const st = stragglerOf(reduceEvents(evs), 1);
  assert.equal(st.rank, 3);
  assert.equal(st.factor, 5);
  assert.equal(st.waitMs, 120);
  assert.equal(st.others, 3);
  assert.equal(st.step, 1);
});

test("no straggler: even steps, tiny waits, incomplete steps, one worker", () => {
  let evs = dpRun(3);
  for (const r of [0, 1, 2]) evs.push(step(r, 1, { comm_ms: 0.8 }));
  assert.equal(stragglerOf(reduceEvents(evs), 1), null, "even work");
  evs = dpRun(3);
  for (const r of [0, 1, 2]) evs.push(step(r, 1, r === 0 ? { compute_ms: 6 } : { comm_ms: 2.5 }));
  assert.equal(stragglerOf(reduceEvents(evs), 1), null, "3× slower but the others waited only 2 ms");
  evs = dpRun(3);
  evs.push(step(0, 1, { compute_ms: 50 }), step(1, 1, { comm_ms: 48 }));
  assert.equal(stragglerOf(reduceEvents(evs), 1), null, "rank 2 has not reported step 1");
  evs = dpRun(1);
  evs.push(step(0, 1, { compute_ms: 50 }));
  assert.equal(stragglerOf(reduceEvents(evs), 1), null, "alone");
});

test("the straggler is found per step, as the shown (scrubbed) state has it", () => {
  const evs = dpRun(2);
  evs.push(step(0, 1, { compute_ms: 30 }), step(1, 1, { comm_ms: 28 }));
  // the barrier before the step counts too (wait_ms), beyond what the straggler waited there
  evs.push(step(0, 2, { comm_ms: 20, wait_ms: 20.5 }), step(1, 2, { compute_ms: 2, emulated_ms: 40 }));
  const s = reduceEvents(evs);
  assert.equal(stragglerOf(s, 1).rank, 0);
  assert.equal(stragglerOf(s, 2).rank, 1);
  assert.equal(stragglerOf(s, 2).factor, 21);
  assert.equal(stragglerOf(s, 2).waitMs, 40);
  assert.equal(stragglerOf(reduceEvents(evs, 1), 2), null, "state as of step 1 knows nothing of step 2");
  assert.equal(workMs({ compute_ms: 2, emulated_ms: 40 }), 42);
});

test("a checkpoint event is found at its step", () => {
  const evs = dpRun(2);
  evs.push(step(0, 1), step(1, 1));
  evs.push(ev("checkpoint_saved", { rank: 0, step: 1, file: "c1.pt", bytes: 4096, duration_ms: 12.5, sha256: "x" }));
  const s = reduceEvents(evs);
  const cp = checkpointAt(s, 1);
  assert.equal(cp.bytes, 4096);
  assert.equal(checkpointAt(s, 2), null);
});

test("keys 1–9 map to speeds; other keys to none", () => {
  assert.equal(KEY_SPEEDS.length, 9);
  assert.equal(speedForKey("1"), 1);
  assert.equal(speedForKey("9"), KEY_SPEEDS[8]);
  assert.equal(speedForKey("0"), null);
  assert.equal(speedForKey("a"), null);
  for (let i = 1; i < KEY_SPEEDS.length; i++) assert.ok(KEY_SPEEDS[i] > KEY_SPEEDS[i - 1]);
});

test("view state round-trips through URL parameters and keeps unknown ones", () => {
  const q = new URLSearchParams("lesson=ring-allreduce&workers=4&foo=bar");
  writeViewParams(q, { presenter: true, hide: true, x: "time", tl: "compact", at: 12 });
  assert.equal(q.get("lesson"), "ring-allreduce");
  assert.equal(q.get("foo"), "bar");
  assert.equal(q.get("workers"), "4");
  assert.deepEqual(viewParamsFrom(q), { presenter: true, hide: true, x: "time", tl: "compact", at: 12 });
  writeViewParams(q, { presenter: false, hide: false, x: "step", tl: "wall", at: null });
  assert.equal(q.get("big"), null);
  assert.equal(q.get("hide"), null);
  assert.equal(q.get("x"), null);
  assert.equal(q.get("at"), null);
  assert.equal(q.get("tl"), null);
  assert.deepEqual(viewParamsFrom(new URLSearchParams("at=-3&x=bogus&hide=0")), { presenter: false, hide: false, x: "step", tl: "wall", at: null });
});

test("run keys are the ones that act on the lab's run", () => {
  for (const k of ["ArrowRight", "ArrowLeft", "l", "L", "1", "9"]) assert.ok(isRunKey(k), k);
  for (const k of ["p", "h", "f", "?", "Escape", "0"]) assert.ok(!isRunKey(k), k);
});

test("timeline clock round-trips through the URL; the default stays out of it", () => {
  for (const tl of ["wall", "compact", "modelled"]) {
    const q = writeViewParams(new URLSearchParams("run=abc&big=1"), { tl, x: "time" });
    assert.equal(viewParamsFrom(new URLSearchParams(q.toString())).tl, tl);
    assert.equal(q.has("tl"), tl !== "wall");
    assert.equal(q.get("run"), "abc");
  }
  assert.equal(viewParamsFrom(new URLSearchParams("tl=bogus")).tl, "wall");
  assert.equal(writeViewParams(new URLSearchParams("tl=compact"), { tl: "wall" }).toString(), "");
});

// ---------------------------------------------------------------- straggler or jitter

/** `n` steps of 4 ranks; `work(rank, step)` → extra fields of that rank's record. */
function steps(n, work, config = {}) {
  const evs = dpRun(4);
  evs[0].config = { ...evs[0].config, ...config };
  for (let s = 1; s <= n; s++) for (const r of [0, 1, 2, 3]) evs.push(step(r, s, work(r, s)));
  return reduceEvents(evs);
}
const slowOn = (rank, at) => (r, s) =>
  r === rank && (at == null || s === at) ? { compute_ms: 2, emulated_ms: 10 } : { comm_ms: 12.5 };

test("one slow step on a rank that is not slower otherwise is jitter, not a straggler", () => {
  const st = stragglerOf(steps(10, slowOn(2, 8)), 8);
  assert.equal(st.rank, 2);
  assert.equal(st.kind, "jitter");
  assert.equal(st.window, 8, "steps 1..8 are the window at step 8");
  assert.equal(stragglerOf(steps(3, slowOn(2, 3)), 3).kind, "jitter", "too few steps to say more");
});

test("a rank slower over the window is called consistently slower, though nothing was set", () => {
  const st = stragglerOf(steps(12, slowOn(2)), 12);
  assert.equal(st.kind, "slower");
  assert.equal(st.window, 10);
  assert.equal(st.factor, 6);
});

test("a straggler the run made (slowed, a slow fault, or the configured rank) is a straggler", () => {
  const slowed = (r, s) => (r === 1 && s === 4 ? { compute_ms: 2, emulated_ms: 10, slowed: true } : { comm_ms: 12.5 });
  assert.equal(stragglerOf(steps(6, slowed), 4).kind, "straggler");
  const fault = (r, s) => (r === 1 && s === 4 ? { compute_ms: 2, emulated_ms: 10, slow_factor: 6 } : { comm_ms: 12.5 });
  assert.equal(stragglerOf(steps(6, fault), 4).kind, "straggler");
  // a run stored before step records said `slowed`: its config names the straggler
  const old = steps(6, slowOn(3, 2), { straggler: "one", straggler_rank: 3 });
  assert.equal(stragglerOf(old, 2).kind, "straggler");
  assert.equal(stragglerOf(old, 2).window, null);
});

test("a run paused before its first step says so, to whoever watches it", () => {
  const evs = dpRun(2);
  evs.push(ev("control", { action: "pause" }));
  const live = reduceEvents(evs);
  assert.equal(live.status, "paused");
  const info = { mode: "live", cursor: live.lastStep };
  const ctx = (controlled, student) => ({ runId: "r", live, status: "paused", controlled: () => controlled, student });
  assert.match(narrationLine(live, info, ctx(false, true)), /instructor paused the run before its first step/);
  assert.match(narrationLine(live, info, ctx(false, false)), /paused before its first step \(by the page that started it\)/);
  assert.match(narrationLine(live, info, ctx(true, false)), /Resume \(space\)/);
  // after a step: the step it paused after
  for (const r of [0, 1]) evs.push(step(r, 1));
  evs.push(ev("control", { action: "pause" }));
  const later = reduceEvents(evs);
  assert.match(narrationLine(later, { mode: "live", cursor: 1 }, { ...ctx(false, true), live: later }), /instructor paused the run after step 1/);
});
