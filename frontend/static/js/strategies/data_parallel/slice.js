// strategies/data_parallel/slice.js — data parallelism's reducer slice and selectors: its all-reduce (algorithm, rounds, textbook bytes) and the α–β model's measured side.
//
// Data parallelism adds no event type of its own: its messages are common `comm` events
// (core/comm.js) and its compression metrics are fields of `step` (compression.js).

import { isNum, emptyLog, lowerBound } from "../../core/log.js";
import { completeStep, isLockstep, optionsOf, ranksOf } from "../../core/selectors.js";
import { frontendOf } from "../../core/registry.js";
import { compressionOf } from "./compression.js";

export const DP = "data_parallel";

/** The slice registered with the core reducer (core/registry.js): no events of its own;
 *  its workers move in lock step; the tail-latency card applies. */
export const slice = { tailLatency: true };

/** Order of the phases inside one all-reduce: summing first, then handing results out;
 *  then decentralized SGD's gossip (each worker's model to its neighbours, one phase). */
export const COMM_OP_ORDER = ["reduce_scatter", "reduce", "all_reduce", "all_gather", "broadcast", "gossip", "scatter", "gather", "all_to_all", "barrier"];

/** The all-reduce algorithm of a data-parallel run with 2+ ranks (else null). A compressed
 *  run (other than PowerSGD) all-gathers its encoded gradients over a hand-written ring. */
export function runAlgo(state) {
  if (state.strategy === "single" || !isLockstep(state) || ranksOf(state).length < 2) return null;
  // A strategy with a frontend of its own (a pipeline) runs no all-reduce of ours, unless
  // it says it is drawn as our ring (ZeRO: reduce-scatter and all-gather on the ring).
  const own = frontendOf(state.strategy || (state.config && state.config.strategy));
  if (own && own.name !== "data_parallel" && !own.ring) return null;
  const c = compressionOf(state.config);
  if (c && c.gathered) return "ring";
  const a = optionsOf(state.config).allreduce || state.commAlgo || "builtin";
  return a;
}

function ceilLog2(n) {
  return n <= 1 ? 0 : (n - 1).toString(2).length;
}

function log2Exact(x) {
  const k = Math.log2(x);
  return Number.isInteger(k) ? k : null;
}

/**
 * Which round of its phase a message belongs to. Ring: the k-th message a rank sends in
 * a phase goes in round k (all ranks send at once). Tree (binomial, towards rank 0): a
 * reduce from r to r - 2^k happens in round k; the broadcast runs the same tree top
 * down. Naive: rank 0 takes the partial sums one after another (round = sender - 1) and
 * sends the result back one rank after another (round = receiver - 1).
 */
function roundOf(algo, op, m, k, n) {
  if (algo === "tree" && Number.isInteger(m.src) && Number.isInteger(m.dst)) {
    const level = log2Exact(Math.abs(m.dst - m.src));
    if (level !== null) {
      if (op === "reduce") return level;
      if (op === "broadcast") return ceilLog2(n) - 1 - level;
    }
  }
  if (algo === "naive") {
    if (op === "reduce" && m.dst === 0 && m.src > 0) return m.src - 1;
    if (op === "broadcast" && m.src === 0 && m.dst > 0) return m.dst - 1;
  }
  return k;
}

/**
 * Pure: a step's messages as an ordered list of rounds, phase by phase:
 * [{op, round, of, messages, durationMs}] — `round` counts within the phase, `of` is the
 * number of rounds of that phase, durationMs is the slowest measured message of the round.
 */
export function commRounds(messages, algo, n) {
  const byOp = new Map();
  for (const op of COMM_OP_ORDER) byOp.set(op, []);
  for (const m of messages) {
    if (!byOp.has(m.op)) byOp.set(m.op, []);
    byOp.get(m.op).push(m);
  }
  const out = [];
  for (const [op, list] of byOp) {
    if (!list.length) continue;
    const perSrc = new Map();
    const rounds = new Map();
    for (const m of list) {
      const k = perSrc.get(m.src) || 0;
      perSrc.set(m.src, k + 1);
      const r = roundOf(algo, op, m, k, n);
      if (!rounds.has(r)) rounds.set(r, []);
      rounds.get(r).push(m);
    }
    const order = [...rounds.keys()].sort((a, b) => a - b);
    order.forEach((r, i) => {
      const msgs = rounds.get(r);
      const durationMs = msgs.reduce((a, m) => Math.max(a, isNum(m.duration_ms) ? m.duration_ms : 0), 0);
      out.push({ op, round: i, of: order.length, messages: msgs, durationMs });
    });
  }
  return out;
}

function treeChildren(rank, n) {
  let mask = (rank === 0 ? 1 << ceilLog2(n) : rank & -rank) >> 1;
  let c = 0;
  for (; mask >= 1; mask >>= 1) if (rank + mask < n) c++;
  return c;
}

/**
 * What the textbook formulas predict per step for a gradient of N bytes on n ranks:
 * {perRank: [{sent, recv}], headline} where headline is the number the formula line
 * quotes (ring: every rank; naive: the root's sends and receives; tree: the root's sends).
 */
export function expectedTraffic(algo, n, N) {
  const perRank = [];
  // hierarchical: what a rank sends depends on its node (leader or not): measured only
  if (!(n > 1) || !isNum(N) || algo === "hierarchical") return { perRank, headline: null };
  for (let r = 0; r < n; r++) {
    let sent;
    let recv;
    if (algo === "naive") {
      sent = recv = r === 0 ? (n - 1) * N : N;
    } else if (algo === "tree") {
      const links = treeChildren(r, n) + (r === 0 ? 0 : 1);
      sent = recv = links * N;
    } else {
      sent = recv = (2 * (n - 1) * N) / n; // ring, and builtin (counted as a ring)
    }
    perRank.push({ sent, recv });
  }
  return { perRank, headline: perRank[0].sent };
}


/** Mean over the steps every rank reported of the step's modelled communication time
 *  (its slowest rank's comm_modelled_ms), up to `uptoStep`; null without a network. */
export function modelledCommMean(state, uptoStep = completeStep(state)) {
  const ranks = ranksOf(state);
  if (!ranks.length) return null;
  const perStep = new Map();
  for (const r of ranks) {
    const log = state.history[r] || emptyLog();
    const end = lowerBound(log, uptoStep + 1);
    for (let i = 0; i < end; i++) {
      const rec = log.items[i];
      if (!isNum(rec.comm_modelled_ms)) continue;
      const a = perStep.get(rec.step) || { max: 0, n: 0 };
      a.max = Math.max(a.max, rec.comm_modelled_ms);
      a.n += 1;
      perStep.set(rec.step, a);
    }
  }
  const full = [...perStep.values()].filter((a) => a.n === ranks.length);
  return full.length ? full.reduce((s, a) => s + a.max, 0) / full.length : null;
}

