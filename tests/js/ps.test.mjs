// Parameter-server reducer: staleness histogram, versions, drops, non-finite losses.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applyEvent,
  COMMON_EVENT_TYPES,
  initialState,
  reduceEvents,
  toNumber,
} from "../../frontend/static/js/core/reducer.js";
import {
  completeStep,
  lossSeries,
  serverRanks,
  stepRanks,
  stepSummary,
  timelineWindow,
} from "../../frontend/static/js/core/selectors.js";
import { psNodes, stalenessHistogram } from "../../frontend/static/js/strategies/parameter_server/slice.js";
import { recSegments } from "../../frontend/static/js/views/timeline.js";
import { faultNarration } from "../../frontend/static/js/views/faultlog.js";
import { CATALOGS, t } from "../../frontend/static/js/core/i18n.js";
import { RESTORED_SHOW_VERSIONS, restoredNote } from "../../frontend/static/js/strategies/parameter_server/pstopology.js";
import { sliceEventTypes } from "../../frontend/static/js/core/registry.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

let seq = 0;
const ev = (type, fields) => ({ seq: ++seq, run_id: "r", t: seq * 0.01, rank: null, step: null, type, ...fields });

function psRun({ servers = 1, workers = 3, mode = "async" } = {}) {
  seq = 0;
  const evs = [
    ev("run_started", {
      config: { strategy: "parameter_server", options: { servers, ps_mode: mode, staleness_bound: 2 }, workers, straggler: "one", straggler_factor: 5, straggler_rank: 0 },
      world_size: servers + workers,
      num_servers: servers,
      strategy: "parameter_server",
      num_params: 100,
    }),
  ];
  for (let r = 0; r < servers; r++) evs.push(ev("worker_started", { rank: r, role: "server", pid: 10 + r }));
  for (let r = servers; r < servers + workers; r++) evs.push(ev("worker_started", { rank: r, role: "worker", pid: 10 + r }));
  return evs;
}

const step = (rank, s, extra = {}) =>
  ev("step", { rank, step: s, loss: 0.5, compute_ms: 1, emulated_ms: 20, comm_ms: 0.5, pull_ms: 0.4, wait_ms: 0, blocked_ms: 0, read_version: 0, read_versions: [0], t_start: 0, ...extra });
const upd = (rank, version, applied) => ev("ps_update", { rank, step: version, version, applied, shard: [0, 100], param_checksum: 1.5 });

test("ps_update and gradient_dropped are handled", () => {
  // the parameter server's own events are its slice's: the core does not know them
  assert.deepEqual(sliceEventTypes().parameter_server.sort(), ["gradient_dropped", "ps_update", "server_restored"]);
  assert.ok(!COMMON_EVENT_TYPES.includes("ps_update") && !COMMON_EVENT_TYPES.includes("gradient_dropped"));
});

test("staleness histogram counts every applied gradient once (server 0), with its mean", () => {
  const evs = psRun({ servers: 2 });
  evs.push(step(2, 1), step(3, 1), step(4, 1));
  const a = (worker, rv, st) => ({ worker, step: 1, read_version: rv, staleness: st });
  for (const srv of [0, 1]) {
    evs.push(upd(srv, 1, [a(2, 0, 0)]), upd(srv, 2, [a(3, 0, 1)]), upd(srv, 3, [a(4, 0, 2)]), upd(srv, 4, [a(2, 1, 2)]));
  }
  const s = reduceEvents(evs);
  const h = stalenessHistogram(s);
  assert.deepEqual(h.bins, [0, 1, 2]);
  assert.deepEqual(h.counts, [1, 1, 2]);
  assert.equal(h.total, 4);
  assert.equal(h.mean, 5 / 4);
  assert.equal(h.max, 2);
  assert.deepEqual(serverRanks(s), [0, 1]);
  assert.deepEqual(stepRanks(s), [2, 3, 4]);
  const n = psNodes(s);
  assert.equal(n.servers[0].version, 4);
  assert.equal(n.servers[1].version, 4);
  assert.equal(n.servers[0].pushes, 4);
  assert.equal(n.servers[0].pulls, 3); // three step events: one pull of each server
  assert.equal(n.servers[0].bytesIn, 4 * 100 * 4);
  assert.equal(n.servers[0].bytesOut, 3 * 100 * 4);
});

