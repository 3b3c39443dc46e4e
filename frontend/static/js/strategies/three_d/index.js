// strategies/three_d/index.js — 3-D parallelism's frontend, as registered with core/registry.js: its slice, words, views and narration.

import catalog from "./catalog.js";
import { fmtBytes, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { isThreeD, meshView, slice, THREE_D } from "./slice.js";
import { views } from "./views.js";

/** The line of a step: the mesh and the bytes each kind of group carried. */
function narrate(state, s) {
  if (!isThreeD(state)) return null;
  const v = meshView(state);
  if (!v) return null;
  const b = (k) => (v.traffic ? fmtBytes(v.traffic.total[k]) : "–");
  return t("narr.td", { step: s.step, n: v.ranks.length, dp: v.dp, pp: v.pp, tp: v.tp, tensor: b("tensor"), pipeline: b("pipeline"), data: b("data"), loss: s.meanLoss == null ? "–" : s.meanLoss.toFixed(4) });
}

/** The run in a few words (run list, overlay): "3-D parallel · 2 × 2 × 2". */
function runWords(c, form) {
  const o = optionsOf(c || {});
  const s = t("strategy.tdShort");
  return form === "overlay" || form === "list" ? `${s} · ${o.dp} × ${o.pp} × ${o.tp}` : s;
}

function articleKind(state) {
  return isThreeD(state) ? THREE_D : null;
}

function articleKeys(kind) {
  return kind === THREE_D ? { title: "article.tdTitle", body: "article.td", views: "article.viewsTd", tail: "tail.explainTd" } : null;
}

export default { name: THREE_D, slice, catalog, views, narrate, runWords, articleKind, articleKeys };
