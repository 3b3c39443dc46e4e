// views/faultlog.js — the fault log: what went wrong, one line per event, and the marks a topology draws on a node.
//
// What went wrong, one line per event: injected faults (`fault`), workers
// that failed (`worker_failed`, with the time it took to notice), NaN gradients
// (`nan_detected`: skipped or spread) and, last, why the run failed. Also the short
// marks the topology draws on a node. Formatting is pure (tested in node); the panel is
// a plain list under the workers.

import { setData, setText } from "./dom.js";
import { fmtNum, getLang, t } from "../core/i18n.js";
import { faultEffect, textIn } from "../core/specs.js";
import { hasFaults, isRestarting, workerFault } from "../core/faults.js";
import { isGone, isJoining } from "../core/selectors.js";

/** How a cause's numbers read (the rest are shown as they came). */
const CAUSE_FORMATS = {
  silent_s: (v) => v.toFixed(1),
  limit_s: (v) => v.toFixed(0),
  free_mb: (v) => v.toFixed(1),
};

/**
 * Why a worker failed (worker_failed.cause) or a run ended badly (run_finished.cause),
 * in the page's language. The engine says it as a code with fields
 * ({code: "signal", signal: "SIGKILL"}, engine/causes.py); the sentence is the catalog's
 * "cause.<code>" with the fields as its placeholders (a cause inside a cause is rendered
 * too). A plain string — a run stored before causes had codes — is shown as it came, and
 * an unknown code as its code and fields. `tr` is the catalog lookup (t).
 */
export function translateCause(cause, tr = t) {
  if (cause == null || cause === "") return "?";
  if (typeof cause !== "object") return String(cause);
  const params = {};
  const rest = [];
  for (const [name, value] of Object.entries(cause)) {
    if (name === "code") continue;
    const fmt = CAUSE_FORMATS[name];
    if (value && typeof value === "object") params[name] = translateCause(value, tr);
    else if (fmt && typeof value === "number" && Number.isFinite(value)) params[name] = fmt(value);
    else params[name] = value ?? "?";
    rest.push(`${name}=${params[name]}`);
  }
  const key = `cause.${cause.code}`;
  const filled = new Proxy(params, { has: () => true, get: (o, n) => (n in o ? o[n] : "?") }); // a field it lacks: "?"
  const out = typeof cause.code === "string" ? tr(key, filled) : null;
  if (out && out !== key) return out;
  return rest.length ? `${cause.code ?? "?"} (${rest.join(", ")})` : String(cause.code ?? "?");
}

/** Ranks as a list: "0, 1, 3". */
const list = (ranks) => (ranks && ranks.length ? ranks.join(", ") : "?");

/** The workers among a recovery's members (a parameter server's members include the
 *  servers, ranks 0..S-1). */
export function memberWorkers(state, members) {
  const s = (state && state.numServers) || 0;
  return (members || []).filter((r) => r >= s);
}

