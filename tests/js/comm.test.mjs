// Link-byte accounting and message rounds of the hand-written all-reduces
// (frontend/static/js/core/reducer.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { linkTraffic, stepMessages, stepTraffic } from "../../frontend/static/js/core/comm.js";
import { applyEvent, eventsBetween, initialState, reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { completeStep, gradBytes } from "../../frontend/static/js/core/selectors.js";
import { commRounds, expectedTraffic, runAlgo } from "../../frontend/static/js/strategies/data_parallel/slice.js";
import { linkBytesView } from "../../frontend/static/js/strategies/data_parallel/linkbytes.js";
import { roundDurations } from "../../frontend/static/js/strategies/data_parallel/packets.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

// ------------------------------------------------------------ the engine's algorithms
// The same message pattern as engine/collectives.py, for a gradient of `numel` floats.

/** Chunk sizes of torch.tensor_split(numel, n): the first numel % n chunks get one more. */
function chunkSizes(numel, n) {
  const base = Math.floor(numel / n);
  return Array.from({ length: n }, (_, i) => base + (i < numel % n ? 1 : 0));
}

/** Messages of one all-reduce, per sending rank, in the order that rank sends them. */
function allReduceMessages(algo, n, numel) {
  const N = numel * 4;
  const per = Array.from({ length: n }, () => []);
  const msg = (src, dst, op, bytes, chunk = null) => per[src].push({ src, dst, op, bytes, chunk });
  if (algo === "ring") {
    const c = chunkSizes(numel, n);
    for (let r = 0; r < n; r++) {
      for (let s = 0; s < n - 1; s++) {
        const i = (((r - s) % n) + n) % n;
        msg(r, (r + 1) % n, "reduce_scatter", c[i] * 4, i);
      }
      for (let s = 0; s < n - 1; s++) {
        const i = (((r - s + 1) % n) + n) % n;
        msg(r, (r + 1) % n, "all_gather", c[i] * 4, i);
      }
    }
  } else if (algo === "naive") {
    for (let r = 1; r < n; r++) msg(r, 0, "reduce", N);
    for (let d = 1; d < n; d++) msg(0, d, "broadcast", N);
  } else if (algo === "tree") {
    for (let r = 0; r < n; r++) {
      for (let mask = 1; mask < n; mask <<= 1) {
        if (r & mask) {
          msg(r, r - mask, "reduce", N);
          break;
        }
      }
    }
    for (let r = 0; r < n; r++) {
      const lowest = r === 0 ? 1 << (n - 1).toString(2).length : r & -r;
      for (let mask = lowest >> 1; mask >= 1; mask >>= 1) if (r + mask < n) msg(r, r + mask, "broadcast", N);
    }
  } else {
    const ring = (2 * (n - 1) * N) / n;
    for (let r = 0; r < n; r++) msg(r, (r + 1) % n, "all_reduce", Math.floor(ring));
  }
  return per;
}

/** A detail run: run_started, set-up broadcast, then per step every rank's comm events
 *  (ranks interleaved round-robin, as a real stream mixes them) and its step event. */
function detailRun({ algo = "ring", workers = 4, steps = 6, numParams = 1218, finish = true } = {}) {
  const events = [];
  let seq = 0;
  const push = (e) => events.push({ seq: ++seq, run_id: "r", rank: null, step: null, t: seq * 0.001, ...e });
  push({
    type: "run_started",
    config: { strategy: "data_parallel", options: { allreduce: algo }, workers, steps, detail: true },
    world_size: workers,
    num_params: numParams,
    strategy: "data_parallel",
  });
  for (let r = 0; r < workers; r++) push({ type: "worker_started", rank: r, pid: 100 + r });
  for (let d = 1; d < workers; d++) {
    push({ type: "comm", rank: 0, op: "broadcast", src: 0, dst: d, bytes: numParams * 4, chunk: null, algo: "builtin", duration_ms: 1 });
  }
  for (let k = 1; k <= steps; k++) {
    const per = allReduceMessages(algo, workers, numParams);
    const queues = per.map((list) => list.slice());
    let left = queues.reduce((a, q) => a + q.length, 0);
    while (left > 0) {
      for (let r = 0; r < workers; r++) {
        const m = queues[r].shift();
        if (!m) continue;
        left--;
        push({ type: "comm", rank: r, step: k, ...m, algo, duration_ms: 2 + r });
      }
    }
    for (let r = 0; r < workers; r++) {
      const sent = per[r].reduce((a, m) => a + m.bytes, 0);
      const recv = per.flat().filter((m) => m.dst === r).reduce((a, m) => a + m.bytes, 0);
      push({ type: "step", rank: r, step: k, loss: 1 / k, comm_ms: 3, compute_ms: 1, bytes_sent: sent, bytes_recv: recv, param_checksum: k });
    }
  }
  if (finish) push({ type: "run_finished", status: "finished", error: null, summary: null });
  return events;
}

const ringPerStep = (n, numel) => (2 * (n - 1) * numel * 4) / n;

// ------------------------------------------------------------ accounting

test("ring: bytes per link and per rank add up over the steps", () => {
  const n = 4;
  const steps = 7;
  const s = reduceEvents(detailRun({ algo: "ring", workers: n, steps }));
  assert.equal(runAlgo(s), "ring");
  assert.equal(gradBytes(s), 1218 * 4);
  const tr = linkTraffic(s);
  assert.equal(tr.steps, steps);
  assert.equal(tr.messages, steps * n * 2 * (n - 1));
  // exactly the links (r, r+1): a ring
  assert.deepEqual(Object.keys(tr.links).sort(), ["0>1", "1>2", "2>3", "3>0"]);
  const formula = ringPerStep(n, 1218) * steps;
  for (let r = 0; r < n; r++) {
    const { sent, recv, sentMsgs } = tr.ranks[r];
    assert.equal(sentMsgs, steps * 2 * (n - 1));
    // chunks differ by one float when 1218 is not a multiple of 4: a few bytes per step
    assert.ok(Math.abs(sent - formula) <= 8 * steps, `rank ${r}: ${sent} vs ${formula}`);
    assert.ok(Math.abs(recv - formula) <= 8 * steps);
    assert.equal(tr.links[`${r}>${(r + 1) % n}`].bytes, sent);
  }
  // the comm events agree with the step events' own counters
  const st = stepTraffic(s);
  for (let r = 0; r < n; r++) assert.equal(st.ranks[r].sent, tr.ranks[r].sent);
  assert.equal(st.steps, steps);
});

test("link totals are kept per state: asked again, the same answer; a new event, a new one", () => {
  const events = detailRun({ algo: "ring", workers: 3, steps: 5 });
  const s = reduceEvents(events);
  const tr = linkTraffic(s, 3);
  assert.equal(linkTraffic(s, 3), tr, "the same state and step: the totals kept");
  assert.notEqual(linkTraffic(s, 4), tr);
  assert.equal(linkTraffic(s, 4).steps, 4);
  // a state moved on by one more message (a copy: the old state is unchanged)
  const more = applyEvent(s, { type: "comm", seq: 10_000, rank: 0, step: 5, src: 0, dst: 1, op: "all_gather", bytes: 100 });
  assert.equal(linkTraffic(s, 5).messages + 1, linkTraffic(more, 5).messages);
  assert.equal(linkTraffic(s, 3), tr, "the older state still answers from its own totals");
});

test("set-up traffic is kept apart from the per-step totals", () => {
  const s = reduceEvents(detailRun({ algo: "ring", workers: 3, steps: 2 }));
  assert.equal(s.setupTraffic.ranks[0].sent, 2 * 1218 * 4);
  assert.equal(s.setupTraffic.ranks[1].recv, 1218 * 4);
  assert.equal(s.setupTraffic.steps, 0);
  assert.equal(linkTraffic(s).links["0>2"], undefined); // a ring of 3 never sends 0 → 2
});

test("naive: rank 0 sends and receives (n-1) times what any other rank does", () => {
  const n = 5;
  const s = reduceEvents(detailRun({ algo: "naive", workers: n, steps: 3 }));
  const tr = linkTraffic(s);
  assert.equal(tr.ranks[0].sent, (n - 1) * tr.ranks[1].sent);
  assert.equal(tr.ranks[0].recv, (n - 1) * tr.ranks[3].recv);
  assert.equal(Object.keys(tr.links).length, 2 * (n - 1)); // a star, both ways
  const exp = expectedTraffic("naive", n, gradBytes(s));
  for (let r = 0; r < n; r++) assert.equal(tr.ranks[r].sent, exp.perRank[r].sent * 3);
});

test("tree: the measured bytes are what the binomial tree predicts", () => {
  for (const n of [2, 3, 5, 6, 8]) {
    const s = reduceEvents(detailRun({ algo: "tree", workers: n, steps: 2 }));
    const tr = linkTraffic(s);
    const exp = expectedTraffic("tree", n, gradBytes(s));
    assert.equal(exp.headline, Math.ceil(Math.log2(n)) * gradBytes(s), `root formula, n=${n}`);
    for (let r = 0; r < n; r++) {
      assert.equal(tr.ranks[r].sent, exp.perRank[r].sent * 2, `n=${n} rank ${r} sent`);
      assert.equal(tr.ranks[r].recv, exp.perRank[r].recv * 2, `n=${n} rank ${r} recv`);
    }
  }
});

test("expected traffic: the textbook formulas", () => {
  const N = 1000;
  assert.equal(expectedTraffic("ring", 4, N).headline, 1500);
  assert.equal(expectedTraffic("builtin", 8, N).headline, 1750);
  assert.equal(expectedTraffic("naive", 4, N).headline, 3000);
  assert.equal(expectedTraffic("naive", 4, N).perRank[2].sent, 1000);
  assert.equal(expectedTraffic("tree", 8, N).headline, 3000);
  assert.deepEqual(expectedTraffic("tree", 1, N), { perRank: [], headline: null });
});

test("scrubbing: link bytes as of step k count exactly k steps", () => {
  const events = detailRun({ algo: "ring", workers: 4, steps: 10 });
  const full = linkTraffic(reduceEvents(events));
  for (const k of [1, 3, 9]) {
    const s = reduceEvents(events, k);
    const tr = linkTraffic(s);
    assert.equal(tr.steps, k);
    for (const [key, l] of Object.entries(tr.links)) assert.equal(l.bytes * 10, full.links[key].bytes * k);
  }
  // folding the difference (the player's forward scrub) gives the same numbers
  const inc = reduceEvents(eventsBetween(events, 2, 8), null, reduceEvents(events, 2));
  assert.deepEqual(linkTraffic(inc), linkTraffic(reduceEvents(events, 8)));
});

test("live: the step still in flight is not counted until every rank finished it", () => {
  const events = detailRun({ algo: "ring", workers: 4, steps: 5, finish: false });
  // cut in the middle of step 5: some of its messages are in, no rank finished it
  const firstOf5 = events.findIndex((e) => e.type === "comm" && e.step === 5);
  const s = reduceEvents(events.slice(0, firstOf5 + 5));
  assert.equal(completeStep(s), 4);
  assert.equal(linkTraffic(s).steps, 4);
  assert.equal(linkTraffic(s, Infinity).steps, 5);
  assert.equal(stepMessages(s, 5).length, 5);
});

test("a long run keeps a few steps of messages and folds the rest into totals", () => {
  const events = detailRun({ algo: "tree", workers: 8, steps: 40 });
  let s = initialState();
  let mid = null;
  for (const e of events) {
    s = applyEvent(s, e);
    if (e.seq === 600) mid = s;
  }
  assert.ok(Object.keys(s.commSteps).length <= 4);
  assert.equal(stepMessages(s, 40).length, 14);
  assert.equal(stepMessages(s, 2).length, 0); // folded
  const tr = linkTraffic(s);
  assert.equal(tr.steps, 40);
  assert.equal(tr.ranks[0].sent, 3 * 1218 * 4 * 40);
  // an older state version is unaffected by what came later
  const midTr = linkTraffic(mid, Infinity);
  assert.ok(midTr.messages < tr.messages);
  assert.deepEqual(linkTraffic(mid, Infinity), midTr);
  assert.equal(linkTraffic(reduceEvents(events.filter((e) => e.seq <= 600)), Infinity).messages, midTr.messages);
});

test("a very late message of a folded step is still counted", () => {
  let s = reduceEvents(detailRun({ algo: "naive", workers: 3, steps: 8, finish: false }));
  const before = linkTraffic(s).ranks[2].sent;
  s = applyEvent(s, { seq: 10_000, type: "comm", rank: 2, step: 1, op: "reduce", src: 2, dst: 0, bytes: 40, algo: "naive" });
  assert.equal(linkTraffic(s).ranks[2].sent, before + 40);
});

test("comm events without a run_started still reduce (no crash, no algo)", () => {
  const s = applyEvent(initialState(), { seq: 1, type: "comm", rank: 0, step: 1, op: "reduce", src: 0, dst: 1, bytes: 8 });
  assert.equal(linkTraffic(s, 1).ranks[0].sent, 8);
  assert.equal(runAlgo(s), null);
});

// ------------------------------------------------------------ rounds (animation order)

const shape = (rounds) => rounds.map((r) => `${r.op}:${r.messages.length}`);

test("ring rounds: n-1 reduce-scatter rounds then n-1 all-gather rounds, every rank at once", () => {
  const s = reduceEvents(detailRun({ algo: "ring", workers: 4, steps: 2 }));
  const rounds = commRounds(stepMessages(s, 2), "ring", 4);
  assert.deepEqual(shape(rounds), [
    "reduce_scatter:4",
    "reduce_scatter:4",
    "reduce_scatter:4",
    "all_gather:4",
    "all_gather:4",
    "all_gather:4",
  ]);
  // in round k rank r sends chunk (r - k) mod n: every chunk moves once per round
  assert.deepEqual(
    rounds[1].messages.map((m) => [m.src, m.chunk]).sort((a, b) => a[0] - b[0]),
    [
      [0, 3],
      [1, 0],
      [2, 1],
      [3, 2],
    ],
  );
  assert.deepEqual(rounds.map((r) => `${r.round + 1}/${r.of}`), ["1/3", "2/3", "3/3", "1/3", "2/3", "3/3"]);
  assert.equal(rounds[0].durationMs, 5); // the slowest message of the round (rank 3: 2 + 3 ms)
});

test("tree rounds: leaves first on the way up, root first on the way down", () => {
  const s = reduceEvents(detailRun({ algo: "tree", workers: 8, steps: 1 }));
  const rounds = commRounds(stepMessages(s, 1), "tree", 8);
  assert.deepEqual(shape(rounds), ["reduce:4", "reduce:2", "reduce:1", "broadcast:1", "broadcast:2", "broadcast:4"]);
  assert.deepEqual(rounds[2].messages.map((m) => [m.src, m.dst]), [[4, 0]]);
  assert.deepEqual(rounds[3].messages.map((m) => [m.src, m.dst]), [[0, 4]]);
  // n = 5: rank 4 hands its gradient straight to rank 0, in the third round
  const s5 = reduceEvents(detailRun({ algo: "tree", workers: 5, steps: 1 }));
  const r5 = commRounds(stepMessages(s5, 1), "tree", 5);
  assert.deepEqual(shape(r5), ["reduce:2", "reduce:1", "reduce:1", "broadcast:1", "broadcast:1", "broadcast:2"]);
});

test("naive rounds: rank 0 takes one partial sum after another, then sends one copy after another", () => {
  const s = reduceEvents(detailRun({ algo: "naive", workers: 4, steps: 1 }));
  const rounds = commRounds(stepMessages(s, 1), "naive", 4);
  assert.deepEqual(shape(rounds), ["reduce:1", "reduce:1", "reduce:1", "broadcast:1", "broadcast:1", "broadcast:1"]);
  assert.deepEqual(rounds.map((r) => [r.messages[0].src, r.messages[0].dst]), [
    [1, 0],
    [2, 0],
    [3, 0],
    [0, 1],
    [0, 2],
    [0, 3],
  ]);
});

test("round durations: measured × scale, clamped, a whole step capped", () => {
  assert.deepEqual(roundDurations([{ durationMs: 0.1 }, { durationMs: 5 }, { durationMs: 100 }]), [160, 200, 600]);
  const many = roundDurations(Array.from({ length: 14 }, () => ({ durationMs: 10 })));
  assert.ok(many.reduce((a, b) => a + b, 0) <= 2400 + 1e-9);
  assert.ok(many.every((ms) => ms >= 90));
});

// ------------------------------------------------------------ the bytes card

test("bytes card view: measured per rank beside the formula over the same steps", () => {
  const s = reduceEvents(detailRun({ algo: "ring", workers: 4, steps: 5 }));
  const v = linkBytesView(s);
  assert.equal(v.algo, "ring");
  assert.equal(v.source, "comm");
  assert.equal(v.steps, 5);
  assert.equal(v.N, 4872);
  assert.equal(v.headline, 7308);
  assert.equal(v.rows.length, 4);
  for (const row of v.rows) {
    assert.equal(row.expectedSent, 7308 * 5);
    assert.ok(Math.abs(row.sent - row.expectedSent) <= 8 * 5);
  }
  assert.deepEqual(v.setup, { rank: 0, bytes: 4872 });
  // without detail the step events' counters stand in
  const plain = reduceEvents(detailRun({ algo: "tree", workers: 4, steps: 3 }).filter((e) => e.type !== "comm"));
  const pv = linkBytesView(plain);
  assert.equal(pv.source, "steps");
  assert.equal(pv.rows[0].sent, 2 * 4872 * 3);
  assert.equal(pv.setup, null);
  // a single process has nothing to show
  const single = reduceEvents([
    { seq: 1, type: "run_started", config: { strategy: "single", workers: 1 }, world_size: 1, strategy: "single" },
  ]);
  assert.equal(linkBytesView(single), null);
});
