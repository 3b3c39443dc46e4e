// strategies/bsp/index.js — the BSP (Pregel) run's frontend, as registered with core/registry.js: its slice, words, view and narration.

import catalog from "./catalog.js";
import { fmtNum, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { algName } from "./card.js";
import { BSP, bspView, isBsp, slice } from "./slice.js";
import { views } from "./views.js";

/** The line of a superstep: the messages sent, the longest barrier wait, the change. */
function narrate(state, s) {
  if (!isBsp(state)) return null;
  const v = bspView(state, s.step);
  if (!v || !v.step) return null;
  const waits = v.workers.map((r) => (r ? r.barrierMs : null)).filter((x) => x != null);
  const slow = v.workers.findIndex((r) => r && r.slowed);
  return t(slow >= 0 ? "narr.bspSlow" : "narr.bsp", { step: v.step, n: v.messages ?? "–", wait: fmtNum(Math.max(0, ...waits), 3), change: fmtNum(v.change, 3), slow });
}

/** A straggler's line: the others wait for it at the barrier of every superstep (not at
 *  an all-reduce, as the common line says). */
function stragglerLine(state, slow, words) {
  if (!isBsp(state)) return null;
  return t(slow.kind === "straggler" ? "narr.bspStraggler" : "narr.bspSlower", words);
}

/** "BSP · PageRank · 400 vertices", with the combiner where on. */
function runWords(c, form) {
  const o = optionsOf(c || {});
  const s = t("strategy.bspShort");
  if (!(form === "overlay" || form === "list" || form === "name") || !o.algorithm) return s;
  return `${s} · ${algName(o.algorithm)} · ${t("bsp.nVertices", { n: o.vertices })}${o.combiner ? " · combiner" : ""}`;
}

/** The middle of the workers' ring: what they compute ("PageRank"; short, it sits
 *  between the workers). */
function topologyCentre(state) {
  const v = isBsp(state) ? bspView(state) : null;
  return v ? t(`bsp.centre.${v.algorithm}`) : null;
}

function articleKind(state) {
  return isBsp(state) ? BSP : null;
}

function articleKeys(kind) {
  return kind === BSP ? { title: "article.bspTitle", body: "article.bsp", views: "article.viewsBsp", tail: "tail.explainBsp" } : null;
}

export default { name: BSP, slice, catalog, views, narrate, stragglerLine, runWords, topologyCentre, articleKind, articleKeys };
