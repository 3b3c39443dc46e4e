// strategies/collectives/slice.js — the collectives playground's reducer slice and selectors: which collective runs and what it costs (one `collective` event), every rank's buffer before and after each step (`buffers` events), and the step's messages grouped by round.
//
// engine/strategies/collectives_playground.py: rank 0 says once which collective and
// algorithm run, on how many elements, with the α–β formula of the algorithm
// (engine/costmodel.py) and its numbers for this run; every rank then says, each step,
// what its buffer held before and after (and, for reduce-scatter + all-gather, its block
// in the middle). The messages are the core's `comm` events (with Detail): each carries
// the `round` the algorithm sent it in, the same numbering on every rank, so the card
// draws them round by round exactly as they went.

import { stepMessages } from "../../core/comm.js";
import { isNum } from "../../core/log.js";
import { completeStep, recordAt } from "../../core/selectors.js";

export const COLL = "collectives";
// Buffers of the newest KEEP steps are kept (the card shows one step; scrubbing back
// further replays the events, as for every view).
const KEEP = 8;

export function isCollectives(state) {
  return state.strategy === COLL || !!(state.config && state.config.strategy === COLL);
}

function of(state) {
  return state.coll || { info: null, steps: {} };
}

const numbers = (xs) => (Array.isArray(xs) ? xs.map((x) => (isNum(x) ? x : null)) : null);

/** The run's collective, from rank 0, once. */
function collective(state, base, event) {
  const info = {
    collective: String(event.collective || ""),
    algorithm: String(event.algorithm || ""),
    workers: Number.isInteger(event.workers) ? event.workers : null,
    elements: Number.isInteger(event.elements) ? event.elements : null,
    root: Number.isInteger(event.root) ? event.root : null,
    bytes: isNum(event.bytes) ? event.bytes : null,
    blockInput: !!event.block_input,
    blockOutput: !!event.block_output,
    formula: String(event.formula || ""),
    alphaTerms: isNum(event.alpha_terms) ? event.alpha_terms : null,
    betaBytes: isNum(event.beta_bytes) ? event.beta_bytes : null,
  };
  return { ...base, coll: { ...of(state), info } };
}

/** One rank's buffers of one step. */
function buffers(state, base, event) {
  if (!Number.isInteger(event.step) || !Number.isInteger(event.rank)) return base;
  const s = of(state);
  const steps = { ...s.steps };
  const entry = { before: numbers(event.before), after: numbers(event.after), middle: numbers(event.middle), defined: event.defined !== false, error: isNum(event.error) ? event.error : null };
  steps[event.step] = { ...(steps[event.step] || {}), [event.rank]: entry };
  // a long run keeps only its newest steps
  const kept = Object.keys(steps).map(Number).sort((a, b) => a - b);
  for (const k of kept.slice(0, Math.max(0, kept.length - KEEP))) delete steps[k];
  return { ...base, coll: { ...s, steps } };
}

export const slice = {
  events: { collective, buffers },
  initial: { coll: null },
};

// ---------------------------------------------------------------- selectors

/** Pure: messages grouped by round, in round order: [{round, op, messages}] (a message
 *  without a round — a run recorded before rounds were sent — goes into round 0). */
export function messagesByRound(messages) {
  const rounds = new Map();
  for (const m of messages) {
    if (!Number.isInteger(m.src) || !Number.isInteger(m.dst)) continue;
    const r = Number.isInteger(m.round) ? m.round : 0;
    if (!rounds.has(r)) rounds.set(r, []);
    rounds.get(r).push({ src: m.src, dst: m.dst, bytes: isNum(m.bytes) ? m.bytes : 0, chunk: m.chunk ?? null, op: m.op ?? null });
  }
  return [...rounds.keys()]
    .sort((a, b) => a - b)
    .map((round) => {
      const msgs = rounds.get(round).sort((a, b) => a.src - b.src || a.dst - b.dst);
      return { round, op: msgs[0].op, messages: msgs };
    });
}

/** Pure: the bytes on the critical path, measured: the largest message of each round. */
export function criticalBytes(rounds) {
  return rounds.reduce((sum, r) => sum + Math.max(0, ...r.messages.map((m) => m.bytes)), 0);
}

/**
 * What the card draws, or null before the run says its collective: the collective and
 * its cost, the shown step (the newest one every rank reported, or `step`), every rank's
 * buffers then with the bytes it sent and received, and the step's messages by round.
 */
export function collectivesView(state, step = completeStep(state)) {
  if (!isCollectives(state) || !state.coll || !state.coll.info) return null;
  const { info, steps } = state.coll;
  const n = info.workers || (state.config && state.config.workers) || 0;
  const bufs = (step && steps[step]) || {};
  const ranks = Array.from({ length: n }, (_, r) => {
    const b = bufs[r] || null;
    const rec = step ? recordAt(state, r, step) : undefined;
    return {
      rank: r,
      before: b ? b.before : null,
      after: b ? b.after : null,
      middle: b ? b.middle : null,
      defined: b ? b.defined : true,
      error: b ? b.error : null,
      sent: rec && isNum(rec.bytes_sent) ? rec.bytes_sent : null,
      recv: rec && isNum(rec.bytes_recv) ? rec.bytes_recv : null,
    };
  });
  const rounds = step ? messagesByRound(stepMessages(state, step)) : [];
  const detail = !!(state.config && state.config.detail);
  const have = ranks.some((r) => r.after);
  return { ...info, n, step: have ? step : null, ranks, rounds, detail, critical: rounds.length ? criticalBytes(rounds) : null };
}
