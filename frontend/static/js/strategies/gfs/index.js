// strategies/gfs/index.js — GFS's frontend, as registered with core/registry.js: its slice, words, views and narration.

import catalog from "./catalog.js";
import { t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { GFS, isGfs, slice, storeView } from "./slice.js";
import { views } from "./views.js";

/** The line of an epoch: its reads, the failovers, what is still under-replicated. */
function narrate(state) {
  if (!isGfs(state)) return null;
  const v = storeView(state);
  if (!v || v.step == null) return null;
  return t("narr.gfs", { step: v.step, total: v.reads.total, fo: v.reads.failedOver + v.reads.unreachable, corrupt: v.reads.corrupt, under: v.map.under.length });
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

export default { name: GFS, slice, catalog, views, narrate, runWords, topologyCentre };
