// strategies/decentralized/index.js — decentralized SGD's frontend, as registered with core/registry.js: its slice, words, views and narration.

import catalog from "./catalog.js";
import { fmtBytes, fmtNum, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { consensusSeries, DEC, graphView, isDecentralized, slice } from "./slice.js";
import { views } from "./views.js";
import { graphName } from "./words.js";

/** The line of a step: the graph, each worker's neighbours, the bytes per worker, the
 *  consensus distance and the loss. */
function narrate(state, s) {
  if (!isDecentralized(state)) return null;
  const v = graphView(state, s.step);
  if (!v) return null;
  const peers = v.nodes.map((x) => `${x.id}: ${x.neighbours.join(",")}`).join(" · ");
  return t("narr.gossip", {
    step: s.step,
    graph: graphName(v.name),
    n: v.n,
    peers,
    bytes: fmtBytes(s.ranks.length ? s.bytesSent / s.ranks.length : 0),
    consensus: v.consensus == null ? "–" : fmtNum(v.consensus, 3),
    loss: s.meanLoss == null ? "–" : s.meanLoss.toFixed(4),
  });
}

/** What a lesson's reveal says the run measured, from its step events: the graph and the
 *  data split, the consensus distance of the last step and its mean over the run, and the
 *  bytes each worker sent per step. */
function measuredLines(state) {
  if (!isDecentralized(state)) return null;
  const out = [];
  const g = state.gossip && state.gossip.graph;
  const o = optionsOf(state.config || {});
  const split = o.data_split ? t(`gossip.split.${o.data_split}`) : "–";
  if (g) out.push(t("gossip.measuredGraph", { graph: graphName(g.name), n: (g.members || g.neighbours).length, split }));
  const c = consensusSeries(state);
  if (c.values.length) {
    const mean = c.values.reduce((a, b) => a + b, 0) / c.values.length;
    out.push(t("gossip.measuredConsensus", { step: c.steps[c.steps.length - 1], last: fmtNum(c.values[c.values.length - 1], 3), mean: fmtNum(mean, 3), n: c.values.length }));
  }
  const v = g ? graphView(state) : null;
  const sent = v ? v.checksums.map((x) => x.bytesSent).filter((x) => x != null) : [];
  if (sent.length) out.push(t("gossip.measuredBytes", { bytes: fmtBytes(sent.reduce((a, b) => a + b, 0) / sent.length), step: v.step }));
  return out;
}

/** The comparison's consensus distance (its run summary) beside this run's. */
function compareLines(c, mine) {
  const theirs = c && c.consensus;
  if (!theirs) return null;
  const own = mine && mine.consensus;
  const out = [t("gossip.measuredCompareConsensus", { last: fmtNum(theirs.last, 3), mean: fmtNum(theirs.mean, 3) })];
  if (own && theirs.mean > 0) out.push(t("gossip.measuredConsensusRatio", { x: fmtNum(own.mean / theirs.mean, 2) }));
  return out;
}

/** The run in a few words (run list, overlay): "Decentralized SGD · ring". */
function runWords(c, form) {
  const o = optionsOf(c || {});
  const s = t("strategy.gossipShort");
  if (!(form === "overlay" || form === "list" || form === "name") || !o.graph) return s;
  // the data split too, where the config says it (the compare view tells IID from one class)
  const split = o.data_split ? ` · ${t(`gossip.splitShort.${o.data_split}`, { a: o.dirichlet_alpha })}` : "";
  return `${s} · ${graphName(o.graph)}${split}`;
}

function articleKind(state) {
  return isDecentralized(state) ? DEC : null;
}

function articleKeys(kind) {
  return kind === DEC ? { title: "article.gossipTitle", body: "article.gossip", views: "article.viewsGossip", tail: "tail.explainGossip" } : null;
}

export default { name: DEC, slice, catalog, views, narrate, measuredLines, compareLines, runWords, articleKind, articleKeys };