test("versions read per worker, blocked / waited / slowed marks", () => {
  const evs = psRun({ mode: "ssp" });
  evs.push(step(1, 1, { read_version: 3, read_versions: [3], blocked_ms: 12, pull_ms: 12 }));
  evs.push(step(2, 1, { read_version: 5, read_versions: [5], slowed: true }));
  evs.push(step(3, 2, { read_version: 7, read_versions: [7], wait_ms: 4, pull_ms: 4 }));
  const s = reduceEvents(evs);
  const w = Object.fromEntries(psNodes(s).workers.map((x) => [x.rank, x]));
  assert.equal(w[1].readVersion, 3);
  assert.equal(w[1].blocked, true);
  assert.equal(w[2].readVersion, 5);
  assert.equal(w[2].slowed, true);
  assert.equal(w[3].waited, true);
  assert.equal(completeStep(s), 2, "PS: the newest iteration any worker reached");
  // the timeline lanes are the workers only
  assert.deepEqual(timelineWindow(s).lanes.map((l) => l.rank), [1, 2, 3]);
  assert.deepEqual(recSegments(s.history[1].items[0]).map(([k]) => k), ["blocked", "compute", "emulated", "push"]);
  assert.deepEqual(recSegments(s.history[3].items[0]).map(([k]) => k), ["wait", "compute", "emulated", "push"]);
  assert.deepEqual(recSegments(s.history[2].items[0]).map(([k]) => k), ["pull", "compute", "emulated", "push"]);
});

test("dropped gradients are counted per worker and per server", () => {
  const evs = psRun({ mode: "backup", workers: 3 });
  evs.push(upd(0, 1, [{ worker: 2, step: 1, read_version: 0, staleness: 0 }, { worker: 3, step: 1, read_version: 0, staleness: 0 }]));
  evs.push(ev("gradient_dropped", { rank: 0, step: 1, worker: 1, read_version: 0, version: 1 }));
  evs.push(ev("gradient_dropped", { rank: 0, step: 2, worker: 1, read_version: 1, version: 2 }));
  const s = reduceEvents(evs);
  assert.equal(s.ps.dropped, 2);
  assert.equal(s.ps.droppedBy[1], 2);
  assert.equal(stalenessHistogram(s).dropped, 2);
  assert.equal(psNodes(s).servers[0].dropped, 2);
  assert.equal(s.ps.lastDropped.worker, 1);
  // scrubbing: as of step 1 only the first drop happened
  assert.equal(reduceEvents(evs, 1).ps.dropped, 1);
});

test("NaN / Infinity losses arrive as strings and never crash the series", () => {
  assert.ok(Number.isNaN(toNumber("NaN")));
  assert.equal(toNumber("Infinity"), Infinity);
  assert.equal(toNumber("-Infinity"), -Infinity);
  const evs = psRun();
  evs.push(step(1, 1, { loss: 0.7 }), step(2, 1, { loss: "NaN" }), step(3, 1, { loss: "Infinity" }), step(1, 2, { loss: 0.6 }));
  const s = reduceEvents(evs);
  assert.equal(s.nonFinite, 2);
  const ls = lossSeries(s);
  assert.deepEqual(ls.ranks.map((r) => r.y), [[0.7, 0.6], [null], [null]]);
  assert.deepEqual(ls.mean.x, [1, 2], "PS: mean over the workers that reached each iteration");
  assert.deepEqual(ls.mean.y, [null, 0.6], "a non-finite loss makes a gap, not a number");
  assert.equal(ls.mean.xt.length, 2);
  assert.equal(stepSummary(s, 1).meanLoss, null);
  const state = applyEvent(initialState(), { seq: 1, type: "step", rank: 0, step: 1, loss: "NaN", t: 0 });
  assert.ok(Number.isNaN(state.history[0].items[0].loss));
});

