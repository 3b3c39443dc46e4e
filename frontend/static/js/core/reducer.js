// core/reducer.js — the model of the UI: a pure reducer from DistLab events to view state, for the events every strategy sends.
//
// No DOM, no I/O, no clocks. `applyEvent(state, event)` never mutates `state`; it
// returns a new object. Views read the state only through selectors (core/selectors.js,
// core/comm.js, core/faults.js, and a strategy's slice for what only it has).
//
// The core handles the engine's common event types (engine/events.py EVENT_TYPES). A
// strategy's slice (registered with core/registry.js by strategies/index.js) handles the
// event types its spec adds (`events`), may add its part to a common event (`after`:
// called with the state before and after the core's handling) and keeps its own state
// fields (`initial`). The core never names a strategy's event.

import { applyComm, initialComm } from "./comm.js";
import {
  applyCheckpointSaved,
  applyFault,
  applyNanDetected,
  applyRecovery,
  applyWorkerFailed,
  initialFaults,
} from "./faults.js";
import { applyHostsJoined, applyHostsWaiting, applyJoinRefused, initialHosts } from "./hosts.js";
import { addSorted, emptyLog, isNum, logAppend, logLast, logTruncate, lowerBound } from "./log.js";
import { sliceEventTypes, sliceFor, slices } from "./registry.js";

export const STEP_FIELDS = [
  "loss",
  "grad_norm",
  "compute_ms",
  "comm_ms",
  "wait_ms",
  "bytes_sent",
  "bytes_recv",
  "bytes_across_nodes",
  "param_checksum",
  "param_hash",
  "lr",
  "samples",
  "t_start",
  "events_dropped",
  "comm_modelled_ms",
  "payload_bytes",
  "compress_ratio",
  "compress_error",
  "residual_norm",
  "emulated_ms",
  "slowed",
  "blocked_ms",
  "pull_ms",
  "read_version",
  "read_versions",
  "skipped",
  "slow_factor",
  "phases",
];

/** The state before any event. A registered slice adds its own fields (`initial`). */
export function initialState() {
  const state = {
    runId: null,
    status: "starting",
    config: null,
    worldSize: 0,
    backend: null,
    numParams: null,
    schemaVersion: null,
    strategy: null,
    dataset: null,
    network: null, // {name, latency_us, bandwidth_gbps, links} when time is also modelled
    workers: {}, // rank -> {rank, pid, role, device, host, shardSize, status}
    history: {}, // rank -> log of step records, sorted by step
    lastStep: 0,
    lastSeq: 0,
    t: 0,
    boundary: null, // {step, t, grid}
    sample: null, // {step, t, prompt, text, rank}: what the transformer wrote
    sampleSteps: [], // the steps after which it wrote (writing is not training: views/tradeoffs.js leaves them out)
    memory: {}, // rank -> {step, params, grads, optimizer, activations, gathered_params}
    ...initialComm(),
    pace: undefined,
    lastControl: null,
    summary: null,
    error: null,
    errorCause: null,
    finished: false,
    numEvents: 0,
    numUnknown: 0,
    numServers: 0, // ranks 0..numServers-1 serve (run_started.num_servers)
    nonFinite: 0, // step events whose loss was NaN or ±Infinity (a diverged run)
    ...initialFaults(),
    ...initialHosts(),
  };
  for (const s of slices()) if (s.initial) Object.assign(state, structuredClone(s.initial));
  return state;
}

/** Losses and other floats travel as "NaN" / "Infinity" / "-Infinity" strings when the
 *  run diverged; as numbers here (NaN, ±Infinity), never as strings. */
export function toNumber(x) {
  if (typeof x === "number") return x;
  if (x === "NaN") return NaN;
  if (x === "Infinity") return Infinity;
  if (x === "-Infinity") return -Infinity;
  return x;
}

function workerStatusFromRun(status) {
  return status === "finished" || status === "stopped" || status === "failed" ? status : "finished";
}

// ---------------------------------------------------------------- common events

/** The run began: its config, world size, strategy, data set and network. */
function runStarted(state, base, event, seq) {
  const config = event.config || null;
  return {
    ...base,
    runId: event.run_id ?? state.runId,
    config,
    worldSize: event.world_size ?? (config ? config.workers : 0) ?? 0,
    backend: event.backend ?? null,
    numParams: event.num_params ?? null,
    schemaVersion: event.schema_version ?? null,
    strategy: event.strategy ?? (config ? config.strategy : null),
    dataset: event.dataset ?? null,
    network: event.network ?? null,
    numServers: Number.isInteger(event.num_servers) ? event.num_servers : state.numServers,
    pace: config && "pace" in config ? config.pace : state.pace,
    pendingSchedule: config && Array.isArray(config.faults) ? config.faults.slice() : state.pendingSchedule,
    status: state.status === "starting" ? "running" : state.status,
  };
}

