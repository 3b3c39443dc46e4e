// core/faults.js — faults, failures, NaNs, checkpoints and recoveries: the reducer's part of their events, and their selectors.

import { addSorted, isNum, logTruncate, lowerBound } from "./log.js";
import { latestRecord, ranksOf } from "./selectors.js";

/** Faults aimed at a link src→dst (data parallel): extra latency, or lost messages. Their
 *  events and schedule entries name src and dst instead of a rank. */
export const LINK_FAULT_ACTIONS = ["delay", "drop"];

/** The state fields of these events (part of core/reducer.js's initialState). */
export function initialFaults() {
  return {
    // Injected faults and what came of them, in event order: see the handlers below. A few
    // entries per run, so a plain array copied on append.
    faultLog: [],
    skipped: [], // steps whose update was skipped (NaN gradient), sorted
    checkpoints: [], // [{step, t, file, bytes, durationMs, seq}], in event order
    // Restarts from a checkpoint: see applyRecovery(). `restarting` is the newest one while
    // its fresh workers have not all reported worker_started yet, else null.
    recoveries: [],
    restarting: null, // {generation, pending: [ranks still to start]}
    // Elastic runs: the ranks in the data-parallel group, in ring (group-rank) order, after
    // the newest shrink or rejoin; null while the group is the one the run started with.
    members: null,
    // Faults scheduled in the config that have not fired yet (see scheduledMatch).
    pendingSchedule: [],
  };
}

// ---------------------------------------------------------------- reducer

/** The fault-log entry of a `recovery` event; `fields` add what its policy knows. */
function recoveryEntry(state, event, seq, failedRank, fromStep, fields) {
  return {
    kind: "recovery",
    seq,
    t: event.t,
    rank: failedRank,
    step: fromStep,
    policy: event.policy ?? "restart",
    failedRank,
    fromStep,
    generation: Number.isInteger(event.generation) ? event.generation : state.recoveries.length + 1,
    lastStep: state.lastStep,
    ...fields,
  };
}

const failedRankOf = (event) =>
  Number.isInteger(event.failed_rank) ? event.failed_rank : Number.isInteger(event.rank) ? event.rank : null;
const fromStepOf = (event, fallback) =>
  Number.isInteger(event.from_step) ? event.from_step : Number.isInteger(event.step) ? event.step : fallback;

/**
 * A `recovery` event; policy restart (others: applyRegroup) is a restart from a checkpoint (the torchrun model): every rank is replaced and training
 * goes on from `from_step`. The records of the lost steps leave the histories (the
 * re-executed steps take their place) but are kept in the recovery entry, with the wall
 * time they took (from the checkpoint's step to the failure), for the timeline. Nodes
 * show "restarting…" until their new worker_started; the fault log keeps the history.
 */
