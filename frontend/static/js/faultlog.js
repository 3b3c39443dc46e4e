// faultlog.js — what went wrong, one line per event: injected faults (`fault`), workers
// that failed (`worker_failed`, with the time it took to notice), NaN gradients
// (`nan_detected`: skipped or spread) and, last, why the run failed. Also the short
// marks the topology draws on a node. Formatting is pure (tested in node); the panel is
// a plain list under the workers.

import { fmtNum, t } from "./i18n.js";
import { hasFaults, isRestarting, workerFault } from "./state.js";

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

const ranksText = (ranks) => (ranks && ranks.length ? ranks.join(", ") : "?");

/** The sentence for one fault-log entry (without its time). */
export function entryText(e) {
  const rank = t("topo.rank", { rank: e.rank });
  switch (e.kind) {
    case "fault": {
      const pid = e.pid ?? "?";
      if (e.action === "kill") return `${rank} · ${t("faults.kill", { pid })}`;
      if (e.action === "freeze") return `${rank} · ${t("faults.freeze", { pid })}`;
      if (e.action === "slow") return `${rank} · ${t("faults.slow", { k: fmtNum(e.factor, 3) })}`;
      if (e.action === "corrupt") return `${rank} · ${t("faults.corrupt")}`;
      return `${rank} · ${e.action}`;
    }
    case "failed": {
      const d = fmtDetection(e.detectionMs);
      return `${rank} · ${t("faults.failed", { cause: e.cause || "?" })}${d ? t("faults.detected", { d }) : ""}`;
    }
    case "nan": {
      const key = e.action === "skipped" ? "faults.nanSkipped" : e.action === "spread" ? "faults.nanSpread" : "faults.nanOther";
      return t(key, { step: e.step ?? "?", ranks: ranksText(e.ranks) });
    }
    case "recovery":
      return recoveryText(e);
    case "end":
      return t("faults.end", { error: e.error || t("status.failed") });
    default:
      return null; // a later kind the UI does not show yet
  }
}

/** "steps 11–15" (or "step 11"). */
export function stepRange(lost) {
  if (!lost) return "";
  return lost[0] === lost[1] ? t("recovery.step1", { a: lost[0] }) : t("recovery.steps", { a: lost[0], b: lost[1] });
}

/** A restart from a checkpoint, as the fault log says it. */
export function recoveryText(e) {
  let s = t(e.fromStep ? "recovery.line" : "recovery.lineStart", { step: e.fromStep, gen: e.generation });
  if (e.lostSteps) s += t("recovery.lineLost", { steps: stepRange(e.lostSteps) });
  if (e.refused && e.refused.length) s += t("recovery.lineRefused", { list: e.refused.join("; ") });
  return s;
}

/** Pure: the lines of the fault log, oldest first: [{kind, seq, t, rank, time, text}]. */
export function faultLines(state) {
  const out = [];
  for (const e of state.faultLog || []) {
    const text = entryText(e);
    if (text == null) continue;
    out.push({ kind: e.kind, seq: e.seq, t: e.t, rank: e.rank, action: e.action ?? null, time: fmtT(e.t), text });
  }
  return out;
}

/** The mark a worker node carries: {glyph, state} or null. ⚡ kill, ❄ freeze, ×k slow,
 *  NaN corrupt, ✖ failed (all in DejaVu Sans). */
export function nodeMark(fault) {
  if (!fault) return null;
  if (fault.state === "failed") return { glyph: "✖", state: "failed" };
  if (fault.state === "killed") return { glyph: "⚡", state: "killed" };
  if (fault.state === "frozen") return { glyph: "❄", state: "frozen" };
  if (fault.state === "slowed") return { glyph: `×${fmtNum(fault.slowFactor, 2)}`, state: "slowed" };
  if (fault.state === "corrupt") return { glyph: "NaN", state: "corrupt" };
  return null;
}

/** Lines for a node's tooltip about its fault. */
export function faultTitle(fault) {
  if (!fault) return [];
  const out = [];
  if (fault.state === "failed") {
    out.push(t("topo.failedTitle", { cause: fault.cause || "?" }));
    const d = fmtDetection(fault.detectionMs);
    if (d) out.push(t("topo.detectedTitle", { d }));
  } else if (fault.state === "killed") out.push(t("topo.killedTitle"));
  else if (fault.state === "frozen") out.push(t("topo.frozenTitle"));
  if (fault.slowFactor) out.push(t("topo.slowTitle", { k: fmtNum(fault.slowFactor, 3) }));
  if (fault.nanStep != null) {
    out.push(t(fault.nanAction === "spread" ? "topo.nanSpreadTitle" : "topo.nanTitle", { step: fault.nanStep }));
  } else if (fault.action === "corrupt") out.push(t("topo.corruptTitle"));
  return out;
}

/** What a node shows in place of its loss and checksum lines once it failed. */
export function failedLines(fault) {
  const d = fmtDetection(fault.detectionMs);
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
    : nodeMark(fault);
  g.dataset.failures = String((state.faultLog || []).filter((e) => e.kind === "failed" && e.rank === rank).length);
  g.dataset.state = mark ? mark.state : "";
  if (markEl) {
    markEl.textContent = mark ? mark.glyph : "";
    markEl.dataset.state = mark ? mark.state : "";
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
    list.scrollTop = list.scrollHeight;
  }
  return { render, invalidate: () => (key = "") };
}
