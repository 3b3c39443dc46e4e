// viewstate.js — the page's view state in the URL (besides the form, which controls.js
// writes, `run`/`base` (main.js) and `lang` (i18n.js)): presenter mode (big=1), hidden
// controls (hide=1), the loss chart's x axis (x=time) and the scrubbed step when not
// following live (at=12). Every other parameter is kept as it is (a lesson helper adds
// lesson=…). Pure functions on URLSearchParams, so node --test checks them.

/** Keys 1–9: steps per second, for a live run's pace (set_pace) and for replay alike. */
export const KEY_SPEEDS = [1, 2, 3, 5, 8, 10, 15, 20, 30];

export function speedForKey(key) {
  const n = /^[1-9]$/.test(String(key)) ? Number(key) : 0;
  return n ? KEY_SPEEDS[n - 1] : null;
}

/** {presenter, hide, x, at} from URL parameters (bad values fall back to defaults). */
export function viewParamsFrom(q) {
  const at = Number(q.get("at"));
  return {
    presenter: q.get("big") === "1",
    hide: q.get("hide") === "1",
    x: q.get("x") === "time" ? "time" : "step",
    at: Number.isInteger(at) && at >= 1 ? at : null,
  };
}

/** Write the given view fields into `q` (defaults are removed, so links stay short). */
export function writeViewParams(q, v) {
  const put = (k, on, value) => (on ? q.set(k, value) : q.delete(k));
  if ("presenter" in v) put("big", !!v.presenter, "1");
  if ("hide" in v) put("hide", !!v.hide, "1");
  if ("x" in v) put("x", v.x === "time", "time");
  if ("at" in v) put("at", Number.isInteger(v.at) && v.at >= 1, String(v.at));
  return q;
}
