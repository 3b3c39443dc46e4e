// views/measured.js — the failure and recovery lines of a lesson's "Measured in this run", from the reducer's fault log.
//
// The failure and recovery lines of a lesson's "Measured in this run",
// from the reducer's fault log: failures with their causes translated, recoveries named
// by what actually happened (restart from a checkpoint, shrink, rejoin, continue, a
// parameter server rebuilt), never all called "recovered from a checkpoint".

import { fmtDetection, translateCause } from "./faultlog.js";
import { t } from "../core/i18n.js";

const POLICY_KEYS = {
  restart: "lesson.measuredRecoveries",
  shrink: "lesson.measuredShrink",
  rejoin: "lesson.measuredRejoin",
  continue: "lesson.measuredContinue",
};

export function failureAndRecoveryLines(faultLog, tr = t) {
  const out = [];
  const log = Array.isArray(faultLog) ? faultLog : [];
  for (const e of log) {
    if (e.kind !== "failed") continue;
    const d = fmtDetection(e.detectionMs);
    const cause = translateCause(e.cause || "?", tr);
    out.push(tr(d ? "lesson.measuredFailed" : "lesson.measuredFailedNoTime", { rank: e.rank, cause, d }));
  }
  const counts = new Map();
  for (const e of log) {
    let key = null;
    if (e.kind === "recovery") key = POLICY_KEYS[e.policy || "restart"] || POLICY_KEYS.restart;
    else if (e.kind === "restored") key = "lesson.measuredRestored";
    if (key) counts.set(key, (counts.get(key) || 0) + 1);
  }
  for (const [key, n] of counts) out.push(tr(key, { n }));
  return out;
}
