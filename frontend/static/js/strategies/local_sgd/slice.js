// strategies/local_sgd/slice.js — local SGD's (and DiLoCo's) reducer slice and selectors: which steps ended with the averaging, how far each replica had drifted then, how far each worker's checksum is from the mean at every step, and the bytes against data parallelism's.
//
// Every step event of a local SGD run carries `synced` (this step ended with the one
// all-reduce that averages the replicas) and, on a synced step, `drift` (‖x_i − x̄‖ of this
// worker's replica just before the averaging: engine/strategies/local_sgd.py). The slice
// keeps only those two, per rank; the checksums and the bytes are the core's per-rank
// step records (core/selectors.js recordAt), not copied here.

import { emptyLog, isNum, logAppend, logAt, logLast, logTruncate, lowerBound } from "../../core/log.js";
import { completeStep, optionsOf, recordAt, stepRanks } from "../../core/selectors.js";

export const LSGD = "local_sgd";

export function isLocalSgd(state) {
  return state.strategy === LSGD || !!(state.config && state.config.strategy === LSGD);
}

/** H, the steps between averagings, as the run's config says (the engine's default 8). */
export function syncEvery(config) {
  const h = optionsOf(config || {}).sync_every;
  return Number.isInteger(h) && h > 0 ? h : 8;
}

/** DiLoCo (an outer Nesterov step at each sync) or plain averaging? */
export function isDiloco(config) {
  return optionsOf(config || {}).outer === "nesterov";
}

/** A rank's step: whether it synced and its drift. A rank that steps back (restarted from
 *  a checkpoint) forgets the steps it replays, as the core's histories do. */
function afterStep(state, next, event) {
  if (!isLocalSgd(state) || !Number.isInteger(event.rank) || !Number.isInteger(event.step) || typeof event.synced !== "boolean") return next;
  const byRank = (state.localSgd && state.localSgd.byRank) || {};
  let log = byRank[event.rank] || emptyLog();
  const last = logLast(log);
  if (last && last.step >= event.step) log = logTruncate(log, lowerBound(log, event.step));
  log = logAppend(log, { step: event.step, synced: event.synced, drift: event.synced && isNum(event.drift) ? event.drift : null });
  return { ...next, localSgd: { byRank: { ...byRank, [event.rank]: log } } };
}

export const slice = {
  events: {},
  after: { step: afterStep },
  initial: { localSgd: null },
};

// ---------------------------------------------------------------- selectors

/** What rank `rank` said of step `step` ({step, synced, drift}), or undefined. */
export function syncRecord(state, rank, step) {
  const log = state.localSgd && state.localSgd.byRank[rank];
  if (!log) return undefined;
  const rec = logAt(log, lowerBound(log, step));
  return rec && rec.step === step ? rec : undefined;
}

/** Did step `step` end with the averaging? true / false, or null where no rank said. All
 *  workers average together, so any rank's word is everyone's. */
export function stepSynced(state, step) {
  for (const r of stepRanks(state)) {
    const rec = syncRecord(state, r, step);
    if (rec) return rec.synced;
  }
  return null;
}

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Pure: each value minus the mean of the values (null stays null, and is left out of the
 *  mean): how far each replica's checksum is from the average model's. */
export function deviations(values) {
  const m = mean(values.filter(isNum));
  return values.map((v) => (isNum(v) && m != null ? v - m : null));
}

/** Pure: the bytes one worker sent against data parallelism's. `sent` is every step's
 *  bytes_sent; `syncSent` the synced steps'. Data parallelism all-reduces the model every
 *  step, which is what a sync sends: the mean measured sync × the steps. Nothing where no
 *  sync was measured (never a guessed model size). */
export function bytesVsDataParallel(sent, syncSent, steps) {
  const total = sent.reduce((a, b) => a + b, 0);
  const perSync = mean(syncSent);
  const dp = perSync == null ? null : perSync * steps;
  return { sent: total, perSync, dp, ratio: dp && total > 0 ? dp / total : null };
}

