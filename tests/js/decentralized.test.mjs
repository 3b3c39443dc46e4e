// Decentralized SGD's slice: the graph from its one event, the consensus distance per
// step (the leader's), what each edge carried (measured messages, else the step
// counters), each replica's checksum, and the same view live, scrubbed and replayed.
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { applyEvent, eventsBetween, initialState, reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { circleLayout, consensusSeries, graphEdges, graphView } from "../../frontend/static/js/strategies/decentralized/slice.js";
import { fmtWeight } from "../../frontend/static/js/strategies/decentralized/words.js";
import { frontendOf } from "../../frontend/static/js/core/registry.js";

registerStrategies();

const N = 4;
const MODEL = 4872; // bytes of the mlp's flat model (float32), as a real run sends
const RING = [[1, 3], [0, 2], [1, 3], [0, 2]];
const third = 0.333333;
const W = [[third, third, 0, third], [third, third, third, 0], [0, third, third, third], [third, 0, third, third]];
const consensus = (k) => 0.02 / k; // the replicas are pulled together
const checksum = (r, k) => -10.1 + (r - 1.5) * (0.08 / k); // they differ, less and less

/** A 4-worker ring run as the engine streams it: the graph from rank 0, then per step
 *  each rank's step event (ranks out of order, as their queues merge), with its gossip
 *  messages when `detail`. */
function runEvents(steps, detail) {
  const out = [];
  let seq = 0;
  const push = (e) => out.push({ seq: ++seq, run_id: "r", t: seq / 100, ...e });
  push({ type: "run_started", rank: null, step: null, strategy: "decentralized", world_size: N, config: { strategy: "decentralized", workers: N, steps, detail, options: { graph: "ring" } } });
  push({ type: "graph", rank: 0, step: null, graph: "ring", neighbours: RING, weights: W });
  for (let r = 0; r < N; r++) push({ type: "worker_started", rank: r, step: null, pid: 100 + r });
  for (let k = 1; k <= steps; k++) {
    for (const r of [2, 0, 3, 1]) {
      if (detail) for (const p of RING[r]) push({ type: "comm", rank: r, step: k, op: "gossip", src: r, dst: p, bytes: MODEL, algo: "gossip", duration_ms: 1 });
      push({ type: "step", rank: r, step: k, loss: 0.7 - 0.01 * k, bytes_sent: 2 * MODEL, bytes_recv: 2 * MODEL, param_checksum: checksum(r, k), consensus: consensus(k), consensus_measured: true, grad_checksum: 0.01, peers: 2 });
    }
  }
  push({ type: "run_finished", rank: null, step: null, status: "finished" });
  return out;
}

test("the ring of 4: its nodes, edges, weights and layout", () => {
  let s = initialState();
  const evs = runEvents(3, false);
  s = applyEvent(s, evs[0]);
  assert.equal(graphView(s), null); // nothing to draw before the graph
  s = applyEvent(s, evs[1]);
  const v = graphView(s);
  assert.equal(v.name, "ring");
  assert.equal(v.n, 4);
  assert.deepEqual(v.edges.map((e) => [e.a, e.b]), [[0, 1], [0, 3], [1, 2], [2, 3]]);
  assert.ok(v.edges.every((e) => e.bytes === 0)); // no step yet: nothing carried
  assert.equal(v.step, null);
  assert.deepEqual(v.nodes[1].weights, [{ peer: 0, weight: third }, { peer: 2, weight: third }]);
  assert.equal(fmtWeight(v.nodes[1].selfWeight), "1/3");
  assert.equal(fmtWeight(0.2), "1/5");
  assert.equal(fmtWeight(0.123456789), "0.123");
  // the complete graph of 4: every pair an edge
  const all = [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]];
  assert.equal(graphEdges({ neighbours: all, weights: [] }).length, 6);
  const pos = circleLayout(4, 200, 0.4);
  assert.deepEqual([Math.round(pos[0].x), Math.round(pos[0].y)], [100, 20]); // worker 0 on top
  assert.deepEqual([Math.round(pos[1].x), Math.round(pos[1].y)], [180, 100]); // then clockwise
});

