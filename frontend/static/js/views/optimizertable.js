// views/optimizertable.js — chapter 9's comparison of distributed optimizers (表9), measured: for each compared run, the steps and wall time to a target loss, the bytes a worker sent, the memory of its optimizer state, its final loss and its spread across seeds, as pure functions of its reduced events.
//
// Every number comes from the run's own step events (never from a formula); where a run
// did not report what a number needs, the value is null with a reason code (as in
// tradeoffs.js), and the view shows "—" with the reason:
// - the loss of a step: the mean over the workers that reported it (selectors.lossSeries,
//   the compare view's loss chart: a lockstep run's steps count once every worker has
//   reported them), smoothed by a trailing mean over SMOOTH_STEPS steps (fewer at the
//   start): one minibatch's loss is noisy, and a single lucky batch must not count as
//   "reached";
// - steps to the target: the first step whose smoothed loss is ≤ the target; its wall
//   time: that step's end (the slowest worker's `t`) minus the first step's `t_start`
//   (the earliest worker's): seconds since training began, not since the processes
//   started (start-up is the same for every optimizer and would hide the difference);
// - bytes per worker: the sum of a worker's steps' `bytes_sent` (what engine/comms.py
//   counted it sending) up to the target step, and over the whole run; the median over
//   the workers;
// - optimizer memory: the step events' `memory.optimizer` (engine/memory.py: Adam's and
//   momentum's buffers, L-BFGS's 2m history vectors; plain SGD keeps none and reports 0),
//   from the process that holds the most;
// - final loss: the mean of the last SMOOTH_STEPS steps' losses;
// - stability across seeds: among the compared runs, those whose settings are equal but
//   for the seed form a group; its spread is max − min (with two to four runs a standard
//   deviation would be a guess dressed as a number; the range is what the student sees).

import { lossSeries, stepRanks } from "../core/selectors.js";
import { canonical } from "./comparedata.js";
import { median } from "./tradeoffs.js";

/** The trailing window of the smoothed loss, in steps. */
export const SMOOTH_STEPS = 5;
/** The target loss when the URL names none: the chapter-9 lesson asks which optimizer
 *  reaches loss 0.3 first. */
export const DEFAULT_TARGET = 0.3;

