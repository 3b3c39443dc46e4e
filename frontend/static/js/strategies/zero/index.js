// strategies/zero/index.js — ZeRO's frontend: its narration and run words. It is drawn as data parallelism's ring (`ring: true`): its reduce-scatter and all-gather travel the same ring; the memory card (views/memory.js) shows what each worker holds; the bytes card quotes its stage's formula (bytes.js, through `traffic`).

import catalog from "./catalog.js";
import { zeroTraffic } from "./bytes.js";
import { fmtBytes, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";

export const ZERO = "zero";

const isZero = (state) => state.strategy === ZERO || !!(state.config && state.config.strategy === ZERO);

function narrate(state, s) {
  if (!isZero(state)) return null;
  const stage = optionsOf(state.config || {}).stage || "?";
  return t("narr.zero", {
    step: s.step,
    n: s.ranks.length,
    bytes: fmtBytes(s.ranks.length ? s.bytesSent / s.ranks.length : 0),
    stage,
    how: t(`zero.how${stage}`),
    what: t(`zero.what${stage}`),
    loss: s.meanLoss == null ? "–" : s.meanLoss.toFixed(4),
  });
}

function runWords(c) {
  return `${t("strategy.zeroShort")} ${optionsOf(c || {}).stage || ""}`.trim();
}

/** The bytes card's expectation for this run's stage (bytes.js). */
function traffic(state, n, N) {
  return zeroTraffic(String(optionsOf(state.config || {}).stage || ""), n, N);
}

export default { name: ZERO, slice: { events: {} }, catalog, views: {}, narrate, runWords, ring: true, traffic };