test("per step: the consensus distance, the bytes per edge from the step counters, the checksums", () => {
  const s = reduceEvents(runEvents(5, false));
  const v = graphView(s);
  assert.equal(v.step, 5);
  assert.equal(v.source, "counters");
  // each worker sends its model to each of its two neighbours: MODEL each way per edge
  for (const e of v.edges) assert.deepEqual([e.ab, e.ba, e.bytes], [MODEL, MODEL, 2 * MODEL]);
  assert.deepEqual(v.series.steps, [1, 2, 3, 4, 5]);
  assert.deepEqual(v.series.values, [1, 2, 3, 4, 5].map(consensus));
  assert.equal(v.consensus, consensus(5));
  // the replicas differ, and the spread shrinks with the consensus distance
  const sums = v.checksums.map((c) => c.value);
  assert.equal(new Set(sums).size, 4);
  assert.ok(Math.abs(v.spread - 0.08 * 3 / 5) < 1e-12);
  assert.ok(graphView(s, 1).spread > v.spread);
  assert.ok(Math.abs(v.checksums.reduce((a, c) => a + c.delta, 0)) < 1e-12);
  assert.deepEqual(v.checksums.map((c) => c.bytesSent), [2 * MODEL, 2 * MODEL, 2 * MODEL, 2 * MODEL]);
});

test("with per-message events the edges' bytes are the measured gossip messages", () => {
  const evs = runEvents(3, true).filter((e) => !(e.type === "comm" && e.step === 3 && e.src === 1 && e.dst === 2));
  const s = reduceEvents(evs);
  const v = graphView(s);
  assert.equal(v.source, "messages");
  const e12 = v.edges.find((e) => e.a === 1 && e.b === 2);
  assert.deepEqual([e12.ab, e12.ba], [0, MODEL]); // the dropped message is not invented
  const e01 = v.edges.find((e) => e.a === 0 && e.b === 1);
  assert.deepEqual([e01.ab, e01.ba], [MODEL, MODEL]);
});

test("only complete steps are shown, and the consensus is the leader's, one per step", () => {
  let s = initialState();
  const evs = runEvents(3, false);
  // everything up to rank 0's step 3, but not the other ranks' step 3
  const cut = evs.findIndex((e) => e.type === "step" && e.step === 3 && e.rank === 0);
  for (const e of evs.slice(0, cut + 1)) s = applyEvent(s, e);
  const v = graphView(s);
  assert.equal(v.step, 2); // rank 2 reported 3 before rank 0, ranks 1 and 3 have not
  assert.deepEqual(consensusSeries(s).steps, [1, 2, 3]); // the leader's step 3 is in
  assert.deepEqual(v.series.steps, [1, 2]); // but the card shows the complete step
  assert.equal(v.consensus, consensus(2));
});

test("replayed, scrubbed or live: the same card", () => {
  const evs = runEvents(6, true);
  const live = evs.reduce(applyEvent, initialState());
  const replay = reduceEvents(evs);
  assert.deepEqual(graphView(replay), graphView(live));
  // scrubbing back to step 3, then forward again with the events in between
  const at3 = reduceEvents(evs, 3);
  const v3 = graphView(at3);
  assert.equal(v3.step, 3);
  assert.deepEqual(v3.series.steps, [1, 2, 3]);
  assert.deepEqual(v3, graphView(live, 3));
  const fwd = reduceEvents(eventsBetween(evs, 3, 6), null, at3);
  assert.deepEqual(graphView(fwd), graphView(live));
});

test("a restarted run that steps back forgets the consensus of the steps it replays", () => {
  const evs = runEvents(4, false);
  let s = evs.reduce(applyEvent, initialState());
  s = applyEvent(s, { seq: 999, run_id: "r", t: 99, type: "step", rank: 0, step: 3, loss: 0.5, bytes_sent: 2 * MODEL, param_checksum: -10, consensus: 0.5 });
  assert.deepEqual(consensusSeries(s).steps, [1, 2, 3]);
  assert.equal(consensusSeries(s).values[2], 0.5);
});

test("narration and run words", () => {
  const fe = frontendOf("decentralized");
  const s = reduceEvents(runEvents(2, false));
  const line = fe.narrate(s, { step: 2, ranks: [0, 1, 2, 3], bytesSent: 8 * MODEL, meanLoss: 0.68 });
  assert.match(line, /^step 2: ring of 4 workers/);
  assert.match(line, /0: 1,3 · 1: 0,2 · 2: 1,3 · 3: 0,2/);
  assert.match(line, /9\.7 KB per worker/);
  assert.match(line, /consensus distance 0\.01/);
  assert.match(line, /loss 0\.6800/);
  assert.equal(fe.runWords({ strategy: "decentralized", options: { graph: "torus" } }, "list"), "Decentralized SGD · 2-D torus");
  const c = { strategy: "decentralized", options: { graph: "ring", data_split: "one_class" } };
  assert.equal(fe.runWords(c, "name"), "Decentralized SGD · ring · one class each");
  assert.equal(fe.runWords({ ...c, options: { graph: "complete", data_split: "iid" } }, "list"), "Decentralized SGD · complete graph · IID");
  assert.equal(fe.runWords(c, "short"), "Decentralized SGD");
});

