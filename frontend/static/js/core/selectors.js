// core/selectors.js — what the views read of the reducer's state, for every strategy: ranks, records, loss, timeline, tail latency.
//
// Pure functions of the state (no DOM, no clocks). A strategy changes their answers only
// through its slice (core/registry.js): `lockstep: false` (workers do not move in step),
// `serverRanks` (ranks that serve and report no steps), `tailLatency` (the tail card applies).

import { emptyLog, isNum, logAt, logLast, lowerBound } from "./log.js";
import { frontendOf, slicesOf } from "./registry.js";

export const LIVE_STATUSES = ["queued", "starting", "running", "paused"];
export const TERMINAL_STATUSES = ["finished", "stopped", "failed", "interrupted"];

/** Steps done, in the unit the run asked for (the run list's "12/60"): the newest step,
 *  or the strategy frontend's own count (`progress`, e.g. an asynchronous parameter
 *  server's versions / workers, as engine/strategies/ps_hooks.py counts them). */
export function runProgress(state) {
  const fe = frontendOf(state.strategy || (state.config && state.config.strategy));
  return fe && fe.progress ? fe.progress(state) : state.lastStep;
}

/** What the scrubber counts: "step", or "iteration" where the strategy's steps are not
 *  one worker's iterations (an asynchronous parameter server: the scrubber walks the
 *  furthest worker's iterations, while the run's step is versions / workers). */
export function cursorUnit(state) {
  const fe = frontendOf(state.strategy || (state.config && state.config.strategy));
  return fe && fe.cursorUnit ? fe.cursorUnit(state) : "step";
}

export function isLive(status) {
  return LIVE_STATUSES.includes(status);
}

/** Do the run's workers move in lock step (a synchronous all-reduce), or each at its own
 *  pace (a slice that says `lockstep: false`, e.g. the parameter server)? */
export function isLockstep(state) {
  return !slicesOf(state).some((s) => s.lockstep === false);
}

/** Ranks to show: 0..worldSize-1, plus any rank that spoke. */
export function ranksOf(state) {
  const set = new Set();
  for (let r = 0; r < (state.worldSize || 0); r++) set.add(r);
  for (const r of Object.keys(state.workers)) set.add(Number(r));
  for (const r of Object.keys(state.history)) set.add(Number(r));
  return [...set].sort((a, b) => a - b);
}

/** A run config's strategy options (config.options; {} when there are none). */
export function optionsOf(config) {
  return (config && config.options) || {};
}


/** Ranks that serve rather than train (a parameter server's servers), from the run's
 *  slices; [] for every other run. */
export function serverRanks(state) {
  const set = new Set();
  for (const s of slicesOf(state)) if (s.serverRanks) for (const r of s.serverRanks(state)) set.add(r);
  return [...set].sort((a, b) => a - b);
}

/** Ranks that report training steps: every rank, except the servers of a PS run. */
export function stepRanks(state) {
  const servers = new Set(serverRanks(state));
  return servers.size ? ranksOf(state).filter((r) => !servers.has(r)) : ranksOf(state);
}

/** Has this worker left the run (elastic recovery: shrink or continue) and not come back? */
export function isGone(state, rank) {
  const w = state.workers[rank];
  return !!(w && w.status === "left");
}

/** Is this worker rejoining (back in the group, no step reported yet)? */
export function isJoining(state, rank) {
  const w = state.workers[rank];
  return !!(w && w.joining);
}

/** Did the group change membership (shrink, rejoin, continue)? */
export function isElastic(state) {
  return (state.recoveries || []).some((r) => r.policy && r.policy !== "restart");
}

/** The step ranks that are in the run now: not gone, not still joining. */
export function groupRanks(state) {
  return stepRanks(state).filter((r) => !isGone(state, r) && !isJoining(state, r));
}

/** The data-parallel ring in order: the newest shrink/rejoin's members (group-rank order,
 *  which is the all-reduce ring's), else every rank in rank order. */
export function ringOrder(state) {
  const all = ranksOf(state);
  if (!state.members) return all;
  const set = new Set(all);
  return state.members.filter((r) => set.has(r));
}

export function latestRecord(state, rank) {
  const log = state.history[rank];
  return log ? logLast(log) : undefined;
}

export function recordAt(state, rank, step) {
  const log = state.history[rank];
  if (!log) return undefined;
  const rec = logAt(log, lowerBound(log, step));
  return rec && rec.step === step ? rec : undefined;
}

