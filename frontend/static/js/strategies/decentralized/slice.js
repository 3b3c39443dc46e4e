// strategies/decentralized/slice.js — decentralized SGD's reducer slice and selectors: the gossip graph (who averages with whom, and with what weights), the consensus distance per step, and what each edge carried.
//
// The leader sends the graph once (`graph`: engine/strategies/decentralized.py): its name,
// each worker's neighbours and the mixing matrix W. Every step event carries `consensus`
// ((1/n)·Σ‖x_i − x̄‖² of the real replicas, the same number on every worker: the slice
// keeps the leader's, one per step) besides the common fields the core keeps per rank
// (param_checksum, bytes_sent). What an edge carried in a step is measured: the `comm`
// events of op "gossip" when the run has per-message events (Detail), else each worker's
// bytes_sent split over its neighbours (it sends the same model to each, engine/comms.py
// with_neighbours).

import { stepMessages } from "../../core/comm.js";
import { emptyLog, isNum, logAppend, logLast, logToArray, logTruncate, lowerBound } from "../../core/log.js";
import { completeStep, recordAt } from "../../core/selectors.js";

export const DEC = "decentralized";

export function isDecentralized(state) {
  return state.strategy === DEC || !!(state.config && state.config.strategy === DEC);
}

function of(state) {
  return state.gossip || { graph: null, consensus: emptyLog() };
}

/** The graph, from the leader: once, and again whenever the group changes (a worker died
 *  and the survivors closed the hole, or one came back). The event's rows are the
 *  members' (`members`: worker ids, all of them before any failure); here everything is
 *  by worker id, with no neighbours for a worker not in the graph. */
function graph(state, base, event) {
  const rows = Array.isArray(event.neighbours) ? event.neighbours.map((r) => (Array.isArray(r) ? r.slice() : [])) : [];
  const members = Array.isArray(event.members) && event.members.length === rows.length ? event.members.slice() : rows.map((_, i) => i);
  const workers = (state.config && Number.isInteger(state.config.workers) && state.config.workers) || 0;
  const size = Math.max(workers, ...members.map((m) => m + 1), 0);
  const neighbours = Array.from({ length: size }, () => []);
  const weights = Array.from({ length: size }, () => Array(size).fill(null));
  members.forEach((m, i) => {
    neighbours[m] = rows[i];
    const w = Array.isArray(event.weights) && Array.isArray(event.weights[i]) ? event.weights[i] : [];
    members.forEach((other, j) => {
      if (isNum(w[j])) weights[m][other] = w[j];
    });
  });
  const g = { name: String(event.graph || ""), members, neighbours, weights, leader: Number.isInteger(event.rank) ? event.rank : members[0] ?? 0, step: Number.isInteger(event.step) ? event.step : null };
  return { ...base, gossip: { ...of(state), graph: g } };
}

/** A step of the leader: the consensus distance of that step (a restarted run that steps
 *  back forgets the steps it replays, as the core's histories do). */
function afterStep(state, next, event) {
  if (!isDecentralized(state) || !isNum(event.consensus) || !Number.isInteger(event.step)) return next;
  const s = of(state);
  const leader = s.graph ? s.graph.leader : 0;
  if (event.rank !== leader) return next;
  let log = s.consensus;
  const last = logLast(log);
  if (last && last.step >= event.step) log = logTruncate(log, lowerBound(log, event.step));
  log = logAppend(log, { step: event.step, value: event.consensus });
  return { ...next, gossip: { ...s, consensus: log } };
}

export const slice = {
  events: { graph },
  after: { step: afterStep },
  initial: { gossip: null },
};

// ---------------------------------------------------------------- selectors

/** The consensus distance per step, up to `uptoStep`: {steps, values}. */
export function consensusSeries(state, uptoStep = Infinity) {
  const log = of(state).consensus;
  const items = logToArray(log).filter((x) => x.step <= uptoStep);
  return { steps: items.map((x) => x.step), values: items.map((x) => x.value) };
}

/** The undirected edges of the graph (a < b), with W[a][b]. */
export function graphEdges(g) {
  const out = [];
  g.neighbours.forEach((near, a) => {
    for (const b of near) if (a < b) out.push({ a, b, weight: (g.weights[a] || [])[b] ?? null });
  });
  return out;
}

