// The collectives playground's slice: the collective and its cost from its one event,
// every rank's buffers per step, the step's messages grouped by round (in round order,
// whatever order they arrived in), the bytes per rank, and only the newest steps kept.
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { applyEvent, initialState, reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { collectivesView, criticalBytes, messagesByRound } from "../../frontend/static/js/strategies/collectives/slice.js";
import { frontendOf } from "../../frontend/static/js/core/registry.js";

registerStrategies();

const N = 4;
const E = 8;
const value = (s, r, i) => 1000 * (s - 1) + 100 * r + i;
const vector = (s, r) => Array.from({ length: E }, (_, i) => value(s, r, i));
const sum = (s) => Array.from({ length: E }, (_, i) => [0, 1, 2, 3].reduce((a, r) => a + value(s, r, i), 0));

/** A 4-worker ring all-reduce as the engine streams it: rank 0's `collective`, then per
 *  step each rank's comm events (2(n−1) rounds of one 8-byte block, newest round first
 *  to show the order does not matter), its `buffers` and its step. */
function runEvents(steps, detail = true) {
  const out = [];
  let seq = 0;
  const push = (e) => out.push({ seq: ++seq, run_id: "r", t: seq / 100, ...e });
  push({ type: "run_started", rank: null, step: null, strategy: "collectives", world_size: N, config: { strategy: "collectives", workers: N, steps, detail, options: { collective: "all_reduce", algorithm: "ring" } } });
  push({ type: "collective", rank: 0, step: null, collective: "all_reduce", algorithm: "ring", workers: N, elements: E, root: null, bytes: 32, block_input: false, block_output: false, formula: "2(n−1)·α + 2(n−1)/n·N·β", alpha_terms: 6, beta_bytes: 48 });
  for (let r = 0; r < N; r++) push({ type: "worker_started", rank: r, step: null, pid: 100 + r });
  for (let k = 1; k <= steps; k++) {
    for (const r of [2, 0, 3, 1]) {
      if (detail) for (let round = 5; round >= 0; round--) push({ type: "comm", rank: r, step: k, op: round < 3 ? "reduce_scatter" : "all_gather", src: r, dst: (r + 1) % N, bytes: 8, chunk: (r - round + 8) % N, round, algo: "ring", duration_ms: 0.1 });
      push({ type: "buffers", rank: r, step: k, collective: "all_reduce", algorithm: "ring", before: vector(k, r), after: sum(k), defined: true, error: 0 });
      push({ type: "step", rank: r, step: k, loss: 0, grad_norm: 0, bytes_sent: 48, bytes_recv: 48, max_error: 0 });
    }
  }
  push({ type: "run_finished", rank: null, step: null, status: "finished" });
  return out;
}

test("nothing to draw before the collective is known", () => {
  const evs = runEvents(1);
  const s = applyEvent(initialState(), evs[0]);
  assert.equal(collectivesView(s), null);
  const v = collectivesView(applyEvent(s, evs[1]));
  assert.equal(v.collective, "all_reduce");
  assert.equal(v.step, null); // no step yet
  assert.equal(v.ranks.length, N);
  assert.equal(v.formula, "2(n−1)·α + 2(n−1)/n·N·β");
  assert.equal(v.alphaTerms, 6);
});

test("every rank's buffers, the rounds in order and the bytes of the shown step", () => {
  const s = reduceEvents(runEvents(3));
  const v = collectivesView(s);
  assert.equal(v.step, 3);
  for (const r of v.ranks) {
    assert.deepEqual(r.before, vector(3, r.rank));
    assert.deepEqual(r.after, sum(3));
    assert.equal(r.sent, 48);
    assert.equal(r.recv, 48);
  }
  assert.deepEqual(v.rounds.map((r) => r.round), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(v.rounds.map((r) => r.op), ["reduce_scatter", "reduce_scatter", "reduce_scatter", "all_gather", "all_gather", "all_gather"]);
  assert.ok(v.rounds.every((r) => r.messages.length === N && r.messages.every((m, i) => m.src === i && m.dst === (i + 1) % N)));
  assert.equal(v.critical, 48); // 6 rounds of one 8-byte block = 2(n−1)/n·N
  assert.equal(v.critical, v.betaBytes);
  // an earlier step, scrubbed back to
  const back = collectivesView(reduceEvents(runEvents(3), 1));
  assert.equal(back.step, 1);
  assert.deepEqual(back.ranks[2].before, vector(1, 2));
});

test("without Detail: the buffers and bytes, no rounds", () => {
  const v = collectivesView(reduceEvents(runEvents(2, false)));
  assert.equal(v.step, 2);
  assert.equal(v.detail, false);
  assert.deepEqual(v.rounds, []);
  assert.equal(v.critical, null);
  assert.deepEqual(v.ranks[1].after, sum(2));
});

test("a long run keeps only its newest steps' buffers", () => {
  const s = reduceEvents(runEvents(12, false));
  const kept = Object.keys(s.coll.steps).map(Number);
  assert.equal(Math.min(...kept), 5);
  assert.equal(Math.max(...kept), 12);
});

test("messages by round: sorted, unrounded ones in round 0; the critical path", () => {
  const rounds = messagesByRound([
    { src: 1, dst: 0, bytes: 32, round: 1, op: "broadcast" },
    { src: 0, dst: 1, bytes: 32, op: "broadcast" },
    { src: 0, dst: 2, bytes: 32, round: 1, op: "broadcast" },
    { src: null, dst: 2, bytes: 1 },
  ]);
  assert.deepEqual(rounds.map((r) => [r.round, r.messages.map((m) => `${m.src}>${m.dst}`)]), [[0, ["0>1"]], [1, ["0>2", "1>0"]]]);
  assert.equal(criticalBytes(rounds), 64);
});

test("the frontend is registered with its words in both languages", () => {
  const fe = frontendOf("collectives");
  assert.ok(fe && fe.views.collectives);
  assert.deepEqual(Object.keys(fe.catalog.en).sort(), Object.keys(fe.catalog.zh).sort());
  assert.equal(fe.runWords({ strategy: "collectives", options: { collective: "all_to_all", algorithm: "auto" } }, "list"), "Collectives · All-to-all");
});

test("the step's line and the middle of the workers' ring name the collective", () => {
  const s = reduceEvents(runEvents(2));
  const fe = frontendOf("collectives");
  assert.equal(fe.topologyCentre(s), "All-reduce");
  const line = fe.narrate(s, { step: 2 });
  assert.match(line, /^step 2: All-reduce \(ring\) over 4 workers in 6 rounds, 192 B sent in all; every result checked$/);
});