export function applyRecovery(state, base, event, seq) {
  if (event.policy && event.policy !== "restart") return applyRegroup(state, base, event, seq);
  const fromStep = fromStepOf(event, 0);
  const failedRank = failedRankOf(event);
  const ls = Array.isArray(event.lost_steps) && event.lost_steps.length === 2 ? event.lost_steps : null;
  const lostSteps = ls && Number.isInteger(ls[0]) && Number.isInteger(ls[1]) ? [ls[0], ls[1]] : null;
  const history = {};
  const lostRecs = [];
  let t0 = null;
  let t1 = null;
  for (const [r, log] of Object.entries(state.history)) {
    const cut = lowerBound(log, fromStep + 1);
    const gone = log.items.slice(cut, log.length);
    if (gone.length) lostRecs.push({ rank: Number(r), recs: gone });
    for (const rec of gone) {
      const start = isNum(rec.t_start) ? rec.t_start : rec.t;
      if (isNum(start)) t0 = t0 == null ? start : Math.min(t0, start);
      if (isNum(rec.t)) t1 = t1 == null ? rec.t : Math.max(t1, rec.t);
    }
    const at = cut > 0 ? log.items[cut - 1] : null;
    if (at && isNum(at.t)) t0 = t0 == null ? at.t : Math.min(t0, at.t);
    history[r] = logTruncate(log, cut);
  }
  // The lost span ends at the failure (when the fault came, else when it was noticed).
  const failure = [...state.faultLog].reverse().find((e) => e.rank === failedRank && (e.kind === "failed" || e.kind === "fault"));
  const failedAt = [...state.faultLog].reverse().find((e) => e.rank === failedRank && e.kind === "failed");
  const faultAt = [...state.faultLog].reverse().find((e) => e.rank === failedRank && e.kind === "fault");
  const tFail = faultAt && (!failedAt || faultAt.seq < failedAt.seq) ? faultAt.t : failure ? failure.t : null;
  if (isNum(tFail)) t1 = t1 == null ? tFail : Math.max(t1, tFail);
  const entry = recoveryEntry(state, event, seq, failedRank, fromStep, {
    lostSteps,
    refused: Array.isArray(event.refused) ? event.refused.map(String) : [],
    lostT0: t0,
    lostT1: t1,
    lostRecs,
  });
  const workers = {};
  for (const [r, w] of Object.entries(state.workers)) {
    workers[r] = { rank: w.rank, pid: w.pid, role: w.role, device: w.device, host: w.host, shardSize: w.shardSize, status: "restarting", oldPid: w.pid };
  }
  const pending = ranksOf(state);
  const commSteps = {};
  for (const [k, v] of Object.entries(state.commSteps)) if (Number(k) <= fromStep) commSteps[k] = v;
  return {
    ...base,
    history,
    workers,
    commSteps,
    comm: state.comm && state.comm.step > fromStep ? null : state.comm,
    boundary: state.boundary && state.boundary.step > fromStep ? { ...state.boundary, step: fromStep } : state.boundary,
    skipped: state.skipped.filter((s) => s <= fromStep),
    recoveries: [...state.recoveries, entry],
    restarting: pending.length ? { generation: entry.generation, pending } : null,
    faultLog: [...state.faultLog, entry],
  };
}

/**
 * Elastic recovery, no checkpoint involved: `shrink` (the survivors go on as a smaller
 * group, `members` in ring order), `continue` (parameter server: the dead worker is left
 * behind) and `rejoin` (a worker that left comes back: a new process, whose own
 * worker_started follows). No step is lost, so the histories stay as they are. A worker
 * that left keeps its failure (cause, detection) and is drawn as gone; a rejoining one is
 * "joining" until its first step (the others do not wait for it in completeStep).
 */
function applyRegroup(state, base, event, seq) {
  const policy = event.policy;
  const failedRank = failedRankOf(event);
  const fromStep = fromStepOf(event, state.lastStep);
  const members = Array.isArray(event.members) ? event.members.filter(Number.isInteger) : null;
  const workers = { ...state.workers };
  if (failedRank != null) {
    const prev = workers[failedRank] || { rank: failedRank, pid: null, role: "worker" };
    if (policy === "rejoin") workers[failedRank] = { ...prev, status: "joining", joining: true, left: false, oldPid: prev.pid };
    else workers[failedRank] = { ...prev, status: "left", left: true, joining: false };
  }
  const entry = recoveryEntry(state, event, seq, failedRank, fromStep, { lostSteps: null, members, refused: [], lostRecs: [] });
  return {
    ...base,
    workers,
    members: members && policy !== "continue" ? members : state.members,
    recoveries: [...state.recoveries, entry],
    faultLog: [...state.faultLog, entry],
  };
}

/** Index in state.pendingSchedule of the scheduled fault this `fault` event is, or -1. */
function scheduledMatch(state, event) {
  const pending = state.pendingSchedule || [];
  const link = LINK_FAULT_ACTIONS.includes(event.action);
  return pending.findIndex(
    (f) =>
      f.action === event.action &&
      (link ? f.src === event.src && f.dst === event.dst : f.rank === event.rank) &&
      f.after_step <= Math.max(state.lastStep, event.step ?? 0),
  );
}

