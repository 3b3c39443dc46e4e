// strategies/gfs/membership.js — GFS's membership changes in the reducer: who is in the placement, each chunk the master moved when a spare joined or chunkserver 1 left, what each change cost, the balance, and the scrub that verified every replica afterwards.
//
// The events (engine/strategies/gfs_membership.py): `gfs_members` (start, join, leave),
// `gfs_move` per copy (crc32 verified), `gfs_rebalance` per change (replicas moved, chunks
// touched, bytes), `gfs_balance` (replicas per server, max / mean), `gfs_scrub`.

import { isNum } from "../../core/log.js";

const EMPTY = { policy: null, vnodes: null, members: [], outside: [], retired: [], moves: [], rebalances: [], balances: [], scrubs: [] };

const of = (state) => state.gfsMembers || EMPTY;
const put = (base, state, fields) => ({ ...base, gfsMembers: { ...of(state), ...fields } });
const list = (v) => (Array.isArray(v) ? v.slice() : []);
const stepOf = (e) => (Number.isInteger(e.step) ? e.step : 0);

function members(state, base, e) {
  const m = of(state);
  const retired = e.reason === "leave" && isNum(e.server) ? [...m.retired, e.server] : m.retired;
  return put(base, state, { policy: String(e.policy), vnodes: e.vnodes, members: list(e.members), outside: list(e.outside), retired });
}

function move(state, base, e) {
  const mv = { chunk: e.chunk, src: e.src, dst: e.dst, bytes: isNum(e.bytes) ? e.bytes : 0, verified: !!e.verified, reason: String(e.reason), step: stepOf(e) };
  return put(base, state, { moves: [...of(state).moves, mv] });
}

function rebalance(state, base, e) {
  const r = { reason: String(e.reason), server: e.server, policy: String(e.policy), moved: e.moved, planned: e.planned, chunks: e.chunks, deleted: e.deleted, bytes: e.bytes, total: e.total, fraction: e.fraction, step: stepOf(e) };
  return put(base, state, { rebalances: [...of(state).rebalances, r] });
}

function balanceEvent(state, base, e) {
  const b = { reason: String(e.reason), counts: list(e.counts).map(list), max: e.max, mean: e.mean, ratio: e.ratio, step: stepOf(e) };
  return put(base, state, { balances: [...of(state).balances, b] });
}

function scrub(state, base, e) {
  const s = { reason: String(e.reason), verified: e.verified, bad: list(e.bad), full: !!e.full, under: list(e.under), step: stepOf(e) };
  return put(base, state, { scrubs: [...of(state).scrubs, s] });
}

export const membershipEvents = { gfs_members: members, gfs_move: move, gfs_rebalance: rebalance, gfs_balance: balanceEvent, gfs_scrub: scrub };

/** Pure: the membership changes of a run, or null if it had none and no balance. */
export function membershipView(state) {
  const m = state.gfsMembers;
  if (!m || !m.policy) return null;
  const change = (reason) => {
    const r = m.rebalances.find((x) => x.reason === reason);
    if (!r) return null;
    const scrubbed = m.scrubs.find((s) => s.reason === reason) || null;
    const balance = m.balances.find((b) => b.reason === reason) || null;
    return { ...r, scrub: scrubbed, balance, verified: m.moves.filter((mv) => mv.reason === reason && mv.verified).length };
  };
  return {
    policy: m.policy,
    vnodes: m.vnodes,
    members: m.members,
    outside: m.outside,
    retired: m.retired,
    written: m.balances.find((b) => b.reason === "written") || null,
    join: change("join"),
    leave: change("leave"),
    moves: m.moves,
  };
}
