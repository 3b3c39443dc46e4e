// views/placementtable.js — 表7 (chapter 7: storing the training data) as data: for each compared GFS run, its placement policy, how many replicas the master really moved when the spare joined and when chunkserver 1 left, the balance (replicas per server, max / mean) after each, and the scrub that verified every replica. Pure: no DOM (placementcard.js draws it).
//
// Everything is read from the run's own events (strategies/gfs/membership.js reduces
// them): nothing here recomputes a placement, so the table shows what the processes did.

import { isGfs } from "../strategies/gfs/slice.js";
import { membershipView } from "../strategies/gfs/membership.js";

/** One change (join or leave): what it moved, or why there is nothing to show. */
function changeRow(v, reason) {
  const c = v[reason];
  if (!c) return { reason: reason === "join" ? "noJoin" : "noLeave" };
  return {
    moved: c.moved,
    total: c.total,
    fraction: c.total ? c.moved / c.total : 0,
    chunks: c.chunks,
    bytes: c.bytes,
    server: c.server,
    step: c.step,
    verified: c.verified,
    balance: c.balance ? { ratio: c.balance.ratio, max: c.balance.max, mean: c.balance.mean, servers: c.balance.counts.length } : null,
    scrub: c.scrub ? { full: c.scrub.full, verified: c.scrub.verified, bad: c.scrub.bad.length } : null,
  };
}

/**
 * One row per run: {gfs: false} for a run that is not GFS; else the policy, vnodes, the
 * balance as written, and the join and leave (each {reason} when the run had none).
 */
export function placementRow(state) {
  if (!isGfs(state)) return { gfs: false };
  const v = membershipView(state);
  if (!v) return { gfs: true, policy: null };
  const w = v.written;
  return {
    gfs: true,
    policy: v.policy,
    vnodes: v.vnodes,
    written: w ? { ratio: w.ratio, max: w.max, mean: w.mean, servers: w.counts.length } : null,
    join: changeRow(v, "join"),
    leave: changeRow(v, "leave"),
  };
}

/** Whether a compare view of these runs shows 表7 at all (any GFS run). */
export const showsPlacement = (states) => states.some((s) => isGfs(s));