/** A fault injected into a rank or a link (or a scheduled one that could not be). */
export function applyFault(state, base, event, seq) {
  const rank = event.rank;
  const action = event.action ?? null;
  // Scheduled before the run (config.faults) — the engine marks those; `not_applied`
  // says why one could not be. A fired one leaves the list of pending ones.
  const scheduled = event.scheduled === true;
  const match = scheduled ? scheduledMatch(state, event) : -1;
  if (match >= 0) {
    base.pendingSchedule = state.pendingSchedule.filter((_, i) => i !== match);
  }
  const notApplied = typeof event.not_applied === "string" && event.not_applied ? event.not_applied : null;
  if (LINK_FAULT_ACTIONS.includes(action) || (!Number.isInteger(rank) && Number.isInteger(event.src))) {
    const entry = {
      kind: "fault",
      seq,
      t: event.t,
      rank: null,
      step: Number.isInteger(event.step) ? event.step : null,
      action,
      src: Number.isInteger(event.src) ? event.src : null,
      dst: Number.isInteger(event.dst) ? event.dst : null,
      ms: isNum(event.ms) ? event.ms : null,
      scheduled,
      notApplied,
      lastStep: state.lastStep,
    };
    return { ...base, faultLog: [...state.faultLog, entry] };
  }
  if (!Number.isInteger(rank)) return base;
  const factor = isNum(event.factor) ? event.factor : null;
  if (notApplied) {
    // nothing happened to the worker: only the log says so
    const entry = { kind: "fault", seq, t: event.t, rank, step: Number.isInteger(event.step) ? event.step : null, action, factor, pid: event.pid ?? null, scheduled, notApplied, lastStep: state.lastStep };
    return { ...base, faultLog: [...state.faultLog, entry] };
  }
  const prev = state.workers[rank] || { rank, pid: null, role: "worker", status: state.finished ? "finished" : "running" };
  const entry = {
    kind: "fault",
    seq,
    t: event.t,
    rank,
    step: Number.isInteger(event.step) ? event.step : null,
    action,
    factor,
    pid: event.pid ?? prev.pid ?? null,
    scheduled,
    notApplied: null,
    lastStep: state.lastStep,
  };
  const worker = { ...prev, fault: { action, factor, t: event.t, seq, step: entry.step ?? state.lastStep } };
  if (action === "slow") worker.slowFactor = factor;
  return { ...base, workers: { ...state.workers, [rank]: worker }, faultLog: [...state.faultLog, entry] };
}

/** A worker died or hung, and the supervisor noticed (its cause, how fast). */
export function applyWorkerFailed(state, base, event, seq) {
  const rank = event.rank;
  if (!Number.isInteger(rank)) return base;
  const prev = state.workers[rank] || { rank, pid: null, role: "worker" };
  const detectionMs = isNum(event.detection_ms) ? event.detection_ms : null;
  const failed = { cause: event.cause ?? null, detectionMs, t: event.t, seq };
  const entry = {
    kind: "failed",
    seq,
    t: event.t,
    rank,
    step: Number.isInteger(event.step) ? event.step : null,
    cause: failed.cause,
    detectionMs,
    pid: event.pid ?? prev.pid ?? null,
    lastStep: state.lastStep,
  };
  return {
    ...base,
    workers: { ...state.workers, [rank]: { ...prev, status: "failed", failed } },
    faultLog: [...state.faultLog, entry],
  };
}

/** Some ranks' gradients were not finite: the step was skipped, or the NaN spread. */
export function applyNanDetected(state, base, event, seq) {
  const ranks = Array.isArray(event.ranks) ? event.ranks.filter(Number.isInteger) : [];
  const entry = {
    kind: "nan",
    seq,
    t: event.t,
    rank: null,
    step: Number.isInteger(event.step) ? event.step : null,
    ranks,
    action: event.action ?? null,
    lastStep: state.lastStep,
  };
  let workers = state.workers;
  const skipped =
    entry.action === "skipped" && entry.step != null && !state.skipped.includes(entry.step)
      ? addSorted(state.skipped, entry.step)
      : state.skipped;
  if (ranks.length) {
    workers = { ...workers };
    for (const r of ranks) {
      const w = workers[r] || { rank: r, pid: null, role: "worker", status: "running" };
      workers[r] = { ...w, nan: { step: entry.step, action: entry.action, seq } };
    }
  }
  return { ...base, workers, skipped, faultLog: [...state.faultLog, entry] };
}