/** A rank's process is up (first start, restart or rejoin). */
function workerStarted(state, base, event, seq) {
  const rank = event.rank;
  if (!Number.isInteger(rank)) return base;
  const running = state.status === "paused" ? "paused" : "running";
  let restarting = state.restarting;
  if (restarting) {
    const pending = restarting.pending.filter((r) => r !== rank);
    restarting = pending.length ? { ...restarting, pending } : null;
  }
  return {
    ...base,
    restarting,
    workers: {
      ...state.workers,
      [rank]: {
        rank,
        pid: event.pid ?? null,
        role: event.role ?? "worker",
        device: event.device ?? null,
        host: event.host ?? null,
        node: Number.isInteger(event.node) ? event.node : null, // launcher torchrun: its host's node rank
        shardSize: event.shard_size ?? null,
        status: state.finished ? workerStatusFromRun(state.status) : running,
        // back after a rejoin: in the group from its first step (see applyRegroup)
        ...(state.workers[rank] && state.workers[rank].joining ? { joining: true, rejoined: true } : {}),
      },
    },
  };
}

/** A rank finished a training step: its record joins the rank's history. */
function stepDone(state, base, event, seq) {
  const rank = event.rank;
  if (!Number.isInteger(rank) || !Number.isInteger(event.step)) return base;
  const rec = { step: event.step, t: event.t, rank };
  for (const f of STEP_FIELDS) if (f in event) rec[f] = toNumber(event[f]);
  if (Array.isArray(event.read_versions)) rec.read_versions = event.read_versions.slice();
  // Fault fields: the update of this step was skipped (a NaN gradient), the rank was
  // slowed down k× (emulated by sleeping).
  if (event.skipped === true) rec.skipped = true;
  if (isNum(event.slow_factor)) rec.slow_factor = event.slow_factor;
  const badLoss = "loss" in rec && typeof rec.loss === "number" && !Number.isFinite(rec.loss);
  // What the process holds, by kind (engine/memory.py: on step 1 and every 50th).
  const memory = event.memory && typeof event.memory === "object" && !(state.memory[rank] && state.memory[rank].step > event.step)
    ? { ...state.memory, [rank]: { step: event.step, ...event.memory } }
    : state.memory;
  let log = state.history[rank] || emptyLog();
  const last = logLast(log);
  // A step number that goes backwards means the rank rolled back (e.g. restored
  // from a checkpoint): forget the records it replaces.
  if (last && last.step >= rec.step) log = logTruncate(log, lowerBound(log, rec.step));
  log = logAppend(log, rec);
  const skipped = rec.skipped && !state.skipped.includes(rec.step) ? addSorted(state.skipped, rec.step) : state.skipped;
  // A worker that rejoined is in the group from its first step on.
  const w = state.workers[rank];
  const workers = w && w.joining ? { ...state.workers, [rank]: { ...w, joining: false, status: w.status === "joining" ? "running" : w.status } } : state.workers;
  return {
    ...base,
    skipped,
    workers,
    memory,
    nonFinite: state.nonFinite + (badLoss ? 1 : 0),
    history: { ...state.history, [rank]: log },
    lastStep: Math.max(state.lastStep, event.step),
    status: state.status === "starting" ? "running" : state.status,
  };
}

/** The model's decision boundary on a grid, as of a step. */
function boundary(state, base, event, seq) {
  if (!event.grid) return base;
  // Keep the newest step, whatever order the events were applied in.
  if (state.boundary && isNum(event.step) && state.boundary.step > event.step) return base;
  return { ...base, boundary: { step: event.step ?? 0, t: event.t, grid: event.grid, rank: event.rank ?? null } };
}

/** What the transformer wrote, as of a step (the newest step is kept). */
function sample(state, base, event) {
  if (typeof event.text !== "string") return base;
  const sampleSteps = isNum(event.step) && !state.sampleSteps.includes(event.step) ? addSorted(state.sampleSteps, event.step) : state.sampleSteps;
  if (state.sample && isNum(event.step) && state.sample.step > event.step) return { ...base, sampleSteps };
  return { ...base, sampleSteps, sample: { step: event.step ?? 0, t: event.t, prompt: event.prompt || "", text: event.text, rank: event.rank ?? null } };
}

/** pause / resume / step / stop / set_pace, as the supervisor applied it. */
function control(state, base, event, seq) {
  const action = event.action;
  let status = state.status;
  let workers = state.workers;
  if (!state.finished) {
    if (action === "pause") status = "paused";
    else if (action === "resume") status = "running";
    if (status !== state.status) {
      workers = {};
      for (const [r, w] of Object.entries(state.workers)) workers[r] = { ...w, status };
    }
  }
  return {
    ...base,
    status,
    workers,
    pace: action === "set_pace" ? (event.pace ?? null) : state.pace,
    lastControl: { action, pace: event.pace ?? null, t: event.t, seq },
  };
}

