// views/fielderrors.js — a refused value said next to its field, in the page's language: the form's own check against the schema before a run is posted, and a 422 from the server mapped onto the same fields.
//
// A message is kept as catalog calls ({key, vars, range}), not as text, so a switch of
// language redraws it. The pure functions (node tests) say what a field allows and why a
// value or a server error is refused; createFieldErrors() draws them: the field gets
// aria-invalid="true" and, inside its label, <span data-testid="field-error-<name>">.

import { t } from "../core/i18n.js";

const isNum = (f) => f && (f.type === "int" || f.type === "float");

/** Pure: what a numeric field allows ({type, min, max, exclusive_min}), as a catalog call
 *  [key, vars], or null when it has no bounds. */
export function allowedRange(field) {
  if (!isNum(field)) return null;
  const { min, max } = field;
  const lo = min != null;
  const hi = max != null;
  if (lo && field.exclusive_min) return hi ? ["form.range.aboveAtMost", { min, max }] : ["form.range.above", { min }];
  if (lo && hi) return ["form.range.between", { min, max }];
  if (lo) return ["form.range.atLeast", { min }];
  if (hi) return ["form.range.atMost", { max }];
  return null;
}

/** Pure: why `value` (as the form reads it: a number, null, or the raw text) is not one
 *  that `field` allows, as a message {key, vars?, range?}, or null when it is. */
export function checkValue(field, value) {
  if (!field) return null;
  const range = allowedRange(field);
  if (value == null || value === "") return field.nullable ? null : { key: "form.err.required" };
  if (isNum(field)) {
    const whole = field.type === "int";
    if (typeof value !== "number" || !Number.isFinite(value) || (whole && !Number.isInteger(value))) {
      return { key: whole ? (range ? "form.err.int" : "form.err.intOnly") : range ? "form.err.number" : "form.err.numberOnly", range };
    }
    const low = field.min != null && (field.exclusive_min ? value <= field.min : value < field.min);
    const high = field.max != null && value > field.max;
    return low || high ? { key: "form.err.range", range } : null;
  }
  if (field.type === "choice" && Array.isArray(field.choices) && !field.choices.some((c) => c.value === value)) {
    return { key: "form.err.choice" };
  }
  return null;
}

/** Pure: a message in words (`tr` is t, or a test's). */
export function messageText(msg, tr = t) {
  if (!msg) return "";
  if (msg.raw != null) return tr("form.err.server", { msg: msg.raw });
  const range = msg.range ? tr(...msg.range) : "";
  return tr(msg.key, { ...(msg.vars || {}), range });
}

/** Pure: the errors of a 422 body, each {field, message, type}; `field` is a dotted path
 *  ("batch_size", "options.servers", "faults[0].rank"; "" when none). Reads the API's
 *  `errors` list, or FastAPI's own `detail` list of {loc, msg, type}. */
export function apiErrors(data) {
  if (!data) return [];
  if (Array.isArray(data.errors)) {
    return data.errors.map((e) => ({ field: String(e.field || ""), message: String(e.message || ""), type: String(e.type || "") }));
  }
  if (Array.isArray(data.detail)) {
    return data.detail.map((e) => {
      const loc = ((e && e.loc) || []).filter((p) => !["body", "query", "path"].includes(p));
      const field = loc.reduce((s, p) => (typeof p === "number" ? `${s}[${p}]` : s ? `${s}.${p}` : String(p)), "");
      return { field, message: String((e && e.msg) || "").replace(/^Value error, /, ""), type: String((e && e.type) || "") };
    });
  }
  return [];
}

const NUM = "(-?\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?)";
const num = (s) => Number(s);

/**
 * Pure: a server error in the form's terms: {name, msg} — `name` the form's field
 * ("batch_size", "servers" for options.servers, "faults" / "links" for a row of those
 * tables), `msg` a message as checkValue's, or {raw} when its words are not understood;
 * null when the error is tied to no field.
 * @param {{field: string, message: string, type: string}} err  one of apiErrors()
 * @param {(name: string) => object|null} specOf  the schema field or option of a name
 * @param {object} config  the config that was sent (for rules between fields)
 */
export function explainApiError(err, specOf, config = {}) {
  const path = err.field || "";
  if (!path) return null;
  const text = err.message || "";
  let name = path.startsWith("options.") ? path.slice("options.".length) : path;
  const table = /^(faults|links)\[\d+\]/.exec(name);
  if (table) name = table[1];
  // rules between fields, said at the field the student changes
  if (name === "num_samples" && /workers\s*×\s*batch_size/.test(text)) {
    const n = Number(config.num_samples);
    const workers = Number(config.workers);
    if (n > 0 && workers > 0) {
      return { name: "batch_size", msg: { key: "form.err.batchTotal", vars: { n, workers, max: Math.floor(n / workers) } } };
    }
  }
  const needs = /needs (latency_us|bandwidth_gbps)\b/.exec(text);
  if (name === "network" && needs) return { name: needs[1], msg: { key: "form.err.required" } };

  const spec = table ? null : specOf(name);
  const between = new RegExp(`between ${NUM} and ${NUM}`).exec(text);
  if (between) return { name, msg: { key: "form.err.range", range: ["form.range.between", { min: num(between[1]), max: num(between[2]) }] } };
  const rangeTypes = ["less_than_equal", "greater_than_equal", "greater_than", "less_than"];
  if (rangeTypes.includes(err.type)) {
    const own = allowedRange(spec);
    if (own) return { name, msg: { key: "form.err.range", range: own } };
    const bound = new RegExp(NUM).exec(text);
    if (bound) {
      const v = num(bound[1]);
      const range = {
        less_than_equal: ["form.range.atMost", { max: v }],
        greater_than_equal: ["form.range.atLeast", { min: v }],
        greater_than: ["form.range.above", { min: v }],
        less_than: ["form.range.below", { max: v }],
      }[err.type];
      return { name, msg: { key: "form.err.range", range } };
    }
  }
  if (/^(int_|float_)/.test(err.type)) {
    const range = allowedRange(spec);
    const whole = err.type.startsWith("int_");
    return { name, msg: { key: whole ? (range ? "form.err.int" : "form.err.intOnly") : range ? "form.err.number" : "form.err.numberOnly", range } };
  }
  if (err.type === "missing") return { name, msg: { key: "form.err.required" } };
  if (err.type === "literal_error" || err.type === "enum") return { name, msg: { key: "form.err.choice" } };
  return { name, msg: { raw: text.replace(new RegExp(`^${path.replace(/[[\].]/g, "\\$&")}:\\s*`), "") } };
}

