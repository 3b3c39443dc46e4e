// strategies/data_parallel/topology.js — the workers as nodes on a circle, and the messages that travel between them (their packets: packets.js).
//
// Two pictures, both driven by events (never by a free-running timer):
//
// - Built-in all-reduce (gloo/nccl picks its own algorithm): the nodes sit on a ring and
//   a `step` event starts 2(N-1) hops — reduce-scatter then all-gather (Patarasuk & Yuan
//   2009) — whose speed is the measured comm_ms scaled up. The bytes are counted as a
//   ring would send them, and the caption says so.
// - Hand-written all-reduce (ring, tree, naive) with detail on: every `comm` event is a
//   real point-to-point message. The edges are exactly the (src, dst) pairs the messages
//   used; each message of the shown step becomes one packet on its edge, phase by phase
//   and round by round, for its measured duration scaled up for visibility. Each edge is
//   labelled with the bytes it has carried up to the shown step.

import { fmtBytes, fmtBytesShort, fmtNum, t } from "../../core/i18n.js";
import { setAttr, setData, setHidden, setProp, setText } from "../../views/dom.js";
import { rankColor, STATUS_FILL } from "../../views/palette.js";
import { decorateNode, failedLines, faultTitle } from "../../views/faultlog.js";
import { linkTraffic, stepTraffic } from "../../core/comm.js";
import { isRestarting } from "../../core/faults.js";
import {
  completeStep,
  isGone,
  isJoining,
  latestRecord,
  ranksOf,
  recordAt,
  replicasIdentical,
  ringOrder,
} from "../../core/selectors.js";
import { compressionOf } from "./compression.js";
import { bez, createPackets, el, f1, linkKey, packetRadius } from "./packets.js";
import { runAlgo } from "./slice.js";
import { strategySpec } from "../../core/specs.js";
import { frontendOf } from "../../core/registry.js";

const W = 400;
const H = 400;
const CX = W / 2;
const CY = H / 2;
const BAND = 26; // viewBox units kept free above the nodes for the phase line

function toward(from, to, dist) {
  const dx = to[0] - from[0];
  const dy = to[1] - from[1];
  const len = Math.hypot(dx, dy) || 1;
  return [from[0] + (dx / len) * dist, from[1] + (dy / len) * dist];
}

/**
 * Pure: what the replicas badge says, {state, key, params}; key null = no badge.
 * A failed run claims nothing ("—": the ranks that died hold no replicas to compare).
 * While some ranks are dead (failed, not yet restarted), only the ranks still in the
 * run are compared, at the newest step all of them reported.
 */
export function replicasBadge(state, ranks = ranksOf(state)) {
  const step = completeStep(state);
  if (state.finished && state.status === "failed") return { state: "failed", key: "badge.failed", params: {} };
  // A split model (a pipeline's stages) has no replicas: each process holds its own part.
  const spec = strategySpec(state.strategy || (state.config && state.config.strategy));
  // Workers with replicas of their own (decentralized, local SGD) differ by design between
  // averages: said without the alarm of replicas that should be identical.
  if (spec && spec.own_replicas && ranks.length > 1) {
    const same = replicasIdentical(state, step);
    if (same === null) return { state: "unknown", key: null, params: {} };
    return same ? { state: "same", key: "badge.ownSame", params: {} } : { state: "own", key: "badge.ownDiffer", params: {} };
  }
  // Nothing trained (the collectives playground): no replicas to speak of.
  if (spec && spec.trains === false) return { state: "none", key: null, params: {} };
  if (spec && spec.replicas === false) return { state: "split", key: "badge.split", params: {} };
  const dead = ranks.filter((r) => state.workers[r] && state.workers[r].status === "failed" && !isRestarting(state, r));
  if (dead.length && ranks.length > 1) {
    const alive = ranks.filter((r) => !dead.includes(r) && !isGone(state, r) && !isJoining(state, r));
    const at = alive.reduce((m, r) => Math.min(m, (latestRecord(state, r) || { step: 0 }).step), Infinity);
    const recs = alive.map((r) => recordAt(state, r, at));
    if (alive.length < 2 || !(at > 0) || recs.some((x) => !x)) return { state: "failed", key: "badge.failed", params: {} };
    const first = recs[0];
    const same = recs.every((x) =>
      x.param_hash != null && first.param_hash != null ? x.param_hash === first.param_hash : x.param_checksum === first.param_checksum,
    );
    return same
      ? { state: "same-alive", key: "badge.sameAlive", params: { ranks: alive.join(", ") } }
      : { state: "differ", key: "badge.differ", params: {} };
  }
  const same = ranks.length > 1 ? replicasIdentical(state, step) : null;
  if (same === null) return ranks.length === 1 && step ? { state: "single", key: "badge.single", params: {} } : { state: "unknown", key: null, params: {} };
  return same ? { state: "same", key: "badge.same", params: {} } : { state: "differ", key: "badge.differ", params: {} };
}