/** The run ended: its status, its error (as a code too) and its summary. */
function runFinished(state, base, event, seq) {
  const rank = event.rank;
  const status = event.status || "finished";
  // A run that failed because a worker failed: that worker stays "failed", the others
  // were torn down by the supervisor ("stopped").
  const someFailed = Object.values(state.workers).some((w) => w.failed);
  const workers = {};
  for (const [r, w] of Object.entries(state.workers)) {
    // A worker an elastic recovery took out of the run stays "left": the run went on
    // without it (were it "failed" again, the finished run's views would wait for it).
    const st = w.left ? "left" : w.failed ? "failed" : status === "failed" && someFailed ? "stopped" : workerStatusFromRun(status);
    workers[r] = { ...w, status: st };
  }
  const faultLog =
    status === "failed"
      ? [...state.faultLog, { kind: "end", seq, t: event.t, rank: null, step: null, status, error: event.error ?? null, cause: event.cause ?? null, lastStep: state.lastStep }]
      : state.faultLog;
  return {
    ...base,
    status,
    workers,
    faultLog,
    finished: true,
    error: event.error ?? null,
    errorCause: event.cause ?? null, // the error as a code (engine/causes.py); null for older runs
    summary: event.summary ?? null,
  };
}

/** The core's handlers, by event type: the engine's common events. */
const COMMON = new Map([
  ["run_started", runStarted],
  ["worker_started", workerStarted],
  ["step", stepDone],
  ["comm", applyComm],
  ["boundary", boundary],
  ["sample", sample],
  ["control", control],
  ["run_finished", runFinished],
  ["fault", applyFault],
  ["worker_failed", applyWorkerFailed],
  ["nan_detected", applyNanDetected],
  ["checkpoint_saved", applyCheckpointSaved],
  ["recovery", applyRecovery],
  ["hosts_waiting", applyHostsWaiting],
  ["hosts_joined", applyHostsJoined],
  ["join_refused", applyJoinRefused],
]);

/** Event types the core handles. Checked against engine/events.py EVENT_TYPES by
 *  tests/test_frontend_contract.py. */
export const COMMON_EVENT_TYPES = [...COMMON.keys()];

/** Every type the reducer understands: the core's and the registered slices'. Any other
 *  type is ignored (forward compatible). */
export function handledEventTypes() {
  return [...COMMON_EVENT_TYPES, ...Object.values(sliceEventTypes()).flat()];
}

/** Pure: returns the state after `event`. Unknown types only bump counters. */
export function applyEvent(state, event) {
  if (!event || typeof event !== "object") return state;
  const seq = isNum(event.seq) ? event.seq : state.lastSeq;
  const base = {
    ...state,
    lastSeq: Math.max(state.lastSeq, seq),
    t: isNum(event.t) ? Math.max(state.t, event.t) : state.t,
    numEvents: state.numEvents + 1,
  };
  const common = COMMON.get(event.type);
  if (common) {
    let next = common(state, base, event, seq);
    for (const s of slices()) {
      const after = s.after && Object.hasOwn(s.after, event.type) ? s.after[event.type] : null;
      if (after) next = after(state, next, event, seq);
    }
    return next;
  }
  const own = sliceFor(event.type);
  if (own) return own.events[event.type](state, base, event, seq);
  return { ...base, numUnknown: state.numUnknown + 1 };
}

// ---------------------------------------------------------------- folding / scrubbing

/** First seq of an event whose step is beyond `uptoStep` (Infinity if none). */
function firstSeqBeyond(events, uptoStep) {
  for (const e of events) {
    if (e.step != null && e.step > uptoStep) return e.seq;
  }
  return Infinity;
}

function included(e, uptoStep, beyondSeq) {
  return e.step != null ? e.step <= uptoStep : e.seq < beyondSeq;
}

/**
 * State of the run "as of step `uptoStep`": every event with a step <= uptoStep, and
 * every step-less event (start, control, finish) that came before the first event of a
 * later step. `uptoStep` null/undefined means all events. `events` in seq order.
 */
export function reduceEvents(events, uptoStep, state = initialState()) {
  if (uptoStep == null || uptoStep === Infinity) {
    for (const e of events) state = applyEvent(state, e);
    return state;
  }
  const beyond = firstSeqBeyond(events, uptoStep);
  for (const e of events) if (included(e, uptoStep, beyond)) state = applyEvent(state, e);
  return state;
}

/** Events in reduceEvents(.., toStep) but not in reduceEvents(.., fromStep); fromStep < toStep.
 *  Folding them onto the fromStep state gives the toStep state (used by replay). */
export function eventsBetween(events, fromStep, toStep) {
  const b0 = firstSeqBeyond(events, fromStep);
  const b1 = firstSeqBeyond(events, toStep);
  return events.filter((e) => included(e, toStep, b1) && !included(e, fromStep, b0));
}
