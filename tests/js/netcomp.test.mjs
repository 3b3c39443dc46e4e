// The network model and gradient compression in the reducer and the pure view helpers
// (core selectors, data parallelism's slice, netmodel.js, words.js and form.js, timeline.js, netlabels.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { stepMessages } from "../../frontend/static/js/core/comm.js";
import { applyEvent, initialState, reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { runNetwork, timelineWindow } from "../../frontend/static/js/core/selectors.js";
import {
  compressionAt,
  compressionOf,
  compressionSeries,
  qsgdBits,
  uncompressedWireBytes,
} from "../../frontend/static/js/strategies/data_parallel/compression.js";
import { modelledCommMean, runAlgo } from "../../frontend/static/js/strategies/data_parallel/slice.js";
import {
  allreduceMs,
  ceilLog2,
  curvesBySize,
  curvesByWorkers,
  linkMs,
  logTicks,
  ringTreeCrossover,
} from "../../frontend/static/js/strategies/data_parallel/netmodel.js";
import { axisText, layoutSegments } from "../../frontend/static/js/views/timeline.js";
import { networkText } from "../../frontend/static/js/views/netlabels.js";
import { compressionText } from "../../frontend/static/js/strategies/data_parallel/words.js";
import { baselineConfig } from "../../frontend/static/js/strategies/data_parallel/form.js";
import { linksFromUrl, linksToUrl } from "../../frontend/static/js/core/urlstate.js";
import { alphaBetaView } from "../../frontend/static/js/strategies/data_parallel/alphabeta.js";
import { compressionView } from "../../frontend/static/js/strategies/data_parallel/compressionview.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${a} != ${b}`);

// ------------------------------------------------------------ a synthetic compressed run

const NUM_PARAMS = 1218; // N = 4872 bytes
const TEN_GBE = { name: "10gbe", latency_us: 20, bandwidth_gbps: 10, links: [] };

/** QSGD (levels 7) with error feedback on n ranks: each rank all-gathers a 613-byte
 *  payload, so it sends (n−1)·613 bytes a step. Rank 1 computes slower than the others. */
function compressedRun({ n = 4, steps = 5, network = TEN_GBE, options = {} } = {}) {
  const events = [];
  let seq = 0;
  const push = (e) => events.push({ seq: ++seq, run_id: "c1", rank: null, step: null, t: seq / 100, ...e });
  push({
    type: "run_started",
    config: {
      strategy: "data_parallel",
      options: {
        allreduce: "builtin",
        compression: "qsgd",
        qsgd_levels: 7,
        compress_fraction: 0.01,
        powersgd_rank: 1,
        error_feedback: true,
        ...options,
      },
      workers: n,
      steps,
      network: network ? network.name : null,
    },
    world_size: n,
    num_params: NUM_PARAMS,
    strategy: "data_parallel",
    network,
  });
  for (let k = 1; k <= steps; k++) {
    for (let r = 0; r < n; r++) {
      push({
        type: "comm",
        rank: r,
        step: k,
        op: "all_gather",
        src: r,
        dst: (r + 1) % n,
        bytes: 613,
        chunk: r,
        algo: "ring",
        duration_ms: 0.3,
        modelled_ms: 0.02049,
        modelled_start_ms: 0,
      });
    }
    for (let r = 0; r < n; r++) {
      push({
        type: "step",
        rank: r,
        step: k,
        loss: 1 / k,
        compute_ms: r === 1 ? 3 : 1,
        comm_ms: 5,
        wait_ms: 0.5,
        comm_modelled_ms: network ? 0.06 + 0.01 * r : null,
        bytes_sent: (n - 1) * 613,
        bytes_recv: (n - 1) * 613,
        param_checksum: 1 + k,
        t_start: k - 0.5,
        payload_bytes: 613,
        compress_ratio: 7.948,
        compress_error: 2 + 0.1 * r,
        residual_norm: k * (r + 1),
      });
    }
  }
  return events;
}

test("run_started's network and the new step and comm fields reach the state", () => {
  const s = reduceEvents(compressedRun());
  assert.deepEqual(runNetwork(s), TEN_GBE);
  const rec = s.history[2].items[0];
  assert.equal(rec.comm_modelled_ms, 0.08);
  assert.equal(rec.payload_bytes, 613);
  assert.equal(rec.compress_ratio, 7.948);
  assert.equal(rec.compress_error, 2.2);
  assert.equal(rec.residual_norm, 3);
  const m = stepMessages(s, 5)[0];
  assert.equal(m.modelled_ms, 0.02049);
  assert.equal(m.modelled_start_ms, 0);
  // without a network model there is only wall time
  const plain = reduceEvents(compressedRun({ network: null }));
  assert.equal(runNetwork(plain), null);
  assert.equal(modelledCommMean(plain), null);
});

test("compression settings: QSGD bits, PowerSGD rides on an all-reduce", () => {
  assert.equal(qsgdBits(7), 4);
  assert.equal(qsgdBits(1), 2);
  assert.equal(qsgdBits(8), 8);
  assert.equal(qsgdBits(127), 8);
  const q = compressionOf({ options: { compression: "qsgd", qsgd_levels: 7, error_feedback: true } });
  assert.equal(q.bits, 4);
  assert.equal(q.errorFeedback, true);
  assert.equal(q.gathered, true);
  const p = compressionOf({ options: { compression: "powersgd", powersgd_rank: 2, error_feedback: false, allreduce: "tree" } });
  assert.equal(p.gathered, false);
  assert.equal(p.errorFeedback, true); // built in
  assert.equal(compressionOf({ options: { compression: null } }), null);
  assert.equal(compressionOf({ strategy: "single", options: {} }), null);
  assert.equal(compressionText(q), "QSGD (4-bit) + error feedback");
  assert.equal(compressionText(compressionOf({ options: { compression: "topk", compress_fraction: 0.05 } })), "top-k (5%)");
  assert.equal(compressionText(p), "PowerSGD (rank 2)");
  // all-gathered compression uses the hand-written ring; PowerSGD keeps the chosen algorithm
  assert.equal(runAlgo(reduceEvents(compressedRun())), "ring");
  const ps = reduceEvents(compressedRun({ options: { compression: "powersgd", allreduce: "tree" } }));
  assert.equal(runAlgo(ps), "tree");
});

test("bytes per step per rank, payload and the uncompressed reference", () => {
  const n = 4;
  const s = reduceEvents(compressedRun({ n, steps: 5 }));
  const ser = compressionSeries(s);
  assert.equal(ser.ranks.length, n);
  for (const r of ser.ranks) {
    assert.deepEqual(r.x, [1, 2, 3, 4, 5]);
    assert.deepEqual(r.sent, [1839, 1839, 1839, 1839, 1839]);
    assert.deepEqual(r.payload, [613, 613, 613, 613, 613]);
  }
  assert.deepEqual(ser.mean.x, [1, 2, 3, 4, 5]);
  assert.deepEqual(ser.mean.payload, [613, 613, 613, 613, 613]);
  // fp32 ring all-reduce: 2(n−1)/n·N per rank and step
  assert.equal(ser.reference, (2 * 3 * NUM_PARAMS * 4) / 4);
  assert.equal(uncompressedWireBytes(4, 4872), 7308);
  assert.equal(uncompressedWireBytes(1, 4872), null);
  // residual per rank per step (it builds up), mean error over ranks
  assert.deepEqual(ser.ranks[1].residual, [2, 4, 6, 8, 10]);
  close(ser.mean.error[0], (2 + 2.1 + 2.2 + 2.3) / 4);
});

test("compression metrics of one step, and only complete steps in the means", () => {
  const events = compressedRun({ n: 4, steps: 3 });
  // drop rank 3's last step: step 3 is incomplete
  const cut = events.filter((e) => !(e.type === "step" && e.step === 3 && e.rank === 3));
  const s = reduceEvents(cut);
  const ser = compressionSeries(s);
  assert.deepEqual(ser.mean.x, [1, 2]);
  assert.equal(ser.ranks[0].x.length, 3);
  const a = compressionAt(s, 2);
  assert.equal(a.payload, 613);
  assert.equal(a.sent, 1839);
  assert.equal(a.reference, 7308);
  close(a.wireRatio, 7308 / 1839);
  close(a.ratio, 7.948);
  close(a.error, 2.15);
  close(a.residual, (2 + 4 + 6 + 8) / 4);
  assert.equal(compressionAt(reduceEvents(compressedRun({ options: { compression: null } })), 2), null);
  // the panel's view: newest complete step
  const v = compressionView(s);
  assert.equal(v.step, 2);
  assert.equal(v.N, 4872);
  assert.equal(v.at.sent, 1839);
});

test("scrubbing back: the series stop at the shown step", () => {
  const events = compressedRun({ n: 2, steps: 6 });
  const s3 = reduceEvents(events, 3);
  assert.deepEqual(compressionSeries(s3).mean.x, [1, 2, 3]);
  assert.equal(compressionAt(s3, 4), null);
});

test("mean modelled communication: the slowest rank of each complete step", () => {
  const s = reduceEvents(compressedRun({ n: 4, steps: 4 }));
  close(modelledCommMean(s), 0.09); // rank 3: 0.06 + 0.03
  close(modelledCommMean(s, 2), 0.09);
});

// ------------------------------------------------------------ modelled timeline

test("modelled timeline: comm is comm_modelled_ms, steps back to back on the slowest rank", () => {
  const s = reduceEvents(compressedRun({ n: 2, steps: 3 }));
  const win = timelineWindow(s, 30);
  const lay = layoutSegments(win, "modelled");
  assert.equal(lay.unit, "ms");
  assert.equal(lay.lo, 0);
  // rank 0: wait 0.5 + compute 1 + comm 0.06; rank 1: 0.5 + 3 + 0.07 = 3.57 (the slot)
  const slot = 0.5 + 3 + 0.07;
  assert.deepEqual([...lay.stepStarts.entries()].map(([k, x]) => [k, +x.toFixed(9)]), [
    [1, 0],
    [2, +slot.toFixed(9)],
    [3, +(2 * slot).toFixed(9)],
  ]);
  close(lay.hi, 3 * slot);
  const comm = lay.segs.filter((x) => x.seg === "comm");
  assert.equal(comm.length, 6);
  for (const c of comm) {
    assert.equal(c.modelled, true);
    close(c.x1 - c.x0, c.rank === 0 ? 0.06 : 0.07);
  }
  // within a step a rank's segments follow each other: wait, compute, comm
  const r0s2 = lay.segs.filter((x) => x.rank === 0 && x.step === 2);
  assert.deepEqual(r0s2.map((x) => x.seg), ["wait", "compute", "comm"]);
  close(r0s2[0].x0, slot);
  close(r0s2[1].x0, slot + 0.5);
  close(r0s2[2].x0, slot + 1.5);
  // measured wall clock keeps the measured comm_ms
  const wall = layoutSegments(win, "wall");
  const wc = wall.segs.find((x) => x.seg === "comm");
  close((wc.x1 - wc.x0) * 1000, 5);
});

test("the timeline caption always names the clock", () => {
  assert.match(axisText("wall", null), /measured wall time/);
  assert.match(axisText("modelled", null), /measured wall time/); // no network: wall time
  const text = axisText("modelled", TEN_GBE);
  assert.match(text, /^modelled/);
  assert.match(text, /10 GbE, α = 20 µs, β = 10 Gb\/s/);
  assert.match(text, /compute and wait measured/);
  const slow = networkText({
    name: "slow_link",
    latency_us: 20,
    bandwidth_gbps: 10,
    links: [{ src: 0, dst: 1, latency_us: 20, bandwidth_gbps: 1 }],
  });
  assert.equal(slow, "10 GbE with one slow link, α = 20 µs, β = 10 Gb/s; link 0→1: α = 20 µs, β = 1 Gb/s");
});

// ------------------------------------------------------------ α–β model

test("α–β costs: ring, tree and naive as engine/network.py charges them", () => {
  // the engine's ring_all_reduce_ms(4, 4872, Link(20, 10))
  close(allreduceMs("ring", 4, 4872, 20, 10), 2 * 3 * 0.02 + ((2 * 3) / 4) * 4872 * 8 / 10e9 * 1e3);
  close(allreduceMs("ring", 4, 4872, 20, 10), 0.1258464);
  close(allreduceMs("tree", 4, 4872, 20, 10), 2 * 2 * linkMs(20, 10, 4872));
  close(allreduceMs("tree", 5, 4872, 20, 10), 2 * 3 * linkMs(20, 10, 4872));
  close(allreduceMs("naive", 4, 4872, 20, 10), 2 * 3 * linkMs(20, 10, 4872));
  assert.equal(allreduceMs("ring", 1, 4872, 20, 10), 0);
  assert.deepEqual([1, 2, 3, 4, 5, 8, 9, 64].map(ceilLog2), [0, 1, 2, 2, 3, 3, 4, 6]);
});

test("tree wins small messages, ring wins large ones; the crossover is where they meet", () => {
  const n = 8;
  const N = ringTreeCrossover(n, 20, 10);
  assert.ok(N > 1e3 && N < 1e6, String(N));
  close(allreduceMs("ring", n, N, 20, 10), allreduceMs("tree", n, N, 20, 10), 1e-9);
  assert.ok(allreduceMs("tree", n, N / 10, 20, 10) < allreduceMs("ring", n, N / 10, 20, 10));
  assert.ok(allreduceMs("ring", n, N * 10, 20, 10) < allreduceMs("tree", n, N * 10, 20, 10));
  assert.equal(ringTreeCrossover(2, 20, 10), null); // two ranks: the ring never loses
  const c = curvesBySize(4, 20, 10);
  assert.equal(c.x[0], 1e3);
  close(c.x.at(-1), 1e9);
  for (const algo of ["ring", "tree", "naive"]) assert.equal(c[algo].length, c.x.length);
  const w = curvesByWorkers(4872, 20, 10);
  assert.deepEqual([w.x[0], w.x.at(-1)], [2, 64]);
  assert.deepEqual(logTicks(0.04, 3), [0.05, 0.1, 0.2, 0.5, 1, 2]);
  assert.deepEqual(logTicks(0.04, 2000), [0.1, 1, 10, 100, 1000]);
});

test("the α–β chart's view: the run's α, β, n, N and measured modelled time", () => {
  const s = reduceEvents(compressedRun({ n: 4, steps: 2, options: { compression: null, error_feedback: false } }));
  const v = alphaBetaView(s);
  assert.equal(v.alpha, 20);
  assert.equal(v.beta, 10);
  assert.equal(v.n, 4);
  assert.equal(v.N, 4872);
  close(v.measured, 0.09);
  assert.equal(v.compression, null);
  assert.equal(alphaBetaView(reduceEvents(compressedRun({ network: null }))), null);
});

// ------------------------------------------------------------ form helpers

test("link overrides round-trip through the URL", () => {
  const links = [
    { src: 0, dst: 1, latency_us: 20, bandwidth_gbps: 1 },
    { src: 2, dst: 3, latency_us: 50.5, bandwidth_gbps: 0.25 },
  ];
  const s = linksToUrl(links);
  assert.equal(s, "0-1:20:1,2-3:50.5:0.25");
  assert.deepEqual(linksFromUrl(s), links);
  assert.deepEqual(linksFromUrl("garbage,1-2:3"), []);
  assert.equal(linksToUrl([]), "");
});

test("the baseline is the same run, uncompressed, at full speed", () => {
  const options = { allreduce: "builtin", compression: "qsgd", qsgd_levels: 3, error_feedback: true };
  const cfg = { strategy: "data_parallel", options, workers: 4, pace: 10, detail: true, seed: 7, network: "10gbe" };
  const b = baselineConfig(cfg);
  assert.deepEqual(b.options, { ...options, compression: null, error_feedback: false });
  assert.equal(b.pace, null);
  assert.equal(b.detail, false);
  assert.equal(b.seed, 7);
  assert.equal(b.network, "10gbe");
  assert.deepEqual(Object.keys(b).sort(), Object.keys(cfg).sort());
  assert.equal(cfg.options.compression, "qsgd", "the compressed run's config is left alone");
});

test("an event without a step does not disturb the compression series", () => {
  let s = initialState();
  for (const e of compressedRun({ n: 2, steps: 2 })) s = applyEvent(s, e);
  s = applyEvent(s, { seq: 999, type: "control", action: "pause", t: 9 });
  assert.deepEqual(compressionSeries(s).mean.x, [1, 2]);
});
