// strategies/data_parallel/narration.js — data parallelism's narration line of a step: what a compression sent, what a hand-written all-reduce did.

import { stepMessages } from "../../core/comm.js";
import { fmtBytes, fmtMs, fmtNum, t } from "../../core/i18n.js";
import { runNetwork } from "../../core/selectors.js";
import { modelledMs, msText } from "../../views/narration.js";
import { networkName } from "../../views/netlabels.js";
import { compressionAt, compressionOf } from "./compression.js";
import { commRounds, runAlgo } from "./slice.js";
import { compressionText } from "./words.js";

/** The line of step `s` (a stepSummary), or null for the common one (one process; the
 *  built-in all-reduce). */
export function narrate(state, s) {
  const comp = compressionOf(state.config);
  if (comp && s.ranks.length > 1) return compressionNarration(state, s, comp);
  if (state.strategy === "single" || s.ranks.length <= 1) return null;
  const algo = runAlgo(state);
  if (algo && algo !== "builtin") return algoNarration(state, s, algo);
  return null;
}

/** "step 12: QSGD (4-bit) — each rank sent 1.8 KB instead of 7.3 KB (4.0× less), error 1.9" */
function compressionNarration(state, s, comp) {
  const a = compressionAt(state, s.step);
  if (!a || a.sent == null) return t("narr.pendingStep", { step: s.step });
  const net = runNetwork(state);
  const modelled = modelledMs(s);
  let line = t(a.wireRatio ? "narr.compressed" : "narr.compressedNoRef", {
    step: s.step,
    method: compressionText(comp, { feedback: false }),
    sent: fmtBytes(a.sent),
    ref: fmtBytes(a.reference),
    x: fmtNum(a.wireRatio, 2),
    error: fmtNum(a.error, 2),
  });
  if (net && modelled != null) line += t("narr.modelledMs", { net: networkName(net), ms: fmtMs(modelled) });
  if (s.identical === false) line += `; ${t("narr.differ")}`;
  return line;
}

/** "step 12: ring all-reduce — 6 messages per rank, …" from the step's messages (detail),
 *  or from the per-rank counters of the step events without detail. */
function algoNarration(state, s, algo) {
  const replicas = s.identical === null ? t("narr.pending") : s.identical ? t("narr.identical") : t("narr.differ");
  const msgs = stepMessages(state, s.step);
  const ms = msText(state, s);
  if (msgs.length && s.complete) {
    const from = (r) => msgs.filter((m) => m.src === r);
    const bytesFrom = (r) => from(r).reduce((a, m) => a + m.bytes, 0);
    const bytesTo = (r) => msgs.filter((m) => m.dst === r).reduce((a, m) => a + m.bytes, 0);
    if (algo === "ring") {
      return t("narr.ring", { step: s.step, msgs: from(s.ranks[0]).length, bytes: fmtBytes(bytesFrom(s.ranks[0])), ms, replicas });
    }
    if (algo === "tree") {
      const rounds = commRounds(msgs, algo, s.ranks.length).length;
      return t("narr.tree", { step: s.step, msgs: msgs.length, rounds, root: fmtBytes(bytesFrom(0)), ms, replicas });
    }
    if (algo === "naive") {
      return t("narr.naive", { step: s.step, msgs: msgs.length, root: fmtBytes(Math.max(bytesFrom(0), bytesTo(0))), ms, replicas });
    }
  }
  return t("narr.algo", { step: s.step, algo: t("topo.algoShort." + algo), n: s.ranks.length, bytes: fmtBytes(s.bytesSent), ms, replicas });
}
