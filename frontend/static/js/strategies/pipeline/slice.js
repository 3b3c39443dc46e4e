// strategies/pipeline/slice.js — pipeline parallelism's reducer slice and selectors: each stage's pieces, and the schedule cells of the newest steps.
//
// Every stage reports, with each step, the forward (F) and backward (B) passes it ran:
// [kind, micro-batch, start, end] on the run's clock (engine/strategies/pipeline.py);
// interleaved 1F1B adds the chunk the pass ran on: [kind, micro-batch, start, end, chunk].
// The grid draws them; the bubble is measured from them the way the engine's
// pipeline_schedules.measured_bubble does (tests/js/pipeline.test.mjs checks the two).

import { frontendsOf } from "../../core/registry.js";
import { optionsOf } from "../../core/selectors.js";

export const PIPELINE = "pipeline";
const KEEP_STEPS = 8; // the grid shows the newest complete step; a few more for scrubbing

/** The ranks of the pipeline the grid draws, stage 0 first: every rank of a pipeline
 *  run; for a strategy built on pipelines (three_d), the one its slice names with
 *  `scheduleRanks(state)`, or null until it knows. */
export function pipelineRanks(state) {
  for (const f of frontendsOf(state)) if (f.slice && f.slice.scheduleRanks) return f.slice.scheduleRanks(state);
  if (state.strategy !== PIPELINE && !(state.config && state.config.strategy === PIPELINE)) return null;
  const p = state.config ? state.config.workers : Object.keys((state.pipeline || { stages: {} }).stages).length;
  return Array.from({ length: p }, (_, r) => r);
}

export function isPipeline(state) {
  return state.strategy === PIPELINE || !!(state.config && state.config.strategy === PIPELINE) || pipelineRanks(state) != null;
}

function pipelineOf(state) {
  return state.pipeline || { stages: {}, steps: {} };
}

/** A stage said which pieces of the model it holds. */
function pipelineStage(state, base, event) {
  if (!Number.isInteger(event.rank)) return base;
  const p = pipelineOf(state);
  const stage = { stage: event.stage, pieces: event.pieces || [], chunks: event.chunks || null, params: event.params ?? null, inFlightExpected: event.in_flight_expected ?? null };
  return { ...base, pipeline: { ...p, stages: { ...p.stages, [event.rank]: stage } } };
}

/** A stage's step: keep its cells (the newest KEEP_STEPS steps). */
function afterStep(state, next, event) {
  if (!isPipeline(state) || !Array.isArray(event.schedule) || !Number.isInteger(event.step)) return next;
  const p = pipelineOf(state);
  const row = { cells: event.schedule, inFlight: event.in_flight_peak ?? null, actBytes: event.activation_bytes_peak ?? null };
  const steps = { ...p.steps, [event.step]: { ...(p.steps[event.step] || {}), [event.rank]: row } };
  const keys = Object.keys(steps).map(Number).sort((a, b) => a - b);
  for (const k of keys.slice(0, Math.max(0, keys.length - KEEP_STEPS))) delete steps[k];
  return { ...next, pipeline: { ...p, steps } };
}

export const slice = {
  events: { pipeline_stage: pipelineStage },
  after: { step: afterStep },
  initial: { pipeline: null },
};

// ---------------------------------------------------------------- selectors

/** The idle fraction of one step: cells of every stage inside the step's span (first
 *  start to last end), as engine/strategies/pipeline_schedules.measured_bubble. */
export function measuredBubble(cellsByStage) {
  const cells = cellsByStage.flat();
  if (!cells.length) return null;
  const t0 = Math.min(...cells.map((c) => c[2]));
  const t1 = Math.max(...cells.map((c) => c[3]));
  if (!(t1 > t0)) return null;
  const busy = cells.reduce((s, c) => s + (c[3] - c[2]), 0);
  return Math.max(0, 1 - busy / ((t1 - t0) * cellsByStage.length));
}

/** (p − 1)/(m + p − 1): the bubble of equal-sized stages (Huang et al. 2019);
 *  interleaved with v chunks per process, (p − 1)/(v·m + p − 1) (Narayanan et al. 2021). */
export const bubbleFormula = (p, m, v = 1) => (p - 1) / (v * m + p - 1);

/** How many chunks each process holds: v for interleaved 1F1B, else 1. */
export function chunksOf(options) {
  const o = options || {};
  return o.schedule === "interleaved" ? o.virtual_stages ?? 2 : 1;
}

/** A cell's label: "F3" (micro-batch 3), or "F3·1" on chunk 1 when the run interleaves. */
export function cellLabel(kind, micro, chunk, v = 1) {
  return v > 1 && chunk != null ? `${kind}${micro}·${chunk}` : `${kind}${micro}`;
}

/** What the schedule card draws, or null: the newest step every stage reported. */
export function scheduleGrid(state) {
  const order = isPipeline(state) && state.pipeline ? pipelineRanks(state) : null;
  if (!order) return null;
  const o = optionsOf(state.config || {});
  const p = order.length;
  const m = o.micro_batches ?? null;
  const v = chunksOf(o);
  const steps = Object.keys(state.pipeline.steps).map(Number).sort((a, b) => b - a);
  const step = steps.find((s) => order.every((r) => state.pipeline.steps[s][r]));
  if (step === undefined) return { step: null, p, m, v, schedule: o.schedule || null, stages: [], bubble: null, formula: m ? bubbleFormula(p, m, v) : null };
  const rows = state.pipeline.steps[step];
  const stages = order.map((r) => ({ rank: r, ...rows[r], pieces: (state.pipeline.stages[r] || {}).pieces || [], chunks: (state.pipeline.stages[r] || {}).chunks || null }));
  const all = stages.flatMap((s) => s.cells);
  return {
    step,
    p,
    m,
    v,
    schedule: o.schedule || null,
    stages,
    t0: Math.min(...all.map((c) => c[2])),
    t1: Math.max(...all.map((c) => c[3])),
    bubble: measuredBubble(stages.map((s) => s.cells)),
    formula: m ? bubbleFormula(p, m, v) : null,
  };
}

/** The median measured bubble over the newest complete steps the slice keeps (the first
 *  step, which also warms up, left out when others are there), and how many steps. */
export function recentBubble(state) {
  const order = isPipeline(state) && state.pipeline ? pipelineRanks(state) : null;
  if (!order) return null;
  const steps = Object.keys(state.pipeline.steps).map(Number).filter((s) => order.every((r) => state.pipeline.steps[s][r]));
  const use = steps.length > 1 ? steps.filter((s) => s > 1) : steps;
  const values = use
    .map((s) => measuredBubble(order.map((r) => state.pipeline.steps[s][r].cells)))
    .filter((b) => b != null)
    .sort((a, b) => a - b);
  if (!values.length) return null;
  const mid = values.length >> 1;
  return { median: values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2, steps: values.length };
}