/**
 * The messages on the form.
 * @param {object} o
 * @param {HTMLElement} o.summary  the form's error box (the run buttons' note)
 * @param {(name: string) => {input: HTMLElement, box: HTMLElement, label: string}|null} o.locate
 *   a field's control, the element its message goes in, and its label
 * @param {(name: string) => object|null} o.specOf  what a field allows (schema or option)
 * @param {(el: HTMLElement) => *} o.valueOf  the value a control stands for
 */
export function createFieldErrors({ summary, locate, specOf, valueOf }) {
  const shown = new Map(); // name → {msg, input, box, node, server}
  const watched = new WeakSet();
  let extra = ""; // the server's words for errors tied to no field

  function node(name, box) {
    let el = box.querySelector(`:scope > .field-error[data-name="${name}"]`);
    if (!el) {
      el = document.createElement("span");
      el.className = "field-error";
      el.dataset.name = name;
      el.id = `field-error-${name}`;
      el.setAttribute("data-testid", `field-error-${name}`);
      box.append(el);
    }
    return el;
  }

  function drawSummary() {
    const labels = [...shown.values()].map((e) => e.label).filter(Boolean);
    const parts = [];
    if (labels.length) parts.push(t("form.err.summary", { list: labels.join(t("list.comma")) }));
    if (extra) parts.push(extra);
    summary.textContent = parts.join(" ");
    summary.hidden = !parts.length;
  }

  function watch(name, input) {
    if (watched.has(input)) return;
    watched.add(input);
    const recheck = () => {
      const e = shown.get(input.dataset.errorName);
      if (!e) return;
      // a refusal of the server's is gone once the value changes; the form's own once
      // the value is allowed
      if (e.server || !checkValue(specOf(input.dataset.errorName), valueOf(input))) clear(input.dataset.errorName);
    };
    input.addEventListener("input", recheck);
    input.addEventListener("change", recheck);
  }

  function show(name, msg, { server = false } = {}) {
    const where = locate(name);
    if (!where) return false;
    const { input, box, label } = where;
    const el = node(name, box);
    el.textContent = messageText(msg);
    el.hidden = false;
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", el.id);
      input.dataset.errorName = name;
      watch(name, input);
    }
    const section = box.closest("details");
    if (section && !section.open) section.open = true;
    shown.set(name, { msg, input, box, node: el, server, label });
    return true;
  }

  function clear(name) {
    const e = shown.get(name);
    if (!e) return;
    shown.delete(name);
    e.node.hidden = true;
    e.node.textContent = "";
    if (e.input) {
      e.input.removeAttribute("aria-invalid");
      e.input.removeAttribute("aria-describedby");
    }
    drawSummary();
  }

  function clearAll() {
    for (const name of [...shown.keys()]) clear(name);
    extra = "";
    drawSummary();
  }

  /** The form's own check: `names` are the fields on show. True when all are allowed. */
  function check(names) {
    clearAll();
    for (const name of names) {
      const where = locate(name);
      if (!where || !where.input) continue;
      const msg = checkValue(specOf(name), valueOf(where.input));
      if (msg) show(name, msg);
    }
    drawSummary();
    focusFirst();
    return shown.size === 0;
  }

  function focusFirst() {
    const first = [...shown.values()][0];
    if (!first) return;
    first.box.scrollIntoView({ block: "nearest" });
    if (first.input && first.input.focus) first.input.focus({ preventScroll: true });
  }

  /** A refused run: its field errors go to their fields; true when every error found
   *  one (`fallback` is the server's message, shown for the others). */
  function fromApi(data, config, fallback) {
    clearAll();
    const errors = apiErrors(data);
    const loose = [];
    for (const err of errors) {
      const x = explainApiError(err, specOf, config);
      if (!x || !show(x.name, x.msg, { server: true })) loose.push(err.field ? `${err.field}: ${err.message}` : err.message);
    }
    if (!errors.length) loose.push(fallback);
    extra = loose.filter(Boolean).join("; ");
    drawSummary();
    focusFirst();
    return !loose.length;
  }

  /** Redraw every message in the page's language. */
  function relocalize() {
    for (const [name, e] of shown) {
      e.node.textContent = messageText(e.msg);
      const where = locate(name);
      if (where) e.label = where.label;
    }
    if (shown.size) drawSummary();
  }

  return {
    check,
    fromApi,
    clearAll,
    relocalize,
    get size() {
      return shown.size;
    },
  };
}
