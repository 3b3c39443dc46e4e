// strategies/data_parallel/words.js — data parallelism's words for the common views: a compression in words, a run's short names.

import { fmtNum, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { compressionOf } from "./compression.js";

/** "QSGD (4-bit)", "top-k (1%)", "PowerSGD (rank 2)", with "+ error feedback" when on. */
export function compressionText(c, { feedback = true } = {}) {
  if (!c) return "";
  const pct = fmtNum(c.fraction * 100, 3);
  let s = t("comp.label." + c.method, { bits: c.bits ?? "", pct, rank: c.rank, levels: c.levels });
  if (feedback && c.errorFeedback && c.method !== "powersgd") s += t("comp.plusEf");
  return s;
}

/** A data-parallel run's short name in the common views (see views/runlist.js
 *  strategyWords): "list" (the run list: its compression or all-reduce algorithm),
 *  "name" (the compare view's header), "overlay" (the loss chart's compared run). */
export function runWords(c, form) {
  const comp = compressionOf(c);
  if (form === "overlay") return comp ? compressionText(comp, { feedback: false }) : t("strategy.dpShort");
  let s = t("strategy.dpShort");
  if (form !== "list") return s;
  const o = optionsOf(c);
  if (comp) s += ` · ${compressionText(comp, { feedback: false })}`;
  else if (o.allreduce && o.allreduce !== "builtin") s += ` · ${t("algo." + o.allreduce)}`;
  return s;
}

/** The article's kind for a run this frontend draws (views/article.js): "single" (one
 *  process, the reference), "dp-compressed" (encoded gradients all-gathered), "dp-powersgd"
 *  (low-rank factors all-reduced), or null: the page's default, the ring all-reduce. */
export function articleKind(state) {
  if (state && state.strategy === "single") return "single"; // one process: no ring to explain
  const c = state ? compressionOf(state.config) : null;
  if (!c) return null;
  return c.gathered ? "dp-compressed" : "dp-powersgd";
}

/** The article's keys for a single-process or a compressed run, or null. */
export function articleKeys(kind) {
  if (kind === "single") {
    return { title: "article.singleTitle", body: "article.single", views: "article.viewsSingle", tail: "tail.explainSingle" };
  }
  if (kind !== "dp-compressed" && kind !== "dp-powersgd") return null;
  return {
    title: "article.dpTitle",
    body: "article.dpCompressed",
    views: kind === "dp-compressed" ? "article.viewsCompressed" : "article.viewsPowerSgd",
    tail: "tail.explain",
  };
}