/** A checkpoint written after a step. */
export function applyCheckpointSaved(state, base, event, seq) {
  if (!Number.isInteger(event.step)) return base;
  const cp = {
    step: event.step,
    t: event.t,
    file: event.file ?? null,
    bytes: isNum(event.bytes) ? event.bytes : null,
    durationMs: isNum(event.duration_ms) ? event.duration_ms : null,
    seq,
  };
  return { ...base, checkpoints: [...state.checkpoints, cp] };
}

// ---------------------------------------------------------------- selectors

/** Has anything gone wrong on purpose or by accident (a fault, a failure, a NaN)? */
export function hasFaults(state) {
  return (state.faultLog || []).some((e) => e.kind !== "end");
}

/** What a worker node should show about faults, or null when nothing happened to it:
 *  {state: "failed" | "killed" | "frozen" | "slowed" | "corrupt", action, factor, cause,
 *  detectionMs, nanStep, nanAction, slowFactor}. A failure wins over the fault that
 *  caused it; a slowed rank's factor comes from its newest step (slow_factor) or the
 *  fault event. */
export function workerFault(state, rank) {
  const w = state.workers[rank];
  const rec = latestRecord(state, rank);
  const recSlow = rec && isNum(rec.slow_factor) && rec.slow_factor > 1 ? rec.slow_factor : null;
  if (!w) return recSlow ? { state: "slowed", action: "slow", factor: recSlow, slowFactor: recSlow } : null;
  const f = w.fault || null;
  const slowFactor = recSlow ?? (f && f.action === "slow" && f.factor > 1 ? f.factor : w.slowFactor > 1 ? w.slowFactor : null);
  const out = {
    state: null,
    action: f ? f.action : null,
    factor: f ? f.factor : null,
    cause: w.failed ? w.failed.cause : null,
    detectionMs: w.failed ? w.failed.detectionMs : null,
    nanStep: w.nan ? w.nan.step : null,
    nanAction: w.nan ? w.nan.action : null,
    slowFactor,
    left: w.status === "left", // elastic recovery took it out of the run
  };
  if (w.failed) out.state = "failed";
  else if (f && f.action === "kill") out.state = "killed";
  else if (f && f.action === "freeze") out.state = "frozen";
  else if (f && f.action === "corrupt") out.state = "corrupt";
  else if (slowFactor) out.state = "slowed";
  else if (w.nan) out.state = "corrupt";
  return out.state ? out : null;
}

/** Steps whose update was skipped because of a NaN gradient (from the step events'
 *  `skipped` and the nan_detected events), sorted. */
export function skippedSteps(state) {
  return state.skipped || [];
}

/** Injected faults as timeline markers: [{t, rank, action, factor, step}] where step is
 *  the newest step reported when the fault came (the marker sits after it). */
export function faultMarkers(state) {
  return (state.faultLog || [])
    .filter((e) => e.kind === "fault" && !e.notApplied)
    .map((e) => {
      const m = { t: e.t, rank: e.rank, action: e.action, factor: e.factor, step: e.step ?? e.lastStep };
      if (e.src != null) Object.assign(m, { src: e.src, dst: e.dst }); // a link fault (rank null)
      if (e.scheduled) m.scheduled = true;
      return m;
    });
}


// ---------------------------------------------------------------- checkpoints and recovery

/** Checkpoints saved so far: [{step, t, file, bytes, durationMs, seq}]. */
export function checkpointList(state) {
  return state.checkpoints || [];
}

/** Restarts from a checkpoint, oldest first: [{failedRank, fromStep, lostSteps,
 *  generation, refused, t, lostT0, lostT1, lostRecs}]. */
export function recoveryList(state) {
  return state.recoveries || [];
}

/** Is this rank being restarted (a recovery came, its new worker_started did not yet)? */
export function isRestarting(state, rank) {
  const w = state.workers[rank];
  return !!(w && w.status === "restarting");
}
