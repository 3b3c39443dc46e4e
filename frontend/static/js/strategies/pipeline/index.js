// strategies/pipeline/index.js — pipeline parallelism's frontend, as registered with core/registry.js: its slice, words and views.

import catalog from "./catalog.js";
import { isPipeline, PIPELINE, scheduleGrid, slice } from "./slice.js";
import { t } from "../../core/i18n.js";
import { views } from "./views.js";

/** The line of a step: stages, micro-batches, the schedule and the measured bubble. */
function narrate(state, s) {
  if (!isPipeline(state)) return null;
  const g = scheduleGrid(state);
  const bubble = g && g.bubble != null ? `${Math.round(g.bubble * 100)} %` : "–";
  return t("narr.pipeline", { step: s.step, p: g ? g.p : "?", m: g && g.m != null ? g.m : "?", schedule: t(`pipeline.schedule.${g && g.schedule}`), bubble, loss: s.meanLoss == null ? "–" : s.meanLoss.toFixed(4) });
}

export default { name: PIPELINE, slice, catalog, views, narrate };
