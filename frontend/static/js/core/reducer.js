// state.js — the model of the UI: a pure reducer from DistLab events to view state.
//
// No DOM, no I/O, no clocks. `applyEvent(state, event)` never mutates `state`; it
// returns a new object. Views read the state only through the selectors at the bottom.
//
// Per-rank histories can hold tens of thousands of step records, so copying arrays on
// every event would make a replay quadratic. They are append-only "logs" that share one
// backing array between versions: a log is `{items, length}` and every reader looks at
// `items[0 .. length)` only. Appending to the newest version pushes onto the shared
// array (older versions keep their shorter `length` and see nothing new); appending to
// an older version copies first. Observably pure, O(1) amortised.

/** Event types this reducer understands. Checked against engine/events.py by
 *  tests/test_frontend_contract.py. Any other type is ignored (forward compatible). */
export const HANDLED_EVENT_TYPES = [
  "run_started",
  "worker_started",
  "step",
  "comm",
  "boundary",
  "control",
  "run_finished",
  "ps_update",
  "gradient_dropped",
  "fault",
  "worker_failed",
  "nan_detected",
  "checkpoint_saved",
  "recovery",
  "server_restored",
];

/** Faults aimed at a link src→dst (data parallel): extra latency, or lost messages. Their
 *  events and schedule entries name src and dst instead of a rank. */
export const LINK_FAULT_ACTIONS = ["delay", "drop"];

export const LIVE_STATUSES = ["starting", "running", "paused"];
export const TERMINAL_STATUSES = ["finished", "stopped", "failed", "interrupted"];

