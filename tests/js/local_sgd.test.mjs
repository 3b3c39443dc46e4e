// Local SGD's slice: which steps synced, each worker's drift at the syncs, each worker's
// checksum minus the mean per step (apart between syncs, zero at each), the bytes each
// worker sent against data parallelism's, the narration, run words and a lesson's lines
// — from hand-built step events folded through the core reducer.
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { applyEvent, initialState, reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { frontendOf } from "../../frontend/static/js/core/registry.js";
import { bytesVsDataParallel, deviations, replicaView, stepSynced, syncDrifts } from "../../frontend/static/js/strategies/local_sgd/slice.js";
import { replicaTraces, syncShapes } from "../../frontend/static/js/strategies/local_sgd/replicas.js";

registerStrategies();

const N = 3;
const H = 4;
const SYNC_BYTES = 3248; // a builtin all-reduce of the model, as counted per worker
// each worker's replica walks off in its own direction within a round, and is the mean
// again after a sync (the same number on every worker)
const checksum = (r, k) => (k % H === 0 ? -5 + 0.01 * k : -5 + 0.01 * k + (r - 1) * 0.1 * (k % H) + (r === 2 ? 0.05 : 0));
const drift = (r, k) => 0.1 * (r + 1) + k / 1000;

/** A 3-worker local SGD run, H = 4: each rank's step event (ranks out of order), a sync
 *  (synced, drift, bytes) every 4th step and on the last. */
function runEvents(steps, options = { sync_every: H }) {
  const out = [];
  let seq = 0;
  const push = (e) => out.push({ seq: ++seq, run_id: "r", t: seq / 100, ...e });
  push({ type: "run_started", rank: null, step: null, strategy: "local_sgd", world_size: N, config: { strategy: "local_sgd", workers: N, steps, options } });
  for (let r = 0; r < N; r++) push({ type: "worker_started", rank: r, step: null, pid: 100 + r });
  for (let k = 1; k <= steps; k++) {
    const synced = k % H === 0 || k === steps;
    for (const r of [1, 2, 0]) {
      const e = { type: "step", rank: r, step: k, loss: 0.7 - 0.01 * k, bytes_sent: synced ? SYNC_BYTES : 0, param_checksum: checksum(r, k), synced };
      if (synced) e.drift = drift(r, k);
      push(e);
    }
  }
  push({ type: "run_finished", rank: null, step: null, status: "finished" });
  return out;
}

test("pure pieces: deviations from the mean, bytes against data parallelism", () => {
  assert.deepEqual(deviations([1, 2, 6]), [-2, -1, 3]);
  assert.deepEqual(deviations([1, null, 3]), [-1, null, 1]); // a missing worker is left out
  const b = bytesVsDataParallel([0, 0, 0, 100, 0, 0, 0, 100], [100, 100], 8);
  assert.deepEqual(b, { sent: 200, perSync: 100, dp: 800, ratio: 4 });
  // no sync measured yet: no data parallelism's bytes invented
  assert.deepEqual(bytesVsDataParallel([0, 0], [], 2), { sent: 0, perSync: null, dp: null, ratio: null });
});

test("16 steps, H = 4: syncs at 4, 8, 12, 16; the replicas apart between, one model at each", () => {
  const s = reduceEvents(runEvents(16));
  const v = replicaView(s);
  assert.equal(v.step, 16);
  assert.equal(v.h, H);
  assert.deepEqual(v.syncs, [4, 8, 12, 16]);
  assert.equal(stepSynced(s, 4), true);
  assert.equal(stepSynced(s, 5), false);
  for (let k = 1; k <= 16; k++) {
    const sums = [0, 1, 2].map((r) => checksum(r, k));
    const mean = sums.reduce((a, b) => a + b, 0) / 3;
    for (const r of [0, 1, 2]) assert.ok(Math.abs(v.dev[r][k - 1] - (sums[r] - mean)) < 1e-12, `rank ${r} step ${k}`);
  }
  // at a sync every deviation is zero; between syncs they are not
  for (const k of v.syncs) for (const r of [0, 1, 2]) assert.equal(v.dev[r][k - 1], 0);
  assert.ok(Math.abs(v.dev[2][2]) > 0.1);
  // each worker's drift, at the syncs only
  assert.deepEqual(v.drift[1], [4, 8, 12, 16].map((k) => ({ step: k, value: drift(1, k) })));
  assert.equal(v.syncedNow, true);
  assert.ok(Math.abs(v.lastDrift - (drift(0, 16) + drift(1, 16) + drift(2, 16)) / 3) < 1e-12);
  assert.deepEqual(syncDrifts(s).map((x) => x.step), [4, 8, 12, 16]);
  // the bytes: 4 syncs sent, data parallelism would have sent a sync's bytes 16 times
  for (const b of v.bytes) assert.deepEqual([b.sent, b.perSync, b.dp, b.ratio], [4 * SYNC_BYTES, SYNC_BYTES, 16 * SYNC_BYTES, 4]);
});

test("the chart's traces and sync markers", () => {
  const v = replicaView(reduceEvents(runEvents(16)));
  const traces = replicaTraces(v, { worker: (r) => `w${r}`, step: "step", sync: "sync" });
  const dev = traces.filter((x) => x.meta.kind === "deviation");
  assert.deepEqual(dev.map((x) => x.meta.rank), [0, 1, 2]);
  for (const x of dev) assert.equal(x.x.length, 16); // a point per step per worker
  const d = traces.filter((x) => x.meta.kind === "drift");
  assert.deepEqual(d[0].x, [4, 8, 12, 16]);
  assert.ok(d.every((x) => x.yaxis === "y2"));
  assert.deepEqual(syncShapes(v.syncs).map((x) => x.x0), [4, 8, 12, 16]);
  // H = 1 over a long run: no wall of lines (the drift markers still mark every sync)
  assert.equal(syncShapes(Array.from({ length: 61 }, (_, i) => i + 1)).length, 0);
  assert.equal(syncShapes(Array.from({ length: 60 }, (_, i) => i + 1)).length, 60);
});

test("a short last round syncs too; live, replayed and scrubbed agree", () => {
  const evs = runEvents(10);
  const live = evs.reduce(applyEvent, initialState());
  assert.deepEqual(replicaView(live).syncs, [4, 8, 10]);
  assert.deepEqual(replicaView(reduceEvents(evs)), replicaView(live));
  const at6 = replicaView(reduceEvents(evs, 6));
  assert.equal(at6.step, 6);
  assert.deepEqual(at6.syncs, [4]);
  assert.equal(at6.syncedNow, false);
  assert.deepEqual(at6.dev[0], replicaView(live).dev[0].slice(0, 6));
  // before the other ranks' step 7, the view shows step 6 (the newest complete step)
  let s = initialState();
  const cut = evs.findIndex((e) => e.type === "step" && e.step === 7 && e.rank === 1);
  for (const e of evs.slice(0, cut + 1)) s = applyEvent(s, e);
  assert.equal(replicaView(s).step, 6);
  // before any sync: no bytes against data parallelism
  assert.ok(replicaView(reduceEvents(evs, 3)).bytes.every((b) => b.dp === null && b.sent === 0));
});

test("a restarted rank that steps back forgets the syncs it replays", () => {
  const evs = runEvents(8);
  let s = evs.reduce(applyEvent, initialState());
  for (const r of [0, 1, 2]) s = applyEvent(s, { seq: 900 + r, run_id: "r", t: 99, type: "step", rank: r, step: 7, loss: 0.5, bytes_sent: 0, param_checksum: -5, synced: false });
  const v = replicaView(s);
  assert.equal(v.step, 7);
  assert.deepEqual(v.syncs, [4]);
  assert.equal(stepSynced(s, 8), null);
});

test("narration: a step of a round, a sync; run words; a lesson's lines", () => {
  const fe = frontendOf("local_sgd");
  const s = reduceEvents(runEvents(16));
  const summary = (k) => ({ step: k, ranks: [0, 1, 2], bytesSent: k % H === 0 ? 3 * SYNC_BYTES : 0, meanLoss: 0.7 - 0.01 * k });
  const spread3 = checksum(2, 3) - checksum(0, 3);
  assert.equal(fe.narrate(s, summary(3)), `step 3 of a round of 4: each worker on its own replica, nothing sent; replicas ${Number(spread3.toPrecision(3))} apart (checksum spread); loss 0.6700`);
  assert.match(fe.narrate(s, summary(7)), /^step 7 \(3 of a round of 4\): each worker on its own replica/);
  const d8 = (drift(0, 8) + drift(1, 8) + drift(2, 8)) / 3;
  assert.equal(fe.narrate(s, summary(8)), `step 8: averaged — replicas were ${Number(d8.toPrecision(3))} apart on average, now one model; sent 3.2 KB per worker; loss 0.6200`);
  const diloco = reduceEvents(runEvents(8, { sync_every: H, outer: "nesterov" }));
  assert.match(fe.narrate(diloco, summary(8)), /^step 8: DiLoCo's outer Nesterov step on the mean change/);
  assert.equal(fe.narrate({ strategy: "data_parallel", config: { strategy: "data_parallel" } }, summary(8)), null);

  assert.equal(fe.runWords({ strategy: "local_sgd", options: { sync_every: 8 } }, "list"), "Local SGD · H=8");
  assert.equal(fe.runWords({ strategy: "local_sgd", options: { sync_every: 8, outer: "nesterov" } }, "name"), "DiLoCo · H=8");
  assert.equal(fe.runWords({ strategy: "local_sgd", options: { sync_every: 4, data_split: "one_class" } }, "list"), "Local SGD · H=4 · one class each");
  assert.equal(fe.runWords({ strategy: "local_sgd", options: { data_split: "dirichlet", dirichlet_alpha: 0.3 } }, "list"), "Local SGD · H=8 · Dirichlet α = 0.3");
  assert.equal(fe.runWords({ strategy: "local_sgd", options: { sync_every: 4, data_split: "iid" } }, "list"), "Local SGD · H=4");
  assert.equal(fe.runWords({ strategy: "local_sgd", options: { sync_every: 4 } }, "short"), "Local SGD");

  const mean = [4, 8, 12, 16].reduce((a, k) => a + (drift(0, k) + drift(1, k) + drift(2, k)) / 3, 0) / 4;
  assert.deepEqual(fe.measuredLines(s), [
    "Local SGD, averaging every 4 steps (4 times), IID data (a share of one batch each)",
    `the replicas drifted ${Number(mean.toPrecision(3))} from their mean on average before a sync (‖xᵢ − x̄‖ over 4 syncs; at most ${Number(((drift(0, 16) + drift(1, 16) + drift(2, 16)) / 3).toPrecision(3))})`,
    "each worker sent 13.0 KB; data parallelism (one all-reduce a step, 3.2 KB as measured at a sync) would have sent 52.0 KB: 1/4 of the bytes",
  ]);
  assert.equal(fe.articleKind(s), "local_sgd");
  assert.equal(fe.articleKeys("local_sgd").title, "article.lsgdTitle");
  // the boundary is worker 0's replica: everyone's model only at a sync
  assert.equal(fe.boundaryNote(s, { step: 8, rank: 0 }), "averaged model, step 8");
  assert.equal(fe.boundaryNote(s, { step: 7, rank: 0 }), "worker 0's own replica, step 7");
  assert.equal(fe.ring, true); // drawn on data parallelism's ring: the averaging all-reduces over it
});
