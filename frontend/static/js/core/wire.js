// core/wire.js — a live tick off the wire: its events, unpacked from columns.
//
// The server packs each live tick's events by type into columns (backend/tickpack.py):
// each key once, `seq` as steps from the event before, times as microseconds from the
// value before — the same events in fewer bytes for a lecture hall of viewers. Nothing is
// lost: unpacking gives back every event as the engine sent it, in `seq` order. A plain
// JSON array (the backlog, or a tick the server could not pack) is already the events.

/** Pure: the events of one decoded message (an array as it is; a packed tick unpacked). */
export function unpackTick(tick) {
  if (Array.isArray(tick)) return tick;
  if (!tick || tick.packed !== 1 || !Array.isArray(tick.groups)) return null;
  const events = [];
  for (const g of tick.groups) {
    const cols = {};
    g.keys.forEach((k, i) => (cols[k] = g.cols[i]));
    if (cols.seq) cols.seq = runningSums(cols.seq, tick.seq0);
    for (const k of g.us) cols[k] = runningSums(cols[k], 0).map((us) => us / 1e6);
    for (let i = 0; i < g.n; i++) {
      const e = { type: g.type };
      for (const k of g.keys) e[k] = cols[k][i];
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
