// views/narration.js — the one-line narration above the views: what the shown step did, in words, for every strategy.
//
// Facts computed from reducer state (never from raw messages, never from timers). A
// strategy's frontend may say the line of a step itself (`narrate(state, summary)`:
// data parallelism's compression and hand-written all-reduces, the parameter server's
// updates); the lines of a run's start, end, pause, straggler, checkpoint and faults are
// common. No DOM here, so node --test can check it (tests/js/narrate.test.mjs).

import { fmtBytes, fmtMs, fmtNum, t } from "../core/i18n.js";
import { frontendFor } from "../core/registry.js";
import { strategySpec } from "../core/specs.js";
import { completeStep, isLockstep, recordAt, runNetwork, stepRanks, stepSummary } from "../core/selectors.js";
import { faultNarration, fmtDetection, translateCause } from "./faultlog.js";
import { networkName } from "./netlabels.js";

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

/** How many recent steps decide whether a slow rank is a straggler or jitter. */
export const STRAGGLER_WINDOW = 10;

/**
 * The slowest rank of a synchronous step, if there is one worth saying aloud:
 * {step, rank, factor, waitMs, others, kind, window}. `factor`: how many times longer the
 * slowest rank worked (compute + emulated work) than the median of the others. `waitMs`:
 * how long the others waited for it, on average. The all-reduce cannot finish before the
 * slowest rank joins it, so a faster rank's extra time in it — its comm_ms beyond the
 * straggler's — is waiting, as is any extra wait_ms at the step barrier:
 *   waited(r) = max(0, (comm_ms + wait_ms)(r) − (comm_ms + wait_ms)(slowest)).
 * Null when the step is incomplete, has one rank, or nobody was markedly slower
 * (factor < minFactor or the others waited less than minWaitMs).
 *
 * `kind` says whether it is a straggler at all. One slow step on a loaded 2-core machine is
 * scheduler noise, so:
 * - "straggler": the run made it slow (a configured straggler or a 'slow' fault: its
 *   step record says `slowed` or carries a slow_factor);
 * - "slower": nothing was set, but over the last `window` complete steps (at least 5) the
 *   median of its work is ≥ minFactor × the median of the others', and minWaitMs more —
 *   consistently slower;
 * - "jitter": otherwise — slow this step, not over the window.
 */
export function stragglerOf(state, step, { minFactor = 1.5, minWaitMs = 5, window = STRAGGLER_WINDOW } = {}) {
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
  const cfg = state.config || {};
  const made =
    slow.slowed === true ||
    (isNum(slow.slow_factor) && slow.slow_factor > 1) ||
    (cfg.straggler === "one" && cfg.straggler_rank === slow.rank); // runs from before `slowed`
  const recent = made ? null : recentWork(state, ranks, slow.rank, step, window);
  const kind = made ? "straggler" : recent.consistent(minFactor, minWaitMs) ? "slower" : "jitter";
  return {
    step,
    rank: slow.rank,
    factor: Number.isFinite(factor) ? factor : null,
    waitMs,
    others: others.length,
    kind,
    window: recent ? recent.steps : null,
  };
}

/** Rank `rank`'s work and the others' over the last `window` complete steps up to `step`. */
function recentWork(state, ranks, rank, step, window) {
  const mine = [];
  const theirs = [];
  for (let s = step; s >= 1 && s > step - window; s--) {
    const recs = ranks.map((r) => recordAt(state, r, s));
    if (recs.some((r) => !r)) continue;
    for (const rec of recs) (rec.rank === rank ? mine : theirs).push(workMs(rec));
  }
  return {
    steps: mine.length,
    // a margin in ratio and in time: sub-millisecond steps differ by large ratios in noise
    consistent: (minFactor, minMs) => {
      if (mine.length < 5) return false;
      const a = median(mine);
      const b = median(theirs);
      return a >= minFactor * b && a - b >= minMs;
    },
  };
}

/** Checkpoint taken right after `step`, or null: {step, bytes, durationMs}. */
export function checkpointAt(state, step) {
  return (state.checkpoints || []).find((c) => c.step === step) || null;
}

/** The step's modelled communication time: its slowest rank's comm_modelled_ms. */
export function modelledMs(s) {
  const xs = s.records.filter((r) => r && Number.isFinite(r.comm_modelled_ms)).map((r) => r.comm_modelled_ms);
  return xs.length ? Math.max(...xs) : null;
}

/** "3.2 ms", or "3.2 ms (modelled 10 GbE: 0.05 ms)" when the run has a network model. */
export function msText(state, s) {
  const net = runNetwork(state);
  const modelled = modelledMs(s);
  if (!net || modelled == null) return fmtMs(s.commMs);
  return fmtMs(s.commMs) + t("narr.modelledMs", { net: networkName(net), ms: fmtMs(modelled) });
}