function psWithRestore() {
  seq = 0;
  const evs = [
    ev("run_started", { config: { strategy: "parameter_server", options: { servers: 1, ps_mode: "sync" }, workers: 2 }, world_size: 3, num_servers: 1, strategy: "parameter_server" }),
    ev("worker_started", { rank: 0, role: "server", pid: 10 }),
    ev("worker_started", { rank: 1, role: "worker", pid: 11 }),
    ev("worker_started", { rank: 2, role: "worker", pid: 12 }),
  ];
  for (let v = 1; v <= 96; v++) evs.push(ev("ps_update", { rank: 0, version: v, applied: [{ worker: 1, read_version: v - 1, staleness: 0 }] }));
  evs.push(ev("worker_failed", { rank: 0, cause: { code: "signal", signal: "SIGKILL" }, detection_ms: 20 }));
  evs.push(ev("recovery", { policy: "restart", failed_rank: 0, from_step: 0, generation: 1 }));
  evs.push(ev("server_restored", { rank: 0, version: 96, checkpoint_version: 90, replayed: 6, torn_tail: false, refused: [] }));
  return evs;
}

test("a rebuilt server says so on its node for a few versions, and in the narration", () => {
  const evs = psWithRestore();
  let s = reduceEvents(evs);
  const note = restoredNote(s, 0, 96);
  assert.equal(note.checkpointVersion, 90);
  assert.equal(note.replayed, 6);
  assert.equal(restoredNote(s, 1, 96), null); // another rank
  assert.equal(restoredNote(s, 0, 96 + RESTORED_SHOW_VERSIONS - 1).replayed, 6);
  assert.equal(restoredNote(s, 0, 96 + RESTORED_SHOW_VERSIONS), null);
  assert.equal(t("ps.rebuilt", { cv: 90, n: 6 }), "rebuilt: checkpoint v90 + 6 replayed");
  assert.match(faultNarration(s, s.lastStep), /Server 0 .*rebuilt: checkpoint v90 \+ 6 updates replayed/);
  assert.match(CATALOGS.zh["ps.rebuilt"], /已重建：检查点 v\{cv\}/);
  // before the rebuild nothing is said
  s = reduceEvents(evs.slice(0, -1));
  assert.equal(restoredNote(s, 0, 96), null);
});

test("an async run's progress is versions / workers, in the steps it asked for", async () => {
  const { runProgress } = await import("../../frontend/static/js/core/selectors.js");
  const { reduceEvents } = await import("../../frontend/static/js/core/reducer.js");
  let seq = 0;
  const ev = (type, f) => ({ seq: ++seq, run_id: "r", t: seq * 0.01, rank: null, step: null, type, ...f });
  const config = { strategy: "parameter_server", workers: 2, steps: 3, options: { ps_mode: "async", servers: 1 } };
  const evs = [ev("run_started", { config, strategy: "parameter_server", world_size: 3, num_servers: 1 })];
  for (const r of [0, 1, 2]) evs.push(ev("worker_started", { rank: r, pid: 10 + r, role: r ? "worker" : "server" }));
  // the fast worker (rank 1) did 5 iterations, the straggler 1: 6 versions = 3 steps
  for (let i = 1; i <= 5; i++) {
    evs.push(ev("step", { rank: 1, step: i, loss: 0.5, compute_ms: 1, comm_ms: 0, read_version: i - 1 }));
    evs.push(ev("ps_update", { rank: 0, step: i, version: i, applied: [{ worker: 1, step: i, read_version: i - 1, staleness: 0 }] }));
  }
  evs.push(ev("step", { rank: 2, step: 1, loss: 0.5, compute_ms: 5, comm_ms: 0, read_version: 0 }));
  evs.push(ev("ps_update", { rank: 0, step: 6, version: 6, applied: [{ worker: 2, step: 1, read_version: 0, staleness: 5 }] }));
  const state = reduceEvents(evs);
  assert.equal(state.lastStep, 5, "the fastest worker's iteration");
  assert.equal(runProgress(state), 3);
  const sync = reduceEvents(evs.map((e) => (e.type === "run_started" ? { ...e, config: { ...config, options: { ps_mode: "sync", servers: 1 } } } : e)));
  assert.equal(runProgress(sync), sync.lastStep, "sync: one version per step");
});

