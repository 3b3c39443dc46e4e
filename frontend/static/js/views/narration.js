// narrate.js — pure helpers for the one-line narration: facts computed from reducer
// state (never from raw messages, never from timers). No DOM here, so node --test can
// check them (tests/js/narrate.test.mjs).

import { recordAt, stepRanks } from "../core/selectors.js";

const isNum = (x) => typeof x === "number" && Number.isFinite(x);

/** The time a rank worked on a step: its compute plus any emulated (sleeping) work. */
export function workMs(rec) {
  if (!rec) return null;
  const c = isNum(rec.compute_ms) ? rec.compute_ms : 0;
  const e = isNum(rec.emulated_ms) ? rec.emulated_ms : 0;
  return c + e;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The straggler of a synchronous step, if there is one worth saying aloud:
 * {step, rank, factor, waitMs, others}. `factor`: how many times longer the slowest rank
 * worked (compute + emulated work) than the median of the others. `waitMs`: how long the
 * others waited for it, on average. The all-reduce cannot finish before the slowest rank
 * joins it, so a faster rank's extra time in it — its comm_ms beyond the straggler's — is
 * waiting, as is any extra wait_ms at the step barrier:
 *   waited(r) = max(0, (comm_ms + wait_ms)(r) − (comm_ms + wait_ms)(slowest)).
 * Null when the step is incomplete, has one rank, or nobody was markedly slower
 * (factor < minFactor or the others waited less than minWaitMs: scheduler noise on a
 * 2-core machine).
 */
export function stragglerOf(state, step, { minFactor = 1.5, minWaitMs = 5 } = {}) {
  const ranks = stepRanks(state);
  if (ranks.length < 2 || !step) return null;
  const recs = ranks.map((r) => recordAt(state, r, step));
  if (recs.some((r) => !r)) return null;
  let slow = recs[0];
  for (const r of recs) if (workMs(r) > workMs(slow)) slow = r;
  const others = recs.filter((r) => r !== slow);
  const base = median(others.map(workMs));
  const held = (r) => (isNum(r.comm_ms) ? r.comm_ms : 0) + (isNum(r.wait_ms) ? r.wait_ms : 0);
  const waits = others.map((r) => Math.max(0, held(r) - held(slow)));
  const waitMs = waits.reduce((a, b) => a + b, 0) / waits.length;
  const factor = base > 0 ? workMs(slow) / base : Infinity;
  if (!(factor >= minFactor) || !(waitMs >= minWaitMs)) return null;
  return { step, rank: slow.rank, factor: Number.isFinite(factor) ? factor : null, waitMs, others: others.length };
}

/** Checkpoint taken right after `step`, or null: {step, bytes, durationMs}. */
export function checkpointAt(state, step) {
  return (state.checkpoints || []).find((c) => c.step === step) || null;
}
