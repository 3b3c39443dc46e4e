// strategies/bsp/slice.js — the BSP run's reducer slice and selectors: the graph and how it is split (one `bsp_graph` event), every worker's superstep (its step event: vertex messages before and after the combiner, to whom, the barrier wait, the top-ranked vertices), the L1 change per superstep, and the final values (`bsp_values`).
//
// engine/strategies/bsp.py: one step of the run is one superstep — compute, exchange the
// vertex messages as real messages (one per pair of workers), barrier, update. Every
// number here comes from those events; nothing is modelled.

import { emptyLog, isNum, logAppend, logLast, logToArray, logTruncate, lowerBound } from "../../core/log.js";
import { completeStep } from "../../core/selectors.js";

export const BSP = "bsp";
// Supersteps kept per worker for the card's columns (the chart keeps every superstep's
// change; scrubbing further back replays the events, as for every view).
const KEEP = 16;
export const COLUMNS = 8;
const TOP_SHOWN = 6;
// Float64 sums taken in another order differ in the last bits; anything larger is wrong.
const CHECK_TOLERANCE = 1e-9;

export function isBsp(state) {
  return state.strategy === BSP || !!(state.config && state.config.strategy === BSP);
}

function of(state) {
  return state.bsp || { info: null, steps: {}, change: emptyLog(), values: {} };
}

const ints = (xs) => (Array.isArray(xs) ? xs.map((x) => (Number.isInteger(x) ? x : 0)) : []);
const matrix = (m) => (Array.isArray(m) ? m.map(ints) : []);

/** The graph and its split, from worker 0, once. */
function graph(state, base, event) {
  const info = {
    algorithm: String(event.algorithm || ""),
    graph: String(event.graph || ""),
    partition: String(event.partition || ""),
    combiner: !!event.combiner,
    vertices: Number.isInteger(event.vertices) ? event.vertices : null,
    edges: Number.isInteger(event.edges) ? event.edges : null,
    workers: ints(event.workers),
    owned: ints(event.owned),
    dangling: Number.isInteger(event.dangling) ? event.dangling : 0,
    perPair: matrix(event.messages),
    perPairRaw: matrix(event.messages_raw),
  };
  return { ...base, bsp: { ...of(state), info } };
}

/** A worker's final values and their distance from the one-process computation (the
 *  card counts the components of a labelling from them). */
function values(state, base, event) {
  if (!Number.isInteger(event.rank)) return base;
  const s = of(state);
  const entry = { vertices: ints(event.vertices), values: Array.isArray(event.values) ? event.values.slice() : [], error: isNum(event.error) ? event.error : null };
  return { ...base, bsp: { ...s, values: { ...s.values, [event.rank]: entry } } };
}

/** A worker's superstep: what it sent, how long it waited, its best vertices. */
function afterStep(state, next, event) {
  if (!isBsp(state) || !Number.isInteger(event.step) || !Number.isInteger(event.rank)) return next;
  const s = of(next);
  const rec = {
    vertices: Number.isInteger(event.vertices) ? event.vertices : null,
    messagesTo: ints(event.messages_to),
    messages: isNum(event.messages) ? event.messages : null,
    messagesRaw: isNum(event.messages_raw) ? event.messages_raw : null,
    messagesLocal: isNum(event.messages_local) ? event.messages_local : null,
    barrierMs: isNum(event.barrier_ms) ? event.barrier_ms : null,
    computeMs: (isNum(event.compute_ms) ? event.compute_ms : 0) + (isNum(event.emulated_ms) ? event.emulated_ms : 0),
    change: isNum(event.change) ? event.change : isNum(event.loss) ? event.loss : null,
    top: Array.isArray(event.top) ? event.top.filter((p) => Array.isArray(p) && p.length === 2) : [],
    slowed: !!event.slowed,
  };
  const steps = { ...s.steps, [event.step]: { ...(s.steps[event.step] || {}), [event.rank]: rec } };
  const kept = Object.keys(steps).map(Number).sort((a, b) => a - b);
  for (const k of kept.slice(0, Math.max(0, kept.length - KEEP))) delete steps[k];
  let change = s.change;
  if (event.rank === 0 && rec.change != null) {
    // a run that steps back (scrubbing) forgets the supersteps it replays
    const last = logLast(change);
    if (last && last.step >= event.step) change = logTruncate(change, lowerBound(change, event.step));
    change = logAppend(change, { step: event.step, value: rec.change });
  }
  return { ...next, bsp: { ...s, steps, change } };
}

