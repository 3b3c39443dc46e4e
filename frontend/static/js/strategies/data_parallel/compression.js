// strategies/data_parallel/compression.js — gradient compression of a data-parallel run: its settings (config.options) and its metrics (step fields), as selectors.

import { emptyLog, isNum } from "../../core/log.js";
import { gradBytes, optionsOf, ranksOf, recordAt } from "../../core/selectors.js";

/** Bits per value of a QSGD level in [-s, s], as engine/compression.py packs it (1, 2, 4, 8). */
export function qsgdBits(levels) {
  const needed = Math.ceil(Math.log2(2 * levels + 1));
  return [1, 2, 4, 8].find((b) => b >= needed) ?? 8;
}

/** What a run config says about compression, or null: {method, levels, bits, fraction,
 *  rank, errorFeedback, gathered}. `gathered`: encoded gradients are all-gathered (every
 *  method but PowerSGD, which is linear and rides on an all-reduce). */
export function compressionOf(config) {
  const o = optionsOf(config);
  if (!o.compression) return null;
  const method = o.compression;
  const levels = Number.isInteger(o.qsgd_levels) ? o.qsgd_levels : 7;
  return {
    method,
    levels,
    bits: method === "qsgd" ? qsgdBits(levels) : method === "sign" ? 1 : method === "fp16" ? 16 : null,
    fraction: isNum(o.compress_fraction) ? o.compress_fraction : 0.01,
    rank: Number.isInteger(o.powersgd_rank) ? o.powersgd_rank : 1,
    errorFeedback: method === "powersgd" || !!o.error_feedback,
    gathered: method !== "powersgd",
  };
}

/** Bytes per rank per step of an uncompressed fp32 ring all-reduce: 2(n−1)/n·N. */
export function uncompressedWireBytes(n, N) {
  return n > 1 && isNum(N) ? (2 * (n - 1) * N) / n : null;
}

function mean(xs) {
  const v = xs.filter(isNum);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/**
 * Per-step series of a compressed run, as of the state's steps: per rank
 * {rank, x, sent, payload, error, residual}, and over ranks (steps every rank reported)
 * {x, payload, sent, error, ratio, residual} means; `reference` is the uncompressed fp32
 * ring all-reduce's bytes per rank per step.
 */
export function compressionSeries(state) {
  const ranks = ranksOf(state);
  const perRank = [];
  const acc = new Map();
  for (const r of ranks) {
    const log = state.history[r] || emptyLog();
    const out = { rank: r, x: [], sent: [], payload: [], error: [], residual: [] };
    for (let i = 0; i < log.length; i++) {
      const rec = log.items[i];
      out.x.push(rec.step);
      out.sent.push(isNum(rec.bytes_sent) ? rec.bytes_sent : null);
      out.payload.push(isNum(rec.payload_bytes) ? rec.payload_bytes : null);
      out.error.push(isNum(rec.compress_error) ? rec.compress_error : null);
      out.residual.push(isNum(rec.residual_norm) ? rec.residual_norm : null);
      let a = acc.get(rec.step);
      if (!a) acc.set(rec.step, (a = []));
      a.push(rec);
    }
    perRank.push(out);
  }
  const steps = [...acc.keys()].filter((s) => acc.get(s).length === ranks.length).sort((a, b) => a - b);
  const m = (f) => steps.map((s) => mean(acc.get(s).map((rec) => rec[f])));
  return {
    ranks: perRank,
    mean: {
      x: steps,
      sent: m("bytes_sent"),
      payload: m("payload_bytes"),
      error: m("compress_error"),
      ratio: m("compress_ratio"),
      residual: m("residual_norm"),
    },
    reference: uncompressedWireBytes(ranks.length, gradBytes(state)),
  };
}

/** One step of a compressed run in numbers (means over the ranks that reported it):
 *  {step, payload, sent, reference, ratio, wireRatio, error, residual}, or null. */
export function compressionAt(state, step) {
  const c = compressionOf(state.config);
  if (!c || !step) return null;
  const recs = ranksOf(state)
    .map((r) => recordAt(state, r, step))
    .filter(Boolean);
  if (!recs.length) return null;
  const m = (f) => mean(recs.map((rec) => rec[f]));
  const sent = m("bytes_sent");
  const reference = uncompressedWireBytes(ranksOf(state).length, gradBytes(state));
  return {
    step,
    payload: m("payload_bytes"),
    sent,
    reference,
    ratio: m("compress_ratio"),
    wireRatio: reference && sent ? reference / sent : null,
    error: m("compress_error"),
    residual: m("residual_norm"),
  };
}