test("async: the timeline shows what each worker did in the newest span of time, a straggler too", () => {
  const evs = psRun({ servers: 1, workers: 3 });
  // ranks 2 and 3 finish a step every 0.1 s; rank 1 (the 5× straggler) every 0.5 s
  for (let i = 1; i <= 60; i++) {
    for (const r of [2, 3]) evs.push({ ...step(r, i, { t_start: i * 0.1 - 0.09 }), t: i * 0.1 });
    if (i % 5 === 0) evs.push({ ...step(1, i / 5, { t_start: i * 0.1 - 0.49 }), t: i * 0.1 });
  }
  const s = reduceEvents(evs.map((e, k) => ({ ...e, seq: k + 1 })));
  const win = timelineWindow(s, 30);
  const lane = Object.fromEntries(win.lanes.map((l) => [l.rank, l.recs.map((r) => r.step)]));
  assert.deepEqual(lane[2], Array.from({ length: 30 }, (_, k) => 31 + k), "the newest 30 steps of a fast worker");
  // the straggler's steps 7..12 lie in the same 3 s (its step 6 ended at 3.0 s, before the
  // others' step 31 began), though step numbers 31..60 are far ahead of them
  assert.deepEqual(lane[1], [7, 8, 9, 10, 11, 12]);
  assert.ok(Math.abs(win.t0 - 3.01) < 1e-9 && win.t1 === 6, `${win.t0}..${win.t1}`);
});

test("the scrubber counts iterations where a step is not one worker's iteration", async () => {
  const { cursorUnit } = await import("../../frontend/static/js/core/selectors.js");
  assert.equal(cursorUnit(reduceEvents(psRun({ mode: "async" }))), "iteration");
  assert.equal(cursorUnit(reduceEvents(psRun({ mode: "ssp" }))), "iteration");
  assert.equal(cursorUnit(reduceEvents(psRun({ mode: "sync" }))), "step");
});

test("the boundary says whose model it is: the lone server's, or worker 0's pulled copy", async () => {
  const { psBoundaryNote } = await import("../../frontend/static/js/strategies/parameter_server/slice.js");
  const one = reduceEvents([...psRun({ servers: 1 }), ev("boundary", { rank: 0, step: 7, grid: { n: 1, p: "AA" } })]);
  assert.equal(one.boundary.rank, 0);
  assert.equal(psBoundaryNote(one, one.boundary), "the server's model at step 7");
  const two = reduceEvents([...psRun({ servers: 2 }), ev("boundary", { rank: 2, step: 9, grid: { n: 1, p: "AA" } })]);
  assert.match(psBoundaryNote(two, two.boundary), /worker 2 pulled at its iteration 9 .*2 servers/);
});

test("async, idle hidden: each lane packs its own iterations (no shared step slots)", async () => {
  const { layoutSegments } = await import("../../frontend/static/js/views/timeline.js");
  const evs = psRun({ servers: 1, workers: 3 });
  for (let i = 1; i <= 20; i++) {
    for (const r of [2, 3]) evs.push({ ...step(r, i, { t_start: i * 0.1 - 0.09 }), t: i * 0.1 });
    if (i % 5 === 0) evs.push({ ...step(1, i / 5, { t_start: i * 0.1 - 0.49, emulated_ms: 150 }), t: i * 0.1 });
  }
  const s = reduceEvents(evs.map((e, k) => ({ ...e, seq: k + 1 })));
  const win = timelineWindow(s, 30);
  assert.equal(win.lockstep, false);
  const layout = layoutSegments(win, "compact");
  for (const rank of [1, 2, 3]) {
    const segs = layout.segs.filter((g) => g.rank === rank);
    assert.ok(segs.length > 0);
    assert.equal(segs[0].x0, 0, `rank ${rank} starts at the window's start`);
    for (let i = 1; i < segs.length; i++) assert.equal(segs[i].x0, segs[i - 1].x1, "back to back");
  }
  // the straggler's 4 iterations of 150 ms work outlast 20 fast ones of ~22 ms
  const end = (rank) => Math.max(...layout.segs.filter((g) => g.rank === rank).map((g) => g.x1));
  assert.ok(end(1) > end(2), `${end(1)} vs ${end(2)}`);
});