export const slice = {
  events: { bsp_graph: graph, bsp_values: values },
  after: { step: afterStep },
  initial: { bsp: null },
};

// ---------------------------------------------------------------- selectors

/** Pure: the best vertices of a superstep over all workers, highest first:
 *  [{vertex, value, rank}] (each worker reports its own few best). */
export function topVertices(recs, count = TOP_SHOWN) {
  const all = [];
  recs.forEach((rec, rank) => {
    for (const [vertex, value] of rec ? rec.top : []) all.push({ vertex, value, rank });
  });
  return all.sort((a, b) => b.value - a.value || a.vertex - b.vertex).slice(0, count);
}

/** Pure: how many components a labelling has (distinct labels over every worker). */
/** Pure: the check of the final values: the largest difference from the one-process
 *  computation over every worker, and whether it is rounding only. */
export function resultCheck(valuesByRank) {
  const errors = Object.values(valuesByRank).map((v) => v.error);
  if (!errors.length || errors.some((e) => e == null)) return null;
  const error = Math.max(...errors);
  return { error, ok: error <= CHECK_TOLERANCE };
}

export function componentCount(valuesByRank) {
  const labels = new Set();
  for (const v of Object.values(valuesByRank)) for (const x of v.values) labels.add(x);
  return labels.size;
}

/**
 * What the card draws, or null before the run says its graph: the graph, the shown
 * superstep (the newest every worker reported, or `step`) with each worker's record,
 * the last COLUMNS supersteps up to it as columns, the messages between every pair of
 * workers in it, its best vertices, and the change per superstep up to it.
 */
export function bspView(state, step = completeStep(state)) {
  if (!isBsp(state) || !state.bsp || !state.bsp.info) return null;
  const { info, steps } = state.bsp;
  const n = info.workers.length || (state.config && state.config.workers) || 0;
  const rowOf = (k) => Array.from({ length: n }, (_, r) => (steps[k] && steps[k][r]) || null);
  const shown = step && steps[step] ? step : null;
  const recs = shown ? rowOf(shown) : Array(n).fill(null);
  const columns = Object.keys(steps)
    .map(Number)
    .filter((k) => !step || k <= step)
    .sort((a, b) => a - b)
    .slice(-COLUMNS)
    .map((k) => ({ step: k, workers: rowOf(k) }));
  const pairs = recs.map((rec) => (rec ? rec.messagesTo : Array(n).fill(null)));
  const sum = (key) => (recs.every((r) => r && isNum(r[key])) ? recs.reduce((a, r) => a + r[key], 0) : null);
  const items = logToArray(state.bsp.change).filter((x) => !step || x.step <= step);
  const last = recs.find(Boolean);
  const finalValues = Object.keys(state.bsp.values).length === n ? state.bsp.values : null;
  return {
    ...info,
    n,
    step: shown,
    steps: (state.config && state.config.steps) || null,
    workers: recs,
    columns,
    pairs,
    messages: sum("messages"),
    messagesRaw: sum("messagesRaw"),
    messagesLocal: sum("messagesLocal"),
    change: last ? last.change : null,
    top: info.algorithm === "pagerank" ? topVertices(recs) : [],
    components: info.algorithm === "connected_components" && finalValues ? componentCount(finalValues) : null,
    check: finalValues ? resultCheck(finalValues) : null,
    series: { steps: items.map((x) => x.step), values: items.map((x) => x.value) },
  };
}
