// core/urlstate.js — the page's state in its URL: every key declared once, here, and written only from here.
//
// The page's state in its URL: every key declared once, here, and written
// only from here (setParams, setFormParams), so a link always restores what it showed.
//
// Two kinds of keys:
// - the page's own (PAGE_KEYS): the run shown, the lesson, the room, the language, the
//   view (presenter, hidden controls, chart axis, timeline clock, scrubbed step)…;
// - the run form's: the strategy, every common setting of GET /api/schema/config and the
//   options of every strategy of GET /api/strategies, under their plain names, so that
//   old links (?strategy=parameter_server&ps_mode=async) keep working. Settings at the
//   form's default stay out of the URL; links and scheduled faults have a compact text.
//
// The parse/format functions are pure (node tests round-trip them); only setParams and
// setFormParams touch `history`.

import { commonFields, firstStrategy, formDefaults, strategyList, strategySpec } from "./specs.js";
import { LINK_FAULT_ACTIONS } from "./faults.js";

/** The timeline's clocks; the first is the default. */
export const TIMELINE_MODES = ["wall", "compact", "modelled"];

// ---------------------------------------------------------------- codecs

const text = { parse: (s) => s || null, format: (v) => (v == null || v === "" ? null : String(v)), default: null };
const flag = { parse: (s) => s === "1", format: (v) => (v ? "1" : null), default: false };
const oneOf = (values, dflt) => ({
  parse: (s) => (values.includes(s) ? s : null),
  format: (v) => (values.includes(v) && v !== dflt ? v : null),
  default: dflt,
});
const atLeast = (min) => ({
  parse: (s) => (s !== "" && Number.isInteger(Number(s)) && Number(s) >= min ? Number(s) : null),
  format: (v) => (Number.isInteger(v) && v >= min ? String(v) : null),
  default: null,
});

/** A positive finite number (the compare view's target loss), else null. */
const positive = {
  parse: (s) => (s !== "" && Number.isFinite(Number(s)) && Number(s) > 0 ? Number(s) : null),
  format: (v) => (Number.isFinite(v) && v > 0 ? String(v) : null),
  default: null,
};

/** `?compare=A,B[,C,D]` → ["A", "B", …] (two to four different non-empty ids) or null. */
export function parseCompare(value) {
  if (!value) return null;
  const ids = String(value)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return ids.length >= 2 && ids.length <= 4 && new Set(ids).size === ids.length ? ids : null;
}

/** The page's keys (who sets them in brackets). */
export const PAGE_KEYS = {
  run: text, // the run shown (main.js)
  base: text, // the run drawn under it: its baseline or a compared run (main.js)
  compare: { parse: parseCompare, format: (ids) => (ids ? ids.join(",") : null), default: null }, // compare.js
  target: positive, // the compare view's target loss, 表9 (views/optimizercard.js; absent: 0.3)
  lesson: text, // the open lesson (lessons.js)
  guess: atLeast(0), // the lesson's prediction, before the run (lessons.js)
  room: text, // the classroom joined (room.js)
  lang: { ...oneOf(["en", "zh"], "en"), default: null }, // absent: the stored language (i18n.js)
  big: { ...flag, default: null }, // presenter mode; absent: the stored choice (main.js)
  hide: flag, // controls hidden (presenter.js)
  x: oneOf(["step", "time"], "step"), // the loss chart's axis (presenter.js)
  tl: oneOf(TIMELINE_MODES, "wall"), // the timeline's clock (presenter.js)
  at: atLeast(1), // the scrubbed step, when not following live (presenter.js)
  scenario: text, // the form's scenario (controls.js)
  baseline: { parse: (s) => s !== "0", format: (v) => (v === false ? "0" : null), default: true }, // controls.js
};

/** Every page key of `q`, parsed; absent or unreadable ones at their default. */
export function readPage(q) {
  const out = {};
  for (const [key, codec] of Object.entries(PAGE_KEYS)) {
    const v = q.has(key) ? codec.parse(q.get(key)) : null;
    out[key] = v ?? codec.default;
  }
  return out;
}

/** Write the given page keys into `q` (defaults and nulls are removed); others stay. */
export function writePage(q, values) {
  for (const [key, v] of Object.entries(values)) {
    const codec = PAGE_KEYS[key];
    if (!codec) throw new Error(`urlstate: unknown key ${key}`);
    const s = codec.format(v);
    if (s == null) q.delete(key);
    else q.set(key, s);
  }
  return q;
}

// ---------------------------------------------------------------- form keys

