// strategies/collectives/index.js — the MPI collectives playground's frontend, as registered with core/registry.js: its slice, words, view, narration and names.

import catalog from "./catalog.js";
import { fmtBytes, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { algoName, collName } from "./card.js";
import { COLL, collectivesView, isCollectives, slice } from "./slice.js";
import { views } from "./views.js";

/** The line of a step: the collective, its rounds and bytes, and the check. */
function narrate(state, s) {
  if (!isCollectives(state)) return null;
  const v = collectivesView(state, s.step);
  if (!v || !v.step) return null;
  const sent = v.ranks.map((r) => r.sent).filter((x) => x != null);
  return t("narr.coll", {
    step: v.step,
    collective: collName(v.collective),
    algo: algoName(v.algorithm),
    n: v.n,
    rounds: v.rounds.length || "–",
    bytes: fmtBytes(sent.reduce((a, b) => a + b, 0)),
    ok: v.ranks.every((r) => !r.error) ? t("coll.narrOk") : t("coll.narrBad"),
  });
}

/** What a lesson's reveal says the run measured, from its last step's events: the bytes
 *  each rank sent (the formula's N, 2(n−1)/n·N, … as the comms module counted them), the
 *  rounds and messages, and the check against the one-process result. */
function measuredLines(state) {
  if (!isCollectives(state)) return null;
  const v = collectivesView(state);
  if (!v || !v.step) return null;
  const out = [t("coll.measuredSent", { step: v.step, collective: collName(v.collective), algo: algoName(v.algorithm), per: v.ranks.map((r) => `${r.rank}: ${r.sent == null ? "–" : fmtBytes(r.sent)}`).join(" · "), n: v.n, N: fmtBytes(v.bytes) })];
  if (v.rounds.length) out.push(t("coll.measured", { step: v.step, rounds: v.rounds.length, critical: fmtBytes(v.critical), messages: v.rounds.reduce((a, r) => a + r.messages.length, 0) }));
  out.push(t(v.ranks.every((r) => !r.error) ? "coll.measuredOk" : "coll.measuredBad"));
  return out;
}

/** The run in a few words (run list, overlay): "Collectives · all-reduce (ring)". */
function runWords(c, form) {
  const o = optionsOf(c || {});
  const s = t("strategy.collShort");
  if (!(form === "overlay" || form === "list" || form === "name") || !o.collective) return s;
  return `${s} · ${collName(o.collective)}${o.algorithm && o.algorithm !== "auto" ? ` (${algoName(o.algorithm)})` : ""}`;
}

/** The middle of the workers' ring: the collective that runs ("All-reduce"). */
function topologyCentre(state) {
  const v = isCollectives(state) ? collectivesView(state) : null;
  return v ? collName(v.collective) : null;
}

function articleKind(state) {
  return isCollectives(state) ? COLL : null;
}

function articleKeys(kind) {
  return kind === COLL ? { title: "article.collTitle", body: "article.coll", views: "article.viewsColl", tail: "tail.explainColl" } : null;
}

export default { name: COLL, slice, catalog, views, narrate, measuredLines, runWords, topologyCentre, articleKind, articleKeys };
