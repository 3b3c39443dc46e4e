// views/comparedata.js — what the compare view shows, as pure functions: two configs as rows with their labels, a run's timeline as segments.

import { getLang, t } from "../core/i18n.js";
import { choiceText, strategyList, strategySpec, textIn } from "../core/specs.js";
import { stepRanks } from "../core/selectors.js";
import { strategyWords } from "./runlist.js";
import { recSegments } from "./timeline.js";

/** Pure: a canonical JSON text (object keys sorted), so {a, b} equals {b, a}. */
export function canonical(v) {
  if (v === undefined) return "null";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Pure: a config as one flat object; the strategy's options become "options.<name>". */
export function flatConfig(config) {
  const out = {};
  for (const [k, v] of Object.entries(config || {})) {
    if (k === "options" && v && typeof v === "object") for (const [o, ov] of Object.entries(v)) out[`options.${o}`] = ov;
    else out[k] = v;
  }
  return out;
}

/** Pure: one row per config field of either run (each strategy option a row of its own),
 *  in A's order then B's extra fields: [{field, a, b, differs}]. A field one run lacks
 *  counts as null. */
export function configDiff(a, b) {
  return configDiffMany([a, b]).map(({ field, values, differs }) => ({ field, a: values[0], b: values[1], differs }));
}

/** Pure: configDiff for any number of runs: [{field, values, differs}], the fields in
 *  the first run's order, then each later run's extra fields. */
export function configDiffMany(configs) {
  const flat = configs.map(flatConfig);
  const fields = [];
  for (const c of flat) for (const k of Object.keys(c)) if (!fields.includes(k)) fields.push(k);
  return fields.map((field) => {
    const values = flat.map((c) => c[field]);
    const first = canonical(values[0] ?? null);
    return { field, values, differs: values.some((v) => canonical(v ?? null) !== first) };
  });
}

/** Pure: the wall-clock segments of a run's whole timeline: [{rank, step, seg, ms, x0, x1}]
 *  in seconds since the run started, each step laid out from its measured t_start. */
export function runSegments(state) {
  const out = [];
  for (const rank of stepRanks(state)) {
    const log = state.history[rank];
    if (!log) continue;
    for (let i = 0; i < log.length; i++) {
      const rec = log.items[i];
      let x = Number.isFinite(rec.t_start) ? rec.t_start : rec.t;
      if (!Number.isFinite(x)) continue;
      for (const [seg, ms] of recSegments(rec)) {
        out.push({ rank, step: rec.step, seg, ms, x0: x, x1: x + ms / 1000 });
        x += ms / 1000;
      }
    }
  }
  return out;
}

/** Pure: the last moment a run reported (s since start): its newest step event or finish. */
export function runEnd(state) {
  let end = 0;
  for (const rank of stepRanks(state)) {
    const log = state.history[rank];
    if (log && log.length) end = Math.max(end, log.items[log.length - 1].t || 0);
  }
  return end;
}

/** Pure: too many segments to draw one by one → per lane, bins `width` seconds wide,
 *  each with the time spent in each kind of segment: [{rank, seg, x0, x1, frac}]. */
export function binSegments(segs, lo, hi, numBins) {
  const w = (hi - lo) / numBins || 1;
  const acc = new Map(); // `${rank}|${seg}|${bin}` → seconds
  for (const s of segs) {
    let x = s.x0;
    while (x < s.x1 - 1e-12) {
      const bin = Math.min(numBins - 1, Math.max(0, Math.floor((x - lo) / w)));
      const end = Math.min(s.x1, lo + (bin + 1) * w);
      const k = `${s.rank}|${s.seg}|${bin}`;
      acc.set(k, (acc.get(k) || 0) + Math.max(0, end - x));
      if (end <= x) break;
      x = end;
    }
  }
  const out = [];
  for (const [k, sec] of acc) {
    const [rank, seg, bin] = k.split("|");
    out.push({ rank: Number(rank), seg, x0: lo + Number(bin) * w, x1: lo + (Number(bin) + 1) * w, frac: Math.min(1, sec / w) });
  }
  return out;
}

/** Pure: round tick values between lo and hi (about `count` of them). */
export function niceTicks(lo, hi, count = 6) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Pure: the description of a strategy option, from whichever strategy declares it. */
function anyOption(name) {
  for (const s of strategyList()) {
    const o = s.options.find((x) => x.name === name);
    if (o) return o;
  }
  return null;
}

/** The words for a field's value, or null where there are none: a strategy's title, an
 *  option's choice label (from the spec), or the label the form's select shows for a
 *  common setting (its <select data-field>). */
export function optionLabel(field, v, doc = typeof document !== "undefined" ? document : null, lang = getLang()) {
  if (v === undefined || v === null || typeof v === "object") return null;
  if (field === "strategy") {
    const spec = strategySpec(v);
    return spec ? textIn(spec.title, lang) : null;
  }
  if (field.startsWith("options.")) return choiceText(anyOption(field.slice(8)), v, lang);
  const sel = doc ? doc.querySelector(`select[data-field="${field}"]`) : null;
  const opt = sel ? Array.from(sel.options || []).find((o) => o.value === String(v)) : null;
  if (!opt) return null;
  const key = opt.dataset ? opt.dataset.i18n : null;
  const label = key ? t(key) : opt.textContent;
  return label && label !== key ? label.trim() : null;
}

/** Config field → the form's label key (the same words the student set it with);
 *  fields without a form label have their own "compare.setting.*" key. */
export const FIELD_LABELS = {
  scenario: "form.scenario",
  strategy: "form.strategy",
  workers: "form.workers",
  steps: "form.steps",
  batch_size: "form.batch",
  lr: "form.lr",
  seed: "form.seed",
  pace: "form.pace",
  model: "compare.setting.model",
  optimizer: "form.optimizer",
  dataset: "form.dataset",
  backend: "compare.setting.backend",
  detail: "form.detail",
  nan_policy: "form.nanPolicy",
  checkpoint_every: "form.checkpointEvery",
  recovery: "form.recovery",
  max_restarts: "form.maxRestarts",
  emulated_compute_ms: "form.emulatedMs",
  straggler: "form.straggler",
  straggler_factor: "form.stragglerFactor",
  straggler_rank: "form.stragglerRank",
  straggler_prob: "form.stragglerProb",
  network: "form.network",
  node_size: "form.nodeSize",
  launcher: "form.launcher",
  nnodes: "form.nnodes",
  latency_us: "form.latency",
  bandwidth_gbps: "form.bandwidth",
  links: "form.links",
  faults: "compare.setting.faults",
  num_samples: "compare.setting.numSamples",
  hidden: "compare.setting.hidden",
  d_model: "form.dModel",
  layers: "form.layers",
  heads: "form.heads",
  context: "form.context",
  timeout_s: "compare.setting.timeout",
  boundary_every: "compare.setting.boundaryEvery",
};

/** Pure: the label of a config field in the page's language: a common setting's from
 *  the catalog (the form's words), a strategy option's from its spec; the raw name when
 *  there is none (a field the API added later still shows up). `tr` is t. */
export function fieldLabel(field, tr = t, lang = getLang()) {
  if (field.startsWith("options.")) {
    const o = anyOption(field.slice(8));
    return o ? textIn(o.label, lang) : field;
  }
  const key = FIELD_LABELS[field];
  const out = key ? tr(key) : null;
  return out && out !== key ? out : field;
}

/** A short name for a run: its strategy (and mode) and worker count. */
export function runName(config) {
  const c = config || {};
  let s = strategyWords(c, "name");
  if (c.workers != null) s += ` · ${c.workers === 1 ? t("runs.worker1") : t("runs.workers", { n: c.workers })}`;
  return s;
}
