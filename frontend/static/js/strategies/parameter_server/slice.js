// strategies/parameter_server/slice.js — the parameter server's reducer slice: its events (ps_update, gradient_dropped, server_restored), its state (state.ps) and selectors.

import { t } from "../../core/i18n.js";
import { isNum } from "../../core/log.js";
import { toNumber } from "../../core/reducer.js";
import { latestRecord, optionsOf, serverRanks, stepRanks } from "../../core/selectors.js";

export const PS = "parameter_server";

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

function psOf(state) {
  return state.ps || emptyPs();
}

function serverEntry(ps, rank) {
  return (
    ps.servers[rank] || { rank, version: 0, updates: 0, pushes: 0, pulls: 0, dropped: 0, shard: null, checksum: null, t: null }
  );
}

/** Is this a parameter-server run? */
export function isPs(state) {
  return state.strategy === PS || !!(state.config && state.config.strategy === PS);
}

/** Server ranks of a parameter-server run (0..S-1), else []. */
function psServerRanks(state) {
  if (!isPs(state)) return [];
  const set = new Set();
  for (let r = 0; r < (state.numServers || 0); r++) set.add(r);
  for (const [r, w] of Object.entries(state.workers)) if (w.role === "server") set.add(Number(r));
  if (state.ps) for (const r of Object.keys(state.ps.servers)) set.add(Number(r));
  return [...set].sort((a, b) => a - b);
}

// ---------------------------------------------------------------- its events

/** A server applied gradients: its version, the staleness of each (counted on server 0). */
function psUpdate(state, base, event, seq) {
  const rank = event.rank;
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

/** A late gradient dropped (backup workers). */
function gradientDropped(state, base, event, seq) {
  const rank = event.rank;
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

/** A parameter server rebuilt after a restart: checkpoint + replayed update log. */
function serverRestored(state, base, event, seq) {
  const rank = event.rank;
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

// ---------------------------------------------------------------- its part of common events

/** run_started of a parameter-server run: its state starts (kept if updates came first). */
function afterRunStarted(state, next, event) {
  const config = event.config || null;
  return (event.strategy ?? (config ? config.strategy : null)) === PS ? { ...next, ps: state.ps || emptyPs() } : next;
}

/** A worker's step: it pulled every server's shard before it computed, one pull per server. */
function afterStep(state, next, event) {
  if (!Number.isInteger(event.rank) || !Number.isInteger(event.step)) return next;
  let ps = state.ps;
  if (ps) {
    const servers = { ...ps.servers };
    for (const k of Object.keys(servers)) servers[k] = { ...servers[k], pulls: servers[k].pulls + 1 };
    for (let r = 0; r < (state.numServers || 0); r++) {
      if (!servers[r]) servers[r] = { ...serverEntry(ps, r), pulls: 1 };
    }
    ps = { ...ps, servers };
  }
  return { ...next, ps };
}

/** The slice registered with the core reducer (core/registry.js). */
export const slice = {
  events: { ps_update: psUpdate, gradient_dropped: gradientDropped, server_restored: serverRestored },
  after: { run_started: afterRunStarted, step: afterStep },
  initial: { ps: null }, // see emptyPs()
  lockstep: false, // workers pull, compute and push at their own pace
  serverRanks: psServerRanks, // the servers report no training steps
  tailLatency: true,
};

// ---------------------------------------------------------------- selectors

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

/** The run's steps in the unit asked for (engine/strategies/ps_hooks.py `progress`):
 *  async and SSP apply one version per gradient, so `steps` means steps × workers
 *  gradients whoever computed them, and progress is server 0's version / workers (a fast
 *  worker's own iterations run past it, a straggler's stay behind); sync and backup apply
 *  one version per step: the newest step. */
export function psProgress(state) {
  const c = psConfig(state);
  if (!c || !(c.mode === "async" || c.mode === "ssp") || !c.workers) return state.lastStep;
  const first = serverRanks(state)[0];
  const s0 = psOf(state).servers[first];
  return s0 ? Math.floor(s0.version / c.workers) : 0;
}

/** The scrubber's unit (core/selectors.js cursorUnit): iterations in async and SSP mode. */
export function psCursorUnit(state) {
  const c = psConfig(state);
  return c && (c.mode === "async" || c.mode === "ssp") ? "iteration" : "step";
}

/** The boundary card's note (views/boundary.js): a lone server draws the model it holds;
 *  with several servers no process holds the whole model, and worker 0 draws the copy it
 *  pulled (engine/strategies/parameter_server.py). */
export function psBoundaryNote(state, b) {
  const c = psConfig(state);
  if (!c) return null;
  if (c.servers <= 1) return t("ps.boundaryServer", { step: b.step });
  return t("ps.boundaryWorker", { rank: b.rank ?? c.servers, step: b.step, n: c.servers });
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

