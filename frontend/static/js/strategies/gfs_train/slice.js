// strategies/gfs_train/slice.js — the reducer slice of a training run that reads through GFS: each epoch's assignment (which worker reads which samples, the padded repeats, the dropped tail), every read of a batch (the chunk, the chunkserver, local or remote), and each epoch's check.
//
// The events (engine/strategies/gfs_train.py): `gfs_sampler` once an epoch, `gfs_batch`
// per read of a batch's samples from one chunk, `gfs_train_epoch` when every worker has
// finished an epoch. The store's own events (gfs_setup, gfs_map, …) are the GFS slice's.

import { isNum } from "../../core/log.js";

export const GFS_TRAIN = "gfs_train";

export function isGfsTrain(state) {
  return state.strategy === GFS_TRAIN || !!(state.config && state.config.strategy === GFS_TRAIN);
}

const EMPTY = { epochs: {}, reads: {}, checks: {}, corrupt: 0, unreachable: 0, step: 0 };
const newer = (g, e) => Math.max(g.step || 0, Number.isInteger(e.step) ? e.step : 0);
const list = (v) => (Array.isArray(v) ? v.slice() : []);

function ofState(state) {
  return state.gfsTrain || EMPTY;
}

function put(base, state, fields) {
  return { ...base, gfsTrain: { ...ofState(state), ...fields } };
}

function sampler(state, base, e) {
  const g = ofState(state);
  const epoch = { epoch: e.epoch, step: e.step, tail: String(e.tail), source: String(e.source), samples: e.samples, assignment: list(e.assignment).map(list), padded: list(e.padded).map(list), dropped: list(e.dropped), numPadded: e.num_padded || 0, numDropped: e.num_dropped || 0 };
  return put(base, state, { epochs: { ...g.epochs, [e.epoch]: epoch }, step: newer(g, e) });
}

function batch(state, base, e) {
  const g = ofState(state);
  // a failed read: a bad checksum, or its chunkserver died (killed) — its samples come from another replica
  if (e.status !== "ok") return put(base, state, { corrupt: g.corrupt + (e.status === "corrupt" ? 1 : 0), unreachable: (g.unreachable || 0) + (e.status === "unreachable" ? 1 : 0), step: newer(g, e) });
  const mine = { ...((g.reads[e.epoch] || {})[e.worker] || {}) };
  for (const s of list(e.samples)) mine[s] = { chunk: e.chunk, server: e.server, local: !!e.local, step: e.step, failedOver: !!e.failed_over };
  const epochReads = { ...(g.reads[e.epoch] || {}), [e.worker]: mine };
  return put(base, state, { reads: { ...g.reads, [e.epoch]: epochReads }, step: newer(g, e) });
}

function epochCheck(state, base, e) {
  const g = ofState(state);
  const check = { epoch: e.epoch, complete: !!e.complete, exactlyOnce: !!e.exactly_once, samples: e.samples, expected: e.expected, padded: e.padded, dropped: e.dropped, local: e.local, remote: e.remote, corrupt: e.corrupt, locality: isNum(e.locality) ? e.locality : null, epochS: e.epoch_s, source: String(e.source) };
  return put(base, state, { checks: { ...g.checks, [e.epoch]: check } });
}

export const slice = {
  events: { gfs_sampler: sampler, gfs_batch: batch, gfs_train_epoch: epochCheck },
  initial: { gfsTrain: null },
  lockstep: true, // the trainers all-reduce every step
  // the master and the chunkservers report no training steps
  serverRanks: (state) => {
    if (!isGfsTrain(state)) return [];
    const w = (state.config && state.config.workers) || 0;
    return [0, ...Array.from({ length: w }, (_, i) => w + 1 + i)];
  },
};

// ---------------------------------------------------------------- selectors

/** Pure: what the reads grid draws — the newest epoch's rows (one per worker: its samples
 *  in reading order, each read or not yet, local or remote, a padded repeat marked), the
 *  dropped tail, and the counts (locality, padded, dropped) so far this epoch. */
export function readsView(state) {
  const g = ofState(state);
  const numbers = Object.keys(g.epochs).map(Number);
  if (!numbers.length) return null;
  const n = Math.max(...numbers);
  const plan = g.epochs[n];
  const reads = g.reads[n] || {};
  const rows = plan.assignment.map((samples, w) => {
    // a padded repeat: this worker's copy of a sample another worker reads too (a worker
    // never gets one sample twice in an epoch)
    const pads = new Set(plan.padded[w] || []);
    const cells = samples.map((s) => {
      const r = (reads[w] || {})[s];
      return { sample: s, padded: pads.has(s), read: !!r, local: r ? r.local : null, server: r ? r.server : null, chunk: r ? r.chunk : null };
    });
    const read = cells.filter((c) => c.read);
    return { worker: w, cells, local: read.filter((c) => c.local).length, remote: read.filter((c) => !c.local).length };
  });
  const local = rows.reduce((a, r) => a + r.local, 0);
  const remote = rows.reduce((a, r) => a + r.remote, 0);
  return { epoch: n, step: g.step || 0, plan, rows, local, remote, locality: local + remote ? local / (local + remote) : null, check: g.checks[n] || null, corrupt: g.corrupt, unreachable: g.unreachable || 0, checks: Object.values(g.checks) };
}
