// core/comm.js — `comm` events (one per point-to-point message): the reducer's part, and the traffic they add up to.

import { emptyLog, isNum, logAppend, logToArray, lowerBound } from "./log.js";
import { completeStep, stepRanks } from "./selectors.js";

// Messages of the newest COMM_WINDOW steps are kept one by one (for the packet animation
// and for values "as of" a step that is still completing); older steps are folded into
// running totals, so memory stays small however long the run is.
const COMM_WINDOW = 4;

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

/** The state fields of comm events (part of core/reducer.js's initialState). */
export function initialComm() {
  return {
    comm: null, // {step, count, bytes} for the newest step with comm events
    numCommEvents: 0,
    commAlgo: null, // algorithm named by the step-time comm events (ring, tree, naive, builtin)
    commSteps: {}, // step -> log of messages, for the newest COMM_WINDOW steps
    commFolded: emptyTraffic(), // totals of the older steps
    setupTraffic: emptyTraffic(), // messages outside any step (the initial weight broadcast)
  };
}

/** Pure: the state after a `comm` event (`base`: the state with its counters moved on). */
export function applyComm(state, base, event, seq) {
  const rank = event.rank;
  const msg = {
    rank,
    op: event.op ?? null,
    src: event.src ?? rank ?? null,
    dst: event.dst ?? null,
    bytes: isNum(event.bytes) ? event.bytes : 0,
    chunk: event.chunk ?? null,
    round: Number.isInteger(event.round) ? event.round : null, // a hand-written collective's round
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

// ---------------------------------------------------------------- selectors

/** The messages of one step, in arrival order. */
export function stepMessages(state, step) {
  const log = state.commSteps[step];
  return log ? logToArray(log) : [];
}

/**
 * Traffic carried by the `comm` events of every step <= uptoStep (default: the newest
 * step all ranks finished): {links: {"s>d": {src, dst, bytes, count}}, ranks: {r: {sent,
 * recv, sentMsgs, recvMsgs}}, steps, messages}. Set-up traffic is not included.
 */
export function linkTraffic(state, uptoStep = completeStep(state)) {
  // The views ask for the same totals several times a render (the links, the labels, the
  // bytes card): the state is immutable, so the answer is kept per (window, folded, step).
  let memo = trafficMemo.get(state.commSteps);
  if (!memo || memo.folded !== state.commFolded) {
    memo = { folded: state.commFolded, byStep: new Map() };
    trafficMemo.set(state.commSteps, memo);
  }
  let tr = memo.byStep.get(uptoStep);
  if (!tr) {
    tr = sumTraffic(state, uptoStep);
    memo.byStep.set(uptoStep, tr);
  }
  return tr;
}

const trafficMemo = new WeakMap(); // state.commSteps -> {folded, byStep: Map(step -> totals)}

function sumTraffic(state, uptoStep) {
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
