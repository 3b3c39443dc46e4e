// core/log.js — append-only logs: the reducer's per-rank histories, shared between state versions.
//
// Per-rank histories can hold tens of thousands of step records, so copying arrays on
// every event would make a replay quadratic. They are append-only "logs" that share one
// backing array between versions: a log is `{items, length}` and every reader looks at
// `items[0 .. length)` only. Appending to the newest version pushes onto the shared
// array (older versions keep their shorter `length` and see nothing new); appending to
// an older version copies first. Observably pure, O(1) amortised.

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
export function lowerBound(log, step) {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (log.items[mid].step < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A finite number? (NaN, ±Infinity and strings are not.) */
export function isNum(x) {
  return typeof x === "number" && Number.isFinite(x);
}

/** A sorted copy of the sorted numbers `xs` with `x` added. */
export function addSorted(xs, x) {
  return [...xs, x].sort((a, b) => a - b);
}
