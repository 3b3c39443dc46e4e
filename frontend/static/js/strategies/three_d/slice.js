// strategies/three_d/slice.js — 3-D parallelism's reducer slice and selectors: the mesh (every rank's coordinates and groups) and the bytes each step sent over each kind of group.
//
// The leader sends the mesh once (`mesh`: engine/strategies/three_d.py); every step event
// carries `coords` [d, p, t] and `sent_by_group` {data, pipeline, tensor} (bytes this rank
// sent over each of its three groups, measured by engine/comms.py). The pipeline's
// schedule grid (strategies/pipeline/) draws the pipeline of replica 0, slice 0: the
// ranks this slice names in `scheduleRanks`.

export const THREE_D = "three_d";
export const KINDS = ["tensor", "pipeline", "data"]; // innermost first, as the ranks are laid out
const KEEP_STEPS = 8;

export function isThreeD(state) {
  return state.strategy === THREE_D || !!(state.config && state.config.strategy === THREE_D);
}

function of(state) {
  return state.threeD || { mesh: null, steps: {} };
}

/** The mesh, once, from the leader. */
function mesh(state, base, event) {
  const m = { dp: event.dp, pp: event.pp, tp: event.tp, ranks: Array.isArray(event.ranks) ? event.ranks : [] };
  return { ...base, threeD: { ...of(state), mesh: m } };
}

/** A rank's step: what it sent over each group (the newest KEEP_STEPS steps). */
function afterStep(state, next, event) {
  if (!isThreeD(state) || !event.sent_by_group || !Number.isInteger(event.step)) return next;
  const s = of(state);
  const row = { sent: event.sent_by_group, coords: event.coords || null };
  const steps = { ...s.steps, [event.step]: { ...(s.steps[event.step] || {}), [event.rank]: row } };
  const keys = Object.keys(steps).map(Number).sort((a, b) => a - b);
  for (const k of keys.slice(0, Math.max(0, keys.length - KEEP_STEPS))) delete steps[k];
  return { ...next, threeD: { ...s, steps } };
}

/** The pipeline the schedule grid draws: rank 0's pipeline group (replica 0, slice 0). */
function scheduleRanks(state) {
  if (!isThreeD(state)) return null;
  const m = of(state).mesh;
  return m && m.ranks.length ? m.ranks[0].groups.pipeline : null;
}

export const slice = {
  events: { mesh },
  after: { step: afterStep },
  initial: { threeD: null },
  scheduleRanks,
};

// ---------------------------------------------------------------- selectors

/** What the mesh card draws, or null: the mesh, and the newest step every rank reported
 *  with its bytes per group (per rank, and summed over the run). */
export function meshView(state) {
  if (!isThreeD(state) || !state.threeD || !state.threeD.mesh) return null;
  const { mesh: m, steps } = state.threeD;
  const n = m.ranks.length;
  const done = Object.keys(steps).map(Number).sort((a, b) => b - a).find((k) => Object.keys(steps[k]).length >= n);
  const traffic = done === undefined ? null : { step: done, byRank: steps[done], total: Object.fromEntries(KINDS.map((k) => [k, Object.values(steps[done]).reduce((a, r) => a + (r.sent[k] || 0), 0)])) };
  return { ...m, traffic };
}

/** The three groups of `rank`, as sets, for highlighting. */
export function groupsOf(view, rank) {
  const r = view.ranks.find((x) => x.rank === rank);
  return r ? Object.fromEntries(KINDS.map((k) => [k, new Set(r.groups[k])])) : null;
}