/** What each edge carried in `step`: {source: "messages" | "counters" | null, bytes:
 *  {"a-b": {ab, ba}}} — bytes a sent to b and b sent to a. */
export function edgeBytes(state, g, step) {
  const key = (a, b) => (a < b ? `${a}-${b}` : `${b}-${a}`);
  const bytes = {};
  if (!step) return { source: null, bytes };
  const add = (src, dst, n) => {
    const k = key(src, dst);
    const e = bytes[k] || { ab: 0, ba: 0 };
    if (src < dst) e.ab += n;
    else e.ba += n;
    bytes[k] = e;
  };
  const msgs = stepMessages(state, step).filter((m) => m.op === "gossip" && Number.isInteger(m.src) && Number.isInteger(m.dst));
  if (msgs.length) {
    for (const m of msgs) add(m.src, m.dst, isNum(m.bytes) ? m.bytes : 0);
    return { source: "messages", bytes };
  }
  let any = false;
  g.neighbours.forEach((near, r) => {
    const rec = near.length ? recordAt(state, r, step) : null;
    if (!rec || !isNum(rec.bytes_sent) || !near.length) return;
    any = true;
    for (const p of near) add(r, p, rec.bytes_sent / near.length);
  });
  return { source: any ? "counters" : null, bytes };
}

/** Pure: where worker i of n sits on the circle (worker 0 at the top, clockwise), in a
 *  box of `size` × `size`. */
export function circleLayout(n, size = 200, radius = 0.38) {
  return Array.from({ length: n }, (_, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n);
    return { x: size / 2 + radius * size * Math.cos(a), y: size / 2 + radius * size * Math.sin(a) };
  });
}

/**
 * What the gossip card draws, or null before the graph: the workers (neighbours and
 * mixing weights), the edges with what each carried in the newest step every worker
 * reported (or `step`), the consensus distance then and over the run, and each replica's
 * checksum then (they differ: every worker holds a model of its own).
 */
export function graphView(state, step = completeStep(state)) {
  if (!isDecentralized(state) || !state.gossip || !state.gossip.graph) return null;
  const g = state.gossip.graph;
  const members = g.members || g.neighbours.map((_, i) => i);
  const inGraph = new Set(members);
  const slots = g.neighbours.length; // every worker keeps its place on the circle
  const nodes = g.neighbours.map((near, i) => ({
    id: i,
    member: inGraph.has(i),
    neighbours: near,
    selfWeight: (g.weights[i] || [])[i] ?? null,
    weights: near.map((j) => ({ peer: j, weight: (g.weights[i] || [])[j] ?? null })),
  }));
  const holes = nodes.filter((x) => !x.member).map((x) => x.id);
  const traffic = edgeBytes(state, g, step);
  const edges = graphEdges(g).map((e) => {
    const b = traffic.bytes[`${e.a}-${e.b}`] || { ab: 0, ba: 0 };
    return { ...e, ab: b.ab, ba: b.ba, bytes: b.ab + b.ba };
  });
  const series = consensusSeries(state, step || 0);
  const at = series.steps.length && series.steps[series.steps.length - 1] === step ? series.values[series.values.length - 1] : null;
  const recs = nodes.map((x) => (step && x.member ? recordAt(state, x.id, step) : undefined));
  const sums = recs.map((r) => (r && isNum(r.param_checksum) ? r.param_checksum : null));
  const have = sums.filter((x) => x != null);
  const mean = have.length ? have.reduce((a, b) => a + b, 0) / have.length : null;
  const checksums = nodes
    .map((x, i) => ({
      rank: x.id,
      member: x.member,
      value: sums[i],
      delta: sums[i] == null || mean == null ? null : sums[i] - mean,
      bytesSent: recs[i] && isNum(recs[i].bytes_sent) ? recs[i].bytes_sent : null,
    }))
    .filter((x) => x.member);
  const spread = have.length ? Math.max(...have) - Math.min(...have) : null;
  return { name: g.name, n: members.length, slots, members, holes, since: g.step, nodes, edges, step: step || null, source: traffic.source, consensus: at, series, checksums, spread, mean };
}
