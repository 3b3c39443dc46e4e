// strategies/decentralized/graph.js — the gossip graph on the topology card: the workers on a circle and the graph's edges, each lit with what it carried in the shown step; pointing at a worker shows whom it averages with, and with what weights.
//
// A decentralized run has no all-reduce: data parallelism's ring would draw links that
// carry nothing and none of the ones that do. Drawn from the `graph` event and the step
// (and `comm`) events only, live and on replay alike: an edge is lit when the shown
// step's measured traffic went over it, and redrawn (its dashes run once, both ways) when
// a new step is shown — never on a timer. The workers are the topology card's nodes
// (g.node[data-rank]): their status fill and fault marks are the common ones, and a live
// run's fault menu opens on them as on the ring.

import { fmtBytes, fmtBytesShort, fmtNum, t } from "../../core/i18n.js";
import { isRestarting } from "../../core/faults.js";
import { completeStep, latestRecord, recordAt } from "../../core/selectors.js";
import { decorateNode, failedLines, faultTitle } from "../../views/faultlog.js";
import { rankColor, STATUS_FILL } from "../../views/palette.js";
import { circleLayout, graphView } from "./slice.js";
import { fmtWeight, graphName, mixLine } from "./words.js";

const NS = "http://www.w3.org/2000/svg";
const W = 300; // the card is narrow and short: a wide viewBox keeps the type readable
const H = 160;
const MAX_EDGE_LABELS = 8; // more edges than that: bytes in the tooltips (and the focused worker's)

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}
const f1 = (x) => x.toFixed(1);

