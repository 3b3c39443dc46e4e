// strategies/three_d/index.js — 3-D parallelism's frontend, as registered with core/registry.js: its slice, words, views and narration.

import catalog from "./catalog.js";
import pipelineFrontend from "../pipeline/index.js";
import { fmtBytes, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { isThreeD, KINDS, meshView, slice, THREE_D } from "./slice.js";
import { views } from "./views.js";

/** The line of a step: the mesh and the bytes each kind of group carried. */
function narrate(state, s) {
  if (!isThreeD(state)) return null;
  const v = meshView(state);
  if (!v) return null;
  const b = (k) => (v.traffic ? fmtBytes(v.traffic.total[k]) : "–");
  return t("narr.td", { step: s.step, n: v.ranks.length, dp: v.dp, pp: v.pp, tp: v.tp, tensor: b("tensor"), pipeline: b("pipeline"), data: b("data"), loss: s.meanLoss == null ? "–" : s.meanLoss.toFixed(4) });
}

/** What a lesson's reveal says the run measured: the bytes the newest step sent over each
 *  kind of group (all processes), the largest named, then the pipeline's bubble. */
function measuredLines(state) {
  if (!isThreeD(state)) return null;
  const v = meshView(state);
  const out = [];
  if (v && v.traffic) {
    const tot = v.traffic.total;
    const most = KINDS.reduce((a, k) => (tot[k] > tot[a] ? k : a), KINDS[0]);
    out.push(t("td.measured", { step: v.traffic.step, n: v.ranks.length, tensor: fmtBytes(tot.tensor), pipeline: fmtBytes(tot.pipeline), data: fmtBytes(tot.data) }));
    out.push(t("td.measuredMost", { group: t(`td.group.${most}`) }));
  }
  out.push(...(pipelineFrontend.measuredLines(state) || []));
  return out;
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

export default { name: THREE_D, slice, catalog, views, narrate, measuredLines, runWords, articleKind, articleKeys };
