// strategies/pipeline/chain.js — a pipeline's processes as the chain its traffic runs along: stage 0 → 1 → … → p−1 (activations, forward) and back (gradients, backward), each link labelled with the bytes it carried in the shown step.
//
// A pipeline runs no all-reduce: a ring of its processes would draw links that carry
// nothing (last stage → first) and none of the ones that do. The links drawn here are the
// ones the measured traffic used:
// - with Detail on, every message is a `comm` event (op "activation" or "gradient",
//   engine/strategies/pipeline.py): the links and their bytes are those of the shown
//   step's messages;
// - without it, only each stage's step counters are there (bytes_sent, bytes_recv). A
//   stage talks to its neighbours only, so the counters give each link exactly, from the
//   ends of the chain inwards: stage 0 sends only activations (f0 = sent0) and receives
//   only gradients (b0 = recv0); stage s sends f_s = sent_s − b_{s−1} and receives
//   b_s = recv_s − f_{s−1}. The caption says which source the numbers come from.
// - interleaved 1F1B (v chunks per process) also sends round the ring: the last process's
//   chunk c on to the first's chunk c + 1, and gradients back. The counters cannot tell a
//   process's two links apart, so without Detail its sent bytes are split as the
//   schedule sends them: per micro-batch v messages to each neighbour along the chain,
//   v − 1 on the wrap-around (the caption says so).

import { fmtBytes, fmtBytesShort, fmtNum, t } from "../../core/i18n.js";
import { stepMessages } from "../../core/comm.js";
import { completeStep, latestRecord, ranksOf, recordAt } from "../../core/selectors.js";
import { decorateNode, failedLines, faultTitle } from "../../views/faultlog.js";
import { isRestarting } from "../../core/faults.js";
import { rankColor, STATUS_FILL } from "../../views/palette.js";
import { optionsOf } from "../../core/selectors.js";
import { chunksOf } from "./slice.js";

const NS = "http://www.w3.org/2000/svg";
const W = 400; // the card is narrow: a short viewBox keeps the type readable
const H = 200;
const CY = 100;

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}
const f1 = (x) => x.toFixed(1);

/** Pure: the processes in stage order (the `pipeline_stage` events; rank order before them). */
export function stageOrder(state) {
  const stages = (state.pipeline && state.pipeline.stages) || {};
  return [...ranksOf(state)].sort((a, b) => (stages[a]?.stage ?? a) - (stages[b]?.stage ?? b));
}

/**
 * Pure: the traffic of one step along the chain: {step, source: "messages" | "counters" |
 * null, links: [{src, dst, dir: "forward" | "backward", bytes, messages}]}, only links
 * that carried bytes. `order` is the processes in stage order.
 */
export function chainTraffic(state, order, step = completeStep(state)) {
  if (!step) return { step: null, source: null, links: [] };
  const msgs = stepMessages(state, step).filter((m) => m.op === "activation" || m.op === "gradient");
  const pos = new Map(order.map((r, i) => [r, i]));
  if (msgs.length) {
    const by = new Map();
    for (const m of msgs) {
      if (!pos.has(m.src) || !pos.has(m.dst)) continue;
      const dir = m.op === "activation" ? "forward" : "backward";
      const k = `${m.src}>${m.dst}:${dir}`;
      const wrap = dir === "forward" ? pos.get(m.dst) < pos.get(m.src) : pos.get(m.dst) > pos.get(m.src);
      const cur = by.get(k) || { src: m.src, dst: m.dst, dir, bytes: 0, messages: 0, ...(wrap ? { wrap } : {}) };
      cur.bytes += m.bytes;
      cur.messages += 1;
      by.set(k, cur);
    }
    return { step, source: "messages", links: [...by.values()].filter((l) => l.bytes > 0) };
  }
  const recs = order.map((r) => recordAt(state, r, step));
  if (recs.some((r) => !r || !Number.isFinite(r.bytes_sent) || !Number.isFinite(r.bytes_recv))) return { step, source: null, links: [] };
  const v = chunksOf(optionsOf(state.config || {}));
  if (v > 1) return { step, source: "schedule", links: interleavedLinks(order, recs, v) };
  const links = [];
  let fPrev = 0;
  let bPrev = 0;
  for (let s = 0; s + 1 < order.length; s++) {
    const f = recs[s].bytes_sent - bPrev; // activations s → s+1
    const b = recs[s].bytes_recv - fPrev; // gradients s+1 → s
    if (f > 0) links.push({ src: order[s], dst: order[s + 1], dir: "forward", bytes: f, messages: null });
    if (b > 0) links.push({ src: order[s + 1], dst: order[s], dir: "backward", bytes: b, messages: null });
    fPrev = f;
    bPrev = b;
  }
  return { step, source: "counters", links };
}