/** The gossip graph on the topology card's SVG, in a layer of its own (taken off by hide()). */
export function createGossipGraph(svg, { captionEl = null, headEl = null, badgeEl = null } = {}) {
  const layer = el("g", { class: "gossip-layer" });
  let key = null; // the graph drawn
  let edgeKey = null; // the step (and focus) its edges were drawn for
  let pos = [];
  let r = 20;
  let nodes = new Map();
  let edgesG = null;
  let labelsG = null;
  let weightsG = null;
  let chosen = 0; // clicked
  let pointed = null; // hovered
  let last = null;

  function build(v) {
    layer.replaceChildren();
    svg.appendChild(layer);
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    r = v.slots <= 4 ? 20 : v.slots <= 6 ? 18 : 16;
    // the circle stretched to the card: an ellipse (room for the weights outside it)
    const rx = W / 2 - r - 26;
    const ry = H / 2 - r - 15;
    // every worker keeps its place on the circle: one that left is a hole in the graph
    pos = circleLayout(v.slots, 2, 0.5).map((p) => ({ x: W / 2 + rx * (p.x - 1), y: H / 2 + ry * (p.y - 1) }));
    edgesG = el("g", { class: "gossip-edges" }, layer);
    labelsG = el("g", { class: "gossip-edge-labels" }, layer);
    const nodesG = el("g", { class: "nodes" }, layer);
    weightsG = el("g", { class: "gossip-weights" }, layer);
    nodes = new Map();
    for (const x of v.nodes) {
      const p = pos[x.id];
      const g = el("g", { class: `node gossip-node${x.member ? "" : " hole"}`, "data-rank": x.id, "data-member": String(x.member), "data-testid": "gossip-node", transform: `translate(${f1(p.x)},${f1(p.y)})` }, nodesG);
      const title = el("title", {}, g);
      const circle = el("circle", { r, class: "node-body", stroke: rankColor(x.id) }, g);
      const no = el("text", { class: "node-rank gossip-node-no", "text-anchor": "middle", y: 0 }, g);
      no.textContent = String(x.id);
      const note = el("text", { class: "node-line gossip-node-note", "text-anchor": "middle", y: f1(r * 0.62) }, g);
      const mark = el("text", { class: "fault-mark", x: f1(r * 0.8), y: f1(-r * 0.7), "text-anchor": "middle" }, g);
      g.addEventListener("mouseenter", () => point(x.id));
      g.addEventListener("mouseleave", () => point(null));
      g.addEventListener("click", () => choose(x.id));
      nodes.set(x.id, { g, title, circle, note, mark });
    }
  }

  /** The edges of the shown step (lit where bytes went), the focused worker's weights. */
  function drawEdges(v, focus) {
    edgesG.replaceChildren();
    labelsG.replaceChildren();
    weightsG.replaceChildren();
    const mine = new Set((v.nodes[focus] || { neighbours: [] }).neighbours);
    const cx = W / 2;
    const cy = H / 2;
    for (const e of v.edges) {
      const a = pos[e.a];
      const b = pos[e.b];
      const lit = e.bytes > 0;
      const near = e.a === focus || e.b === focus;
      const cls = ["gossip-edge", lit ? "lit" : "", near ? "focus" : ""].filter(Boolean).join(" ");
      const g = el("g", { class: cls, "data-testid": "gossip-edge", "data-a": e.a, "data-b": e.b, "data-bytes": String(Math.round(e.bytes)), "data-weight": String(e.weight) }, edgesG);
      el("line", { x1: f1(a.x), y1: f1(a.y), x2: f1(b.x), y2: f1(b.y), class: "gossip-wire" }, g);
      if (lit) {
        // the step's two messages, one each way: dashes that run once along the edge
        if (e.ab > 0) el("line", { x1: f1(a.x), y1: f1(a.y), x2: f1(b.x), y2: f1(b.y), class: "gossip-flow" }, g);
        if (e.ba > 0) el("line", { x1: f1(b.x), y1: f1(b.y), x2: f1(a.x), y2: f1(a.y), class: "gossip-flow back" }, g);
      }
      const w = fmtWeight(e.weight);
      el("title", {}, g).textContent = lit
        ? t("gossip.edgeTitle", { a: e.a, b: e.b, w, step: v.step, ab: fmtBytes(e.ab), ba: fmtBytes(e.ba) })
        : t("gossip.edgeTitleWaiting", { a: e.a, b: e.b, w });
      if (lit && (v.edges.length <= MAX_EDGE_LABELS || near)) {
        // the bytes just off the edge's middle, away from the centre
        const mx = (a.x + b.x) / 2;
        const my = (a.y + b.y) / 2;
        const d = Math.hypot(mx - cx, my - cy);
        const [ox, oy] = d > 1 ? [((mx - cx) / d) * 12, ((my - cy) / d) * 12] : [0, -10];
        el("text", { x: f1(mx + ox), y: f1(my + oy), class: `gossip-edge-label${near ? " focus" : ""}`, "data-testid": "gossip-edge-label" }, labelsG).textContent = fmtBytesShort(e.bytes);
      }
    }
    // W[focus][j] beside each neighbour j, outside the circle
    for (const x of v.nodes) {
      const n = nodes.get(x.id);
      if (!n) continue;
      n.g.classList.toggle("focus", x.id === focus);
      n.g.classList.toggle("peer", mine.has(x.id));
      if (!mine.has(x.id)) continue;
      const w = (v.nodes[focus].weights.find((y) => y.peer === x.id) || {}).weight;
      const p = pos[x.id];
      const d = Math.hypot(p.x - cx, p.y - cy) || 1;
      el("text", { x: f1(p.x + ((p.x - cx) / d) * (r + 9)), y: f1(p.y + ((p.y - cy) / d) * (r + 9)), class: "gossip-weight" }, weightsG).textContent = fmtWeight(w);
    }
    svg.dataset.selected = String(focus);
  }

  function render(state) {
    last = state;
    const v = graphView(state);
    if (!v) {
      hide();
      return;
    }
    const k = `${v.name}|${v.members.join(",")}|${v.edges.map((e) => `${e.a}-${e.b}`).join(",")}`;
    if (k !== key || !layer.isConnected) {
      key = k;
      edgeKey = null;
      build(v);
    }
    let focus = Math.min(pointed != null ? pointed : chosen, v.slots - 1);
    if (!v.nodes[focus] || !v.nodes[focus].member) focus = v.members[0] ?? 0;
    const ek = `${v.step}|${v.source}|${focus}|${v.edges.map((e) => e.bytes).join(",")}`;
    if (ek !== edgeKey) {
      edgeKey = ek;
      drawEdges(v, focus);
    }
    svg.dataset.mode = "gossip";
    svg.dataset.workers = String(v.n);
    svg.dataset.nodes = String(v.slots);
    svg.dataset.holes = v.holes.join(",");
    svg.dataset.edges = String(v.edges.length);
    svg.dataset.step = v.step ? String(v.step) : "";
    const shown = completeStep(state);
    for (const [rank, n] of nodes) {
      const w = state.workers[rank] || {};
      const rec = (shown && recordAt(state, rank, shown)) || latestRecord(state, rank);
      const status = w.status || (state.finished ? state.status : "starting");
      n.g.dataset.status = status;
      n.circle.setAttribute("fill", STATUS_FILL[status] || STATUS_FILL.starting);
      const fault = decorateNode(n.g, n.mark, state, rank);
      const failed = isRestarting(state, rank) ? { main: t("topo.restarting") } : fault && fault.state === "failed" ? failedLines(fault) : null;
      n.note.textContent = failed ? failed.main : "";
      n.note.classList.toggle("fault-text", !!failed);
      const x = v.nodes[rank];
      n.title.textContent = [
        x ? t("gossip.nodeTitle", { rank, peers: x.weights.map((y) => `${y.peer} (${fmtWeight(y.weight)})`).join(", "), self: fmtWeight(x.selfWeight) }) : t("topo.rank", { rank }),
        w.pid != null ? t("topo.pid", { pid: w.pid }) : "",
        `${t("topo.status")}: ${t("status." + status)}`,
        ...faultTitle(fault, state),
        rec ? t("topo.step", { step: rec.step }) : "",
        rec && Number.isFinite(rec.bytes_sent) ? t("topo.traffic", { sent: fmtBytes(rec.bytes_sent), recv: fmtBytes(rec.bytes_recv) }) : "",
        rec && rec.param_checksum != null ? `${t("topo.checksum")}: ${fmtNum(rec.param_checksum, 6)}` : "",
      ]
        .filter(Boolean)
        .join("\n");
    }
    if (captionEl && v.nodes[focus]) {
      captionEl.dataset.i18n = "";
      captionEl.textContent = mixLine(v.nodes[focus]);
    }
    if (headEl) {
      const graph = graphName(v.name);
      const head = v.step ? t("gossip.head", { graph, n: v.n, step: v.step }) : t("gossip.headWaiting", { graph, n: v.n });
      // a worker died (or left): the survivors built the graph again over themselves
      headEl.textContent = v.holes.length ? `${head} · ${t("gossip.repaired", { holes: v.holes.join(", "), n: v.n, graph })}` : head;
      headEl.dataset.holes = v.holes.join(",");
    }
    if (badgeEl) {
      // every worker holds a model of its own: they differ by design (the replicas card
      // says how much), so the badge is not data parallelism's alarm
      const differ = v.spread != null && v.spread > 0;
      badgeEl.hidden = v.spread == null;
      badgeEl.dataset.state = differ ? "own" : "same";
      badgeEl.textContent = t(differ ? "gossip.badgeDiffer" : "gossip.badgeSame");
    }
  }

  function point(rank) {
    pointed = rank;
    if (last && layer.isConnected) render(last);
  }

  function choose(rank) {
    chosen = rank;
    if (last && layer.isConnected) render(last);
  }

  function hide() {
    key = null;
    edgeKey = null;
    layer.remove();
  }

  return {
    render,
    hide,
    reset() {
      chosen = 0;
      pointed = null;
      hide();
    },
    relocalize: hide,
  };
}
