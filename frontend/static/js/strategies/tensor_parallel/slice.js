// strategies/tensor_parallel/slice.js — tensor parallelism's reducer slice and selectors: each process's all-reduces of the newest step, and what it holds.
//
// A step event of a tensor-parallel run carries `tp_allreduces`: [block, part, direction,
// bytes, start, end] for each all-reduce of the step (engine/strategies/tensor_parallel.py).

import { optionsOf } from "../../core/selectors.js";

export const TP = "tensor_parallel";

export function isTensorParallel(state) {
  return state.strategy === TP || !!(state.config && state.config.strategy === TP);
}

/** A process's step: keep its all-reduces (the newest step only, per rank). */
function afterStep(state, next, event) {
  if (!isTensorParallel(state) || !Array.isArray(event.tp_allreduces) || !Number.isInteger(event.step)) return next;
  const tp = state.tp || { byRank: {} };
  const prev = tp.byRank[event.rank];
  if (prev && prev.step > event.step) return next;
  const row = { step: event.step, allreduces: event.tp_allreduces, bytesSent: event.bytes_sent ?? null };
  return { ...next, tp: { byRank: { ...tp.byRank, [event.rank]: row } } };
}

export const slice = {
  events: {},
  after: { step: afterStep },
  initial: { tp: null },
};

// ---------------------------------------------------------------- selectors

/** What the shards card draws, or null: every process's slices, and the all-reduces of
 *  the newest step rank 0 reported, with the formula's bytes beside the measured ones. */
export function shardsView(state) {
  if (!isTensorParallel(state)) return null;
  const c = state.config || {};
  const t = c.workers || 0;
  const heads = c.heads || 0;
  const hidden = 4 * (c.d_model || 0);
  const ranks = Array.from({ length: t }, (_, r) => ({
    rank: r,
    heads: [r * (heads / t), (r + 1) * (heads / t) - 1],
    columns: [r * (hidden / t), (r + 1) * (hidden / t) - 1],
  }));
  const row = state.tp && state.tp.byRank[0];
  // One all-reduce: the activations, batch × context × d_model floats of 4 bytes.
  const tensorBytes = (c.batch_size || 0) * (c.context || 0) * (c.d_model || 0) * 4;
  const perStep = 4 * (c.layers || 0);
  const ringShare = t > 1 ? (2 * (t - 1)) / t : 0;
  const blocks = {};
  if (row) {
    for (const [block, part, way, , start, end] of row.allreduces) {
      blocks[block] = blocks[block] || {};
      blocks[block][`${part}.${way}`] = (end - start) * 1e3;
    }
  }
  return {
    t,
    heads,
    hidden,
    ranks,
    step: row ? row.step : null,
    blocks,
    count: row ? row.allreduces.length : null,
    tensorBytes,
    perStep,
    expectedSent: perStep * ringShare * tensorBytes,
    measuredSent: row ? row.bytesSent : null,
    options: optionsOf(c),
  };
}
