// views/calculatorcore.js — the calculator's formulas (pure): memory per GPU, bubble and bytes per step for a training set-up; the same as engine/calculator.py (tests/test_calculator.py, tests/js/calculator.test.mjs, one golden file).

export const MODELS = {
  "gpt3-175b": { layers: 96, hidden: 12288, heads: 96, params: 175e9 },
  "llama3-8b": { layers: 32, hidden: 4096, heads: 32, params: 8.0e9 },
  "llama3-70b": { layers: 80, hidden: 8192, heads: 64, params: 70.6e9 },
  "llama3-405b": { layers: 126, hidden: 16384, heads: 128, params: 405e9 },
};

export const ACCELERATORS = { "V100 32GB": 32, "A100 40GB": 40, "A100 80GB": 80, "H100 80GB": 80, "H200 141GB": 141 };

const DEFAULTS = { seq: 2048, micro_batch: 1, micro_batches: 8, data: 1, pipeline: 1, tensor: 1, zero: 0, mixed: true, recompute: false };

/** Bytes of parameters, gradients and optimizer state per GPU (ZeRO paper, K = 12). */
export function modelStates(setup) {
  const s = { ...DEFAULTS, ...setup };
  const shard = s.params / (s.pipeline * s.tensor);
  const [p, g, k] = s.mixed ? [2, 2, 12] : [4, 4, 8];
  return {
    params: (p * shard) / (s.zero >= 3 ? s.data : 1),
    grads: (g * shard) / (s.zero >= 2 ? s.data : 1),
    optimizer: (k * shard) / (s.zero >= 1 ? s.data : 1),
  };
}

/** Bytes of activations per GPU at the peak of a 1F1B step (Korthikanti et al. 2022). */
export function activations(setup) {
  const s = { ...DEFAULTS, ...setup };
  const sbh = s.seq * s.micro_batch * s.hidden;
  const perLayer = s.recompute ? 2 * sbh : sbh * (10 + 24 / s.tensor + (5 * s.heads * s.seq) / (s.hidden * s.tensor));
  return perLayer * (s.layers / s.pipeline) * Math.min(s.pipeline, s.micro_batches);
}

export function bubble(setup) {
  const s = { ...DEFAULTS, ...setup };
  return (s.pipeline - 1) / (s.micro_batches + s.pipeline - 1);
}

/** Bytes one GPU sends per step, by kind of parallelism. */
export function bytesPerStep(setup) {
  const s = { ...DEFAULTS, ...setup };
  const w = s.mixed ? 2 : 4;
  const grad = (w * s.params) / (s.pipeline * s.tensor);
  const data = ((2 * (s.data - 1)) / s.data) * grad * (s.zero >= 3 ? 1.5 : 1);
  const act = w * s.seq * s.micro_batch * s.hidden;
  const tensor = 4 * (s.layers / s.pipeline) * s.micro_batches * ((2 * (s.tensor - 1)) / s.tensor) * act;
  const pipeline = s.pipeline > 1 ? (2 * s.micro_batches * act) / s.tensor : 0;
  return { data, tensor, pipeline };
}

export function perGpu(setup) {
  const states = modelStates(setup);
  const act = activations(setup);
  const b = bytesPerStep(setup);
  return { ...states, activations: act, total: states.params + states.grads + states.optimizer + act, bubble: bubble(setup), bytes_data: b.data, bytes_tensor: b.tensor, bytes_pipeline: b.pipeline };
}

// ---------------------------------------------------------------- published set-ups, URL

/** The calculator's inputs in its URL (/calculator?model=llama3-405b&data=128&…): the
 *  set-up's own field names; `case` names a published set-up (frontend/static/data/cases.json). */
export const SETUP_KEYS = ["params", "layers", "hidden", "heads", "seq", "micro_batch", "micro_batches", "data", "pipeline", "tensor", "zero", "mixed", "recompute"];
const INTS = new Set(["layers", "hidden", "heads", "seq", "micro_batch", "micro_batches", "data", "pipeline", "tensor"]);

/** A published case's whole set-up: its model's shape (from MODELS, by name) or its own. */
export function caseSetup(c) {
  const { model = null, ...rest } = c.setup;
  const shape = model && MODELS[model] ? MODELS[model] : {};
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v != null));
  return { model: model && MODELS[model] ? model : null, ...shape, ...given };
}

/** The model of MODELS with this shape, or null (a custom size). */
export function modelOf(setup) {
  const near = (a, b) => typeof a === "number" && Math.abs(a - b) <= 1e-9 * Math.abs(b);
  return Object.keys(MODELS).find((name) => ["params", "layers", "hidden", "heads"].every((k) => near(setup[k], MODELS[name][k]))) || null;
}

/** The URL query of a set-up: every input, and the case it came from (if any). */
export function calcQuery(setup, caseId = null) {
  const q = new URLSearchParams();
  if (caseId) q.set("case", caseId);
  const model = modelOf(setup);
  if (model) q.set("model", model);
  for (const k of SETUP_KEYS) {
    if (model && ["params", "layers", "hidden", "heads"].includes(k)) continue;
    const v = setup[k];
    if (v === undefined || v === null) continue;
    q.set(k, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  }
  return q.toString();
}

/** What a URL query asks for: {case, model, setup: the inputs it gives, valid ones only}. */
export function parseCalcQuery(search) {
  const q = new URLSearchParams(search);
  const out = { case: q.get("case") || null, model: MODELS[q.get("model")] ? q.get("model") : null, setup: {} };
  for (const k of SETUP_KEYS) {
    if (!q.has(k)) continue;
    const s = q.get(k);
    if (k === "mixed" || k === "recompute") {
      if (s === "1" || s === "0" || s === "true" || s === "false") out.setup[k] = s === "1" || s === "true";
      continue;
    }
    const n = Number(s);
    if (s === "" || !Number.isFinite(n)) continue;
    if (k === "zero") {
      if ([0, 1, 2, 3].includes(n)) out.setup.zero = n;
    } else if (INTS.has(k) ? Number.isInteger(n) && n >= 1 : n > 0) {
      out.setup[k] = n;
    }
  }
  return out;
}