/** What the student typed when it is not a number: the server explains what is wrong. */
export function numOrRaw(s) {
  if (s === "" || s == null) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

// A setting left unset where the form's default is set (pace: full speed).
const NULL_WORDS = { pace: "full" };
const isNullWord = (s) => s === "none" || s === "full";

/** Codec of one described setting (a common field or a strategy option). */
function settingCodec(f) {
  return {
    parse(s) {
      if (f.nullable && (s === "" || isNullWord(s))) return null;
      if (f.type === "bool") return s === "true" || s === "1";
      if (f.type === "int" || f.type === "float") return numOrRaw(s);
      return s;
    },
    format: (v) => (v == null ? NULL_WORDS[f.name] || "none" : String(v)),
  };
}

/** Link overrides: "0-1:20:1,2-3:50:0.5" (src-dst:latency_us:bandwidth_gbps). */
export function linksToUrl(links) {
  return (links || []).map((l) => `${l.src}-${l.dst}:${l.latency_us}:${l.bandwidth_gbps}`).join(",");
}

export function linksFromUrl(s) {
  const out = [];
  for (const part of String(s || "").split(",")) {
    const m = /^(\d+)-(\d+):([^:]+):([^:]+)$/.exec(part.trim());
    if (m) out.push({ src: Number(m[1]), dst: Number(m[2]), latency_us: numOrRaw(m[3]), bandwidth_gbps: numOrRaw(m[4]) });
  }
  return out;
}

/** Scheduled faults: "10:kill:2,5:slow:1:3,8:delay:0-1:50,9:drop:0-1"
 *  (after_step:action:rank or src-dst[:factor or ms]). */
export function faultsToUrl(faults) {
  return (faults || [])
    .map((f) => {
      const target = LINK_FAULT_ACTIONS.includes(f.action) ? `${f.src}-${f.dst}` : `${f.rank}`;
      const extra = f.action === "slow" ? `:${f.factor}` : f.action === "delay" ? `:${f.ms}` : "";
      return `${f.after_step}:${f.action}:${target}${extra}`;
    })
    .join(",");
}

/** Fault actions some strategy takes (GET /api/strategies); any word before they load. */
function knownAction(action) {
  const specs = strategyList();
  return !specs.length || specs.some((s) => action in (s.faults || {}));
}

export function faultsFromUrl(s) {
  const out = [];
  for (const part of String(s || "").split(",")) {
    const m = /^([^:]+):(\w+):([^:]+)(?::([^:]+))?$/.exec(part.trim());
    if (!m || !knownAction(m[2])) continue;
    const f = { after_step: numOrRaw(m[1]), action: m[2] };
    if (LINK_FAULT_ACTIONS.includes(m[2])) {
      const link = /^(\d+)-(\d+)$/.exec(m[3]);
      if (!link) continue;
      f.src = Number(link[1]);
      f.dst = Number(link[2]);
      if (m[2] === "delay") f.ms = numOrRaw(m[4] ?? "50");
    } else {
      f.rank = numOrRaw(m[3]);
      if (m[2] === "slow") f.factor = numOrRaw(m[4] ?? "5");
    }
    out.push(f);
  }
  return out;
}

const listCodec = (to, from) => ({ parse: from, format: (v) => to(v) || null });
const STRUCTURED = { links: listCodec(linksToUrl, linksFromUrl), faults: listCodec(faultsToUrl, faultsFromUrl) };

/** Every form key there is: the strategy, the common settings, links and faults, and the
 *  options of every strategy (a link may name another strategy's option: it is dropped). */
export function formKeyNames() {
  const names = new Set(["strategy", ...commonFields().map((f) => f.name), ...Object.keys(STRUCTURED)]);
  for (const s of strategyList()) for (const o of s.options) names.add(o.name);
  return [...names];
}

/** The form settings a URL carries: {strategy?, <common>?, links?, faults?, options: {…}}
 *  with only the keys it has (the options of its strategy, or of the first one). */
export function formFromParams(q) {
  const out = {};
  const wanted = q.get("strategy");
  if (wanted && strategySpec(wanted)) out.strategy = wanted;
  for (const f of commonFields()) if (q.has(f.name)) out[f.name] = settingCodec(f).parse(q.get(f.name));
  for (const [name, codec] of Object.entries(STRUCTURED)) if (q.has(name)) out[name] = codec.parse(q.get(name));
  const spec = strategySpec(out.strategy || firstStrategy());
  out.options = {};
  for (const o of spec ? spec.options : []) if (q.has(o.name)) out.options[o.name] = settingCodec(o).parse(q.get(o.name));
  return out;
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Write a form config into `q`: what differs from the form's defaults for its strategy;
 *  every other form key (another strategy's options too) is removed. */
export function formToParams(q, config) {
  for (const name of formKeyNames()) q.delete(name);
  const dflt = formDefaults(config.strategy);
  if (config.strategy !== firstStrategy()) q.set("strategy", config.strategy);
  const put = (name, v, d, codec) => {
    if (same(v, d)) return;
    const s = codec.format(v);
    if (s != null) q.set(name, s);
  };
  for (const f of commonFields()) if (f.name in config) put(f.name, config[f.name], dflt[f.name], settingCodec(f));
  for (const [name, codec] of Object.entries(STRUCTURED)) put(name, config[name], [], codec);
  const spec = strategySpec(config.strategy);
  const opts = config.options || {};
  for (const o of spec ? spec.options : []) if (o.name in opts) put(o.name, opts[o.name], o.default, settingCodec(o));
  return q;
}

/** A link to the page with these page keys only ("?lesson=ring-allreduce"). */
export function pageLink(values) {
  return `?${writePage(new URLSearchParams(), values)}`;
}

// ---------------------------------------------------------------- the page's URL

const here = () => new URLSearchParams(location.search);

function replace(url) {
  if (url.href !== location.href) history.replaceState(null, "", url);
}

/** One page key of the current URL (parsed; its default when absent). */
export function getParam(key) {
  return readPage(here())[key];
}

/** Is a page key in the current URL at all? */
export function hasParam(key) {
  return here().has(key);
}

/** Set page keys of the current URL ({run: id}, {lesson: null}…). */
export function setParams(values) {
  const url = new URL(location.href);
  writePage(url.searchParams, values);
  replace(url);
}

/** The form settings of the current URL (see formFromParams). */
export function formParams() {
  return formFromParams(here());
}

/** Put the form's config (and its scenario and baseline choice) in the current URL. */
export function setFormParams(config, page = {}) {
  const url = new URL(location.href);
  formToParams(url.searchParams, config);
  writePage(url.searchParams, page);
  replace(url);
}
