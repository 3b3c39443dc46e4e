// views/formrules.js — the run form's rules in words: why a fault or a recovery policy is unavailable, the notes under a strategy's options.

import { getLang, t } from "../core/i18n.js";
import { frontendOf } from "../core/registry.js";
import { textIn, whyNot } from "../core/specs.js";

/** whyNot's answer in words: the spec's own reason, or "<what> is not available with X". */
function reasonText(spec, why, what, tr, lang) {
  if (!why) return null;
  if (why.unsupported) return tr("form.notWith", { what, strategy: textIn(spec.title, lang) });
  return textIn(why.because, lang);
}

/** Why each recovery policy of `choices` cannot be chosen, or null when it can. The
 *  strategy's spec says which it supports (and with which options); two rules hold for
 *  every strategy: restart needs checkpoints, shrink needs someone to survive. */
export function recoveryBlocks({ spec, options, workers, checkpointEvery, choices }, tr = t, lang = getLang()) {
  const out = {};
  for (const name of choices) {
    let why = reasonText(spec, whyNot(spec, "recovery", name, options), tr("recovery.short." + name), tr, lang);
    if (!why && name === "restart" && (checkpointEvery == null || checkpointEvery === "")) why = tr("elastic.why.restartK");
    if (!why && name === "shrink" && !(Number(workers) >= 2)) why = tr("elastic.why.shrink2");
    out[name] = why;
  }
  return out;
}

/** The fault actions of a strategy in its spec's order, each with why it is unavailable
 *  with these options (null: available). */
export function faultChoices(spec, options, tr = t, lang = getLang()) {
  return Object.keys((spec && spec.faults) || {}).map((name) => ({
    name,
    why: reasonText(spec, whyNot(spec, "fault", name, options), tr("elastic.action." + name), tr, lang),
  }));
}

/** Words under the strategy's options, from its frontend (data parallelism: what a
 *  compression sends, {hint}, and a warning the server would give as a 422, {note}). */
export function optionNotes(strategy, options) {
  const fe = frontendOf(strategy);
  return fe && fe.optionNotes ? fe.optionNotes(options) : { hint: null, note: null };
}