/**
 * What the replicas card draws up to `step` (the newest step every worker reported, or the
 * cursor on replay): per worker its checksum minus the mean checksum at every step, the
 * steps that synced, each worker's drift at each sync, and the bytes each worker sent vs
 * data parallelism's. null before a local SGD run's first step.
 */
export function replicaView(state, step = completeStep(state)) {
  if (!isLocalSgd(state) || !step) return null;
  const ranks = stepRanks(state);
  const steps = Array.from({ length: step }, (_, i) => i + 1);
  const dev = Object.fromEntries(ranks.map((r) => [r, []]));
  const syncs = [];
  const drift = Object.fromEntries(ranks.map((r) => [r, []]));
  const sent = Object.fromEntries(ranks.map((r) => [r, []]));
  const syncSent = Object.fromEntries(ranks.map((r) => [r, []]));
  for (const k of steps) {
    const recs = ranks.map((r) => recordAt(state, r, k));
    const d = deviations(recs.map((rec) => (rec ? rec.param_checksum : null)));
    const synced = stepSynced(state, k) === true;
    if (synced) syncs.push(k);
    ranks.forEach((r, i) => {
      dev[r].push(d[i]);
      const b = recs[i] && isNum(recs[i].bytes_sent) ? recs[i].bytes_sent : null;
      if (b != null) sent[r].push(b);
      if (synced && b != null) syncSent[r].push(b);
      const sr = synced ? syncRecord(state, r, k) : null;
      if (sr && sr.drift != null) drift[r].push({ step: k, value: sr.drift });
    });
  }
  const bytes = ranks.map((r) => ({ rank: r, ...bytesVsDataParallel(sent[r], syncSent[r], steps.length) }));
  const last = syncs.length ? syncs[syncs.length - 1] : null;
  return {
    step,
    h: syncEvery(state.config),
    diloco: isDiloco(state.config),
    ranks,
    steps,
    dev,
    syncs,
    drift,
    bytes,
    syncedNow: last === step,
    lastDrift: last == null ? null : meanDriftAt(state, last, ranks),
  };
}

/** The mean of the workers' drifts at a synced step (null where none said). */
export function meanDriftAt(state, step, ranks = stepRanks(state)) {
  return mean(ranks.map((r) => syncRecord(state, r, step)).filter((x) => x && x.drift != null).map((x) => x.drift));
}

/** Every sync of the run so far: {step, drift: mean over the workers}. */
export function syncDrifts(state) {
  const ranks = stepRanks(state);
  const upto = completeStep(state);
  const out = [];
  for (let k = 1; k <= upto; k++) {
    if (stepSynced(state, k) !== true) continue;
    const d = meanDriftAt(state, k, ranks);
    if (d != null) out.push({ step: k, drift: d });
  }
  return out;
}

/** Pure: the spread (max − min) of a step's checksums, or null. */
export function spreadOf(values) {
  const have = values.filter(isNum);
  return have.length ? Math.max(...have) - Math.min(...have) : null;
}

/** The checksums' spread at a step (how far apart the replicas are, in checksum units). */
export function checksumSpread(state, step) {
  return spreadOf(stepRanks(state).map((r) => recordAt(state, r, step)).map((rec) => (rec ? rec.param_checksum : null)));
}

/** Pure: which step of its round a step is (1..H; the run's last step may close a short
 *  round early, and syncs anyway). */
export function stepInRound(step, h) {
  return ((step - 1) % h) + 1;
}

/** Pure: the workers' bytes, averaged over the workers that synced at least once (a
 *  builtin all-reduce's ranks may differ by a few bytes); null before any sync. */
export function meanBytes(rows) {
  const have = rows.filter((r) => r.dp != null);
  if (!have.length) return null;
  const avg = (f) => have.reduce((a, r) => a + r[f], 0) / have.length;
  const sent = avg("sent");
  const dp = avg("dp");
  return { sent, perSync: avg("perSync"), dp, ratio: sent > 0 ? dp / sent : null };
}
