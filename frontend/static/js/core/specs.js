// core/specs.js — what the server says a run can be: every strategy's spec and the common settings, fetched once at boot.
//
// What the server says a run can be: every strategy's spec (GET /api/strategies)
// and the common settings (GET /api/schema/config). Fetched once at boot and kept here, so
// the form, the URL, the compare table and the fault menu read the same declarations the
// engine validates with, instead of copies of them.
//
// Everything but loadSpecs() is a pure lookup; node tests fill the store with setSpecs().

let strategies = [];
let fields = [];
let limits = {};
let datasets = {};

/** Replace the store (boot, or a test with hand-made specs). */
export function setSpecs(strategyList, configSchema) {
  strategies = Array.isArray(strategyList) ? strategyList : [];
  fields = Array.isArray(configSchema && configSchema.fields) ? configSchema.fields : [];
  limits = (configSchema && configSchema.limits) || {};
  datasets = (configSchema && configSchema.datasets) || {};
}

/** Fetch both documents (`request` is api.request); {ok, status, data} of the first failure. */
export async function loadSpecs(request) {
  const [s, c] = await Promise.all([request("GET", "/api/strategies"), request("GET", "/api/schema/config")]);
  if (!s.ok) return s;
  if (!c.ok) return c;
  setSpecs(s.data, c.data);
  return { ok: true };
}

export const strategyList = () => strategies;
export const strategySpec = (name) => strategies.find((s) => s.name === name) || null;
export const commonFields = () => fields;
export const commonField = (name) => fields.find((f) => f.name === name) || null;
export const configLimits = () => limits;
/** The data sets a model learns from ({mlp: [spirals, …], transformer: [text-en, …]}), or null. */
export const datasetsFor = (model) => datasets[model] || null;

/** What fault `action` does to a process of `strategy` where its spec says so ({text,
 *  glyph}: GFS's corrupt flips a byte on disk, not a gradient), or null: the default words. */
export function faultEffect(strategy, action) {
  const spec = strategySpec(strategy);
  return (spec && spec.fault_effects && spec.fault_effects[action]) || null;
}

/** A text of the API ({en, zh}, or a plain string) in `lang`; English when it lacks one. */
export function textIn(text, lang) {
  if (text == null) return "";
  if (typeof text === "string") return text;
  return text[lang] ?? text.en ?? "";
}

/** {name: default} of a list of field descriptions (common fields or a spec's options). */
export function defaultsOf(list) {
  const out = {};
  for (const f of list || []) out[f.name] = f.default;
  return out;
}

/** The options of a strategy with their defaults (an empty object for an unknown one). */
export function optionDefaults(strategy) {
  const spec = strategySpec(strategy);
  return spec ? defaultsOf(spec.options) : {};
}

/** A strategy option's description, or null. */
export function optionSpec(strategy, name) {
  const spec = strategySpec(strategy);
  return (spec && spec.options.find((o) => o.name === name)) || null;
}

/** What a field of the run form allows: a common setting (workers within the strategy's
 *  range too) or one of the strategy's options; null for an unknown name. */
export function fieldSpec(spec, name) {
  const common = commonField(name);
  if (common && name === "workers" && spec && spec.workers) {
    const max = common.max == null ? spec.workers.max : Math.min(common.max, spec.workers.max);
    return { ...common, min: Math.max(common.min ?? spec.workers.min, spec.workers.min), max };
  }
  if (common) return common;
  return (spec && spec.options.find((o) => o.name === name)) || null;
}

/** Is an option meaningful with these option values (its `shown_when` holds)? */
export function isShown(option, values) {
  const when = option && option.shown_when;
  if (!when) return true;
  return Object.entries(when).every(([other, allowed]) => allowed.includes(values ? values[other] : undefined));
}

/** The options a run sends: every option of the spec, a hidden one at its default (the
 *  engine refuses some knobs outside their mode, e.g. backup workers without backup). */
export function sendableOptions(spec, values) {
  const out = {};
  if (!spec) return out;
  for (const o of spec.options) {
    const v = values && o.name in values ? values[o.name] : o.default;
    out[o.name] = isShown(o, values) ? v : o.default;
  }
  return out;
}

/** The label of a choice's value (`field` a description with `choices`), or null. */
export function choiceText(field, value, lang) {
  const c = field && Array.isArray(field.choices) ? field.choices.find((x) => x.value === value) : null;
  return c ? textIn(c.label, lang) : null;
}

/** Why a fault action or a recovery policy is not available for this strategy and these
 *  options, or null when it is: {unsupported: true} when the spec does not list it at
 *  all, else {because} (the spec's reason) when an option has the wrong value. Mirrors
 *  StrategySpec.why_not, reading the spec the server published. */
export function whyNot(spec, kind, name, options) {
  if (!spec) return null;
  const table = (kind === "fault" ? spec.faults : spec.recoveries) || {};
  if (!(name in table)) return { unsupported: true };
  const needs = table[name];
  if (!needs) return null;
  const unmet = Object.entries(needs.values || {}).some(([k, allowed]) => !allowed.includes((options || {})[k]));
  return unmet ? { because: needs.because } : null;
}

/** Is this a strategy with more than one process to coordinate (stragglers, faults…)? */
export const isDistributed = (spec) => !!spec && spec.workers.max > 1;

// Two choices of the page, not of the engine: it opens on data parallelism (when the server
// has it), and at a pace a class can follow instead of the API's full speed.
const FIRST_STRATEGY = "data_parallel";
const FORM_PACE = 10;

/** The strategy the form starts with. */
export function firstStrategy() {
  return strategySpec(FIRST_STRATEGY) ? FIRST_STRATEGY : strategies[0] ? strategies[0].name : FIRST_STRATEGY;
}

/** The form's starting config for a strategy: every common setting at the schema's default
 *  (pace aside), the strategy's options at theirs, no link overrides, no scheduled faults. */
export function formDefaults(strategy = firstStrategy()) {
  return { strategy, options: optionDefaults(strategy), ...defaultsOf(fields), pace: FORM_PACE, links: [], faults: [] };
}

/** A config on top of another: `over`'s options add to `base`'s, unless `over` changes the
 *  strategy (then they replace them, on that strategy's defaults). */
export function mergeConfig(base, over) {
  const b = base || {};
  const o = over || {};
  const strategy = o.strategy ?? b.strategy;
  const options = strategy === b.strategy ? { ...(b.options || {}), ...(o.options || {}) } : { ...optionDefaults(strategy), ...(o.options || {}) };
  return { ...b, ...o, strategy, options };
}
