// Elastic recovery in the reducer (shrink, rejoin, continue), link and scheduled faults,
// the fault log's lines, and the Chinese translation of failure causes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { faultMarkers, recoveryList } from "../../frontend/static/js/core/faults.js";
import { applyEvent, initialState, reduceEvents } from "../../frontend/static/js/core/reducer.js";
import {
  completeStep,
  isGone,
  isJoining,
  lossSeries,
  replicasIdentical,
  ringOrder,
} from "../../frontend/static/js/core/selectors.js";
import { faultLines, faultNarration, nodeMark, translateCause } from "../../frontend/static/js/views/faultlog.js";
import { shapeFault } from "../../frontend/static/js/views/formrows.js";
import { faultsFromUrl, faultsToUrl } from "../../frontend/static/js/core/urlstate.js";
import { lostBands } from "../../frontend/static/js/views/timeline.js";
import { failureAndRecoveryLines } from "../../frontend/static/js/views/measured.js";
import { workerFault } from "../../frontend/static/js/core/faults.js";
import { CATALOGS } from "../../frontend/static/js/core/i18n.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

let seq = 0;
const ev = (type, fields) => ({ seq: ++seq, run_id: "r", t: seq * 0.1, rank: null, step: null, type, ...fields });
const step = (rank, s) => ev("step", { rank, step: s, loss: 1 / s, compute_ms: 1, comm_ms: 0.5, wait_ms: 0, t_start: seq * 0.1, param_checksum: s, param_hash: `h${s}` });

/** 4 workers, shrink: rank 2 killed after step 3, the others go on; rank 2 rejoins after 5. */
function shrinkRun() {
  seq = 0;
  const out = [ev("run_started", { config: { strategy: "data_parallel", workers: 4, recovery: "shrink" }, world_size: 4, strategy: "data_parallel" })];
  for (let r = 0; r < 4; r++) out.push(ev("worker_started", { rank: r, pid: 100 + r, role: "worker" }));
  for (let s = 1; s <= 3; s++) for (let r = 0; r < 4; r++) out.push(step(r, s));
  out.push(ev("fault", { rank: 2, step: 3, action: "kill", pid: 102, scheduled: true }));
  out.push(ev("worker_failed", { rank: 2, cause: { code: "signal", signal: "SIGKILL" }, detection_ms: 12, pid: 102 }));
  out.push(ev("recovery", { rank: 2, step: 3, policy: "shrink", failed_rank: 2, from_step: 3, lost_steps: null, generation: 1, refused: [], members: [0, 1, 3] }));
  return out;
}

test("shrink: the worker that left is gone, the ring is the members, no step is lost", () => {
  const events = shrinkRun();
  for (let s = 4; s <= 5; s++) for (const r of [0, 1, 3]) events.push(step(r, s));
  const st = reduceEvents(events);
  assert.equal(isGone(st, 2), true);
  assert.deepEqual(ringOrder(st), [0, 1, 3]);
  assert.equal(completeStep(st), 5, "the others are not waited for");
  assert.equal(replicasIdentical(st, 5), true);
  assert.equal(replicasIdentical(st, 2), true, "before the failure all four compared");
  assert.deepEqual(lossSeries(st).mean.x, [1, 2, 3, 4, 5]);
  assert.equal(st.history[0].length, 5, "no history truncated");
  const [rec] = recoveryList(st);
  assert.equal(rec.policy, "shrink");
  assert.equal(rec.lostSteps, null);
  // the timeline hatches lost steps only for restarts
  assert.deepEqual(lostBands(recoveryList(st), { lo: 0, hi: 10 }, "wall"), []);
  // the node shows "left", the fault is a scheduled one
  assert.deepEqual(nodeMark(workerFault(st, 2)), { glyph: "⊘", state: "left" });
  const lines = faultLines(st);
  assert.deepEqual(lines.map((l) => l.kind), ["fault", "failed", "recovery"]);
  assert.equal(lines[0].scheduled, true);
  assert.match(lines[0].text, /scheduled/);
  assert.equal(lines[2].policy, "shrink");
  assert.match(lines[2].text, /ranks 0, 1, 3 go on as a group of 3, no step lost/);
  assert.match(faultNarration(st, 4), /Rank 2 died: ranks 0, 1, 3 go on as a group of 3, no step lost/);
});

