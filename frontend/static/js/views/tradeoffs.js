// views/tradeoffs.js — the chapter's comparison (表4) measured: for each compared run, memory per process, bytes per step, time per step and idle fraction, as pure functions of its reduced events.
//
// Every number comes from the run's own step events (never from a formula):
// - memory: the step events' `memory` field (engine/memory.py, on step 1 and every 50th),
//   bytes by kind; the row is the process that holds the most, as in bench/model_parallel.py;
// - bytes per step: what the comms module counted each process sending in a step (the
//   step's `bytes_sent`, the sum of that step's `comm` messages: engine/comms.py), the
//   median over processes and steps. The compare view drops the `comm` events themselves
//   (one per message: too many to keep for several runs), so it reads their sum;
// - time per step: the slowest process's step, t − t_start, the median over steps;
// - idle fraction: a strategy that measures its own idle time says so through its
//   frontend's `idleFraction(state)` hook (the pipeline: its bubble, from the schedule
//   cells); otherwise the time spent inside collectives and waits (comm_ms + wait_ms,
//   which include waiting for the slowest peer) over the step's time. Where a run did not
//   report what that needs, the value is null with a reason code, never a guess.
// Left out of the medians when other steps remain: the first step (it also warms up), and
// the steps around the model's writing (a `sample` event; writing is not training, and a
// split model writes inside its step, a replicated one between two steps, so the step
// after waits for it in its collective).

import { frontendFor } from "../core/registry.js";
import { stepRanks } from "../core/selectors.js";

const MEMORY_KINDS = ["params", "grads", "optimizer", "activations"];

/** Pure: the median of finite numbers, or null. */
export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Every step record of the run's training processes: [{rank, step, ...fields}]. */
function records(state) {
  const out = [];
  for (const rank of stepRanks(state)) {
    const log = state.history && state.history[rank];
    if (!log) continue;
    for (let i = 0; i < log.length; i++) out.push(log.items[i]);
  }
  return out;
}

/** The steps the medians leave out (see the top of the file). */
function unsteadySteps(state) {
  const out = new Set([1]);
  for (const s of state.sampleSteps || []) {
    out.add(s);
    out.add(s + 1);
  }
  return out;
}

/** The records of steady steps (all of them when there is nothing else). */
function steady(recs, state) {
  const skip = unsteadySteps(state);
  const kept = recs.filter((r) => !skip.has(r.step));
  if (kept.length) return kept;
  const later = recs.filter((r) => r.step > 1);
  return later.length ? later : recs;
}

/** Pure: the process holding the most bytes, by kind: {rank, step, params, grads,
 *  optimizer, activations, total}, or null when no step carried `memory`. */
export function memoryPerProcess(state) {
  let best = null;
  for (const [rank, m] of Object.entries(state.memory || {})) {
    const row = { rank: Number(rank), step: m.step };
    for (const k of MEMORY_KINDS) row[k] = Number.isFinite(m[k]) ? m[k] : 0;
    row.total = MEMORY_KINDS.reduce((s, k) => s + row[k], 0);
    if (!best || row.total > best.total) best = row;
  }
  return best;
}

/** Pure: the bytes a process sends in one step (median over processes and steps), or null. */
export function bytesPerStep(state) {
  return median(steady(records(state), state).map((r) => r.bytes_sent));
}

/** Pure: {ms, steps, writing}: the time of a step (its slowest process, t − t_start in
 *  ms), the median over the steady steps every process reported (`writing`: there were
 *  none, so steps with the model's writing are in it); null without step times. */
export function timePerStep(state) {
  const ranks = stepRanks(state);
  const bySteps = new Map();
  for (const r of records(state)) {
    if (!Number.isFinite(r.t) || !Number.isFinite(r.t_start)) continue;
    const ms = (r.t - r.t_start) * 1e3;
    const cur = bySteps.get(r.step) || { n: 0, ms: 0 };
    bySteps.set(r.step, { n: cur.n + 1, ms: Math.max(cur.ms, ms) });
  }
  let steps = [...bySteps.entries()].filter(([, v]) => v.n >= ranks.length);
  const skip = unsteadySteps(state);
  // no step without writing (a short run writes often): say so beside the number
  const writing = !steps.some(([s]) => !skip.has(s)) && (state.sampleSteps || []).length > 0;
  if (!writing) steps = steps.filter(([s]) => !skip.has(s));
  else if (steps.some(([s]) => s > 1)) steps = steps.filter(([s]) => s > 1);
  const ms = median(steps.map(([, v]) => v.ms));
  return ms == null ? null : { ms, steps: steps.length, writing };
}

/** Pure: the share of a step a process waits: {value, steps, kind} with kind "bubble"
 *  (the strategy measured it itself) or "collectives" (comm_ms + wait_ms over the step's
 *  time, median over processes and steps); or {value: null, reason} — "noSteps" (no step
 *  reported yet), "notMeasured" (the steps carry no communication times). */
export function idleFraction(state) {
  const own = frontendFor(state.strategy || (state.config && state.config.strategy));
  if (own && typeof own.idleFraction === "function") {
    const r = own.idleFraction(state);
    if (r) return r;
  }
  const recs = steady(records(state), state);
  if (!recs.length) return { value: null, reason: "noSteps" };
  const shares = [];
  for (const r of recs) {
    if (!Number.isFinite(r.comm_ms) || !Number.isFinite(r.t) || !Number.isFinite(r.t_start)) continue;
    const stepMs = (r.t - r.t_start) * 1e3;
    if (!(stepMs > 0)) continue;
    shares.push(Math.min(1, (r.comm_ms + (Number.isFinite(r.wait_ms) ? r.wait_ms : 0)) / stepMs));
  }
  if (!shares.length) return { value: null, reason: "notMeasured" };
  return { value: median(shares), steps: new Set(recs.map((r) => r.step)).size, kind: "collectives" };
}

/** Pure: what crossed the slow links between nodes in a step — the step events'
 *  `bytes_across_nodes` (runs with node_size: engine/comms.py counts what each process
 *  sent to another node; a parameter server's worker also counts the model it pulled from
 *  a server on another node, as servers report no steps) summed over the processes, the
 *  median over the steady steps every process reported; null without nodes. */
export function acrossNodesPerStep(state) {
  const ranks = stepRanks(state);
  const bySteps = new Map();
  for (const r of steady(records(state), state)) {
    if (!Number.isFinite(r.bytes_across_nodes)) continue;
    const cur = bySteps.get(r.step) || { n: 0, bytes: 0 };
    bySteps.set(r.step, { n: cur.n + 1, bytes: cur.bytes + r.bytes_across_nodes });
  }
  return median([...bySteps.values()].filter((v) => v.n >= ranks.length).map((v) => v.bytes));
}

/** Pure: a step's communication on the modelled network (its slowest process's
 *  comm_modelled_ms), the median over the steady steps; null without a network model. */
export function modelledPerStep(state) {
  const bySteps = new Map();
  for (const r of steady(records(state), state)) {
    if (!Number.isFinite(r.comm_modelled_ms)) continue;
    bySteps.set(r.step, Math.max(bySteps.get(r.step) ?? 0, r.comm_modelled_ms));
  }
  return median([...bySteps.values()]);
}

/** Pure: the measured quantities of one run (表4's row; the last two only where the run
 *  had nodes or a network model). */
export function tradeoffRow(state) {
  return { memory: memoryPerProcess(state), bytes: bytesPerStep(state), time: timePerStep(state), idle: idleFraction(state), across: acrossNodesPerStep(state), modelled: modelledPerStep(state) };
}
