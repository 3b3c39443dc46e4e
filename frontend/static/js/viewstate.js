// viewstate.js — the page's view state in the URL (besides the form, which controls.js
// writes, `run`/`base` (main.js) and `lang` (i18n.js)): presenter mode (big=1), hidden
// controls (hide=1), the loss chart's x axis (x=time), the timeline's clock (tl=compact
// for "hide idle", tl=modelled for the modelled network) and the scrubbed step when not
// following live (at=12). Every other parameter is kept as it is (a lesson helper adds
// lesson=…). Pure functions on URLSearchParams, so node --test checks them.

/** Keys 1–9: steps per second, for a live run's pace (set_pace) and for replay alike. */
export const KEY_SPEEDS = [1, 2, 3, 5, 8, 10, 15, 20, 30];

export function speedForKey(key) {
  const n = /^[1-9]$/.test(String(key)) ? Number(key) : 0;
  return n ? KEY_SPEEDS[n - 1] : null;
}

/** The timeline's clocks; the first is the default (not written to the URL). */
export const TIMELINE_MODES = ["wall", "compact", "modelled"];

/** {presenter, hide, x, tl, at} from URL parameters (bad values fall back to defaults). */
export function viewParamsFrom(q) {
  const at = Number(q.get("at"));
  const tl = q.get("tl");
  return {
    presenter: q.get("big") === "1",
    hide: q.get("hide") === "1",
    x: q.get("x") === "time" ? "time" : "step",
    tl: TIMELINE_MODES.includes(tl) ? tl : "wall",
    at: Number.isInteger(at) && at >= 1 ? at : null,
  };
}

/** Write the given view fields into `q` (defaults are removed, so links stay short). */
export function writeViewParams(q, v) {
  const put = (k, on, value) => (on ? q.set(k, value) : q.delete(k));
  if ("presenter" in v) put("big", !!v.presenter, "1");
  if ("hide" in v) put("hide", !!v.hide, "1");
  if ("x" in v) put("x", v.x === "time", "time");
  if ("tl" in v) put("tl", TIMELINE_MODES.includes(v.tl) && v.tl !== "wall", v.tl);
  if ("at" in v) put("at", Number.isInteger(v.at) && v.at >= 1, String(v.at));
  return q;
}
