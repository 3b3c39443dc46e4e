// strategies/pipeline/index.js — pipeline parallelism's frontend, as registered with core/registry.js: its slice, words and views.

import catalog from "./catalog.js";
import { bubbleFormula, isPipeline, PIPELINE, recentBubble, scheduleGrid, slice } from "./slice.js";
import { t } from "../../core/i18n.js";
import { views } from "./views.js";

/** The line of a step: stages, micro-batches, the schedule and the measured bubble. */
function narrate(state, s) {
  if (!isPipeline(state)) return null;
  const g = scheduleGrid(state);
  const bubble = g && g.bubble != null ? `${Math.round(g.bubble * 100)} %` : "–";
  return t("narr.pipeline", { step: s.step, p: g ? g.p : "?", m: g && g.m != null ? g.m : "?", schedule: t(`pipeline.schedule.${g && g.schedule}`), bubble, loss: s.meanLoss == null ? "–" : s.meanLoss.toFixed(4) });
}

/** What a lesson's reveal says the run measured: the bubble beside its formula, and the
 *  activations each stage held. */
function measuredLines(state) {
  if (!isPipeline(state)) return null;
  const g = scheduleGrid(state);
  const b = recentBubble(state);
  const out = [];
  if (b && g && g.m) {
    out.push(t("pipeline.measuredBubble", { measured: `${Math.round(b.median * 100)} %`, n: b.steps, formula: `${Math.round(bubbleFormula(g.p, g.m, g.v) * 100)} %` }));
  }
  if (g && g.stages.length) out.push(t("pipeline.measuredHeld", { held: g.stages.map((s) => s.inFlight).join(", ") }));
  return out;
}

/** The run in a few words (run list, overlay): "pipeline · 1F1B, m = 16". */
function runWords(c, form) {
  const o = (c && c.options) || {};
  const s = t("strategy.pipelineShort");
  return form === "overlay" || form === "list" ? `${s} · ${t(`pipeline.schedule.${o.schedule}`)}, m = ${o.micro_batches}` : s;
}

/** The compare view's idle fraction (views/tradeoffs.js): the bubble measured from the
 *  stages' cells — the pipeline's own idle time — rather than its time in messages. */
function idleFraction(state) {
  const b = recentBubble(state);
  return b ? { value: b.median, steps: b.steps, kind: "bubble" } : null;
}

function articleKind(state) {
  return isPipeline(state) ? "pipeline" : null;
}

function articleKeys(kind) {
  return kind === "pipeline" ? { title: "article.ppTitle", body: "article.pp", views: "article.viewsPp", tail: "tail.explainPp" } : null;
}

export default { name: PIPELINE, slice, catalog, views, narrate, measuredLines, runWords, articleKind, articleKeys, idleFraction };
