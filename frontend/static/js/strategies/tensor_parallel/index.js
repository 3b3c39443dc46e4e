// strategies/tensor_parallel/index.js — tensor parallelism's frontend, as registered with core/registry.js: its slice, words, views and narration.

import catalog from "./catalog.js";
import { isTensorParallel, shardsView, slice, TP } from "./slice.js";
import { views } from "./views.js";
import { t } from "../../core/i18n.js";

/** The line of a step: the slices computed and the all-reduces that joined them. */
function narrate(state, s) {
  if (!isTensorParallel(state)) return null;
  const v = shardsView(state);
  return t("narr.tp", { step: s.step, t: v.t, n: v.count ?? "?", loss: s.meanLoss == null ? "–" : s.meanLoss.toFixed(4) });
}

/** The run in a few words (run list, overlay). */
function runWords() {
  return t("strategy.tpShort");
}

function articleKind(state) {
  return isTensorParallel(state) ? "tensor_parallel" : null;
}

function articleKeys(kind) {
  return kind === "tensor_parallel" ? { title: "article.tpTitle", body: "article.tp", views: "article.viewsTp", tail: "tail.explainTp" } : null;
}

export default { name: TP, slice, catalog, views, narrate, runWords, articleKind, articleKeys };
