// core/wire.js — a live tick off the wire: its events, unpacked from columns.
//
// The server packs each live tick's events by type into columns (backend/tickpack.py):
// each key once, `seq` as steps from the event before, times as microseconds from the
// value before — the same events in fewer bytes for a lecture hall of viewers. Nothing is
// lost: unpacking gives back every event as the engine sent it, in `seq` order. A plain
// JSON array (the backlog, or a tick the server could not pack) is already the events.
// The keys of the events that go every step are named by their place in KEYS (a number),
// not spelled out in every tick; any other key goes by its name.

/** The keys a packed tick names by number: the same list as KEYS in backend/tickpack.py
 *  (append only; tests/js/fixtures/packed-tick.json holds it, both sides check it). */
export const KEYS = [
  // the envelope (`type` and `run_id` are the group's and the tick's own)
  "t", "rank", "step", "seq",
  // comm
  "op", "src", "dst", "bytes", "chunk", "algo", "duration_ms", "modelled_ms",
  "modelled_start_ms", "dropped",
  // step
  "loss", "grad_norm", "compute_ms", "comm_ms", "wait_ms", "comm_modelled_ms",
  "bytes_sent", "bytes_recv", "param_checksum", "param_hash", "lr", "samples", "t_start",
  "phases", "emulated_ms", "slowed", "blocked_ms", "pull_ms", "read_version",
  "read_versions", "events_dropped", "skipped", "slow_factor", "payload_bytes",
  "compress_ratio", "compress_error", "residual_norm",
  // boundary; a parameter server's ps_update and gradient_dropped
  "grid", "version", "applied", "shard", "worker",
];

const named = (keys) => keys.map((k) => (typeof k === "number" ? KEYS[k] : k));

/** Pure: the events of one decoded message (an array as it is; a packed tick unpacked). */
export function unpackTick(tick) {
  if (Array.isArray(tick)) return tick;
  if (!tick || tick.packed !== 2 || !Array.isArray(tick.groups)) return null;
  const events = [];
  for (const g of tick.groups) {
    const keys = named(g.keys);
    const cols = {};
    keys.forEach((k, i) => (cols[k] = g.cols[i]));
    if (cols.seq) cols.seq = runningSums(cols.seq, tick.seq0);
    for (const k of named(g.us)) cols[k] = runningSums(cols[k], 0).map((us) => us / 1e6);
    for (let i = 0; i < g.n; i++) {
      const e = { type: g.type };
      for (const k of keys) e[k] = cols[k][i];
      e.run_id = tick.run_id;
      events.push(e);
    }
  }
  return events.sort((a, b) => a.seq - b.seq);
}

function runningSums(deltas, start) {
  let total = start;
  return deltas.map((d) => (total += d));
}