test("a lesson's measured lines: the graph, the last and mean consensus, the bytes; the comparison's", () => {
  const fe = frontendOf("decentralized");
  const events = runEvents(4, false);
  events[0].config.options.data_split = "one_class";
  const lines = fe.measuredLines(reduceEvents(events));
  // steps 1..4: 0.02, 0.01, 0.00667, 0.005 — the last and their mean
  const mean = (0.02 + 0.01 + 0.02 / 3 + 0.005) / 4;
  assert.deepEqual(lines, [
    "ring of 4 workers, one class per worker",
    `consensus distance: 0.005 at step 4, ${Number(mean.toPrecision(3))} on average over the run's 4 steps`,
    "each worker sent 9.7 KB per step (step 4)",
  ]);
  assert.equal(fe.measuredLines({ strategy: "data_parallel", config: { strategy: "data_parallel" } }), null);
  const cmp = fe.compareLines({ consensus: { last: 0.004, mean: 0.005, steps: 4 } }, { consensus: { last: 0.02, mean: 0.0125, steps: 4 } });
  assert.deepEqual(cmp, ["comparison's consensus distance: 0.004 at its last step, 0.005 on average", "this run's replicas were 2.5× as far apart as the comparison's (mean consensus distance)"]);
  assert.equal(fe.compareLines({ final_loss: 0.2 }, {}), null);
});

test("a worker that died leaves a hole: the survivors' graph is drawn by worker id", () => {
  // worker 2 of the ring of 4 was killed after step 2; the survivors 0, 1, 3 regrouped
  // (group ranks 0, 1, 2) and built a ring of 3 over themselves — a triangle
  const evs = runEvents(2, false).slice(0, -1);
  const third3 = 0.333333;
  let seq = evs[evs.length - 1].seq;
  const push = (e) => evs.push({ seq: ++seq, run_id: "r", t: seq / 100, ...e });
  push({ type: "worker_failed", rank: 2, step: 2, cause: { code: "signal", signal: "SIGKILL" } });
  push({ type: "graph", rank: 0, step: 2, graph: "ring", members: [0, 1, 3], neighbours: [[1, 3], [0, 3], [0, 1]], weights: [[third3, third3, third3], [third3, third3, third3], [third3, third3, third3]] });
  for (const r of [0, 1, 3]) push({ type: "step", rank: r, step: 3, loss: 0.6, bytes_sent: 2 * MODEL, bytes_recv: 2 * MODEL, param_checksum: checksum(r, 3), consensus: 0.01, consensus_measured: true, grad_checksum: 0.01, peers: 2 });
  const s = reduceEvents(evs);
  const v = graphView(s, 3);
  assert.equal(v.n, 3); // in the graph
  assert.equal(v.slots, 4); // places on the circle: the hole keeps its own
  assert.deepEqual(v.holes, [2]);
  assert.deepEqual(v.members, [0, 1, 3]);
  assert.equal(v.nodes[2].member, false);
  assert.deepEqual(v.nodes[2].neighbours, []);
  // the edges close the ring over the hole: 1–3 is new, nothing touches 2
  assert.deepEqual(v.edges.map((e) => [e.a, e.b]), [[0, 1], [0, 3], [1, 3]]);
  assert.deepEqual(v.nodes[3].weights, [{ peer: 0, weight: third3 }, { peer: 1, weight: third3 }]);
  // the counters of step 3 split over each survivor's two neighbours
  assert.equal(v.source, "counters");
  assert.ok(v.edges.every((e) => e.bytes === 2 * MODEL));
  assert.deepEqual(v.checksums.map((c) => c.rank), [0, 1, 3]);
  // scrubbed back to step 2 (before the failure's graph), the ring of 4 is whole again
  const before = reduceEvents(evs.filter((e) => e.type !== "graph" || !e.members));
  assert.deepEqual(graphView(before, 2).holes, []);
  assert.equal(graphView(before, 2).n, 4);
});