export const STEP_FIELDS = [
  "loss",
  "grad_norm",
  "compute_ms",
  "comm_ms",
  "wait_ms",
  "bytes_sent",
  "bytes_recv",
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

// Messages of the newest COMM_WINDOW steps are kept one by one (for the packet animation
// and for values "as of" a step that is still completing); older steps are folded into
// running totals, so memory stays small however long the run is.
const COMM_WINDOW = 4;

/** Order of the phases inside one all-reduce: summing first, then handing results out. */
export const COMM_OP_ORDER = ["reduce_scatter", "reduce", "all_reduce", "all_gather", "broadcast"];

// ---------------------------------------------------------------- append-only log

export function emptyLog() {
  return { items: [], length: 0 };
}

export function logAppend(log, item) {
  let items = log.items;
  if (items.length !== log.length) items = items.slice(0, log.length);
  items.push(item);
  return { items, length: log.length + 1 };
}

export function logTruncate(log, length) {
  return { items: log.items, length: Math.max(0, Math.min(length, log.length)) };
}

export function logAt(log, i) {
  return i >= 0 && i < log.length ? log.items[i] : undefined;
}

export function logLast(log) {
  return log.length ? log.items[log.length - 1] : undefined;
}

export function logToArray(log) {
  return log.items.slice(0, log.length);
}

/** Index of the first record whose .step >= step (records are sorted by step). */
function lowerBound(log, step) {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (log.items[mid].step < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------- traffic totals

/** Bytes per link (src→dst) and per rank. `steps` counts the steps folded in. */
export function emptyTraffic() {
  return { links: {}, ranks: {}, steps: 0, messages: 0 };
}

/** table[key] = a copy of table[key] (or of `init`) with `adds` added to its counters. */
function bump(table, key, init, adds) {
  const next = { ...(table[key] || init) };
  for (const [k, v] of Object.entries(adds)) next[k] = (next[k] || 0) + v;
  table[key] = next;
}

/** Pure: totals plus `messages`; `wholeStep` adds one to the step count. */
export function addTraffic(totals, messages, wholeStep) {
  const links = { ...totals.links };
  const ranks = { ...totals.ranks };
  for (const m of messages) {
    const b = isNum(m.bytes) ? m.bytes : 0;
    const RANK0 = { sent: 0, recv: 0, sentMsgs: 0, recvMsgs: 0 };
    if (Number.isInteger(m.src)) bump(ranks, m.src, RANK0, { sent: b, sentMsgs: 1 });
    if (Number.isInteger(m.dst)) bump(ranks, m.dst, RANK0, { recv: b, recvMsgs: 1 });
    if (Number.isInteger(m.src) && Number.isInteger(m.dst)) {
      bump(links, `${m.src}>${m.dst}`, { src: m.src, dst: m.dst, bytes: 0, count: 0 }, { bytes: b, count: 1 });
    }
  }
  return { links, ranks, steps: totals.steps + (wholeStep ? 1 : 0), messages: totals.messages + messages.length };
}

// ---------------------------------------------------------------- reducer

export function initialState() {
  return {
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
    comm: null, // {step, count, bytes} for the newest step with comm events
    numCommEvents: 0,
    commAlgo: null, // algorithm named by the step-time comm events (ring, tree, naive, builtin)
    commSteps: {}, // step -> log of messages, for the newest COMM_WINDOW steps
    commFolded: emptyTraffic(), // totals of the older steps
    setupTraffic: emptyTraffic(), // messages outside any step (the initial weight broadcast)
    pace: undefined,
    lastControl: null,
    summary: null,
    error: null,
    errorCause: null,
    finished: false,
    numEvents: 0,
    numUnknown: 0,
    numServers: 0,
    ps: null, // parameter server: see emptyPs()
    nonFinite: 0, // step events whose loss was NaN or ±Infinity (a diverged run)
    // Injected faults and what came of them, in event order: see faultEntry(). A few
    // entries per run, so a plain array copied on append.
    faultLog: [],
    skipped: [], // steps whose update was skipped (NaN gradient), sorted
    checkpoints: [], // [{step, t, file, bytes, durationMs, seq}], in event order
    // Restarts from a checkpoint: see recovery(). `restarting` is the newest one while
    // its fresh workers have not all reported worker_started yet, else null.
    recoveries: [],
    restarting: null, // {generation, pending: [ranks still to start]}
    // Elastic runs: the ranks in the data-parallel group, in ring (group-rank) order, after
    // the newest shrink or rejoin; null while the group is the one the run started with.
    members: null,
    // Faults scheduled in the config that have not fired yet (see scheduledMatch).
    pendingSchedule: [],
  };
}

/** What the reducer keeps about a parameter-server run. Staleness is counted once per
 *  gradient (from the lowest server rank's updates: every server applies a slice of the
 *  same gradient); per-server load counts every push and pull. */
export function emptyPs() {
  return {
    servers: {}, // rank -> {rank, version, updates, pushes, pulls, dropped, shard, checksum, t}
    staleness: {}, // staleness -> count
    clockGap: {}, // clock_gap -> count (ssp)
    applied: 0,
    stalenessSum: 0,
    maxStaleness: 0,
    dropped: 0,
    droppedBy: {}, // worker rank -> count
    lastUpdate: null, // {server, version, applied, t, seq}
    lastDropped: null, // {server, worker, read_version, version, t, seq}
    firstServer: null, // the rank whose updates the staleness counts come from
  };
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

function psOf(state) {
  return state.ps || emptyPs();
}

function serverEntry(ps, rank) {
  return (
    ps.servers[rank] || { rank, version: 0, updates: 0, pushes: 0, pulls: 0, dropped: 0, shard: null, checksum: null, t: null }
  );
}

function isNum(x) {
  return typeof x === "number" && Number.isFinite(x);
}

function addSorted(xs, x) {
  return [...xs, x].sort((a, b) => a - b);
}

function workerStatusFromRun(status) {
  return status === "finished" || status === "stopped" || status === "failed" ? status : "finished";
}

/**
 * A restart from a checkpoint (the torchrun model): every rank is replaced and training
 * goes on from `from_step`. The records of the lost steps leave the histories (the
 * re-executed steps take their place) but are kept in the recovery entry, with the wall
 * time they took (from the checkpoint's step to the failure), for the timeline. Nodes
 * show "restarting…" until their new worker_started; the fault log keeps the history.
 */
/** The fault-log entry of a `recovery` event; `fields` add what its policy knows. */
function recoveryEntry(state, event, seq, failedRank, fromStep, fields) {
  return {
    kind: "recovery",
    seq,
    t: event.t,
    rank: failedRank,
    step: fromStep,
    policy: event.policy ?? "restart",
    failedRank,
    fromStep,
    generation: Number.isInteger(event.generation) ? event.generation : state.recoveries.length + 1,
    lastStep: state.lastStep,
    ...fields,
  };
}

const failedRankOf = (event) =>
  Number.isInteger(event.failed_rank) ? event.failed_rank : Number.isInteger(event.rank) ? event.rank : null;
const fromStepOf = (event, fallback) =>
  Number.isInteger(event.from_step) ? event.from_step : Number.isInteger(event.step) ? event.step : fallback;

function applyRecovery(state, base, event, seq) {
  if (event.policy && event.policy !== "restart") return applyRegroup(state, base, event, seq);
  const fromStep = fromStepOf(event, 0);
  const failedRank = failedRankOf(event);
  const ls = Array.isArray(event.lost_steps) && event.lost_steps.length === 2 ? event.lost_steps : null;
  const lostSteps = ls && Number.isInteger(ls[0]) && Number.isInteger(ls[1]) ? [ls[0], ls[1]] : null;
  const history = {};
  const lostRecs = [];
  let t0 = null;
  let t1 = null;
  for (const [r, log] of Object.entries(state.history)) {
    const cut = lowerBound(log, fromStep + 1);
    const gone = log.items.slice(cut, log.length);
    if (gone.length) lostRecs.push({ rank: Number(r), recs: gone });
    for (const rec of gone) {
      const start = isNum(rec.t_start) ? rec.t_start : rec.t;
      if (isNum(start)) t0 = t0 == null ? start : Math.min(t0, start);
      if (isNum(rec.t)) t1 = t1 == null ? rec.t : Math.max(t1, rec.t);
    }
    const at = cut > 0 ? log.items[cut - 1] : null;
    if (at && isNum(at.t)) t0 = t0 == null ? at.t : Math.min(t0, at.t);
    history[r] = logTruncate(log, cut);
  }
  // The lost span ends at the failure (when the fault came, else when it was noticed).
  const failure = [...state.faultLog].reverse().find((e) => e.rank === failedRank && (e.kind === "failed" || e.kind === "fault"));
  const failedAt = [...state.faultLog].reverse().find((e) => e.rank === failedRank && e.kind === "failed");
  const faultAt = [...state.faultLog].reverse().find((e) => e.rank === failedRank && e.kind === "fault");
  const tFail = faultAt && (!failedAt || faultAt.seq < failedAt.seq) ? faultAt.t : failure ? failure.t : null;
  if (isNum(tFail)) t1 = t1 == null ? tFail : Math.max(t1, tFail);
  const entry = recoveryEntry(state, event, seq, failedRank, fromStep, {
    lostSteps,
    refused: Array.isArray(event.refused) ? event.refused.map(String) : [],
    lostT0: t0,
    lostT1: t1,
    lostRecs,
  });
  const workers = {};
  for (const [r, w] of Object.entries(state.workers)) {
    workers[r] = { rank: w.rank, pid: w.pid, role: w.role, device: w.device, host: w.host, shardSize: w.shardSize, status: "restarting", oldPid: w.pid };
  }
  const pending = ranksOf(state);
  const commSteps = {};
  for (const [k, v] of Object.entries(state.commSteps)) if (Number(k) <= fromStep) commSteps[k] = v;
  return {
    ...base,
    history,
    workers,
    commSteps,
    comm: state.comm && state.comm.step > fromStep ? null : state.comm,
    boundary: state.boundary && state.boundary.step > fromStep ? { ...state.boundary, step: fromStep } : state.boundary,
    skipped: state.skipped.filter((s) => s <= fromStep),
    recoveries: [...state.recoveries, entry],
    restarting: pending.length ? { generation: entry.generation, pending } : null,
    faultLog: [...state.faultLog, entry],
  };
}

/**
 * Elastic recovery, no checkpoint involved: `shrink` (the survivors go on as a smaller
 * group, `members` in ring order), `continue` (parameter server: the dead worker is left
 * behind) and `rejoin` (a worker that left comes back: a new process, whose own
 * worker_started follows). No step is lost, so the histories stay as they are. A worker
 * that left keeps its failure (cause, detection) and is drawn as gone; a rejoining one is
 * "joining" until its first step (the others do not wait for it in completeStep).
 */
function applyRegroup(state, base, event, seq) {
  const policy = event.policy;
  const failedRank = failedRankOf(event);
  const fromStep = fromStepOf(event, state.lastStep);
  const members = Array.isArray(event.members) ? event.members.filter(Number.isInteger) : null;
  const workers = { ...state.workers };
  if (failedRank != null) {
    const prev = workers[failedRank] || { rank: failedRank, pid: null, role: "worker" };
    if (policy === "rejoin") workers[failedRank] = { ...prev, status: "joining", joining: true, left: false, oldPid: prev.pid };
    else workers[failedRank] = { ...prev, status: "left", left: true, joining: false };
  }
  const entry = recoveryEntry(state, event, seq, failedRank, fromStep, { lostSteps: null, members, refused: [], lostRecs: [] });
  return {
    ...base,
    workers,
    members: members && policy !== "continue" ? members : state.members,
    recoveries: [...state.recoveries, entry],
    faultLog: [...state.faultLog, entry],
  };
}

/** Index in state.pendingSchedule of the scheduled fault this `fault` event is, or -1. */
function scheduledMatch(state, event) {
  const pending = state.pendingSchedule || [];
  const link = LINK_FAULT_ACTIONS.includes(event.action);
  return pending.findIndex(
    (f) =>
      f.action === event.action &&
      (link ? f.src === event.src && f.dst === event.dst : f.rank === event.rank) &&
      f.after_step <= Math.max(state.lastStep, event.step ?? 0),
  );
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
  const rank = event.rank;
  switch (event.type) {
    case "run_started": {
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
        ps: (event.strategy ?? (config ? config.strategy : null)) === "parameter_server" ? state.ps || emptyPs() : state.ps,
        pace: config && "pace" in config ? config.pace : state.pace,
        pendingSchedule: config && Array.isArray(config.faults) ? config.faults.slice() : state.pendingSchedule,
        status: state.status === "starting" ? "running" : state.status,
      };
    }
    case "worker_started": {
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
            shardSize: event.shard_size ?? null,
            status: state.finished ? workerStatusFromRun(state.status) : running,
            // back after a rejoin: in the group from its first step (see applyRegroup)
            ...(state.workers[rank] && state.workers[rank].joining ? { joining: true, rejoined: true } : {}),
          },
        },
      };
    }
    case "step": {
      if (!Number.isInteger(rank) || !Number.isInteger(event.step)) return base;
      const rec = { step: event.step, t: event.t, rank };
      for (const f of STEP_FIELDS) if (f in event) rec[f] = toNumber(event[f]);
      if (Array.isArray(event.read_versions)) rec.read_versions = event.read_versions.slice();
      // Fault fields: the update of this step was skipped (a NaN gradient), the rank was
      // slowed down k× (emulated by sleeping).
      if (event.skipped === true) rec.skipped = true;
      if (isNum(event.slow_factor)) rec.slow_factor = event.slow_factor;
      const badLoss = "loss" in rec && typeof rec.loss === "number" && !Number.isFinite(rec.loss);
      let log = state.history[rank] || emptyLog();
      const last = logLast(log);
      // A step number that goes backwards means the rank rolled back (e.g. restored
      // from a checkpoint): forget the records it replaces.
      if (last && last.step >= rec.step) log = logTruncate(log, lowerBound(log, rec.step));
      log = logAppend(log, rec);
      let ps = state.ps;
      if (ps) {
        // A worker pulls every server's shard before it computes: one pull per server.
        const servers = { ...ps.servers };
        for (const k of Object.keys(servers)) servers[k] = { ...servers[k], pulls: servers[k].pulls + 1 };
        for (let r = 0; r < (state.numServers || 0); r++) {
          if (!servers[r]) servers[r] = { ...serverEntry(ps, r), pulls: 1 };
        }
        ps = { ...ps, servers };
      }
      const skipped = rec.skipped && !state.skipped.includes(rec.step) ? addSorted(state.skipped, rec.step) : state.skipped;
      // A worker that rejoined is in the group from its first step on.
      const w = state.workers[rank];
      const workers = w && w.joining ? { ...state.workers, [rank]: { ...w, joining: false, status: w.status === "joining" ? "running" : w.status } } : state.workers;
      return {
        ...base,
        ps,
        skipped,
        workers,
        nonFinite: state.nonFinite + (badLoss ? 1 : 0),
        history: { ...state.history, [rank]: log },
        lastStep: Math.max(state.lastStep, event.step),
        status: state.status === "starting" ? "running" : state.status,
      };
    }
    case "comm": {
      const msg = {
        rank,
        op: event.op ?? null,
        src: event.src ?? rank ?? null,
        dst: event.dst ?? null,
        bytes: isNum(event.bytes) ? event.bytes : 0,
        chunk: event.chunk ?? null,
        algo: event.algo ?? null,
        duration_ms: isNum(event.duration_ms) ? event.duration_ms : null,
        modelled_ms: isNum(event.modelled_ms) ? event.modelled_ms : null,
        modelled_start_ms: isNum(event.modelled_start_ms) ? event.modelled_start_ms : null,
        seq,
      };
      const counted = { ...base, numCommEvents: state.numCommEvents + 1 };
      if (!Number.isInteger(event.step)) {
        // Set-up traffic (e.g. rank 0 broadcasting the initial weights): kept apart so
        // the per-step accounting compares with the all-reduce formulas.
        return { ...counted, setupTraffic: addTraffic(state.setupTraffic, [msg], false) };
      }
      const step = event.step;
      let commSteps = state.commSteps;
      let commFolded = state.commFolded;
      const newest = state.comm ? state.comm.step : 0;
      if (step > newest) {
        // Slide the window: fold the steps that fall out of it into the totals.
        const keep = {};
        const fold = Object.keys(commSteps)
          .map(Number)
          .sort((a, b) => a - b);
        for (const s of fold) {
          if (s > step - COMM_WINDOW) keep[s] = commSteps[s];
          else commFolded = addTraffic(commFolded, logToArray(commSteps[s]), true);
        }
        commSteps = keep;
      }
      if (step <= newest - COMM_WINDOW && !commSteps[step]) {
        // Very late message of a step already folded: count it, it cannot be animated.
        commFolded = addTraffic(commFolded, [msg], false);
      } else {
        commSteps = { ...commSteps, [step]: logAppend(commSteps[step] || emptyLog(), msg) };
      }
      const prev = state.comm;
      const same = prev && prev.step === step;
      const comm =
        prev && prev.step > step
          ? prev
          : { step, count: (same ? prev.count : 0) + 1, bytes: (same ? prev.bytes : 0) + msg.bytes };
      return {
        ...counted,
        comm,
        commSteps,
        commFolded,
        commAlgo: msg.algo ?? state.commAlgo,
      };
    }
    case "boundary": {
      if (!event.grid) return base;
      // Keep the newest step, whatever order the events were applied in.
      if (state.boundary && isNum(event.step) && state.boundary.step > event.step) return base;
      return { ...base, boundary: { step: event.step ?? 0, t: event.t, grid: event.grid } };
    }
    case "control": {
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
    case "run_finished": {
      const status = event.status || "finished";
      // A run that failed because a worker failed: that worker stays "failed", the others
      // were torn down by the supervisor ("stopped").
      const someFailed = Object.values(state.workers).some((w) => w.failed);
      const workers = {};
      for (const [r, w] of Object.entries(state.workers)) {
        const st = w.failed ? "failed" : status === "failed" && someFailed ? "stopped" : workerStatusFromRun(status);
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
    case "fault": {
      const action = event.action ?? null;
      // Scheduled before the run (config.faults) — the engine marks those; `not_applied`
      // says why one could not be. A fired one leaves the list of pending ones.
      const scheduled = event.scheduled === true;
      const match = scheduled ? scheduledMatch(state, event) : -1;
      if (match >= 0) {
        base.pendingSchedule = state.pendingSchedule.filter((_, i) => i !== match);
      }
      const notApplied = typeof event.not_applied === "string" && event.not_applied ? event.not_applied : null;
      if (LINK_FAULT_ACTIONS.includes(action) || (!Number.isInteger(rank) && Number.isInteger(event.src))) {
        const entry = {
          kind: "fault",
          seq,
          t: event.t,
          rank: null,
          step: Number.isInteger(event.step) ? event.step : null,
          action,
          src: Number.isInteger(event.src) ? event.src : null,
          dst: Number.isInteger(event.dst) ? event.dst : null,
          ms: isNum(event.ms) ? event.ms : null,
          scheduled,
          notApplied,
          lastStep: state.lastStep,
        };
        return { ...base, faultLog: [...state.faultLog, entry] };
      }
      if (!Number.isInteger(rank)) return base;
      const factor = isNum(event.factor) ? event.factor : null;
      if (notApplied) {
        // nothing happened to the worker: only the log says so
        const entry = { kind: "fault", seq, t: event.t, rank, step: Number.isInteger(event.step) ? event.step : null, action, factor, pid: event.pid ?? null, scheduled, notApplied, lastStep: state.lastStep };
        return { ...base, faultLog: [...state.faultLog, entry] };
      }
      const prev = state.workers[rank] || { rank, pid: null, role: "worker", status: state.finished ? "finished" : "running" };
      const entry = {
        kind: "fault",
        seq,
        t: event.t,
        rank,
        step: Number.isInteger(event.step) ? event.step : null,
        action,
        factor,
        pid: event.pid ?? prev.pid ?? null,
        scheduled,
        notApplied: null,
        lastStep: state.lastStep,
      };
      const worker = { ...prev, fault: { action, factor, t: event.t, seq, step: entry.step ?? state.lastStep } };
      if (action === "slow") worker.slowFactor = factor;
      return { ...base, workers: { ...state.workers, [rank]: worker }, faultLog: [...state.faultLog, entry] };
    }
    case "worker_failed": {
      if (!Number.isInteger(rank)) return base;
      const prev = state.workers[rank] || { rank, pid: null, role: "worker" };
      const detectionMs = isNum(event.detection_ms) ? event.detection_ms : null;
      const failed = { cause: event.cause ?? null, detectionMs, t: event.t, seq };
      const entry = {
        kind: "failed",
        seq,
        t: event.t,
        rank,
        step: Number.isInteger(event.step) ? event.step : null,
        cause: failed.cause,
        detectionMs,
        pid: event.pid ?? prev.pid ?? null,
        lastStep: state.lastStep,
      };
      return {
        ...base,
        workers: { ...state.workers, [rank]: { ...prev, status: "failed", failed } },
        faultLog: [...state.faultLog, entry],
      };
    }
    case "nan_detected": {
      const ranks = Array.isArray(event.ranks) ? event.ranks.filter(Number.isInteger) : [];
      const entry = {
        kind: "nan",
        seq,
        t: event.t,
        rank: null,
        step: Number.isInteger(event.step) ? event.step : null,
        ranks,
        action: event.action ?? null,
        lastStep: state.lastStep,
      };
      let workers = state.workers;
      const skipped =
        entry.action === "skipped" && entry.step != null && !state.skipped.includes(entry.step)
          ? addSorted(state.skipped, entry.step)
          : state.skipped;
      if (ranks.length) {
        workers = { ...workers };
        for (const r of ranks) {
          const w = workers[r] || { rank: r, pid: null, role: "worker", status: "running" };
          workers[r] = { ...w, nan: { step: entry.step, action: entry.action, seq } };
        }
      }
      return { ...base, workers, skipped, faultLog: [...state.faultLog, entry] };
    }
    case "checkpoint_saved": {
      if (!Number.isInteger(event.step)) return base;
      const cp = {
        step: event.step,
        t: event.t,
        file: event.file ?? null,
        bytes: isNum(event.bytes) ? event.bytes : null,
        durationMs: isNum(event.duration_ms) ? event.duration_ms : null,
        seq,
      };
      return { ...base, checkpoints: [...state.checkpoints, cp] };
    }
    case "recovery":
      return applyRecovery(state, base, event, seq);
    case "server_restored": {
      // a parameter server rebuilt after a restart: checkpoint + replayed update log
      const entry = {
        kind: "restored",
        seq,
        t: event.t,
        rank: Number.isInteger(rank) ? rank : null,
        step: Number.isInteger(event.step) ? event.step : null,
        version: Number.isInteger(event.version) ? event.version : null,
        checkpointVersion: Number.isInteger(event.checkpoint_version) ? event.checkpoint_version : null,
        replayed: Number.isInteger(event.replayed) ? event.replayed : null,
        tornTail: event.torn_tail === true,
        refused: Array.isArray(event.refused) ? event.refused.map(String) : [],
        lastStep: state.lastStep,
      };
      return { ...base, faultLog: [...state.faultLog, entry] };
    }
    case "ps_update": {
      if (!Number.isInteger(rank)) return base;
      const ps = psOf(state);
      const applied = Array.isArray(event.applied) ? event.applied : [];
      const prev = serverEntry(ps, rank);
      const servers = {
        ...ps.servers,
        [rank]: {
          ...prev,
          version: Number.isInteger(event.version) ? Math.max(prev.version, event.version) : prev.version,
          updates: prev.updates + 1,
          pushes: prev.pushes + applied.length,
          shard: Array.isArray(event.shard) ? event.shard : prev.shard,
          checksum: toNumber(event.param_checksum ?? prev.checksum),
          t: event.t ?? prev.t,
        },
      };
      const firstServer = 0; // servers are ranks 0..S-1; rank 0 speaks for every gradient
      let next = { ...ps, servers, firstServer };
      if (rank === firstServer) {
        const staleness = { ...ps.staleness };
        const clockGap = { ...ps.clockGap };
        let sum = ps.stalenessSum;
        let max = ps.maxStaleness;
        for (const a of applied) {
          if (!Number.isInteger(a.staleness)) continue;
          staleness[a.staleness] = (staleness[a.staleness] || 0) + 1;
          sum += a.staleness;
          max = Math.max(max, a.staleness);
          if (Number.isInteger(a.clock_gap)) clockGap[a.clock_gap] = (clockGap[a.clock_gap] || 0) + 1;
        }
        next = {
          ...next,
          staleness,
          clockGap,
          stalenessSum: sum,
          maxStaleness: max,
          applied: ps.applied + applied.filter((a) => Number.isInteger(a.staleness)).length,
          lastUpdate: { server: rank, version: event.version, applied, t: event.t, seq },
        };
      }
      return { ...base, ps: next };
    }
    case "gradient_dropped": {
      if (!Number.isInteger(rank)) return base;
      const ps = psOf(state);
      const prev = serverEntry(ps, rank);
      const servers = { ...ps.servers, [rank]: { ...prev, dropped: prev.dropped + 1 } };
      const firstServer = 0; // servers are ranks 0..S-1; rank 0 speaks for every gradient
      let next = { ...ps, servers, firstServer };
      if (rank === firstServer) {
        const w = event.worker;
        next = {
          ...next,
          dropped: ps.dropped + 1,
          droppedBy: { ...ps.droppedBy, [w]: (ps.droppedBy[w] || 0) + 1 },
          lastDropped: { server: rank, worker: w, read_version: event.read_version, version: event.version, t: event.t, seq },
        };
      }
      return { ...base, ps: next };
    }
    default:
      return { ...base, numUnknown: state.numUnknown + 1 };
  }
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

// ---------------------------------------------------------------- selectors

/** Ranks to show: 0..worldSize-1, plus any rank that spoke. */
export function ranksOf(state) {
  const set = new Set();
  for (let r = 0; r < (state.worldSize || 0); r++) set.add(r);
  for (const r of Object.keys(state.workers)) set.add(Number(r));
  for (const r of Object.keys(state.history)) set.add(Number(r));
  return [...set].sort((a, b) => a - b);
}

/** A run config's strategy options (config.options; {} when there are none). */
export function optionsOf(config) {
  return (config && config.options) || {};
}

/** Is this a parameter-server run? */
export function isPs(state) {
  return state.strategy === "parameter_server" || !!(state.config && state.config.strategy === "parameter_server");
}

/** Server ranks of a parameter-server run (0..S-1), else []. */
export function serverRanks(state) {
  if (!isPs(state)) return [];
  const set = new Set();
  for (let r = 0; r < (state.numServers || 0); r++) set.add(r);
  for (const [r, w] of Object.entries(state.workers)) if (w.role === "server") set.add(Number(r));
  if (state.ps) for (const r of Object.keys(state.ps.servers)) set.add(Number(r));
  return [...set].sort((a, b) => a - b);
}

/** Ranks that report training steps: every rank, except the servers of a PS run. */
export function stepRanks(state) {
  const servers = new Set(serverRanks(state));
  return servers.size ? ranksOf(state).filter((r) => !servers.has(r)) : ranksOf(state);
}

/** Has this worker left the run (elastic recovery: shrink or continue) and not come back? */
export function isGone(state, rank) {
  const w = state.workers[rank];
  return !!(w && w.status === "left");
}

/** Is this worker rejoining (back in the group, no step reported yet)? */
export function isJoining(state, rank) {
  const w = state.workers[rank];
  return !!(w && w.joining);
}

/** Did the group change membership (shrink, rejoin, continue)? */
export function isElastic(state) {
  return (state.recoveries || []).some((r) => r.policy && r.policy !== "restart");
}

/** The step ranks that are in the run now: not gone, not still joining. */
export function groupRanks(state) {
  return stepRanks(state).filter((r) => !isGone(state, r) && !isJoining(state, r));
}

/** The data-parallel ring in order: the newest shrink/rejoin's members (group-rank order,
 *  which is the all-reduce ring's), else every rank in rank order. */
export function ringOrder(state) {
  const all = ranksOf(state);
  if (!state.members) return all;
  const set = new Set(all);
  return state.members.filter((r) => set.has(r));
}

export function latestRecord(state, rank) {
  const log = state.history[rank];
  return log ? logLast(log) : undefined;
}

export function recordAt(state, rank, step) {
  const log = state.history[rank];
  if (!log) return undefined;
  const rec = logAt(log, lowerBound(log, step));
  return rec && rec.step === step ? rec : undefined;
}

/** Newest step that every rank has reported (0 if none). */
export function completeStep(state) {
  const ranks = stepRanks(state);
  if (!ranks.length) return 0;
  // Parameter-server workers do not move in lock step: show the newest iteration.
  if (isPs(state)) return ranks.reduce((m, r) => Math.max(m, (latestRecord(state, r) || { step: 0 }).step), 0);
  let min = Infinity;
  // A worker that left (or is still joining) is not waited for.
  const group = isElastic(state) ? groupRanks(state) : ranks;
  for (const r of group.length ? group : ranks) {
    const rec = latestRecord(state, r);
    min = Math.min(min, rec ? rec.step : 0);
  }
  return min === Infinity ? 0 : min;
}

/** Do all ranks hold identical parameters after step `step`? true / false / null (unknown). */
export function replicasIdentical(state, step) {
  if (isPs(state)) return null; // workers pull whatever version the servers hold
  let ranks = ranksOf(state);
  if (!ranks.length || !step) return null;
  if (isElastic(state)) {
    // Compare the workers that were in the group at that step: a rank that left has no
    // record there, nor has a rejoined one for the steps it was away (its next record is
    // later). A present member that has not reported it yet makes the answer unknown.
    ranks = ranks.filter((r) => {
      if (recordAt(state, r, step)) return true;
      if (isGone(state, r) || isJoining(state, r)) return false;
      const last = latestRecord(state, r);
      return !(last && last.step > step);
    });
    if (!ranks.length) return null;
  }
  const recs = ranks.map((r) => recordAt(state, r, step));
  if (recs.some((x) => !x)) return null;
  const first = recs[0];
  return recs.every((x) => {
    if (x.param_hash != null && first.param_hash != null) return x.param_hash === first.param_hash;
    return x.param_checksum === first.param_checksum;
  });
}

/** Summary of one step across ranks, for the narration and the topology. */
export function stepSummary(state, step) {
  const ranks = isElastic(state) ? groupRanks(state) : stepRanks(state);
  const records = ranks.map((r) => recordAt(state, r, step) || null);
  const got = records.filter(Boolean);
  const sum = (f) => got.reduce((a, x) => a + (isNum(x[f]) ? x[f] : 0), 0);
  const max = (f) => got.reduce((a, x) => Math.max(a, isNum(x[f]) ? x[f] : 0), 0);
  return {
    step,
    ranks,
    records,
    complete: got.length === ranks.length && ranks.length > 0,
    identical: replicasIdentical(state, step),
    bytesSent: sum("bytes_sent"),
    commMs: max("comm_ms"),
    computeMs: max("compute_ms"),
    waitMs: max("wait_ms"),
    meanLoss: got.length ? meanFinite(got.map((x) => x.loss)) : null,
    blockedMs: max("blocked_ms"),
    emulatedMs: max("emulated_ms"),
  };
}

/** A finite number, or null (NaN / ±Infinity / strings become gaps in a chart). */
export function finiteOrNull(x) {
  return typeof x === "number" && Number.isFinite(x) ? x : null;
}

/** Mean of the values, or null if any is not a finite number (a diverged worker). */
function meanFinite(xs) {
  if (!xs.length || xs.some((x) => !isNum(x))) return null;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Loss curves: one per rank plus the mean over ranks. x = step, xt = the step event's
 * time (s since start). Data parallel: the mean is drawn at steps every rank reported.
 * Parameter server: workers run at their own pace, so the mean of iteration i is over the
 * workers that reached it (at the mean time they reported it). Non-finite losses are null.
 */
export function lossSeries(state) {
  const ranks = stepRanks(state);
  const ps = isPs(state);
  const perRank = [];
  const acc = new Map();
  for (const r of ranks) {
    const log = state.history[r] || emptyLog();
    const x = new Array(log.length);
    const y = new Array(log.length);
    const xt = new Array(log.length);
    for (let i = 0; i < log.length; i++) {
      const rec = log.items[i];
      x[i] = rec.step;
      y[i] = finiteOrNull(rec.loss);
      xt[i] = rec.t;
      const a = acc.get(rec.step);
      if (a) {
        a.losses.push(rec.loss);
        a.t += rec.t;
      } else acc.set(rec.step, { losses: [rec.loss], t: rec.t });
    }
    perRank.push({ rank: r, x, y, xt });
  }
  // Elastic runs: the group's size changes; a step every member has finished is one up
  // to completeStep.
  const done = isElastic(state) && !ps ? completeStep(state) : null;
  const steps = [...acc.keys()]
    .filter((s) => (ps ? acc.get(s).losses.length > 0 : done != null ? s <= done : acc.get(s).losses.length === ranks.length))
    .sort((a, b) => a - b);
  return {
    ranks: perRank,
    mean: {
      x: steps,
      y: steps.map((s) => meanFinite(acc.get(s).losses)),
      xt: steps.map((s) => acc.get(s).t / acc.get(s).losses.length),
    },
  };
}

/** The last `numSteps` steps of every rank, for the swimlanes. */
export function timelineWindow(state, numSteps = 30) {
  const ranks = stepRanks(state);
  const last = state.lastStep;
  const from = Math.max(1, last - numSteps + 1);
  let t0 = Infinity;
  let t1 = -Infinity;
  const lanes = ranks.map((r) => {
    const log = state.history[r] || emptyLog();
    const recs = [];
    for (let i = lowerBound(log, from); i < log.length; i++) {
      const rec = log.items[i];
      recs.push(rec);
      const start = isNum(rec.t_start) ? rec.t_start : rec.t;
      t0 = Math.min(t0, start);
      t1 = Math.max(t1, rec.t);
    }
    return { rank: r, recs };
  });
  if (t0 === Infinity) {
    t0 = 0;
    t1 = 0;
  }
  return { fromStep: from, toStep: last, lanes, t0, t1 };
}

export function isLive(status) {
  return LIVE_STATUSES.includes(status);
}

// ---------------------------------------------------------------- communication

/** The all-reduce algorithm of a data-parallel run with 2+ ranks (else null). A compressed
 *  run (other than PowerSGD) all-gathers its encoded gradients over a hand-written ring. */
export function runAlgo(state) {
  if (state.strategy === "single" || isPs(state) || ranksOf(state).length < 2) return null;
  const c = compressionOf(state.config);
  if (c && c.gathered) return "ring";
  const a = optionsOf(state.config).allreduce || state.commAlgo || "builtin";
  return a;
}

/** Gradient size N in bytes: every parameter is one float32. */
export function gradBytes(state) {
  return isNum(state.numParams) ? state.numParams * 4 : null;
}

/**
 * Traffic carried by the `comm` events of every step <= uptoStep (default: the newest
 * step all ranks finished): {links: {"s>d": {src, dst, bytes, count}}, ranks: {r: {sent,
 * recv, sentMsgs, recvMsgs}}, steps, messages}. Set-up traffic is not included.
 */
export function linkTraffic(state, uptoStep = completeStep(state)) {
  let tr = state.commFolded;
  const steps = Object.keys(state.commSteps)
    .map(Number)
    .filter((s) => s <= uptoStep)
    .sort((a, b) => a - b);
  for (const s of steps) tr = addTraffic(tr, logToArray(state.commSteps[s]), true);
  return tr;
}

/** Per-rank bytes from the `step` events (always there, detail or not), steps <= uptoStep. */
export function stepTraffic(state, uptoStep = completeStep(state)) {
  const ranks = {};
  let steps = Infinity;
  for (const r of stepRanks(state)) {
    const log = state.history[r] || emptyLog();
    const end = lowerBound(log, uptoStep + 1);
    let sent = 0;
    let recv = 0;
    for (let i = 0; i < end; i++) {
      const rec = log.items[i];
      if (isNum(rec.bytes_sent)) sent += rec.bytes_sent;
      if (isNum(rec.bytes_recv)) recv += rec.bytes_recv;
    }
    ranks[r] = { sent, recv };
    steps = Math.min(steps, end);
  }
  return { ranks, steps: steps === Infinity ? 0 : steps };
}

/** The messages of one step, in arrival order. */
export function stepMessages(state, step) {
  const log = state.commSteps[step];
  return log ? logToArray(log) : [];
}

function ceilLog2(n) {
  return n <= 1 ? 0 : (n - 1).toString(2).length;
}

function log2Exact(x) {
  const k = Math.log2(x);
  return Number.isInteger(k) ? k : null;
}

/**
 * Which round of its phase a message belongs to. Ring: the k-th message a rank sends in
 * a phase goes in round k (all ranks send at once). Tree (binomial, towards rank 0): a
 * reduce from r to r - 2^k happens in round k; the broadcast runs the same tree top
 * down. Naive: rank 0 takes the partial sums one after another (round = sender - 1) and
 * sends the result back one rank after another (round = receiver - 1).
 */
function roundOf(algo, op, m, k, n) {
  if (algo === "tree" && Number.isInteger(m.src) && Number.isInteger(m.dst)) {
    const level = log2Exact(Math.abs(m.dst - m.src));
    if (level !== null) {
      if (op === "reduce") return level;
      if (op === "broadcast") return ceilLog2(n) - 1 - level;
    }
  }
  if (algo === "naive") {
    if (op === "reduce" && m.dst === 0 && m.src > 0) return m.src - 1;
    if (op === "broadcast" && m.src === 0 && m.dst > 0) return m.dst - 1;
  }
  return k;
}

/**
 * Pure: a step's messages as an ordered list of rounds, phase by phase:
 * [{op, round, of, messages, durationMs}] — `round` counts within the phase, `of` is the
 * number of rounds of that phase, durationMs is the slowest measured message of the round.
 */
export function commRounds(messages, algo, n) {
  const byOp = new Map();
  for (const op of COMM_OP_ORDER) byOp.set(op, []);
  for (const m of messages) {
    if (!byOp.has(m.op)) byOp.set(m.op, []);
    byOp.get(m.op).push(m);
  }
  const out = [];
  for (const [op, list] of byOp) {
    if (!list.length) continue;
    const perSrc = new Map();
    const rounds = new Map();
    for (const m of list) {
      const k = perSrc.get(m.src) || 0;
      perSrc.set(m.src, k + 1);
      const r = roundOf(algo, op, m, k, n);
      if (!rounds.has(r)) rounds.set(r, []);
      rounds.get(r).push(m);
    }
    const order = [...rounds.keys()].sort((a, b) => a - b);
    order.forEach((r, i) => {
      const msgs = rounds.get(r);
      const durationMs = msgs.reduce((a, m) => Math.max(a, isNum(m.duration_ms) ? m.duration_ms : 0), 0);
      out.push({ op, round: i, of: order.length, messages: msgs, durationMs });
    });
  }
  return out;
}

function treeChildren(rank, n) {
  let mask = (rank === 0 ? 1 << ceilLog2(n) : rank & -rank) >> 1;
  let c = 0;
  for (; mask >= 1; mask >>= 1) if (rank + mask < n) c++;
  return c;
}

/**
 * What the textbook formulas predict per step for a gradient of N bytes on n ranks:
 * {perRank: [{sent, recv}], headline} where headline is the number the formula line
 * quotes (ring: every rank; naive: the root's sends and receives; tree: the root's sends).
 */
export function expectedTraffic(algo, n, N) {
  const perRank = [];
  if (!(n > 1) || !isNum(N)) return { perRank, headline: null };
  for (let r = 0; r < n; r++) {
    let sent;
    let recv;
    if (algo === "naive") {
      sent = recv = r === 0 ? (n - 1) * N : N;
    } else if (algo === "tree") {
      const links = treeChildren(r, n) + (r === 0 ? 0 : 1);
      sent = recv = links * N;
    } else {
      sent = recv = (2 * (n - 1) * N) / n; // ring, and builtin (counted as a ring)
    }
    perRank.push({ sent, recv });
  }
  return { perRank, headline: perRank[0].sent };
}


// ---------------------------------------------------------------- compression

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

// ---------------------------------------------------------------- modelled network

/** The run's modelled network ({name, latency_us, bandwidth_gbps, links}) or null. */
export function runNetwork(state) {
  return state.network && isNum(state.network.latency_us) && isNum(state.network.bandwidth_gbps)
    ? state.network
    : null;
}

/** Mean over the steps every rank reported of the step's modelled communication time
 *  (its slowest rank's comm_modelled_ms), up to `uptoStep`; null without a network. */
export function modelledCommMean(state, uptoStep = completeStep(state)) {
  const ranks = ranksOf(state);
  if (!ranks.length) return null;
  const perStep = new Map();
  for (const r of ranks) {
    const log = state.history[r] || emptyLog();
    const end = lowerBound(log, uptoStep + 1);
    for (let i = 0; i < end; i++) {
      const rec = log.items[i];
      if (!isNum(rec.comm_modelled_ms)) continue;
      const a = perStep.get(rec.step) || { max: 0, n: 0 };
      a.max = Math.max(a.max, rec.comm_modelled_ms);
      a.n += 1;
      perStep.set(rec.step, a);
    }
  }
  const full = [...perStep.values()].filter((a) => a.n === ranks.length);
  return full.length ? full.reduce((s, a) => s + a.max, 0) / full.length : null;
}


// ---------------------------------------------------------------- parameter server

/** The run's parameter-server settings, or null: {mode, servers, workers, backup, bound,
 *  emulatedMs, straggler, factor, stragglerRank (process rank), prob}. */
export function psConfig(state) {
  if (!isPs(state)) return null;
  const c = state.config || {};
  const o = optionsOf(c);
  const servers = Number.isInteger(o.servers) ? o.servers : state.numServers || 1;
  return {
    mode: o.ps_mode || "sync",
    servers,
    workers: c.workers ?? null,
    backup: o.backup_workers ?? 0,
    bound: o.staleness_bound ?? null,
    emulatedMs: isNum(c.emulated_compute_ms) ? c.emulated_compute_ms : 0,
    straggler: c.straggler || "none",
    factor: c.straggler_factor ?? null,
    stragglerRank: c.straggler === "one" ? servers + (c.straggler_rank ?? 0) : null,
    prob: c.straggler_prob ?? null,
  };
}

/** Staleness histogram over the gradients applied so far (counted on server 0):
 *  {bins: [0..max], counts, total, mean, gapBins, gapCounts, dropped}. */
export function stalenessHistogram(state) {
  const ps = psOf(state);
  const keys = Object.keys(ps.staleness).map(Number);
  const max = keys.length ? Math.max(...keys) : 0;
  const bins = [];
  const counts = [];
  for (let s = 0; s <= max; s++) {
    bins.push(s);
    counts.push(ps.staleness[s] || 0);
  }
  const gk = Object.keys(ps.clockGap).map(Number);
  const gmax = gk.length ? Math.max(...gk) : -1;
  const gapBins = [];
  const gapCounts = [];
  for (let g = 0; g <= gmax; g++) {
    gapBins.push(g);
    gapCounts.push(ps.clockGap[g] || 0);
  }
  return {
    bins: keys.length ? bins : [],
    counts: keys.length ? counts : [],
    total: ps.applied,
    mean: ps.applied ? ps.stalenessSum / ps.applied : null,
    max: ps.maxStaleness,
    gapBins,
    gapCounts,
    dropped: ps.dropped,
  };
}

/** Per-node numbers of a PS run: servers [{rank, version, pushes, pulls, dropped,
 *  updates, shardLen, bytesIn, bytesOut, checksum}] and workers [{rank, step, readVersion,
 *  readVersions, blocked, waited, slowed, loss}]. */
export function psNodes(state) {
  const ps = psOf(state);
  const servers = serverRanks(state).map((r) => {
    const s = ps.servers[r] || serverEntry(ps, r);
    const shardLen = Array.isArray(s.shard) ? s.shard[1] - s.shard[0] : null;
    return {
      rank: r,
      version: s.version,
      updates: s.updates,
      pushes: s.pushes,
      pulls: s.pulls,
      dropped: s.dropped,
      shardLen,
      bytesIn: shardLen == null ? null : (s.pushes + s.dropped) * shardLen * 4,
      bytesOut: shardLen == null ? null : s.pulls * shardLen * 4,
      checksum: s.checksum,
    };
  });
  const workers = stepRanks(state).map((r) => {
    const rec = latestRecord(state, r);
    return {
      rank: r,
      step: rec ? rec.step : 0,
      readVersion: rec && Number.isInteger(rec.read_version) ? rec.read_version : null,
      readVersions: rec && Array.isArray(rec.read_versions) ? rec.read_versions : null,
      blocked: !!(rec && isNum(rec.blocked_ms) && rec.blocked_ms > 0),
      waited: !!(rec && isNum(rec.wait_ms) && rec.wait_ms > 0),
      blockedMs: rec && isNum(rec.blocked_ms) ? rec.blocked_ms : 0,
      waitMs: rec && isNum(rec.wait_ms) ? rec.wait_ms : 0,
      slowed: !!(rec && rec.slowed === true),
      loss: rec ? rec.loss : null,
      dropped: ps.droppedBy[r] || 0,
    };
  });
  return { servers, workers };
}


// ---------------------------------------------------------------- faults

/** Has anything gone wrong on purpose or by accident (a fault, a failure, a NaN)? */
export function hasFaults(state) {
  return (state.faultLog || []).some((e) => e.kind !== "end");
}

/** What a worker node should show about faults, or null when nothing happened to it:
 *  {state: "failed" | "killed" | "frozen" | "slowed" | "corrupt", action, factor, cause,
 *  detectionMs, nanStep, nanAction, slowFactor}. A failure wins over the fault that
 *  caused it; a slowed rank's factor comes from its newest step (slow_factor) or the
 *  fault event. */
export function workerFault(state, rank) {
  const w = state.workers[rank];
  const rec = latestRecord(state, rank);
  const recSlow = rec && isNum(rec.slow_factor) && rec.slow_factor > 1 ? rec.slow_factor : null;
  if (!w) return recSlow ? { state: "slowed", action: "slow", factor: recSlow, slowFactor: recSlow } : null;
  const f = w.fault || null;
  const slowFactor = recSlow ?? (f && f.action === "slow" && f.factor > 1 ? f.factor : w.slowFactor > 1 ? w.slowFactor : null);
  const out = {
    state: null,
    action: f ? f.action : null,
    factor: f ? f.factor : null,
    cause: w.failed ? w.failed.cause : null,
    detectionMs: w.failed ? w.failed.detectionMs : null,
    nanStep: w.nan ? w.nan.step : null,
    nanAction: w.nan ? w.nan.action : null,
    slowFactor,
    left: w.status === "left", // elastic recovery took it out of the run
  };
  if (w.failed) out.state = "failed";
  else if (f && f.action === "kill") out.state = "killed";
  else if (f && f.action === "freeze") out.state = "frozen";
  else if (f && f.action === "corrupt") out.state = "corrupt";
  else if (slowFactor) out.state = "slowed";
  else if (w.nan) out.state = "corrupt";
  return out.state ? out : null;
}

/** Steps whose update was skipped because of a NaN gradient (from the step events'
 *  `skipped` and the nan_detected events), sorted. */
export function skippedSteps(state) {
  return state.skipped || [];
}

/** Injected faults as timeline markers: [{t, rank, action, factor, step}] where step is
 *  the newest step reported when the fault came (the marker sits after it). */
export function faultMarkers(state) {
  return (state.faultLog || [])
    .filter((e) => e.kind === "fault" && !e.notApplied)
    .map((e) => {
      const m = { t: e.t, rank: e.rank, action: e.action, factor: e.factor, step: e.step ?? e.lastStep };
      if (e.src != null) Object.assign(m, { src: e.src, dst: e.dst }); // a link fault (rank null)
      if (e.scheduled) m.scheduled = true;
      return m;
    });
}


// ---------------------------------------------------------------- checkpoints and recovery

/** Checkpoints saved so far: [{step, t, file, bytes, durationMs, seq}]. */
export function checkpointList(state) {
  return state.checkpoints || [];
}

/** Restarts from a checkpoint, oldest first: [{failedRank, fromStep, lostSteps,
 *  generation, refused, t, lostT0, lostT1, lostRecs}]. */
export function recoveryList(state) {
  return state.recoveries || [];
}

/** Is this rank being restarted (a recovery came, its new worker_started did not yet)? */
export function isRestarting(state, rank) {
  const w = state.workers[rank];
  return !!(w && w.status === "restarting");
}

// ---------------------------------------------------------------- tail latency

/** One rank's time for one step: compute + emulated + comm + wait (data parallel), or
 *  pull + compute + emulated + push (a parameter-server worker: push = comm_ms). */
export function stepTimeMs(rec) {
  const v = (f) => (isNum(rec[f]) && rec[f] > 0 ? rec[f] : 0);
  if (isNum(rec.pull_ms)) return v("pull_ms") + v("compute_ms") + v("emulated_ms") + v("comm_ms");
  return v("compute_ms") + v("emulated_ms") + v("comm_ms") + v("wait_ms");
}

/** Nearest-rank percentile (p in (0, 100]) of the values; null when there are none. */
export function percentile(values, p) {
  const xs = values.filter(isNum).sort((a, b) => a - b);
  if (!xs.length) return null;
  const k = Math.min(xs.length, Math.max(1, Math.ceil((p / 100) * xs.length)));
  return xs[k - 1];
}

function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Tail latency of synchronous steps (Dean & Barroso, "The Tail at Scale", 2013): per
 *  step the max and the median over ranks of the step time, and the run's p50 and p99 of
 *  the per-step max. Data parallel: the steps every rank reported; parameter server: the
 *  iterations reported by 2+ workers. {x, max, median, p50, p99, steps}. */
export function tailLatency(state) {
  const ranks = stepRanks(state);
  const ps = isPs(state);
  const acc = new Map();
  for (const r of ranks) {
    const log = state.history[r] || emptyLog();
    for (let i = 0; i < log.length; i++) {
      const rec = log.items[i];
      let a = acc.get(rec.step);
      if (!a) acc.set(rec.step, (a = []));
      a.push(stepTimeMs(rec));
    }
  }
  const need = ps ? Math.min(2, ranks.length) : ranks.length;
  const done = isElastic(state) && !ps ? completeStep(state) : null;
  const x = [...acc.keys()]
    .filter((s) => (done != null ? s <= done && acc.get(s).length > 1 : acc.get(s).length >= need && need > 0))
    .sort((a, b) => a - b);
  const max = x.map((s) => Math.max(...acc.get(s)));
  const med = x.map((s) => median(acc.get(s)));
  return { x, max, median: med, p50: percentile(max, 50), p99: percentile(max, 99), steps: x.length };
}

/** Does the tail-latency panel apply (data parallel or parameter server, 2+ ranks)? */
export function tailLatencyApplies(state) {
  const strat = state.strategy || (state.config && state.config.strategy);
  return (strat === "data_parallel" || strat === "parameter_server") && stepRanks(state).length >= 2;
}
