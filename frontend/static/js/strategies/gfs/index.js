// strategies/gfs/index.js — GFS's frontend, as registered with core/registry.js: its slice, words, views and narration.

import catalog from "./catalog.js";
import { fmtBytes, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { membershipView } from "./membership.js";
import { GFS, isGfs, slice, storeView } from "./slice.js";
import { membershipFacts } from "./store.js";
import { views } from "./views.js";

/** The line of an epoch: its reads, the failovers, what is still under-replicated. */
function narrate(state) {
  if (!isGfs(state)) return null;
  const v = storeView(state);
  if (!v || v.step == null) return null;
  return t("narr.gfs", { step: v.step, total: v.reads.total, fo: v.reads.failedOver + v.reads.unreachable, corrupt: v.reads.corrupt, under: v.map.under.length });
}

/** What a lesson's reveal says the run measured, from its events: whether every epoch
 *  read every sample exactly once, who died, what was copied again, and the replicas now. */
function measuredLines(state) {
  if (!isGfs(state)) return null;
  const v = storeView(state);
  if (!v || !v.epoch) return null;
  const epochs = (state.gfs && state.gfs.epochs) || [];
  const once = epochs.filter((e) => e.exactlyOnce && e.equal).length;
  const out = [t("gfs.measuredOnce", { once, n: epochs.length, samples: v.epoch.expected })];
  if (v.map.dead.length) out.push(t("gfs.factDead", { servers: v.map.dead.join(", ") }));
  if (v.rereps.length) out.push(t("gfs.factCopies", { n: v.rereps.length, bytes: fmtBytes(v.rerepBytes) }));
  const mv = membershipView(state); // a join, a leave: what moved (表7)
  if (mv) out.push(...membershipFacts(mv, v.setup.replicas).map(([, text]) => text));
  out.push(v.map.under.length ? t("gfs.factUnder", { r: v.setup.replicas, chunks: v.map.under.join(", ") }) : t("gfs.factFull", { r: v.setup.replicas }));
  return out;
}

/** "GFS · r=3 · 64 samples a chunk". */
function runWords(c, form) {
  const o = optionsOf(c || {});
  const s = t("strategy.gfsShort");
  if (!(form === "overlay" || form === "list" || form === "name") || !o.replicas) return s;
  return `${s} · r=${o.replicas} · ${o.chunk_samples}/chunk`;
}

/** The middle of the processes' ring: the store and its replication factor. */
function topologyCentre(state) {
  const v = isGfs(state) ? storeView(state) : null;
  return v ? t("gfs.centre", { r: v.setup.replicas }) : null;
}

/** "What you are looking at" explains the store, not the ring all-reduce. */
function articleKind(state) {
  return isGfs(state) ? GFS : null;
}

function articleKeys(kind) {
  return kind === GFS ? { title: "article.gfsTitle", body: "article.gfs", views: "article.viewsGfs", tail: "tail.explainGfs" } : null;
}

export default { name: GFS, slice, catalog, views, narrate, measuredLines, runWords, topologyCentre, articleKind, articleKeys };