export function createTopology(svg, badge, opts = {}) {
  const { phaseEl = null, captionEl = null, legendEl = null } = opts;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  const defs = el("defs", {}, svg);
  const marker = el(
    "marker",
    { id: "arrow", viewBox: "0 0 10 10", refX: "8", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" },
    defs,
  );
  el("path", { d: "M0,0 L10,5 L0,10 z", class: "edge-arrow" }, marker);
  const edgesLayer = el("g", { class: "edges" }, svg);
  const centerLayer = el("g", { class: "center" }, svg);
  const nodesLayer = el("g", { class: "nodes" }, svg);
  const labelsLayer = el("g", { class: "edge-labels" }, svg);
  const packetsLayer = el("g", { class: "packets" }, svg);
  const centerMain = el("text", { x: CX, y: CY - 4, class: "center-main", "text-anchor": "middle" }, centerLayer);
  const centerSub = el("text", { x: CX, y: CY + 16, class: "center-sub", "text-anchor": "middle" }, centerLayer);

  let key = null;
  let edgeKey = null;
  let lastState = null;
  let large = false; // presenter mode: fewer, larger lines on larger nodes (setLarge)
  let mode = "none"; // none | ring (built-in) | links (hand-written, detail) | plain (hand-written, no detail)
  let algo = null;
  let compressed = false; // encoded gradients all-gathered over a ring
  let geom = null; // {n, R, nodeR, angles, delta, pos: [[x, y]], index: Map(rank -> i)}
  let nodes = [];
  let edges = new Map(); // "s>d" -> {src, dst, path, p0, c, p2, label}
  let ringArcs = []; // built-in ring: one {a0, a1} per member, in ring order
  let labelsFor = null; // [traffic, edges, geom] the edge labels were drawn for
  const packets = createPackets({
    svg,
    layer: packetsLayer,
    phaseEl,
    center: { main: centerMain, sub: centerSub },
    scene: () => ({ geom, mode, edges, algo, ringArcs, onRing, hasEdges: edgesLayer.childElementCount > 0 }),
    render: (state) => render(state),
    idle: () => {
      if (lastState) renderCenter(lastState);
    },
  });
  const cancel = () => packets.cancel();

  function layoutFor(n) {
    // Neighbours on the circle must leave room for an arrow and its label between them.
    const R = n <= 1 ? 0 : n === 2 ? 110 : n <= 4 ? 128 : n <= 6 ? 145 : 165;
    // Presenter mode: larger nodes, for labels the back row can read.
    const nodeR = large ? (n <= 1 ? 66 : n <= 4 ? 66 : n <= 6 ? 54 : 46) : n <= 1 ? 62 : n <= 4 ? 60 : n <= 6 ? 48 : 40;
    // Crop the view to the ring so the nodes use all the room the card gives them, with
    // a band on top for the step / phase line (an HTML overlay, see .topo-phase).
    const half = n > 1 ? R + nodeR + 8 : n === 1 ? 130 : W / 2;
    const band = n > 1 && mode === "links" ? BAND : 0;
    svg.setAttribute("viewBox", `${CX - half} ${CY - half - band} ${2 * half} ${2 * half + band}`);
    svg.setAttribute("preserveAspectRatio", "xMidYMin meet");
    const angles = [];
    for (let r = 0; r < n; r++) angles.push(-Math.PI / 2 + (2 * Math.PI * r) / n);
    // (with the larger nodes, the arcs start and end just outside them, arrowheads in sight)
    const delta = !R ? 0 : large ? 2 * Math.asin(Math.min(1, (nodeR + 4) / (2 * R))) : Math.min(0.45, (nodeR + 6) / R);
    const pos = angles.map((a) => [CX + R * Math.cos(a), CY + R * Math.sin(a)]);
    const box = { x0: CX - half, x1: CX + half, y0: CY - half - band, y1: CY + half };
    return { n, R, nodeR, angles, delta, pos, k: nodeR / 60, box };
  }

  const onRing = (angle, R) => [CX + R * Math.cos(angle), CY + R * Math.sin(angle)];

  function buildNodes(ranks) {
    nodesLayer.replaceChildren();
    nodes = [];
    geom = layoutFor(ranks.length);
    geom.index = new Map(ranks.map((r, i) => [r, i]));
    // Up to 5 workers: rank, pid, loss, Σ, sent/received. More workers make smaller
    // nodes: rank, Σ and sent/received only, in larger type (the rest is in the tooltip).
    // Presenter mode (large type for a lecture hall): rank, loss and Σ on up to 4 nodes,
    // rank and Σ on more (the pid is in the tooltip, the bytes in the table and on the
    // links), at the size given in viewBox units (not scaled down with the node).
    const full = large ? ranks.length <= 4 : ranks.length <= 5;
    const rows = large
      ? full
        ? [["rank", -25], ["loss", 2], ["sum", 28]]
        : [["rank", -13], ["sum", 15]]
      : full
        ? [["rank", -31], ["pid", -15], ["loss", 0], ["sum", 15], ["traffic", 30]]
        : [["rank", -22], ["sum", 0], ["traffic", 21]];
    const fontPx = large ? (full ? 21 : ranks.length <= 6 ? 18 : 16) : full ? 14 : 17;
    const cls = { rank: "node-rank", traffic: "node-traffic" };
    ranks.forEach((rank, i) => {
      const [x, y] = geom.pos[i];
      const g = el("g", { class: "node", "data-rank": rank, transform: `translate(${f1(x)},${f1(y)})` }, nodesLayer);
      const title = el("title", {}, g);
      const circle = el("circle", { r: geom.nodeR, class: "node-body", stroke: rankColor(rank) }, g);
      const k = geom.k;
      g.style.fontSize = `${(large ? fontPx : fontPx * k).toFixed(1)}px`;
      const lines = {};
      for (const [name, dy] of rows) {
        const y = large ? dy * (fontPx / 21) + 5 : dy * (full ? k : k * 1.15) + 5 * k;
        lines[name] = el("text", { x: 0, y: f1(y), class: cls[name] || "node-line", "text-anchor": "middle" }, g);
      }
      // fault mark (⚡ ❄ ×k NaN ✖) on the rim, upper right
      const mark = el("text", { class: "fault-mark", x: f1(geom.nodeR * 0.74), y: f1(-geom.nodeR * 0.66), "text-anchor": "middle" }, g);
      nodes.push({ rank, g, circle, title, lines, mark });
    });
  }

  /** The ring of the group's members (ring order; the nodes are laid out in that order,
   *  so each hop is an arc clockwise to the next member — over any worker that left). */
  function buildRingEdges(members) {
    const m = members.length;
    ringArcs = [];
    if (m < 2) return;
    for (let i = 0; i < m; i++) {
      const from = geom.index.get(members[i]);
      const to = geom.index.get(members[(i + 1) % m]);
      const a0 = geom.angles[from] + geom.delta;
      const a1 = geom.angles[to] + (to <= from ? 2 * Math.PI : 0) - geom.delta;
      ringArcs.push({ a0, a1 });
      const [x0, y0] = onRing(a0, geom.R);
      const [x1, y1] = onRing(a1, geom.R);
      el(
        "path",
        {
          d: `M${f1(x0)},${f1(y0)} A${geom.R},${geom.R} 0 ${a1 - a0 > Math.PI ? 1 : 0} 1 ${f1(x1)},${f1(y1)}`,
          class: "edge",
          "marker-end": "url(#arrow)",
          "data-src": members[i],
          "data-dst": members[(i + 1) % m],
        },
        edgesLayer,
      );
    }
  }

  /** One curve per link the messages used. A pair used both ways gets two curves, each
   *  bent to its own right, so they never overlap. */
  function buildLinkEdges(links) {
    const set = new Set(links.map((l) => linkKey(l.src, l.dst)));
    const { nodeR } = geom;
    for (const { src, dst } of links) {
      const i = geom.index.get(src);
      const j = geom.index.get(dst);
      if (i === undefined || j === undefined) continue;
      const a = geom.pos[i];
      const b = geom.pos[j];
      const dx = b[0] - a[0];
      const dy = b[1] - a[1];
      const len = Math.hypot(dx, dy) || 1;
      const nx = -dy / len; // right of the direction of travel (SVG y points down)
      const ny = dx / len;
      const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
      const both = set.has(linkKey(dst, src));
      let bend;
      if (both) bend = Math.max(9, Math.min(24, len * 0.1));
      else {
        // one way only (a ring): bow outwards, away from the centre of the circle
        const out = (mid[0] - CX) * nx + (mid[1] - CY) * ny;
        bend = Math.abs(out) < 4 ? 0 : Math.sign(out) * Math.max(6, len * 0.12);
      }
      const c = [mid[0] + nx * bend * 2, mid[1] + ny * bend * 2];
      const p0 = toward(a, c, nodeR + 2);
      const p2 = toward(b, c, nodeR + 6);
      const path = el(
        "path",
        {
          d: `M${f1(p0[0])},${f1(p0[1])} Q${f1(c[0])},${f1(c[1])} ${f1(p2[0])},${f1(p2[1])}`,
          class: "edge link",
          "marker-end": "url(#arrow)",
          "data-src": src,
          "data-dst": dst,
          "data-bytes": "0",
        },
        edgesLayer,
      );
      edges.set(linkKey(src, dst), { src, dst, path, p0, c, p2, both, nx, ny, bend });
    }
  }

  function build(ranks, members) {
    cancel();
    edgesLayer.replaceChildren();
    labelsLayer.replaceChildren();
    edges = new Map();
    ringArcs = [];
    buildNodes(ranks);
    if (mode === "ring") buildRingEdges(members);
  }

  // ------------------------------------------------------------ edge labels


  function labelSize(text) {
    const fs = 12 * Math.max(0.8, geom.k);
    return { w: text.length * fs * 0.58 + 4, h: fs + 2, fs };
  }

  function overlaps(box, placed) {
    const b = geom.box;
    if (box.x0 < b.x0 || box.x1 > b.x1 || box.y0 < b.y0 || box.y1 > b.y1) return true;
    for (const p of placed) {
      if (box.x0 < p.x1 && box.x1 > p.x0 && box.y0 < p.y1 && box.y1 > p.y0) return true;
    }
    for (const [x, y] of geom.pos) {
      const qx = Math.max(box.x0, Math.min(x, box.x1));
      const qy = Math.max(box.y0, Math.min(y, box.y1));
      if (Math.hypot(qx - x, qy - y) < geom.nodeR + 1) return true;
    }
    return false;
  }

  /** Byte labels on the edges: one per pair when both directions carried the same
   *  bytes ("⇄"), else one per direction; slid along the edge to avoid collisions. */
  function renderLinkLabels(traffic) {
    labelsLayer.replaceChildren();
    const placed = [];
    const done = new Set();
    const put = (text, candidates, title) => {
      const { w, h, fs } = labelSize(text);
      let best = candidates[0];
      for (const cand of candidates) {
        const box = { x0: cand[0] - w / 2, x1: cand[0] + w / 2, y0: cand[1] - h / 2, y1: cand[1] + h / 2 };
        if (!overlaps(box, placed)) {
          best = cand;
          break;
        }
      }
      placed.push({ x0: best[0] - w / 2, x1: best[0] + w / 2, y0: best[1] - h / 2, y1: best[1] + h / 2 });
      const g = el("g", { class: "edge-label" }, labelsLayer);
      el("title", {}, g).textContent = title;
      const tx = el("text", { x: f1(best[0]), y: f1(best[1] + fs * 0.35), "text-anchor": "middle", "font-size": f1(fs) }, g);
      tx.textContent = text;
    };
    const ts = [0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8];
    for (const [k, e] of edges) {
      if (done.has(k)) continue;
      const info = traffic.links[k];
      const bytes = info ? info.bytes : 0;
      e.path.dataset.bytes = String(bytes);
      e.path.dataset.messages = String(info ? info.count : 0);
      const rev = edges.get(linkKey(e.dst, e.src));
      const revInfo = rev ? traffic.links[linkKey(e.dst, e.src)] : null;
      const revBytes = revInfo ? revInfo.bytes : 0;
      if (rev) {
        rev.path.dataset.bytes = String(revBytes);
        rev.path.dataset.messages = String(revInfo ? revInfo.count : 0);
      }
      if (!bytes && !revBytes) continue;
      const title = (s, d, b) => t("topo.linkTitle", { src: s, dst: d, bytes: fmtBytes(b) });
      if (rev && bytes === revBytes) {
        // one label between the two curves, on the straight line joining the nodes
        done.add(linkKey(e.dst, e.src));
        const a = geom.pos[geom.index.get(e.src)];
        const b = geom.pos[geom.index.get(e.dst)];
        const cands = ts.map((u) => [a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u]);
        // neighbours on the circle leave little room between them: try towards the centre
        const mid = cands[0];
        const dc = Math.hypot(CX - mid[0], CY - mid[1]);
        if (dc > 1) {
          for (const f of [0.55, 0.8, 1.05, 1.3]) {
            cands.push([mid[0] + ((CX - mid[0]) / dc) * f * geom.nodeR, mid[1] + ((CY - mid[1]) / dc) * f * geom.nodeR]);
          }
        }
        put(`⇄ ${fmtBytesShort(bytes)}`, cands, `${title(e.src, e.dst, bytes)}\n${title(e.dst, e.src, revBytes)}`);
      } else {
        for (const x of rev ? [e, rev] : [e]) {
          done.add(linkKey(x.src, x.dst));
          const b = x === e ? bytes : revBytes;
          if (!b) continue;
          const sign = x.bend < 0 ? -1 : 1;
          // clear of the packets that travel on the curve
          const off = labelSize("x").h * 0.6 + packetRadius(geom);
          // beside the curve: outside a small ring, inside a large one (more room there)
          const cands = [];
          for (const side of geom.n <= 4 ? [1, -1] : [-1, 1]) {
            for (const u of ts) {
              const [px, py] = bez(x.p0, x.c, x.p2, u);
              cands.push([px + x.nx * sign * side * off, py + x.ny * sign * side * off]);
            }
          }
          put(fmtBytesShort(b), cands, title(x.src, x.dst, b));
        }
      }
    }
  }

  // ------------------------------------------------------------ render

  function renderCenter(state) {
    const ranks = ranksOf(state);
    setText(centerSub, "");
    if (!ranks.length) {
      setText(centerMain, state.config ? t("topo.waiting") : t("topo.empty"));
    } else if (ranks.length === 1) {
      setText(centerMain, ""); // the single node sits in the centre
    } else if (mode === "links") {
      // the star / tree crosses the centre; the step and phase are in the corner
      setText(centerMain, "");
      if (phaseEl && !packets.running) {
        const step = completeStep(state);
        const name = compressed ? t("topo.gatherShort") : t("topo.algoShort." + algo);
        setText(phaseEl, step ? `${name} · ${t("topo.step", { step })}` : "");
      }
    } else {
      const step = completeStep(state);
      // built-in: "all-reduce"; a hand-written one without detail: its short name
      // a strategy drawn here without an all-reduce may name what its workers do instead
      const own = mode === "none" ? frontendOf(state.strategy || (state.config && state.config.strategy)) : null;
      const centre = own && own.topologyCentre ? own.topologyCentre(state) : null;
      setText(centerMain, centre || (mode === "none" ? t(ranks.length > 1 ? "topo.noAllReduce" : "topo.single") : algo && algo !== "builtin" ? t("algo." + algo) : t("topo.algoShort.builtin")));
      setText(centerSub, step ? t("topo.step", { step }) : "");
    }
  }

  function renderChrome() {
    const card = svg.closest(".card");
    if (card) {
      setData(card, "mode", mode);
      setData(card, "algo", algo || "");
      card.classList.toggle("no-ring", mode === "none");
    }
    if (captionEl) {
      const keyName =
        mode === "links"
          ? "topo.captionReal"
          : mode === "plain"
            ? compressed
              ? "topo.captionCompressed"
              : "topo.captionNoDetail"
            : "topo.caption";
      setData(captionEl, "i18n", keyName);
      setText(captionEl, t(keyName));
    }
    if (legendEl) {
      const sum = legendEl.querySelector("[data-phase=sum]");
      const out = legendEl.querySelector("[data-phase=out]");
      const tree = algo === "tree" || algo === "naive";
      if (sum) setText(sum, t(tree ? "legend.reduce" : "legend.rs"));
      // compressed gradients are only gathered: nothing is summed on the way
      if (sum) sum.closest(".lg-item").hidden = compressed && mode === "links";
      if (out) setText(out, t(tree ? "legend.broadcast" : "legend.ag"));
    }
  }

  function render(state) {
    lastState = state;
    // Nodes go round the circle in ring order (after a shrink or a rejoin: the group's
    // members, as the all-reduce ring passes them), then the workers that left.
    const members = ringOrder(state).filter((r) => !isGone(state, r));
    const ranks = [...members, ...ranksOf(state).filter((r) => !members.includes(r))];
    algo = runAlgo(state);
    compressed = !!(compressionOf(state.config) || {}).gathered;
    const shown = completeStep(state);
    let traffic = null;
    let allLinks = [];
    if (!algo) mode = "none";
    else if (algo === "builtin") mode = "ring";
    else {
      // links to a worker that left are no longer used
      allLinks = Object.values(linkTraffic(state, Infinity).links)
        .filter((l) => !isGone(state, l.src) && !isGone(state, l.dst))
        .sort((a, b) => a.src - b.src || a.dst - b.dst);
      mode = allLinks.length ? "links" : "plain";
    }
    const k = `${ranks.join(",")}|${members.join(",")}|${mode}`;
    if (k !== key) {
      key = k;
      edgeKey = null;
      build(ranks, members);
    }
    if (mode === "links") {
      const ek = allLinks.map((l) => linkKey(l.src, l.dst)).join(",");
      if (ek !== edgeKey) {
        edgeKey = ek;
        cancel();
        edgesLayer.replaceChildren();
        edges = new Map();
        buildLinkEdges(allLinks);
      }
      traffic = linkTraffic(state, shown);
      // the labels again only when the bytes or the drawing changed (the totals are kept
      // per state: the same object for the same numbers)
      if (!labelsFor || labelsFor[0] !== traffic || labelsFor[1] !== edges || labelsFor[2] !== geom) {
        labelsFor = [traffic, edges, geom];
        renderLinkLabels(traffic);
      }
    }
    setData(svg, "workers", String(ranks.length));
    setData(svg, "members", members.join(","));
    setData(svg, "mode", mode);
    setData(svg, "algo", algo || "");
    setData(svg, "edges", String(edgesLayer.childElementCount));
    renderChrome();
    if (!packets.running) {
      if (phaseEl) setText(phaseEl, "");
      renderCenter(state);
    }
    // Bytes per node: measured per message when there are comm events, else the step
    // events' per-rank counters.
    const perRank = mode === "links" ? traffic.ranks : ranks.length > 1 ? stepTraffic(state, shown).ranks : {};
    // Every node shows the same step (the newest one all ranks reported), so the
    // checksums can be compared across the ring.
    for (const node of nodes) {
      const w = state.workers[node.rank] || {};
      const rec = (shown && recordAt(state, node.rank, shown)) || latestRecord(state, node.rank);
      const status = w.status || (state.finished ? state.status : "starting");
      const tr = perRank[node.rank];
      setData(node.g, "status", status);
      setData(node.g, "sent", tr ? String(tr.sent) : "0");
      setData(node.g, "recv", tr ? String(tr.recv) : "0");
      setAttr(node.circle, "fill", STATUS_FILL[status] || STATUS_FILL.starting);
      const L = node.lines;
      const fault = decorateNode(node.g, node.mark, state, node.rank);
      const gone = isGone(state, node.rank);
      node.g.classList.toggle("gone", gone);
      node.g.classList.toggle("joining", isJoining(state, node.rank));
      const failed = isRestarting(state, node.rank)
        ? { main: t("topo.restarting"), sub: "" }
        : isJoining(state, node.rank) && !rec
          ? { main: t("elastic.joining"), sub: "" }
          : fault && fault.state === "failed"
            ? failedLines(fault)
            : null;
      setText(L.rank, t("topo.rank", { rank: node.rank }));
      if (L.pid) setText(L.pid, w.pid != null ? t("topo.pid", { pid: w.pid }) : "…");
      if (L.loss) setText(L.loss, failed ? failed.main : rec ? t("topo.loss", { loss: fmtNum(rec.loss, 4) }) : "");
      const sum = failed
        ? L.loss
          ? failed.sub
          : failed.main
        : rec && Number.isFinite(rec.param_checksum)
          ? `Σ ${fmtNum(rec.param_checksum, 5)}`
          : "";
      setText(L.sum, sum);
      L.sum.classList.toggle("fault-text", !!failed);
      if (L.loss) L.loss.classList.toggle("fault-text", !!failed);
      if (L.traffic) setText(L.traffic, tr && (tr.sent || tr.recv) ? `↑${fmtBytesShort(tr.sent)} ↓${fmtBytesShort(tr.recv)}` : "");
      const title = [
        t("topo.rank", { rank: node.rank }),
        w.pid != null ? t("topo.pid", { pid: w.pid }) : "",
        rec ? t("topo.loss", { loss: fmtNum(rec.loss, 4) }) : "",
        `${t("topo.status")}: ${t("status." + status)}`,
        ...faultTitle(fault, state),
        !failed && +node.g.dataset.failures > 0 ? t("topo.failedBefore", { n: node.g.dataset.failures }) : "",
        w.device ? `${t("topo.device")}: ${w.device}${w.host ? " @ " + w.host : ""}` : "",
        w.shardSize != null ? `${t("topo.shard")}: ${w.shardSize}` : "",
        rec ? `${t("topo.step", { step: rec.step })}` : "",
        rec && rec.param_checksum != null ? `${t("topo.checksum")}: ${rec.param_checksum}` : "",
        rec && rec.param_hash ? `${t("topo.hash")}: ${rec.param_hash}` : "",
        tr ? t("topo.traffic", { sent: fmtBytes(tr.sent), recv: fmtBytes(tr.recv) }) : "",
      ]
        .filter(Boolean)
        .join("\n");
      setText(node.title, title);
    }
    if (badge) {
      const b = replicasBadge(state, ranksOf(state));
      setData(badge, "state", b.state);
      setText(badge, b.key ? t(b.key, b.params) : "");
      setProp(badge, "title", b.state === "failed" ? t("badge.failedTitle") : "");
      setHidden(badge, !badge.textContent);
    }
  }

  /** Take the ring / link drawing off the SVG (a parameter-server run draws its own). */
  function hide() {
    cancel();
    key = null;
    edgeKey = null;
    geom = null;
    nodes = [];
    edges = new Map();
    nodesLayer.replaceChildren();
    edgesLayer.replaceChildren();
    labelsLayer.replaceChildren();
    centerMain.textContent = "";
    centerSub.textContent = "";
  }

  function reset() {
    key = null;
    edgeKey = null;
    packets.resetCounts();
    cancel();
  }

  /** Redraw the text in the current language (keeps the animation counters). */
  function relocalize() {
    key = null;
    edgeKey = null;
    cancel();
  }

  /** Presenter mode on or off: the nodes are built again at the other size. */
  function setLarge(on) {
    if (large === !!on) return;
    large = !!on;
    key = null;
    edgeKey = null;
    cancel();
    if (lastState && geom) render(lastState);
  }

  return { render, animate: (job) => packets.animate(job), cancel, reset, relocalize, hide, setLarge };
}