/** "312 ms" below a second, "3.12 s" above; null when nothing was injected. */
export function fmtDetection(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return null;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${fmtNum(ms / 1000, 3)} s`;
}

/** Seconds since the run started, as the log shows them. */
export function fmtT(seconds) {
  return typeof seconds === "number" && Number.isFinite(seconds) ? `${seconds.toFixed(1)} s` : "";
}

/** The strategy's own words for a fault action, or null (see core/specs.js faultEffect). */
function effectOf(state, action) {
  const strategy = state && (state.strategy || (state.config && state.config.strategy));
  return strategy ? faultEffect(strategy, action) : null;
}
const effectText = (effect) => textIn(effect.text, getLang());

const ranksText = (ranks) => (ranks && ranks.length ? ranks.join(", ") : "?");

/** What a fault did, without "scheduled" or why it was not applied. */
function faultWhat(e, pid, state) {
  if (e.src != null && e.dst != null) {
    const link = t("elastic.link", { src: e.src, dst: e.dst });
    if (e.action === "delay") return `${link} · ${t("elastic.log.delay", { ms: fmtNum(e.ms, 3) })}`;
    if (e.action === "drop") return `${link} · ${t("elastic.log.drop")}`;
    return `${link} · ${e.action}`;
  }
  const rank = t("topo.rank", { rank: e.rank });
  const effect = effectOf(state, e.action);
  if (effect) return `${rank} · ${effectText(effect)}`;
  if (e.action === "kill") return `${rank} · ${t("faults.kill", { pid })}`;
  if (e.action === "freeze") return `${rank} · ${t("faults.freeze", { pid })}`;
  if (e.action === "slow") return `${rank} · ${t("faults.slow", { k: fmtNum(e.factor, 3) })}`;
  if (e.action === "corrupt") return `${rank} · ${t("faults.corrupt")}`;
  if (e.action === "rejoin") return `${rank} · ${t("elastic.log.rejoinAsked")}`;
  return `${rank} · ${e.action}`;
}

/** The sentence for one fault-log entry (without its time). */
export function entryText(e, state = null) {
  const rank = t("topo.rank", { rank: e.rank });
  switch (e.kind) {
    case "fault": {
      const pid = e.pid ?? "?";
      const what = faultWhat(e, pid, state);
      if (e.notApplied) return t("elastic.log.notApplied", { what, why: e.notApplied });
      return e.scheduled ? `${what} · ${t("elastic.log.scheduled")}` : what;
    }
    case "failed": {
      const d = fmtDetection(e.detectionMs);
      return `${rank} · ${t("faults.failed", { cause: translateCause(e.cause) })}${d ? t("faults.detected", { d }) : ""}`;
    }
    case "nan": {
      const key = e.action === "skipped" ? "faults.nanSkipped" : e.action === "spread" ? "faults.nanSpread" : "faults.nanOther";
      return t(key, { step: e.step ?? "?", ranks: ranksText(e.ranks) });
    }
    case "recovery":
      return recoveryText(e, state);
    case "restored": {
      const p = { rank: e.rank ?? "?", cv: e.checkpointVersion ?? 0, n: e.replayed ?? 0, v: e.version ?? "?" };
      let out = t("elastic.restored", p);
      if (e.tornTail) out += t("elastic.restoredTorn");
      if (e.refused && e.refused.length) out += t("recovery.lineRefused", { list: e.refused.join("; ") });
      return out;
    }
    case "end":
      return t("faults.end", { error: e.cause || e.error ? translateCause(e.cause || e.error) : t("status.failed") });
    default:
      return null; // a later kind the UI does not show yet
  }
}

/** "steps 11–15" (or "step 11"). */
export function stepRange(lost) {
  if (!lost) return "";
  return lost[0] === lost[1] ? t("recovery.step1", { a: lost[0] }) : t("recovery.steps", { a: lost[0], b: lost[1] });
}

/** A restart from a checkpoint, or an elastic regroup, as the fault log says it. */
export function recoveryText(e, state = null) {
  if (e.policy === "shrink" || e.policy === "continue" || e.policy === "rejoin") {
    const members = memberWorkers(state, e.members);
    const p = { rank: e.failedRank, members: list(members), n: members.length, ring: members.join(" → ") };
    if (e.policy === "shrink") return t("elastic.log.shrink", p);
    if (e.policy === "rejoin") return t("elastic.log.rejoin", p);
    return t("elastic.log.continue", p);
  }
  let s = t(e.fromStep ? "recovery.line" : "recovery.lineStart", { step: e.fromStep, gen: e.generation });
  if (e.lostSteps) s += t("recovery.lineLost", { steps: stepRange(e.lostSteps) });
  if (e.refused && e.refused.length) s += t("recovery.lineRefused", { list: e.refused.join("; ") });
  return s;
}

/** Pure: the lines of the fault log, oldest first: [{kind, seq, t, rank, time, text}]. */
export function faultLines(state) {
  const out = [];
  for (const e of state.faultLog || []) {
    const text = entryText(e, state);
    if (text == null) continue;
    out.push({
      kind: e.kind,
      seq: e.seq,
      t: e.t,
      rank: e.rank,
      action: e.action ?? null,
      policy: e.kind === "recovery" ? e.policy ?? "restart" : null,
      scheduled: !!e.scheduled,
      notApplied: !!e.notApplied,
      time: fmtT(e.t),
      text,
    });
  }
  return out;
}

/** The mark a worker node carries: {glyph, state} or null. ⚡ kill, ❄ freeze, ×k slow,
 *  NaN corrupt, ✖ failed (all in DejaVu Sans). */
export function nodeMark(fault, state = null) {
  if (!fault) return null;
  if (fault.left) return { glyph: "⊘", state: "left" };
  if (fault.state === "failed") return { glyph: "✖", state: "failed" };
  if (fault.state === "killed") return { glyph: "⚡", state: "killed" };
  if (fault.state === "frozen") return { glyph: "❄", state: "frozen" };
  if (fault.state === "slowed") return { glyph: `×${fmtNum(fault.slowFactor, 2)}`, state: "slowed" };
  if (fault.state === "corrupt") return { glyph: effectOf(state, "corrupt")?.glyph ?? "NaN", state: "corrupt" };
  return null;
}

/** Lines for a node's tooltip about its fault. */
export function faultTitle(fault, state = null) {
  if (!fault) return [];
  const out = [];
  if (fault.left) out.push(t("elastic.leftTitle"));
  if (fault.state === "failed") {
    out.push(t("topo.failedTitle", { cause: translateCause(fault.cause) }));
    const d = fmtDetection(fault.detectionMs);
    if (d) out.push(t("topo.detectedTitle", { d }));
  } else if (fault.state === "killed") out.push(t("topo.killedTitle"));
  else if (fault.state === "frozen") out.push(t("topo.frozenTitle"));
  if (fault.slowFactor) out.push(t("topo.slowTitle", { k: fmtNum(fault.slowFactor, 3) }));
  if (fault.nanStep != null) {
    out.push(t(fault.nanAction === "spread" ? "topo.nanSpreadTitle" : "topo.nanTitle", { step: fault.nanStep }));
  } else if (fault.action === "corrupt") {
    const effect = effectOf(state, "corrupt");
    out.push(effect ? effectText(effect) : t("topo.corruptTitle"));
  }
  return out;
}

/** What a node shows in place of its loss and checksum lines once it failed. */
export function failedLines(fault) {
  const d = fmtDetection(fault.detectionMs);
  if (fault.left) return { main: t("elastic.left"), sub: t("elastic.leftSub") };
  return { main: t("topo.failed"), sub: d ? t("topo.detectedShort", { d }) : "" };
}

/** Put the fault state on a node: data-state, the mark text, and return the title lines. */
export function decorateNode(g, markEl, state, rank) {
  const fault = workerFault(state, rank);
  // While every rank restarts from the checkpoint, the one that failed stays red (so it is
  // clear which one it was) and the others are grey; their new worker_started clears both.
  const restarting = isRestarting(state, rank);
  const newest = restarting && state.recoveries.length ? state.recoveries[state.recoveries.length - 1] : null;
  const mark = restarting
    ? newest && newest.failedRank === rank
      ? { glyph: "✖", state: "failed" }
      : { glyph: "↻", state: "restarting" }
    : isJoining(state, rank)
      ? { glyph: "↩", state: "joining" }
      : nodeMark(fault, state);
  // (written only when changed: the node's style, and then its layout, is redone on each write)
  setData(g, "left", String(isGone(state, rank)));
  setData(g, "failures", String((state.faultLog || []).filter((e) => e.kind === "failed" && e.rank === rank).length));
  setData(g, "state", mark ? mark.state : "");
  if (markEl) {
    setText(markEl, mark ? mark.glyph : "");
    setData(markEl, "state", mark ? mark.state : "");
  }
  return fault;
}

/** The panel: hidden until something went wrong; newest line kept in view. */
export function createFaultLog(el, onShow) {
  const list = el.querySelector("ol");
  let key = "";
  let shown = null;
  function render(state) {
    const on = hasFaults(state);
    if (on !== shown) {
      shown = on;
      el.hidden = !on;
      onShow?.(on);
    }
    if (!on) {
      key = "";
      return;
    }
    const lines = faultLines(state);
    const k = lines.map((l) => l.seq).join(",") + "|" + t("faults.title");
    if (k === key) return;
    key = k;
    list.replaceChildren(
      ...lines.map((l) => {
        const li = document.createElement("li");
        li.className = `fault-line fault-${l.kind}`;
        li.dataset.kind = l.kind;
        if (l.rank != null) li.dataset.rank = String(l.rank);
        if (l.action) li.dataset.action = l.action;
        if (l.policy) li.dataset.policy = l.policy;
        if (l.scheduled) li.dataset.scheduled = "true";
        if (l.notApplied) li.dataset.notApplied = "true";
        const time = document.createElement("span");
        time.className = "fault-time";
        time.textContent = l.time;
        const text = document.createElement("span");
        text.className = "fault-text";
        text.textContent = l.text;
        li.title = `${l.time} ${l.text}`;
        li.append(time, text);
        return li;
      }),
    );
    el.dataset.lines = String(lines.length);
    el.dataset.recoveries = String(lines.filter((l) => l.kind === "recovery").length);
    fitWholeLines(list);
  }
  return { render, invalidate: () => (key = "") };
}

/** Newest line in view, and no line cut in half at the top: the list's height is set to
 *  the last lines that fit whole in its CSS max-height (older ones scroll into view). */
export function fitWholeLines(list) {
  list.style.maxHeight = "";
  const max = list.clientHeight;
  const items = [...list.children];
  if (list.scrollHeight > max + 1 && items.length) {
    let h = 0;
    for (let i = items.length - 1; i >= 0; i--) {
      const ih = items[i].getBoundingClientRect().height;
      if (h + ih > max + 0.5) break;
      h += ih;
    }
    if (h > 0) list.style.maxHeight = `${h}px`;
  }
  list.scrollTop = list.scrollHeight;
}

/** The narration line about the newest fault, failure, NaN or recovery, for two steps
 *  after it happened (else null). A restart is told until its lost steps are re-done. */
export function faultNarration(state, step) {
  if (!hasFaults(state)) return null;
  const e = [...state.faultLog].reverse().find((x) => x.kind !== "end");
  if (!e) return null;
  const until = e.kind === "recovery" && e.lostSteps ? Math.max(e.lostSteps[1], e.fromStep + 2) : (e.step ?? e.lastStep ?? 0) + 2;
  if (step > until) return null;
  const pid = e.pid ?? "?";
  if (e.kind === "fault") {
    if (e.notApplied) return t("elastic.log.notApplied", { what: faultWhat(e, pid, state), why: e.notApplied });
    if (e.src != null && e.dst != null) {
      if (e.action === "delay") return t("elastic.narr.delay", { src: e.src, dst: e.dst, ms: fmtNum(e.ms, 3) });
      if (e.action === "drop") return t("elastic.narr.drop", { src: e.src, dst: e.dst });
      return null;
    }
    const effect = effectOf(state, e.action);
    if (effect) return t("narr.faultEffect", { rank: e.rank, what: effectText(effect) });
    if (e.action === "kill") return t("narr.faultKill", { rank: e.rank, pid });
    if (e.action === "freeze") return t("narr.faultFreeze", { rank: e.rank, pid });
    if (e.action === "slow") return t("narr.faultSlow", { rank: e.rank, k: fmtNum(e.factor, 3) });
    if (e.action === "corrupt") return t("narr.faultCorrupt", { rank: e.rank });
    return null;
  }
  if (e.kind === "failed") {
    const d = fmtDetection(e.detectionMs);
    const cause = translateCause(e.cause);
    return d ? t("narr.workerFailed", { rank: e.rank, cause, d }) : t("narr.workerFailedNoTime", { rank: e.rank, cause });
  }
  if (e.kind === "recovery") {
    if (e.policy === "shrink" || e.policy === "rejoin" || e.policy === "continue") {
      const members = memberWorkers(state, e.members);
      const p = { rank: e.failedRank, members: list(members), n: members.length, ring: members.join(" → "), step: e.fromStep };
      if (e.policy === "rejoin") {
        return isJoining(state, e.failedRank) ? t("elastic.narr.joining", p) : t("elastic.narr.rejoined", p);
      }
      return t(e.policy === "shrink" ? "elastic.narr.shrink" : "elastic.narr.continue", p);
    }
    if (state.restarting) return t("narr.restarting", { rank: e.failedRank, step: e.fromStep, gen: e.generation });
    const lost = e.lostSteps ? stepRange(e.lostSteps) : null;
    return lost
      ? t("narr.recovered", { rank: e.failedRank, step: e.fromStep, gen: e.generation, lost })
      : t("narr.recoveredNoLoss", { rank: e.failedRank, step: e.fromStep, gen: e.generation });
  }
  if (e.kind === "nan") {
    const key = e.action === "skipped" ? "faults.nanSkipped" : e.action === "spread" ? "faults.nanSpread" : "faults.nanOther";
    return t(key, { step: e.step ?? "?", ranks: (e.ranks || []).join(", ") || "?" });
  }
  if (e.kind === "restored") {
    return t("narr.psRebuilt", { rank: e.rank ?? "?", cv: e.checkpointVersion ?? 0, n: e.replayed ?? 0, v: e.version ?? "?" });
  }
  return null;
}