test("shrink, then the run finishes: the worker that left stays left, the views reach the end", () => {
  const events = shrinkRun();
  for (let s = 4; s <= 6; s++) for (const r of [0, 1, 3]) events.push(step(r, s));
  events.push(ev("run_finished", { status: "finished", summary: {} }));
  const st = reduceEvents(events);
  assert.equal(st.workers[2].status, "left");
  assert.equal(st.workers[0].status, "finished");
  assert.equal(completeStep(st), 6, "not the step the worker that left last reported");
  assert.deepEqual(lossSeries(st).mean.x, [1, 2, 3, 4, 5, 6]);
});

test("rejoin: joining until its first step, then live again in the ring's order", () => {
  const events = shrinkRun();
  for (let s = 4; s <= 5; s++) for (const r of [0, 1, 3]) events.push(step(r, s));
  events.push(ev("recovery", { rank: 2, step: 5, policy: "rejoin", failed_rank: 2, from_step: 5, lost_steps: null, generation: 2, refused: [], members: [0, 1, 3, 2] }));
  let st = reduceEvents(events);
  assert.equal(isGone(st, 2), false);
  assert.equal(isJoining(st, 2), true);
  assert.deepEqual(ringOrder(st), [0, 1, 3, 2]);
  st = applyEvent(st, ev("worker_started", { rank: 2, pid: 202, role: "worker" }));
  assert.equal(isJoining(st, 2), true, "still joining: no step yet");
  for (const r of [0, 1, 3]) st = applyEvent(st, step(r, 6));
  assert.equal(completeStep(st), 6, "the newcomer is not waited for before its first step");
  assert.match(faultNarration(st, 6), /Rank 2 is rejoining/);
  for (const r of [0, 1, 3, 2]) st = applyEvent(st, step(r, 7));
  assert.equal(isJoining(st, 2), false);
  assert.equal(st.workers[2].status, "running");
  assert.equal(st.workers[2].pid, 202);
  assert.equal(completeStep(st), 7);
  assert.equal(replicasIdentical(st, 7), true);
  assert.equal(replicasIdentical(st, 6), true, "rank 2 was away at step 6");
  assert.match(faultLines(st).at(-1).text, /rejoined: the ring is now 0 → 1 → 3 → 2/);
  assert.match(faultNarration(st, 7), /Rank 2 is back: the ring is 0 → 1 → 3 → 2 \(4 workers\)/);
});

test("continue (parameter server): members without the servers; link and not-applied faults", () => {
  seq = 0;
  let st = reduceEvents([
    ev("run_started", { config: { strategy: "parameter_server", options: { servers: 1, ps_mode: "async" }, workers: 3, recovery: "continue" }, world_size: 4, num_servers: 1, strategy: "parameter_server" }),
    ev("worker_failed", { rank: 2, cause: { code: "frozen", silent_s: 4.0 }, detection_ms: 4000 }),
    ev("recovery", { rank: 2, step: 4, policy: "continue", failed_rank: 2, from_step: 4, members: [0, 1, 3] }),
  ]);
  assert.equal(isGone(st, 2), true);
  assert.match(faultLines(st).at(-1).text, /worker 2 left behind: workers 1, 3 go on/);
  st = applyEvent(st, ev("fault", { action: "delay", src: 0, dst: 1, ms: 50, step: 5 }));
  st = applyEvent(st, ev("fault", { action: "rejoin", rank: 3, scheduled: true, not_applied: "rank 3 is running" }));
  const lines = faultLines(st);
  assert.match(lines.at(-2).text, /link 0→1 · \+50 ms per message/);
  assert.equal(lines.at(-1).notApplied, true);
  assert.match(lines.at(-1).text, /not applied: rank 3 is running/);
  assert.equal(st.workers[3], undefined, "a fault not applied changes no worker");
  const marks = faultMarkers(st);
  assert.deepEqual(marks.map((m) => [m.action, m.src, m.dst]), [["delay", 0, 1]]);
});

/** The catalog lookup for one language, from the merged catalogs (strategies registered). */
function catalog(lang) {
  const cat = CATALOGS[lang];
  return (key, params = {}) => (cat[key] ?? key).replace(/\{(\w+)\}/g, (x, n) => (n in params ? String(params[n]) : x));
}

