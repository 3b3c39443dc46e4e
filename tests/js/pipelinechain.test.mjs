// A pipeline's processes as a chain: the links drawn are the ones its measured traffic
// used — from the messages with Detail, else worked out from each stage's step counters.
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { applyEvent, initialState } from "../../frontend/static/js/core/reducer.js";
import { chainTraffic, interleavedLinks, stageOrder } from "../../frontend/static/js/strategies/pipeline/chain.js";

registerStrategies();

function reduce(events) {
  let s = initialState();
  let seq = 0;
  for (const e of events) s = applyEvent(s, { seq: ++seq, run_id: "r", t: 0, ...e });
  return s;
}

const start = [
  { type: "run_started", strategy: "pipeline", world_size: 3, config: { strategy: "pipeline", workers: 3, layers: 3, options: { schedule: "1f1b", micro_batches: 2 } } },
  ...[0, 1, 2].map((rank) => ({ type: "worker_started", rank, pid: 10 + rank })),
  // the stages need not be in rank order: stage order is what the chain follows
  { type: "pipeline_stage", rank: 0, stage: 0, pieces: [0, 1] },
  { type: "pipeline_stage", rank: 1, stage: 1, pieces: [2] },
  { type: "pipeline_stage", rank: 2, stage: 2, pieces: [3, 4] },
];

const byLink = (links) => Object.fromEntries(links.map((l) => [`${l.src}>${l.dst}`, [l.dir, l.bytes]]));

test("without Detail: each link's bytes from the stages' counters, ends inwards", () => {
  // activations 0→1: 400, 1→2: 300; gradients 1→0: 200, 2→1: 100 (made unequal so a
  // mix-up of directions or ends shows)
  const counters = { 0: [400, 200], 1: [300 + 200, 400 + 100], 2: [100, 300] };
  const s = reduce([...start, ...[0, 1, 2].map((rank) => ({ type: "step", rank, step: 1, t: 1, t_start: 0, loss: 1, bytes_sent: counters[rank][0], bytes_recv: counters[rank][1] }))]);
  const order = stageOrder(s);
  assert.deepEqual(order, [0, 1, 2]);
  const tr = chainTraffic(s, order);
  assert.equal(tr.source, "counters");
  assert.equal(tr.step, 1);
  assert.deepEqual(byLink(tr.links), { "0>1": ["forward", 400], "1>0": ["backward", 200], "1>2": ["forward", 300], "2>1": ["backward", 100] });
  // a chain, not a ring: nothing between the last stage and the first
  assert.ok(!tr.links.some((l) => (l.src === 2 && l.dst === 0) || (l.src === 0 && l.dst === 2)));
});

test("with Detail: the links and bytes of the shown step's messages", () => {
  const msgs = [
    { src: 0, dst: 1, op: "activation", bytes: 64, chunk: 0 },
    { src: 0, dst: 1, op: "activation", bytes: 64, chunk: 1 },
    { src: 1, dst: 0, op: "gradient", bytes: 64, chunk: 0 },
    { src: 1, dst: 2, op: "activation", bytes: 64, chunk: 0 },
    { src: 2, dst: 1, op: "gradient", bytes: 64, chunk: 0 },
  ];
  const s = reduce([
    ...start,
    ...msgs.map((m) => ({ type: "comm", rank: m.src, step: 1, ...m })),
    ...[0, 1, 2].map((rank) => ({ type: "step", rank, step: 1, t: 1, t_start: 0, loss: 1, bytes_sent: 0, bytes_recv: 0 })),
  ]);
  const tr = chainTraffic(s, stageOrder(s));
  assert.equal(tr.source, "messages");
  assert.deepEqual(byLink(tr.links), { "0>1": ["forward", 128], "1>0": ["backward", 64], "1>2": ["forward", 64], "2>1": ["backward", 64] });
  assert.equal(tr.links.find((l) => l.src === 0 && l.dst === 1).messages, 2);
});

test("before the first step there is nothing to draw", () => {
  const tr = chainTraffic(reduce(start), [0, 1, 2]);
  assert.deepEqual(tr, { step: null, source: null, links: [] });
});

test("interleaved: the ring's links, from the counters split as the schedule sends", () => {
  // p = 3, v = 2, messages of 10 B, m = 1: stage 0 sends 2 on and 1 back round the ring,
  // stage 1 sends 2 on and 2 back, stage 2 sends 1 on round the ring and 2 back.
  const links = interleavedLinks([0, 1, 2], [{ bytes_sent: 30 }, { bytes_sent: 40 }, { bytes_sent: 30 }], 2);
  assert.deepEqual(byLinkDir(links), {
    "0>1:forward": 20, "0>2:backward": 10, "1>2:forward": 20, "1>0:backward": 20, "2>0:forward": 10, "2>1:backward": 20,
  });
  assert.deepEqual(links.filter((l) => l.wrap).map((l) => `${l.src}>${l.dst}`), ["0>2", "2>0"]);
  const s = reduce([
    { ...start[0], config: { ...start[0].config, options: { schedule: "interleaved", micro_batches: 3, virtual_stages: 2 } } },
    ...start.slice(1),
    ...[0, 1, 2].map((rank) => ({ type: "step", rank, step: 1, t: 1, t_start: 0, loss: 1, bytes_sent: [30, 40, 30][rank], bytes_recv: 0 })),
  ]);
  const tr = chainTraffic(s, stageOrder(s));
  assert.equal(tr.source, "schedule");
  assert.equal(tr.links.length, 6);
});

test("interleaved with Detail: a message's direction is its kind, the wrap-around marked", () => {
  const s = reduce([
    ...start,
    { type: "comm", rank: 2, step: 1, src: 2, dst: 0, op: "activation", bytes: 8, chunk: 0 },
    { type: "comm", rank: 0, step: 1, src: 0, dst: 2, op: "gradient", bytes: 8, chunk: 0 },
    ...[0, 1, 2].map((rank) => ({ type: "step", rank, step: 1, t: 1, t_start: 0, loss: 1, bytes_sent: 0, bytes_recv: 0 })),
  ]);
  const tr = chainTraffic(s, stageOrder(s));
  assert.deepEqual(tr.links.map((l) => [l.src, l.dst, l.dir, !!l.wrap]), [[2, 0, "forward", true], [0, 2, "backward", true]]);
});

function byLinkDir(links) {
  return Object.fromEntries(links.map((l) => [`${l.src}>${l.dst}:${l.dir}`, l.bytes]));
}
