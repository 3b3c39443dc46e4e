// The BSP slice: the graph from its one event, every worker's superstep from its step
// event (messages before and after the combiner, to whom, the barrier wait), the change
// per superstep from worker 0, the best vertices over all workers, the final labels, and
// only the newest supersteps kept as columns.
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { applyEvent, initialState, reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { bspView, COLUMNS, componentCount, topVertices } from "../../frontend/static/js/strategies/bsp/slice.js";
import { frontendOf } from "../../frontend/static/js/core/registry.js";

registerStrategies();

const N = 3;
const SENT = [
  [5, 4, 6],
  [3, 7, 2],
  [1, 8, 9],
];
const RAW = [
  [9, 6, 8],
  [5, 9, 4],
  [2, 9, 9],
];

function runEvents(steps, { algorithm = "pagerank", slow = null, wrong = false } = {}) {
  const out = [];
  let seq = 0;
  const push = (e) => out.push({ seq: ++seq, run_id: "r", t: seq / 100, ...e });
  push({ type: "run_started", rank: null, step: null, strategy: "bsp", world_size: N, config: { strategy: "bsp", workers: N, steps, options: { algorithm, vertices: 60, combiner: true } } });
  push({ type: "bsp_graph", rank: 0, step: null, algorithm, graph: "power_law", partition: "hash", combiner: true, vertices: 60, edges: 116, workers: [0, 1, 2], owned: [20, 20, 20], dangling: 2, messages: SENT, messages_raw: RAW });
  for (let r = 0; r < N; r++) push({ type: "worker_started", rank: r, step: null, pid: 100 + r });
  for (let k = 1; k <= steps; k++) {
    for (const r of [2, 0, 1]) {
      const to = SENT[r].map((x, j) => (j === r ? 0 : x));
      push({ type: "step", rank: r, step: k, loss: 1 / k, grad_norm: 0, compute_ms: 1, emulated_ms: r === slow ? 100 : 0, vertices: 20, messages_to: to, messages: to.reduce((a, b) => a + b, 0), messages_raw: RAW[r].reduce((a, b, j) => a + (j === r ? 0 : b), 0), messages_local: SENT[r][r], barrier_ms: r === slow ? 1 : 90 + r, change: 1 / k, top: [[r, 0.1 * (r + 1) + k / 1000], [10 + r, 0.01]], ...(r === slow ? { slowed: true } : {}) });
    }
  }
  if (algorithm === "connected_components") {
    push({ type: "bsp_values", rank: 0, step: steps, vertices: [0, 3], values: [0, 3], error: 0 });
    push({ type: "bsp_values", rank: 1, step: steps, vertices: [1, 4], values: [0, 3], error: 0 });
    push({ type: "bsp_values", rank: 2, step: steps, vertices: [2, 5], values: [2, 3], error: wrong ? 1 : 0 });
  }
  push({ type: "run_finished", rank: null, step: null, status: "finished" });
  return out;
}

test("nothing to draw before the graph is known", () => {
  const evs = runEvents(1);
  const s = applyEvent(initialState(), evs[0]);
  assert.equal(bspView(s), null);
  const v = bspView(applyEvent(s, evs[1]));
  assert.equal(v.n, N);
  assert.equal(v.step, null);
  assert.deepEqual(v.perPair, SENT);
  assert.equal(v.messages, null);
  assert.deepEqual(v.perPairRaw, RAW);
});

test("the shown superstep: messages per worker and pair, before and after the combiner, the waits", () => {
  const v = bspView(reduceEvents(runEvents(3, { slow: 1 })));
  assert.equal(v.step, 3);
  assert.equal(v.messages, 4 + 6 + 3 + 2 + 1 + 8);
  assert.equal(v.messagesRaw, 6 + 8 + 5 + 4 + 2 + 9);
  assert.equal(v.messagesLocal, 5 + 7 + 9);
  assert.deepEqual(v.pairs, [
    [0, 4, 6],
    [3, 0, 2],
    [1, 8, 0],
  ]);
  assert.deepEqual(v.workers.map((r) => r.barrierMs), [90, 1, 92]);
  assert.deepEqual(v.workers.map((r) => r.slowed), [false, true, false]);
  assert.equal(v.workers[1].computeMs, 101); // compute plus the emulated work
  assert.deepEqual(v.series, { steps: [1, 2, 3], values: [1, 1 / 2, 1 / 3] });
  assert.equal(v.change, 1 / 3);
  assert.deepEqual(v.top.slice(0, 3).map((x) => [x.vertex, x.rank]), [[2, 2], [1, 1], [0, 0]]);
});

test("scrubbing back shows that superstep; only the newest supersteps are columns", () => {
  const s = reduceEvents(runEvents(20));
  const v = bspView(s);
  assert.equal(v.columns.length, COLUMNS);
  assert.deepEqual(v.columns.map((c) => c.step), [13, 14, 15, 16, 17, 18, 19, 20]);
  const back = bspView(s, 15);
  assert.equal(back.step, 15);
  assert.deepEqual(back.columns.map((c) => c.step).at(-1), 15);
  assert.equal(back.series.steps.length, 15);
});

test("connected components: the count of distinct final labels", () => {
  const v = bspView(reduceEvents(runEvents(2, { algorithm: "connected_components" })));
  assert.equal(v.components, 3);
  assert.deepEqual(v.top, []);
  assert.equal(componentCount({ 0: { values: [1, 1, 2] } }), 2);
  assert.deepEqual(v.check, { error: 0, ok: true });
  const bad = bspView(reduceEvents(runEvents(2, { algorithm: "connected_components", wrong: true })));
  assert.deepEqual(bad.check, { error: 1, ok: false });
});

test("no check before every worker has said its values", () => {
  const evs = runEvents(2, { algorithm: "connected_components" });
  const s = reduceEvents(evs.slice(0, -2)); // the last worker's values not in yet
  assert.equal(bspView(s).check, null);
  assert.equal(bspView(s).components, null);
});

test("the best vertices over all workers, highest first", () => {
  const top = topVertices([{ top: [[1, 0.2], [2, 0.1]] }, null, { top: [[5, 0.3]] }], 2);
  assert.deepEqual(top, [{ vertex: 5, value: 0.3, rank: 2 }, { vertex: 1, value: 0.2, rank: 0 }]);
});

test("the frontend is registered with its words", () => {
  const f = frontendOf("bsp");
  assert.ok(f && f.views.bsp);
  assert.ok(f.catalog.en["card.bsp"] && f.catalog.zh["card.bsp"]);
});

test("the narration names the superstep, its messages, the longest wait and the slow worker", () => {
  const s = reduceEvents(runEvents(3, { slow: 1 }));
  const line = frontendOf("bsp").narrate(s, { step: 3 });
  assert.match(line, /^Superstep 3: worker 1 is slow/);
  assert.match(line, /up to 92 ms/);
  assert.match(line, /24 vertex messages/);
  const even = frontendOf("bsp").narrate(reduceEvents(runEvents(2)), { step: 2 });
  assert.match(even, /^Superstep 2: 24 vertex messages between the workers/);
});

test("a straggler's line says the others wait at the barrier, not at an all-reduce", () => {
  const s = reduceEvents(runEvents(2, { slow: 1 }));
  const words = { step: 2, rank: 1, k: "5", n: 2, ms: "90 ms", w: 5 };
  const line = frontendOf("bsp").stragglerLine(s, { kind: "straggler" }, words);
  assert.equal(line, "superstep 2: worker 1 is 5× slower (the straggler) — the other 2 wait 90 ms for it at the barrier, every superstep");
  assert.match(frontendOf("bsp").stragglerLine(s, { kind: "slower" }, words), /no straggler was set.*at the barrier$/);
});