/** Newest step that every rank has reported (0 if none). */
export function completeStep(state) {
  const ranks = stepRanks(state);
  if (!ranks.length) return 0;
  // Workers that do not move in lock step (parameter server): show the newest iteration.
  if (!isLockstep(state)) return ranks.reduce((m, r) => Math.max(m, (latestRecord(state, r) || { step: 0 }).step), 0);
  let min = Infinity;
  // A worker that left (or is still joining) is not waited for.
  const group = isElastic(state) ? groupRanks(state) : ranks;
  for (const r of group.length ? group : ranks) {
    const rec = latestRecord(state, r);
    min = Math.min(min, rec ? rec.step : 0);
  }
  return min === Infinity ? 0 : min;
}

/** Do all ranks hold identical parameters after step `step`? true / false / null (unknown). */
export function replicasIdentical(state, step) {
  if (!isLockstep(state)) return null; // workers pull whatever version the servers hold
  let ranks = ranksOf(state);
  if (!ranks.length || !step) return null;
  if (isElastic(state)) {
    // Compare the workers that were in the group at that step: a rank that left has no
    // record there, nor has a rejoined one for the steps it was away (its next record is
    // later). A present member that has not reported it yet makes the answer unknown.
    ranks = ranks.filter((r) => {
      if (recordAt(state, r, step)) return true;
      if (isGone(state, r) || isJoining(state, r)) return false;
      const last = latestRecord(state, r);
      return !(last && last.step > step);
    });
    if (!ranks.length) return null;
  }
  const recs = ranks.map((r) => recordAt(state, r, step));
  if (recs.some((x) => !x)) return null;
  const first = recs[0];
  return recs.every((x) => {
    if (x.param_hash != null && first.param_hash != null) return x.param_hash === first.param_hash;
    return x.param_checksum === first.param_checksum;
  });
}

/** Summary of one step across ranks, for the narration and the topology. */
export function stepSummary(state, step) {
  const ranks = isElastic(state) ? groupRanks(state) : stepRanks(state);
  const records = ranks.map((r) => recordAt(state, r, step) || null);
  const got = records.filter(Boolean);
  const sum = (f) => got.reduce((a, x) => a + (isNum(x[f]) ? x[f] : 0), 0);
  const max = (f) => got.reduce((a, x) => Math.max(a, isNum(x[f]) ? x[f] : 0), 0);
  return {
    step,
    ranks,
    records,
    complete: got.length === ranks.length && ranks.length > 0,
    identical: replicasIdentical(state, step),
    bytesSent: sum("bytes_sent"),
    commMs: max("comm_ms"),
    computeMs: max("compute_ms"),
    waitMs: max("wait_ms"),
    meanLoss: got.length ? meanFinite(got.map((x) => x.loss)) : null,
    blockedMs: max("blocked_ms"),
    emulatedMs: max("emulated_ms"),
  };
}

/** A finite number, or null (NaN / ±Infinity / strings become gaps in a chart). */
export function finiteOrNull(x) {
  return typeof x === "number" && Number.isFinite(x) ? x : null;
}

