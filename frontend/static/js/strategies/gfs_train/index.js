// strategies/gfs_train/index.js — the frontend of training through GFS, as registered with core/registry.js: its slice, words, views and narration. The store's columns are the GFS frontend's (strategies/gfs/).

import catalog from "./catalog.js";
import { fmtNum, t } from "../../core/i18n.js";
import { GFS_TRAIN, isGfsTrain, readsView, slice } from "./slice.js";
import { views } from "./views.js";

/** The line of a step: the epoch's local and remote reads so far. */
function narrate(state) {
  if (!isGfsTrain(state)) return null;
  const v = readsView(state);
  if (!v || v.locality == null) return null;
  return t("narr.gfsTrain", { step: v.step, epoch: v.epoch, local: v.local, remote: v.remote, pct: fmtNum(100 * v.locality, 0) });
}

/** What a lesson's reveal says the run measured: locality, the tail, the check. */
function measuredLines(state) {
  if (!isGfsTrain(state)) return null;
  const v = readsView(state);
  if (!v) return null;
  const out = [];
  if (v.locality != null) out.push(t("gfsTrain.measuredLocality", { pct: fmtNum(100 * v.locality, 0), local: v.local, remote: v.remote }));
  out.push(t("gfsTrain.measuredTail", { padded: v.plan.numPadded, dropped: v.plan.numDropped }));
  const done = v.checks.filter((c) => c.complete);
  if (done.length) out.push(t("gfsTrain.factOnce", { ok: done.filter((c) => c.exactlyOnce).length, n: done.length }));
  return out;
}

function runWords() {
  return t("strategy.gfsTrainShort");
}

/** "What you are looking at" explains the sampler and the reads, not only the ring. */
function articleKind(state) {
  return isGfsTrain(state) ? GFS_TRAIN : null;
}

function articleKeys(kind) {
  return kind === GFS_TRAIN ? { title: "article.gfsTrainTitle", body: "article.gfsTrain", views: "article.viewsGfsTrain", tail: "tail.explainGfsTrain" } : null;
}

export default { name: GFS_TRAIN, slice, catalog, views, narrate, measuredLines, runWords, articleKind, articleKeys };
