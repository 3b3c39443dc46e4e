// strategies/decentralized/index.js — decentralized SGD's frontend, as registered with core/registry.js: its slice, words, views and narration.

import catalog from "./catalog.js";
import { fmtBytes, fmtNum, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { DEC, graphView, isDecentralized, slice } from "./slice.js";
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

/** The run in a few words (run list, overlay): "Decentralized SGD · ring". */
function runWords(c, form) {
  const o = optionsOf(c || {});
  const s = t("strategy.gossipShort");
  return (form === "overlay" || form === "list") && o.graph ? `${s} · ${graphName(o.graph)}` : s;
}

function articleKind(state) {
  return isDecentralized(state) ? DEC : null;
}

function articleKeys(kind) {
  return kind === DEC ? { title: "article.gossipTitle", body: "article.gossip", views: "article.viewsGossip", tail: "tail.explainGossip" } : null;
}

export default { name: DEC, slice, catalog, views, narrate, runWords, articleKind, articleKeys };
