// strategies/parameter_server/words.js — the parameter server's words for the common views: run names, the article and tail caption of its mode, a lesson's measured line.

import { fmtNum, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { psConfig, stalenessHistogram } from "./slice.js";

const MODES = ["sync", "backup", "async", "ssp"];

/** A parameter-server run's short name (views/runlist.js strategyWords): its mode, after
 *  "parameter server" except in the loss chart's overlay. */
export function runWords(c, form) {
  const mode = t("psmode.short." + (optionsOf(c).ps_mode || "sync"));
  return form === "overlay" ? mode : `${t("strategy.psShort")} · ${mode}`;
}

/** The article's kind for a run (views/article.js): "ps-<mode>", or null. */
export function articleKind(state) {
  const ps = psConfig(state);
  if (!ps) return null;
  return `ps-${MODES.includes(ps.mode) ? ps.mode : "sync"}`;
}

/** The keys of the article's first column and of the tail caption for "ps-<mode>", or null. */
export function articleKeys(kind) {
  if (!kind.startsWith("ps-")) return null;
  const mode = kind.slice(3);
  return {
    title: "article.psTitle",
    body: `article.ps.${mode}`,
    views: "article.psViews",
    tail: mode === "async" || mode === "ssp" ? `tail.${mode}` : mode === "backup" ? "tail.backup" : "tail.psSync",
  };
}

/** A lesson's "Measured in this run" line of its own: the staleness of the applied
 *  gradients (none yet: nothing, and not the replicas' line either). */
export function measuredLines(state) {
  if (!psConfig(state)) return null;
  const h = stalenessHistogram(state);
  return h.total ? [t("lesson.measuredStaleness", { mean: fmtNum(h.mean, 2), max: h.max ?? "–", n: h.total, dropped: h.dropped || 0 })] : [];
}