/** Pure: a target loss typed by the student → a positive finite number, or null. */
export function parseTarget(text) {
  const s = String(text ?? "").trim();
  if (!s) return null;
  const n = Number(s);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** Pure: the trailing mean of `ys` over `window` entries (fewer at the start), the
 *  non-finite ones left out; null where a window holds no finite value. */
export function trailingMean(ys, window = SMOOTH_STEPS) {
  const out = new Array(ys.length);
  for (let i = 0; i < ys.length; i++) {
    let sum = 0;
    let n = 0;
    for (let j = Math.max(0, i - window + 1); j <= i; j++) {
      if (Number.isFinite(ys[j])) {
        sum += ys[j];
        n++;
      }
    }
    out[i] = n ? sum / n : null;
  }
  return out;
}

/** Every step record of the run's workers, by rank: [[rank, [records]]]. */
function workerLogs(state) {
  const out = [];
  for (const rank of stepRanks(state)) {
    const log = state.history && state.history[rank];
    if (!log || !log.length) continue;
    const recs = [];
    for (let i = 0; i < log.length; i++) recs.push(log.items[i]);
    out.push([rank, recs]);
  }
  return out;
}

/** Pure: the seconds since training began at which each step ended: step → the slowest
 *  worker's `t` minus the earliest `t_start` of the first step; null without times. */
function stepEnds(state) {
  const logs = workerLogs(state);
  let start = Infinity;
  const ends = new Map();
  for (const [, recs] of logs) {
    const first = recs[0];
    if (Number.isFinite(first.t_start)) start = Math.min(start, first.t_start);
    for (const r of recs) if (Number.isFinite(r.t)) ends.set(r.step, Math.max(ends.get(r.step) ?? -Infinity, r.t));
  }
  if (!Number.isFinite(start)) return null;
  for (const [s, t] of ends) ends.set(s, t - start);
  return ends;
}

/** Pure: the run's mean loss by step and its smoothing: {steps, loss, smooth}. */
export function smoothedLoss(state, window = SMOOTH_STEPS) {
  const m = lossSeries(state).mean;
  return { steps: m.x, loss: m.y, smooth: trailingMean(m.y, window) };
}

/** Pure: when the run's smoothed loss first got to `target`: {step, seconds, smoothed}
 *  (seconds null where the steps carry no times), or {step: null, reason} — "noSteps"
 *  (no step reported yet), "notReached" (it never got there, `best` its lowest). */
export function toTarget(state, target, window = SMOOTH_STEPS) {
  const { steps, smooth } = smoothedLoss(state, window);
  if (!steps.length) return { step: null, reason: "noSteps" };
  const i = smooth.findIndex((y) => y != null && y <= target);
  if (i < 0) {
    const finite = smooth.filter((y) => y != null);
    return { step: null, reason: "notReached", best: finite.length ? Math.min(...finite) : null, steps: steps.length };
  }
  const ends = stepEnds(state);
  const end = ends ? ends.get(steps[i]) : undefined;
  return { step: steps[i], seconds: Number.isFinite(end) ? end : null, smoothed: smooth[i] };
}

/** Pure: what a worker sent, the median over the workers: {upTo, run} (bytes; upTo:
 *  through step `upToStep`, null when it is null); null where no step counted bytes. */
export function bytesPerWorker(state, upToStep = null) {
  const upTo = [];
  const run = [];
  for (const [, recs] of workerLogs(state)) {
    const counted = recs.filter((r) => Number.isFinite(r.bytes_sent));
    if (!counted.length) continue;
    run.push(counted.reduce((s, r) => s + r.bytes_sent, 0));
    if (upToStep != null) upTo.push(counted.filter((r) => r.step <= upToStep).reduce((s, r) => s + r.bytes_sent, 0));
  }
  if (!run.length) return null;
  return { upTo: upToStep == null ? null : median(upTo), run: median(run), workers: run.length };
}

/** Pure: the bytes of optimizer state of the process that holds the most: {bytes, rank,
 *  step, plainSgd} (plainSgd: 0 bytes and the run's optimizer is plain SGD), or null
 *  where no step carried `memory.optimizer`. */
export function optimizerMemory(state) {
  let best = null;
  for (const [rank, m] of Object.entries(state.memory || {})) {
    if (!Number.isFinite(m.optimizer)) continue;
    if (!best || m.optimizer > best.bytes) best = { bytes: m.optimizer, rank: Number(rank), step: m.step };
  }
  if (!best) return null;
  const opt = state.config && state.config.optimizer;
  return { ...best, plainSgd: best.bytes === 0 && (opt == null || opt === "sgd") };
}

/** Pure: {value, steps}: the mean of the last `window` steps' mean losses; null without. */
export function finalLoss(state, window = SMOOTH_STEPS) {
  const { loss } = smoothedLoss(state, window);
  const last = loss.slice(-window).filter((y) => Number.isFinite(y));
  if (!last.length) return null;
  return { value: last.reduce((s, y) => s + y, 0) / last.length, steps: last.length };
}

/** Pure: a config without its seed, as canonical text (null config: null). */
function settingsKey(config) {
  if (!config) return null;
  const { seed: _seed, ...rest } = config;
  return canonical(rest);
}

/** Pure: for each config, the indices of the configs equal to it but for the seed (its
 *  own included, in order); a config not yet loaded is alone. */
export function seedGroups(configs) {
  const keys = configs.map(settingsKey);
  return keys.map((k, i) => (k == null ? [i] : keys.map((o, j) => (o === k ? j : -1)).filter((j) => j >= 0)));
}

/** Pure: max − min of finite numbers (null when there are none). */
function range(values) {
  const v = values.filter((x) => Number.isFinite(x));
  return v.length ? Math.max(...v) - Math.min(...v) : null;
}

/** Pure: the spread of a seed group over its rows ({target, final}): {runs, seeds,
 *  steps, loss}, steps null with stepsReason "notAllReached" when some run of the group
 *  did not reach the target (a range over part of the group would understate it); or
 *  {runs: 1, reason: "noSiblings"} for a run compared with no other seed. */
export function seedSpread(group, rows, configs) {
  if (group.length < 2) return { runs: 1, reason: "noSiblings" };
  const seeds = group.map((j) => (configs[j] ? configs[j].seed : null));
  const steps = group.map((j) => rows[j].target.step);
  const allReached = steps.every((s) => s != null);
  return {
    runs: group.length,
    seeds,
    steps: allReached ? range(steps) : null,
    stepsReason: allReached ? null : "notAllReached",
    loss: range(group.map((j) => (rows[j].final ? rows[j].final.value : null))),
  };
}

/** Pure: one run's row of 表9 (without its seed spread, which needs the other runs). */
export function optimizerRow(state, target, window = SMOOTH_STEPS) {
  const reached = toTarget(state, target, window);
  return {
    target: reached,
    bytes: bytesPerWorker(state, reached.step),
    memory: optimizerMemory(state),
    final: finalLoss(state, window),
  };
}

/** Pure: 表9 for the compared runs: each row with `seeds`, its group's spread. */
export function optimizerTable(states, configs, target, window = SMOOTH_STEPS) {
  const rows = states.map((s) => optimizerRow(s, target, window));
  const groups = seedGroups(configs);
  return rows.map((r, i) => ({ ...r, seeds: seedSpread(groups[i], rows, configs) }));
}