/** A live run that is paused: who paused it, and (on the controlling page) what to press. */
function pausedLine(step, ctx) {
  const who = ctx.controlled() ? "narr.paused" : ctx.student ? "narr.pausedByInstructor" : "narr.pausedByOwner";
  return step ? t(who, { step }) : t(who + "Start");
}

/**
 * The narration line of the shown state. `info`: the player's {mode, cursor}; `ctx`:
 * {runId, live (the newest state), status (the run's status on the page), controlled()
 * (does this page control the run?), student (is it a student's page in a room?)}.
 */
export function narrationLine(state, info, ctx) {
  if (!ctx.runId) return t("narr.idle");
  const live = ctx.live;
  const atEnd = info.mode === "live" || info.cursor >= live.lastStep;
  if (atEnd && live.finished) {
    const sm = live.summary || {};
    if (live.status === "failed") {
      const failed = [...live.faultLog].reverse().find((e) => e.kind === "failed");
      const d = failed ? fmtDetection(failed.detectionMs) : null;
      const error = translateCause(live.errorCause || live.error || "?");
      return d ? t("narr.failedDetected", { error, d }) : t("narr.failed", { error });
    }
    if (live.status === "stopped") return t("narr.stopped", { steps: sm.steps_completed ?? live.lastStep });
    // a run that trains nothing (GFS, MapReduce, the collectives) has no loss to end with
    const spec = strategySpec(state.strategy || (state.config && state.config.strategy));
    return t(spec && spec.trains === false ? "narr.finishedNoLoss" : "narr.finished", {
      steps: sm.steps_completed ?? live.lastStep,
      wall: fmtNum(sm.wall_s, 3),
      sps: fmtNum(sm.steps_per_s, 3),
      loss: fmtNum(sm.final_loss, 4),
    });
  }
  if (atEnd && ctx.status === "interrupted") return t("narr.interrupted");
  const step = info.mode === "live" ? completeStep(state) || state.lastStep : info.cursor;
  // A paused run says so, also before its first step (a run paused as it starts): the
  // Step/Resume prompt only on the page that controls the run.
  if (info.mode === "live" && live.status === "paused") return pausedLine(step, ctx);
  if (!step && ctx.status === "queued") return t("narr.queued"); // no process started yet
  const hosts = state.hosts;
  if (!step && hosts && hosts.nnodes && !(hosts.joined && hosts.joined.length)) {
    return t("narr.waitingHosts", { n: hosts.nnodes, per: hosts.nprocPerNode ?? "?" });
  }
  if (!step) return t("narr.starting", { n: state.worldSize || state.config?.workers || "?" });
  const s = stepSummary(state, step);
  const fe = frontendFor(state.strategy || (state.config && state.config.strategy));
  let line = fe && fe.narrate ? fe.narrate(state, s) : null;
  if (line == null) {
    if (state.strategy === "single" || s.ranks.length <= 1) {
      line = t("narr.single", { step, loss: fmtNum(s.meanLoss, 4), ms: fmtMs(s.computeMs) });
    } else {
      line = t("narr.dp", {
        step,
        n: s.ranks.length,
        bytes: fmtBytes(s.bytesSent),
        ms: msText(state, s),
        replicas: s.identical === null ? t("narr.pending") : s.identical ? t("narr.identical") : t("narr.differ"),
      });
    }
  }
  // A straggler is the news of a synchronous step: who, how much slower, how long the rest
  // waited — and whether it is a straggler at all, or one noisy step (jitter).
  const slow = isLockstep(state) && stragglerOf(state, step);
  if (slow) {
    const k = slow.factor == null ? "?" : fmtNum(slow.factor, 2);
    const one = slow.others === 1;
    const words = { step, rank: slow.rank, k, n: slow.others, ms: fmtMs(slow.waitMs), w: slow.window };
    // One noisy step is a footnote to the step, not its news (a busy 2-core machine has
    // them often); a straggler, or a rank that is consistently slower, is the news.
    if (slow.kind === "jitter") line += t("narr.jitter", words);
    else {
      // where the others wait is the strategy's to say (an all-reduce; BSP: the barrier)
      const own = fe && fe.stragglerLine ? fe.stragglerLine(state, slow, words) : null;
      line = own ?? t({ straggler: one ? "pres.narrStraggler1" : "pres.narrStraggler", slower: one ? "narr.slower1" : "narr.slower" }[slow.kind], words);
    }
  }
  const cp = (state.checkpoints || []).find((c) => c.step === step);
  if (cp) line += t("narr.checkpoint", { step, bytes: fmtBytes(cp.bytes), ms: fmtNum(cp.durationMs, 3) });
  return faultNarration(state, step) || line;
}
