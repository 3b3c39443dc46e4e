// strategies/parameter_server/narration.js — the parameter server's narration line: the newest thing a server did, as of the shown state.

import { fmtMs, fmtNum, t } from "../../core/i18n.js";
import { isPs, psConfig } from "./slice.js";

/** The line of step `s` (a stepSummary) of a parameter-server run, else null. */
export function narrate(state, s) {
  if (!isPs(state)) return null;
  const cfg = psConfig(state);
  const ps = state.ps;
  const lossBad = state.nonFinite > 0;
  const mode = t("psmode.short." + cfg.mode);
  const u = ps && ps.lastUpdate;
  const d = ps && ps.lastDropped;
  let line;
  if (d && (!u || d.seq > u.seq)) {
    line = t("narr.psDropped", { mode, rank: d.worker, read: d.read_version, v: d.version });
  } else if (u && u.applied && u.applied.length) {
    if (cfg.mode === "sync" || cfg.mode === "backup") {
      // The slowest worker of this version: how long the others waited for it.
      const waited = s.records.filter((r) => r && r.wait_ms > 0);
      const waitMs = waited.reduce((m, r) => Math.max(m, r.wait_ms), 0);
      const slow = s.records.find((r) => r && r.slowed);
      line = t("narr.psSync", { mode, v: u.version, n: u.applied.length, of: cfg.workers ?? "?" });
      if (waitMs > 0) line += t("narr.psWaited", { ms: fmtMs(waitMs) });
      if (slow) line += t("narr.psStraggler", { rank: slow.rank, k: fmtNum(cfg.factor, 2) });
    } else {
      const a = u.applied[u.applied.length - 1];
      line = t("narr.psApplied", { v: u.version, rank: a.worker, read: a.read_version, s: a.staleness });
      if (cfg.mode === "ssp") {
        const blocked = s.records.filter((r) => r && r.blocked_ms > 0);
        if (blocked.length) line += t("narr.psBlocked", { ranks: blocked.map((r) => r.rank).join(", "), s: cfg.bound });
      }
    }
  } else {
    line = t("narr.psStep", { step: s.step, mode });
  }
  if (lossBad) line += t("narr.psDiverged");
  else if (s.meanLoss != null) line += t("narr.psLoss", { loss: fmtNum(s.meanLoss, 4) });
  return line;
}
