// strategies/data_parallel/form.js — data parallelism's part of the run form: the words under its options, and the uncompressed baseline of a compressed run.

import { qsgdBits } from "./compression.js";

/** Words under the options of data parallelism: what a compression sends ({hint}), and
 *  a warning the server would give as a 422 ({note}). */
export function optionNotes(options) {
  const o = options || {};
  const out = { hint: null, note: null };
  if (!o.compression) return out;
  const c = o.compression;
  if (c === "qsgd") {
    const s = Number(o.qsgd_levels);
    if (Number.isInteger(s) && s >= 1 && s <= 127) out.hint = ["form.qsgdHint", { levels: s, bits: qsgdBits(s) }];
  } else if (c === "topk" || c === "randk") {
    const f = Number(o.compress_fraction);
    if (f > 0 && f <= 1) out.hint = ["form.fractionHint", { pct: Number((f * 100).toPrecision(6)) }];
  } else if (c === "powersgd") out.hint = ["form.powersgdHint", {}];
  else if (c === "sign") out.hint = ["form.signHint", {}];
  else if (c === "fp16") out.hint = ["form.fp16Hint", {}];
  if (c !== "powersgd" && o.allreduce && o.allreduce !== "builtin") out.note = "form.allreduceForced";
  return out;
}

/** The baseline of a compressed run: the same run (same seed) without compression, at
 *  full speed and without per-message events, so it finishes long before the paced run.
 *  Null for a run without compression (it has no baseline). */
export function baselineConfig(config) {
  if (!(config && config.options && config.options.compression)) return null;
  const options = { ...(config.options || {}), compression: null, error_feedback: false };
  return { ...config, options, pace: null, detail: false };
}