test("failure causes: codes rendered in Chinese with their fields; a stored string as it came", () => {
  const zh = catalog("zh");
  const en = catalog("en");
  const signal = { code: "signal", signal: "SIGKILL" };
  const cases = [
    [signal, "被信号 SIGKILL 杀死", "killed by signal SIGKILL"],
    [{ code: "frozen", silent_s: 4.0 }, "冻结：已 4.0 秒没有心跳", "frozen: no heartbeat for 4.0 s"],
    [{ code: "exit", exit_code: 1 }, "意外退出，退出码为 1", "exited unexpectedly with code 1"],
    [{ code: "link_drop", src: 0, dst: 1 }, "等待进程 0 的消息超时：这条消息在链路 0→1 上被丢弃了", "timed out waiting for a message from rank 0, which was dropped on the link 0→1"],
    [{ code: "exception", type: "RuntimeError", message: "Connection closed by peer" }, "出错：RuntimeError：Connection closed by peer", "RuntimeError: Connection closed by peer"],
    [{ code: "rank_failed", rank: 2, pid: 4242, cause: signal }, "进程 2（pid 4242）：被信号 SIGKILL 杀死", "rank 2 (pid 4242): killed by signal SIGKILL"],
  ];
  for (const [cause, want, english] of cases) {
    assert.equal(translateCause(cause, zh), want);
    assert.equal(translateCause(cause, en), english, "the English catalog says what the engine's cause_text says");
  }
  // a run stored before causes had codes: its sentence, as it came
  assert.equal(translateCause("killed by signal SIGKILL", zh), "killed by signal SIGKILL");
  assert.equal(translateCause(null, zh), "?");
});

test("the schedule round-trips through the URL; a fault keeps its values across actions", () => {
  const faults = [
    { after_step: 10, action: "kill", rank: 2 },
    { after_step: 5, action: "slow", rank: 1, factor: 3 },
    { after_step: 8, action: "delay", src: 0, dst: 1, ms: 50 },
    { after_step: 9, action: "drop", src: 1, dst: 2 },
    { after_step: 25, action: "rejoin", rank: 2 },
  ];
  const s = faultsToUrl(faults);
  assert.equal(s, "10:kill:2,5:slow:1:3,8:delay:0-1:50,9:drop:1-2,25:rejoin:2");
  assert.deepEqual(faultsFromUrl(s), faults);
  assert.deepEqual(shapeFault({ after_step: 4, rank: 1 }, "delay"), { after_step: 4, action: "delay", src: 0, dst: 1, ms: 50 });
  assert.deepEqual(shapeFault({ after_step: 4, rank: 1, src: 0, dst: 1 }, "slow"), { after_step: 4, action: "slow", rank: 1, factor: 5 });
});

test("a fired scheduled fault (marked by the engine) leaves the pending schedule", () => {
  seq = 0;
  let st = reduceEvents([
    ev("run_started", { config: { strategy: "data_parallel", workers: 3, faults: [{ after_step: 4, action: "kill", rank: 1 }] }, world_size: 3 }),
    step(0, 3),
    ev("fault", { rank: 1, action: "kill", pid: 9 }), // a kill from the menu before step 4
    step(0, 4),
    ev("fault", { rank: 1, action: "kill", pid: 9, scheduled: true }), // the scheduled one
  ]);
  const lines = faultLines(st);
  assert.deepEqual(lines.map((l) => l.scheduled), [false, true]);
  assert.deepEqual(st.pendingSchedule, []);
});

test("lesson reveal: recoveries are named by their policy, causes translated, 进程 in Chinese", () => {
  const zh = catalog("zh");
  const log = [
    { kind: "failed", rank: 2, cause: { code: "signal", signal: "SIGKILL" }, detectionMs: 120 },
    { kind: "recovery", policy: "shrink" },
    { kind: "recovery", policy: "shrink" },
  ];
  const en = failureAndRecoveryLines(log);
  assert.ok(en.some((l) => /shrank/.test(l) && /2×/.test(l)), en.join(" | "));
  assert.ok(!en.some((l) => /checkpoint \d/.test(l) || /from a checkpoint/.test(l)), en.join(" | "));
  const z = failureAndRecoveryLines(log, zh);
  assert.ok(z[0].startsWith("进程 2"), z[0]);
  assert.ok(!/SIGKILL/.test(z[0]) || /信号/.test(z[0]), z[0]);
  assert.ok(!z.join("").includes("rank"), z.join(" | "));
  const restart = failureAndRecoveryLines([{ kind: "recovery", policy: "restart" }, { kind: "restored" }]);
  assert.ok(restart.some((l) => /checkpoint 1×/.test(l)), restart.join(" | "));
  assert.ok(restart.some((l) => /parameter server was rebuilt 1×/.test(l)), restart.join(" | "));
});
