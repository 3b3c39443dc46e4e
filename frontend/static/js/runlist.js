// runlist.js — the "Past runs" list kept in step with the run on screen. The list comes
// from GET /api/runs (polled every 10 s); the loaded run's own events say sooner when it
// ends. A list fetched just as the run finished can still say "running": the events win.

import { TERMINAL_STATUSES } from "./state.js";

/**
 * Pure: `runs` with the entry of run `id` given the status (and step) the page knows from
 * that run's events. A terminal status from the events is never overwritten by a live one
 * from the server; a terminal status from the server stays. Returns {runs, changed}.
 */
export function mergeRunStatus(runs, id, status, step = null) {
  const i = id ? runs.findIndex((r) => r.id === id) : -1;
  if (i < 0 || !status || status === "none") return { runs, changed: false };
  const cur = runs[i];
  if (TERMINAL_STATUSES.includes(cur.status) && !TERMINAL_STATUSES.includes(status)) return { runs, changed: false };
  const nextStep = Number.isInteger(step) && step > (cur.step || 0) ? step : cur.step;
  if (cur.status === status && nextStep === cur.step) return { runs, changed: false };
  const out = [...runs];
  out[i] = { ...cur, status, step: nextStep };
  return { runs: out, changed: true };
}
