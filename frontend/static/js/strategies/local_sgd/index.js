// strategies/local_sgd/index.js — local SGD's (and DiLoCo's) frontend, as registered with core/registry.js: its slice, words, replicas card, narration and article.
//
// It is drawn on data parallelism's ring (`ring: true`): the averaging is one all-reduce
// of the model over the same ring, at a sync step only. The bytes card shows what was
// measured, without data parallelism's formula (no `traffic`: it does not all-reduce
// every step).

import catalog from "./catalog.js";
import { fmtBytes, fmtNum, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { checksumSpread, isDiloco, isLocalSgd, LSGD, meanBytes, meanDriftAt, replicaView, slice, stepInRound, stepSynced, syncDrifts, syncEvery } from "./slice.js";
import { views } from "./views.js";

/** The line of a step: a step of a round (each worker on its own, how far apart the
 *  replicas are), or a sync (how far they had drifted, the bytes it sent). */
function narrate(state, s) {
  if (!isLocalSgd(state)) return null;
  const h = syncEvery(state.config);
  const loss = s.meanLoss == null ? "–" : s.meanLoss.toFixed(4);
  if (stepSynced(state, s.step) === true) {
    return t(isDiloco(state.config) ? "narr.lsgdSyncDiloco" : "narr.lsgdSync", {
      step: s.step,
      drift: fmtNum(meanDriftAt(state, s.step), 3),
      bytes: fmtBytes(s.ranks.length ? s.bytesSent / s.ranks.length : 0),
      loss,
    });
  }
  const spread = fmtNum(checksumSpread(state, s.step), 3);
  const k = stepInRound(s.step, h);
  // the first round reads "step 7 of a round of 8"; later ones say where in the round
  return t(s.step <= h ? "narr.lsgd" : "narr.lsgdRound", { step: s.step, k, h, spread, loss });
}

/** The data split in words ("one class per worker"), in its short form where `short`. */
function splitWords(o, short) {
  const split = o.data_split || "iid";
  if (short) return split === "iid" ? "" : t(`lsgd.splitShort.${split}`, { a: o.dirichlet_alpha });
  return t(`lsgd.split.${split}`, { a: o.dirichlet_alpha });
}

/** What a lesson's reveal says the run measured, from its step events: H and the data
 *  split, the mean drift at the syncs, and the bytes each worker sent against data
 *  parallelism's (a sync's measured bytes × the steps). */
function measuredLines(state) {
  if (!isLocalSgd(state)) return null;
  const v = replicaView(state);
  if (!v) return [];
  const o = optionsOf(state.config || {});
  const what = t(v.diloco ? "strategy.dilocoShort" : "strategy.lsgdShort");
  const out = [t("lsgd.measuredSetup", { what, h: v.h, syncs: v.syncs.length, split: splitWords(o, false) })];
  const d = syncDrifts(state);
  if (d.length) {
    const mean = d.reduce((a, x) => a + x.drift, 0) / d.length;
    out.push(t("lsgd.measuredDrift", { mean: fmtNum(mean, 3), n: d.length, max: fmtNum(Math.max(...d.map((x) => x.drift)), 3) }));
  }
  const b = meanBytes(v.bytes);
  if (b) out.push(t("lsgd.measuredBytes", { sent: fmtBytes(b.sent), perSync: fmtBytes(b.perSync), dp: fmtBytes(b.dp), x: fmtNum(b.ratio, 3) }));
  return out;
}

/** The run in a few words: "Local SGD · H=8", "DiLoCo · H=8 · one class each". */
function runWords(c, form) {
  const o = optionsOf(c || {});
  const s = t(o.outer === "nesterov" ? "strategy.dilocoShort" : "strategy.lsgdShort");
  if (form === "short") return s;
  const split = splitWords(o, true);
  return `${s} · H=${syncEvery(c)}${split ? ` · ${split}` : ""}`;
}

/** Whose model the decision boundary is: the engine draws worker 0's replica, which is
 *  everyone's model only at a sync; between syncs it is that worker's own. */
function boundaryNote(state, b) {
  if (!isLocalSgd(state)) return null;
  const synced = stepSynced(state, b.step) === true;
  return t(synced ? "lsgd.boundarySynced" : "lsgd.boundaryOwn", { rank: b.rank ?? 0, step: b.step });
}

function articleKind(state) {
  return isLocalSgd(state) ? LSGD : null;
}

function articleKeys(kind) {
  return kind === LSGD ? { title: "article.lsgdTitle", body: "article.lsgd", views: "article.viewsLsgd", tail: "tail.explainLsgd" } : null;
}

export default { name: LSGD, slice, catalog, views, narrate, measuredLines, runWords, articleKind, articleKeys, boundaryNote, ring: true };