/** Mean of the values, or null if any is not a finite number (a diverged worker). */
function meanFinite(xs) {
  if (!xs.length || xs.some((x) => !isNum(x))) return null;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Loss curves: one per rank plus the mean over ranks. x = step, xt = the step event's
 * time (s since start). Data parallel: the mean is drawn at steps every rank reported.
 * Parameter server: workers run at their own pace, so the mean of iteration i is over the
 * workers that reached it (at the mean time they reported it). Non-finite losses are null.
 */
export function lossSeries(state) {
  const ranks = stepRanks(state);
  const ps = !isLockstep(state);
  const perRank = [];
  const acc = new Map();
  for (const r of ranks) {
    const log = state.history[r] || emptyLog();
    const x = new Array(log.length);
    const y = new Array(log.length);
    const xt = new Array(log.length);
    for (let i = 0; i < log.length; i++) {
      const rec = log.items[i];
      x[i] = rec.step;
      y[i] = finiteOrNull(rec.loss);
      xt[i] = rec.t;
      const a = acc.get(rec.step);
      if (a) {
        a.losses.push(rec.loss);
        a.t += rec.t;
      } else acc.set(rec.step, { losses: [rec.loss], t: rec.t });
    }
    perRank.push({ rank: r, x, y, xt });
  }
  // Elastic runs: the group's size changes; a step every member has finished is one up
  // to completeStep.
  const done = isElastic(state) && !ps ? completeStep(state) : null;
  const steps = [...acc.keys()]
    .filter((s) => (ps ? acc.get(s).losses.length > 0 : done != null ? s <= done : acc.get(s).losses.length === ranks.length))
    .sort((a, b) => a - b);
  return {
    ranks: perRank,
    mean: {
      x: steps,
      y: steps.map((s) => meanFinite(acc.get(s).losses)),
      xt: steps.map((s) => acc.get(s).t / acc.get(s).losses.length),
    },
  };
}

/** The last `numSteps` steps of every rank, for the swimlanes. */
export function timelineWindow(state, numSteps = 30) {
  const ranks = stepRanks(state);
  const last = state.lastStep;
  const from = Math.max(1, last - numSteps + 1);
  let t0 = Infinity;
  let t1 = -Infinity;
  const lanes = ranks.map((r) => {
    const log = state.history[r] || emptyLog();
    const recs = [];
    for (let i = lowerBound(log, from); i < log.length; i++) {
      const rec = log.items[i];
      recs.push(rec);
      const start = isNum(rec.t_start) ? rec.t_start : rec.t;
      t0 = Math.min(t0, start);
      t1 = Math.max(t1, rec.t);
    }
    return { rank: r, recs };
  });
  if (t0 === Infinity) {
    t0 = 0;
    t1 = 0;
  }
  // Workers that do not move in lock step (an asynchronous parameter server) are at
  // different step numbers at the same moment: a 5× straggler's newest step is a fifth of
  // the others'. The window is then the span of time the newest steps took, and each lane
  // shows what its worker did in it, whatever its step numbers.
  const lockstep = isLockstep(state);
  if (!lockstep && t1 > t0) {
    for (const lane of lanes) {
      const log = state.history[lane.rank] || emptyLog();
      const recs = [];
      for (let i = log.length - 1; i >= 0; i--) {
        const rec = log.items[i];
        if (!(rec.t >= t0)) break; // ended before the window
        recs.push(rec);
      }
      lane.recs = recs.reverse();
    }
    for (const lane of lanes) for (const rec of lane.recs) t0 = Math.min(t0, isNum(rec.t_start) ? rec.t_start : rec.t);
  }
  return { fromStep: from, toStep: last, lanes, t0, t1, lockstep };
}

/** Gradient size N in bytes: every parameter is one float32. */
export function gradBytes(state) {
  return isNum(state.numParams) ? state.numParams * 4 : null;
}

/** The run's modelled network ({name, latency_us, bandwidth_gbps, links}) or null. */
export function runNetwork(state) {
  return state.network && isNum(state.network.latency_us) && isNum(state.network.bandwidth_gbps)
    ? state.network
    : null;
}

// ---------------------------------------------------------------- tail latency

/** One rank's time for one step: compute + emulated + comm + wait (data parallel), or
 *  pull + compute + emulated + push (a parameter-server worker: push = comm_ms). */
export function stepTimeMs(rec) {
  const v = (f) => (isNum(rec[f]) && rec[f] > 0 ? rec[f] : 0);
  if (isNum(rec.pull_ms)) return v("pull_ms") + v("compute_ms") + v("emulated_ms") + v("comm_ms");
  return v("compute_ms") + v("emulated_ms") + v("comm_ms") + v("wait_ms");
}

/** Nearest-rank percentile (p in (0, 100]) of the values; null when there are none. */
export function percentile(values, p) {
  const xs = values.filter(isNum).sort((a, b) => a - b);
  if (!xs.length) return null;
  const k = Math.min(xs.length, Math.max(1, Math.ceil((p / 100) * xs.length)));
  return xs[k - 1];
}

function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Tail latency of synchronous steps (Dean & Barroso, "The Tail at Scale", 2013): per
 *  step the max and the median over ranks of the step time, and the run's p50 and p99 of
 *  the per-step max. Data parallel: the steps every rank reported; parameter server: the
 *  iterations reported by 2+ workers. {x, max, median, p50, p99, steps}. */
export function tailLatency(state) {
  const ranks = stepRanks(state);
  const ps = !isLockstep(state);
  const acc = new Map();
  for (const r of ranks) {
    const log = state.history[r] || emptyLog();
    for (let i = 0; i < log.length; i++) {
      const rec = log.items[i];
      let a = acc.get(rec.step);
      if (!a) acc.set(rec.step, (a = []));
      a.push(stepTimeMs(rec));
    }
  }
  const need = ps ? Math.min(2, ranks.length) : ranks.length;
  const done = isElastic(state) && !ps ? completeStep(state) : null;
  const x = [...acc.keys()]
    .filter((s) => (done != null ? s <= done && acc.get(s).length > 1 : acc.get(s).length >= need && need > 0))
    .sort((a, b) => a - b);
  const max = x.map((s) => Math.max(...acc.get(s)));
  const med = x.map((s) => median(acc.get(s)));
  return { x, max, median: med, p50: percentile(max, 50), p99: percentile(max, 99), steps: x.length };
}

/** Does the tail-latency panel apply (a strategy whose slice says so — data parallel,
 *  parameter server — with 2+ step ranks)? */
export function tailLatencyApplies(state) {
  const strat = state.strategy || (state.config && state.config.strategy);
  const fe = frontendOf(strat);
  return !!(fe && fe.slice && fe.slice.tailLatency) && stepRanks(state).length >= 2;
}
