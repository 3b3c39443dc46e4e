// strategies/gfs/slice.js — GFS's reducer slice and selectors: the store's layout (the chunk → replicas map, newest first), the reads of each epoch, the re-replications, the chunks a fault corrupted on disk, and each epoch's check.
//
// The events (engine/strategies/gfs.py): `gfs_setup` once (chunks, r, the servers),
// `gfs_write` per chunk written along its chain, `gfs_map` the master's map after every
// change (written, server_dead, corrupt, rereplicated), `gfs_read` each read attempt
// (ok, unreachable, corrupt), `gfs_rereplicate` each copy made, `gfs_corrupted` a byte a
// fault flipped in a chunk file, `gfs_epoch` the epoch's check (every sample once).

import { isNum } from "../../core/log.js";
import { membershipEvents } from "./membership.js";

export const GFS = "gfs";

// a training run that reads through the store (strategies/gfs_train/) shows the store too
const STORES = [GFS, "gfs_train"];

export function isGfs(state) {
  return STORES.includes(state.strategy) || !!(state.config && STORES.includes(state.config.strategy));
}

const EMPTY = { setup: null, writes: 0, map: null, lost: {}, changes: [], reads: {}, rereps: [], corrupted: [], epochs: [] };

function gfsOf(state) {
  return state.gfs || EMPTY;
}

function put(base, state, fields) {
  return { ...base, gfs: { ...gfsOf(state), ...fields } };
}

const stepOf = (e) => (Number.isInteger(e.step) ? e.step : 0);
const list = (v) => (Array.isArray(v) ? v.slice() : []);

function gfsSetup(state, base, e) {
  const setup = { chunks: e.chunks, chunkSamples: e.chunk_samples, samples: e.samples, replicas: e.replicas, placement: e.placement, servers: list(e.servers), bytes: e.bytes };
  return put(base, state, { setup });
}

function gfsWrite(state, base) {
  return put(base, state, { writes: gfsOf(state).writes + 1 });
}

function gfsMap(state, base, e) {
  const map = { reason: String(e.reason), replicas: e.replicas, chunks: list(e.chunks).map(list), live: list(e.live), dead: list(e.dead), copies: list(e.copies).map(list), under: list(e.under), step: stepOf(e), t: e.t };
  const change = { reason: map.reason, step: map.step, server: isNum(e.server) ? e.server : null, chunk: isNum(e.chunk) ? e.chunk : null };
  const g = gfsOf(state);
  // what a server held when it died: the card still shows it, greyed
  const lost = { ...(g.lost || {}) };
  if (map.reason === "server_dead" && change.server != null && g.map) {
    lost[change.server] = g.map.chunks.map((h, c) => (h.includes(change.server) ? c : -1)).filter((c) => c >= 0);
  }
  return put(base, state, { map, lost, changes: [...g.changes, change] });
}

function gfsRead(state, base, e) {
  const g = gfsOf(state);
  const step = stepOf(e);
  const read = { chunk: e.chunk, server: e.server, reader: isNum(e.reader) ? e.reader : 0, local: !!e.local, status: String(e.status), failedOver: !!e.failed_over, bytes: isNum(e.bytes) ? e.bytes : 0, attempt: e.attempt };
  return put(base, state, { reads: { ...g.reads, [step]: [...(g.reads[step] || []), read] } });
}

function gfsRereplicate(state, base, e) {
  const copy = { chunk: e.chunk, src: e.src, dst: e.dst, bytes: e.bytes, step: stepOf(e) };
  return put(base, state, { rereps: [...gfsOf(state).rereps, copy] });
}

function gfsCorrupted(state, base, e) {
  const hit = { chunk: e.chunk, server: e.server, block: e.block, step: stepOf(e) };
  return put(base, state, { corrupted: [...gfsOf(state).corrupted, hit] });
}

function gfsEpoch(state, base, e) {
  const epoch = { step: stepOf(e), reader: e.reader || "master", local: e.local ?? 0, remote: e.remote ?? 0, samples: e.samples, expected: e.expected, exactlyOnce: !!e.exactly_once, equal: !!e.equal, ok: e.ok, failedOver: e.failed_over, corrupt: e.corrupt, unreachable: e.unreachable, bytes: e.bytes, underReplicated: e.under_replicated, epochS: e.epoch_s };
  return put(base, state, { epochs: [...gfsOf(state).epochs, epoch] });
}

export const slice = {
  events: { gfs_setup: gfsSetup, gfs_write: gfsWrite, gfs_map: gfsMap, gfs_read: gfsRead, gfs_rereplicate: gfsRereplicate, gfs_corrupted: gfsCorrupted, gfs_epoch: gfsEpoch, ...membershipEvents },
  initial: { gfs: null, gfsMembers: null }, // gfsMembers: membership.js
  lockstep: false, // chunkservers answer the master as it asks
  serverRanks: (state) => (isGfs(state) ? [0] : []), // the master reports no steps
};

// ---------------------------------------------------------------- selectors

/** Pure: what the card draws — every server's column (the chunks it holds now, each
 *  marked primary / re-replicated / corrupted on disk and not caught yet), and the reads
 *  of the newest epoch that has any (the one the player shows). */
export function storeView(state) {
  const g = gfsOf(state);
  if (!g.setup || !g.map) return null;
  const copies = new Set(g.map.copies.map(([c, s]) => `${c}/${s}`));
  const caught = new Set();
  for (const ch of g.changes) if (ch.reason === "corrupt") caught.add(`${ch.chunk}/${ch.server}`);
  const bad = new Set(g.corrupted.map((h) => `${h.chunk}/${h.server}`).filter((k) => !caught.has(k)));
  const columns = g.setup.servers.map((s) => ({
    server: s,
    dead: g.map.dead.includes(s),
    lost: (g.lost && g.lost[s]) || [],
    chunks: g.map.chunks
      .map((holders, c) => ({ chunk: c, at: holders.indexOf(s) }))
      .filter((x) => x.at >= 0)
      .map((x) => ({ chunk: x.chunk, primary: x.at === 0, copy: copies.has(`${x.chunk}/${s}`), bad: bad.has(`${x.chunk}/${s}`) })),
  }));
  const steps = Object.keys(g.reads).map(Number).filter((n) => n > 0);
  const step = steps.length ? Math.max(...steps) : null;
  const reads = step == null ? [] : g.reads[step];
  const count = (f) => reads.filter(f).length;
  const epoch = g.epochs.find((x) => x.step === step) || null;
  return {
    setup: g.setup,
    map: g.map,
    columns,
    step,
    reads: {
      total: reads.length,
      ok: count((r) => r.status === "ok" && !r.failedOver),
      failedOver: count((r) => r.status === "ok" && r.failedOver),
      corrupt: count((r) => r.status === "corrupt"),
      unreachable: count((r) => r.status === "unreachable"),
      // data locality (option reader "chunkservers"): good reads from the reader's own disk
      local: count((r) => r.status === "ok" && r.local),
      remote: count((r) => r.status === "ok" && !r.local),
      byServers: reads.some((r) => r.reader > 0),
    },
    epoch,
    rereps: g.rereps,
    rerepBytes: g.rereps.reduce((a, r) => a + (isNum(r.bytes) ? r.bytes : 0), 0),
    // each corruption a fault made, with the epoch a read caught it in (null: not yet)
    corrupted: g.corrupted.map((h) => {
      const at = g.changes.find((ch) => ch.reason === "corrupt" && ch.chunk === h.chunk && ch.server === h.server);
      return { ...h, caughtIn: at ? at.step : null };
    }),
  };
}