/** Pure: interleaved 1F1B's links from each process's sent bytes, split as its schedule
 *  sends them: v messages per micro-batch to each neighbour along the chain, v − 1 on
 *  the wrap-around (last → first forward, first → last backward), all of one size. */
export function interleavedLinks(order, recs, v) {
  const p = order.length;
  const links = [];
  order.forEach((rank, s) => {
    const fwd = s < p - 1 ? v : v - 1; // per micro-batch, on to the next process
    const bwd = s > 0 ? v : v - 1; // per micro-batch, back to the one before
    const each = recs[s].bytes_sent / (fwd + bwd);
    const next = order[(s + 1) % p];
    const prev = order[(s - 1 + p) % p];
    if (fwd > 0 && each > 0) links.push({ src: rank, dst: next, dir: "forward", bytes: each * fwd, messages: null, ...(s === p - 1 ? { wrap: true } : {}) });
    if (bwd > 0 && each > 0) links.push({ src: rank, dst: prev, dir: "backward", bytes: each * bwd, messages: null, ...(s === 0 ? { wrap: true } : {}) });
  });
  return links;
}

/** The chain on the topology card's SVG, in a layer of its own (taken off by hide()). */
export function createChain(svg) {
  const layer = el("g", { class: "chain-layer" });
  let key = null;
  let geom = null; // {x: Map(rank -> x), r}
  let nodes = new Map();
  let linksG = null;
  let labelsG = null;
  let headG = null;

  function build(order) {
    layer.replaceChildren();
    svg.appendChild(layer);
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "xMidYMin meet");
    const n = Math.max(1, order.length);
    const gap = W / n;
    const r = Math.min(46, gap * 0.3);
    geom = { x: new Map(order.map((rank, i) => [rank, (i + 0.5) * gap])), r };
    headG = el("g", { class: "chain-head" }, layer);
    linksG = el("g", { class: "chain-links" }, layer);
    labelsG = el("g", { class: "chain-labels" }, layer);
    const nodesG = el("g", { class: "nodes" }, layer);
    nodes = new Map();
    const fs = Math.max(10, Math.min(14, Math.round(r / 3.2)));
    for (const rank of order) {
      const g = el("g", { class: "node chain-node", "data-rank": rank, transform: `translate(${f1(geom.x.get(rank))},${CY})` }, nodesG);
      g.style.fontSize = `${fs}px`;
      const title = el("title", {}, g);
      const circle = el("circle", { r: f1(r), class: "node-body", stroke: rankColor(rank) }, g);
      const lines = {};
      for (const [name, dy, cls] of [["stage", -r * 0.32, "node-rank"], ["rank", r * 0.05, "node-line"], ["loss", r * 0.42, "node-line"]]) {
        lines[name] = el("text", { x: 0, y: f1(dy + fs * 0.35), class: cls, "text-anchor": "middle" }, g);
      }
      const mark = el("text", { class: "fault-mark", x: f1(r * 0.74), y: f1(-r * 0.66), "text-anchor": "middle" }, g);
      nodes.set(rank, { g, title, circle, lines, mark });
    }
  }

  /** One arc per link that carried bytes: forward arcs above the chain, pointing on;
   *  backward arcs below it, pointing back; each labelled with its bytes. */
  function drawLinks(traffic) {
    linksG.replaceChildren();
    labelsG.replaceChildren();
    const r = geom.r;
    for (const l of traffic.links) {
      const x0 = geom.x.get(l.src);
      const x1 = geom.x.get(l.dst);
      if (x0 === undefined || x1 === undefined) continue;
      const up = l.dir === "forward";
      const sign = up ? -1 : 1;
      const y = CY + sign * r * 0.55; // leave and reach the nodes above / below their centres
      const dx = Math.sign(x1 - x0) * Math.sqrt(Math.max(0, r * r - (r * 0.55) ** 2));
      const a = [x0 + dx, y];
      const b = [x1 - dx * 1.12, y];
      // the wrap-around of an interleaved run (last → first) arcs higher, over the others
      const c = [(a[0] + b[0]) / 2, y + sign * r * (l.wrap ? 1.9 : 0.95)];
      el(
        "path",
        {
          d: `M${f1(a[0])},${f1(a[1])} Q${f1(c[0])},${f1(c[1])} ${f1(b[0])},${f1(b[1])}`,
          class: `edge link chain-link chain-${l.dir}${l.wrap ? " chain-wrap" : ""}`,
          "marker-end": "url(#arrow)",
          "data-src": l.src,
          "data-dst": l.dst,
          "data-dir": l.dir,
          "data-bytes": String(l.bytes),
        },
        linksG,
      );
      const g = el("g", { class: `edge-label chain-label chain-${l.dir}` }, labelsG);
      el("title", {}, g).textContent = t(up ? "chain.forwardTitle" : "chain.backwardTitle", { src: l.src, dst: l.dst, bytes: fmtBytes(l.bytes) });
      const tx = el("text", { x: f1(c[0]), y: f1((a[1] + c[1]) / 2 + sign * 12 + 4), "text-anchor": "middle" }, g);
      tx.textContent = fmtBytesShort(l.bytes);
    }
    // what the rows of arcs carry, once, above and below the chain
    headG.replaceChildren();
    const any = (dir) => traffic.links.some((l) => l.dir === dir);
    const ring = traffic.links.some((l) => l.wrap); // interleaved: the high arcs need the room
    if (any("forward")) el("text", { class: "chain-dir chain-forward", x: W / 2, y: ring ? 11 : 18, "text-anchor": "middle" }, headG).textContent = t("chain.forward");
    if (any("backward")) el("text", { class: "chain-dir chain-backward", x: W / 2, y: ring ? H - 1 : H - 6, "text-anchor": "middle" }, headG).textContent = t("chain.backward");
  }

  function render(state) {
    const order = stageOrder(state);
    const k = order.join(",");
    if (k !== key || !layer.isConnected) {
      key = k;
      build(order);
    }
    const traffic = chainTraffic(state, order);
    drawLinks(traffic);
    svg.dataset.mode = "chain";
    svg.dataset.workers = String(order.length);
    svg.dataset.edges = String(linksG.childElementCount);
    svg.dataset.chainSource = traffic.source || "";
    svg.dataset.chainStep = traffic.step == null ? "" : String(traffic.step);
    const stages = (state.pipeline && state.pipeline.stages) || {};
    const shown = completeStep(state);
    for (const [rank, n] of nodes) {
      const w = state.workers[rank] || {};
      const rec = (shown && recordAt(state, rank, shown)) || latestRecord(state, rank);
      const status = w.status || (state.finished ? state.status : "starting");
      n.g.dataset.status = status;
      n.g.dataset.stage = String(stages[rank]?.stage ?? order.indexOf(rank));
      n.circle.setAttribute("fill", STATUS_FILL[status] || STATUS_FILL.starting);
      const fault = decorateNode(n.g, n.mark, state, rank);
      const failed = isRestarting(state, rank) ? { main: t("topo.restarting"), sub: "" } : fault && fault.state === "failed" ? failedLines(fault) : null;
      n.lines.stage.textContent = t("chain.stage", { s: n.g.dataset.stage });
      n.lines.rank.textContent = t("topo.rank", { rank });
      n.lines.loss.textContent = failed ? failed.main : "";
      n.lines.loss.classList.toggle("fault-text", !!failed);
      n.title.textContent = [
        t("chain.stage", { s: n.g.dataset.stage }),
        t("topo.rank", { rank }),
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
  }

  function hide() {
    key = null;
    layer.remove();
  }

  return { render, hide, reset: hide, relocalize: hide };
}
