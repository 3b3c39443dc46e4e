// topology.js — the workers as nodes on a ring, and gradient packets moving along it.
//
// Packets move only when a `step` event says an all-reduce happened (never on a free
// running timer). Their travel time is the measured comm_ms scaled up for visibility.
// The picture is a ring: torch.distributed's built-in all-reduce (gloo/nccl) picks its
// own algorithm, but the bytes are counted as a ring all-reduce would send them, so we
// draw 2(N-1) hops — reduce-scatter then all-gather (Patarasuk & Yuan 2009).

import { t, fmtNum } from "./i18n.js";
import { rankColor, STATUS_FILL, OKABE_ITO } from "./palette.js";
import { completeStep, latestRecord, ranksOf, recordAt, replicasIdentical } from "./state.js";

const NS = "http://www.w3.org/2000/svg";
const W = 400;
const H = 400;
const CX = W / 2;
const CY = H / 2;

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export function animationMs(commMs) {
  const ms = Number.isFinite(commMs) ? commMs * 40 : 0;
  return Math.max(200, Math.min(900, ms));
}

export function createTopology(svg, badge) {
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
  const packetsLayer = el("g", { class: "packets" }, svg);
  const nodesLayer = el("g", { class: "nodes" }, svg);
  const centerMain = el("text", { x: CX, y: CY - 4, class: "center-main", "text-anchor": "middle" }, centerLayer);
  const centerSub = el("text", { x: CX, y: CY + 16, class: "center-sub", "text-anchor": "middle" }, centerLayer);

  let key = null;
  let lastState = null;
  let geom = null; // {n, R, nodeR, angles, delta}
  let nodes = [];
  const anim = { gen: 0, running: false, pending: null, phase: null };

  function layoutFor(n) {
    const R = n <= 1 ? 0 : n === 2 ? 110 : n <= 4 ? 128 : 138;
    const nodeR = n <= 1 ? 62 : n <= 4 ? 60 : n <= 6 ? 52 : 46;
    // Crop the view to the ring so the nodes use all the room the card gives them.
    const half = n > 1 ? R + nodeR + 8 : n === 1 ? 130 : W / 2;
    svg.setAttribute("viewBox", `${CX - half} ${CY - half} ${2 * half} ${2 * half}`);
    const angles = [];
    for (let r = 0; r < n; r++) angles.push(-Math.PI / 2 + (2 * Math.PI * r) / n);
    const delta = R ? Math.min(0.45, (nodeR + 6) / R) : 0;
    return { n, R, nodeR, angles, delta };
  }

  const pos = (angle, R) => [CX + R * Math.cos(angle), CY + R * Math.sin(angle)];

  function build(ranks, ring) {
    cancel();
    edgesLayer.replaceChildren();
    nodesLayer.replaceChildren();
    nodes = [];
    const n = ranks.length;
    geom = layoutFor(n);
    if (ring) {
      for (let i = 0; i < n; i++) {
        const a0 = geom.angles[i] + geom.delta;
        const a1 = geom.angles[(i + 1) % n] + (i + 1 === n ? 2 * Math.PI : 0) - geom.delta;
        const [x0, y0] = pos(a0, geom.R);
        const [x1, y1] = pos(a1, geom.R);
        el(
          "path",
          {
            d: `M${x0.toFixed(1)},${y0.toFixed(1)} A${geom.R},${geom.R} 0 0 1 ${x1.toFixed(1)},${y1.toFixed(1)}`,
            class: "edge",
            "marker-end": "url(#arrow)",
            "data-src": ranks[i],
            "data-dst": ranks[(i + 1) % n],
          },
          edgesLayer,
        );
      }
    }
    ranks.forEach((rank, i) => {
      const [x, y] = pos(geom.angles[i], geom.R);
      const g = el("g", { class: "node", "data-rank": rank, transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` }, nodesLayer);
      const title = el("title", {}, g);
      const circle = el("circle", { r: geom.nodeR, class: "node-body", stroke: rankColor(rank) }, g);
      const k = geom.nodeR / 60; // text scales with the node
      g.style.fontSize = `${(15 * k).toFixed(1)}px`;
      const lines = [-25, -7, 10, 27].map((dy, j) =>
        el("text", { x: 0, y: (dy * k + 5 * k).toFixed(1), class: j === 0 ? "node-rank" : "node-line", "text-anchor": "middle" }, g),
      );
      nodes.push({ rank, g, circle, title, lines });
    });
  }

  function renderCenter(state) {
    const ranks = ranksOf(state);
    const ring = state.strategy === "data_parallel" && ranks.length > 1;
    if (!ranks.length) {
      centerMain.textContent = state.config ? t("topo.waiting") : t("topo.empty");
      centerSub.textContent = "";
    } else if (ranks.length === 1) {
      centerMain.textContent = ""; // the single node sits in the centre
      centerSub.textContent = "";
    } else {
      const step = completeStep(state);
      centerMain.textContent = ring ? t("topo.allreduce") : t("topo.single");
      centerSub.textContent = step ? t("topo.step", { step }) : "";
    }
  }

  function render(state) {
    lastState = state;
    const ranks = ranksOf(state);
    const ring = state.strategy === "data_parallel" && ranks.length > 1;
    const k = `${ranks.join(",")}|${ring}`;
    if (k !== key) {
      key = k;
      build(ranks, ring);
    }
    svg.dataset.workers = String(ranks.length);
    svg.closest(".card")?.classList.toggle("no-ring", !ring);
    if (!anim.running) renderCenter(state);
    // Every node shows the same step (the newest one all ranks reported), so the
    // checksums can be compared across the ring.
    const shown = completeStep(state);
    for (const node of nodes) {
      const w = state.workers[node.rank] || {};
      const rec = (shown && recordAt(state, node.rank, shown)) || latestRecord(state, node.rank);
      const status = w.status || (state.finished ? state.status : "starting");
      node.g.dataset.status = status;
      node.circle.setAttribute("fill", STATUS_FILL[status] || STATUS_FILL.starting);
      node.lines[0].textContent = t("topo.rank", { rank: node.rank });
      node.lines[1].textContent = w.pid != null ? t("topo.pid", { pid: w.pid }) : "…";
      node.lines[2].textContent = rec ? t("topo.loss", { loss: fmtNum(rec.loss, 4) }) : "";
      node.lines[3].textContent = rec && Number.isFinite(rec.param_checksum) ? `Σ ${fmtNum(rec.param_checksum, 5)}` : "";
      node.title.textContent = [
        t("topo.rank", { rank: node.rank }),
        `${t("topo.status")}: ${t("status." + status)}`,
        w.device ? `${t("topo.device")}: ${w.device}${w.host ? " @ " + w.host : ""}` : "",
        w.shardSize != null ? `${t("topo.shard")}: ${w.shardSize}` : "",
        rec ? `${t("topo.step", { step: rec.step })}` : "",
        rec && rec.param_checksum != null ? `${t("topo.checksum")}: ${rec.param_checksum}` : "",
        rec && rec.param_hash ? `${t("topo.hash")}: ${rec.param_hash}` : "",
      ]
        .filter(Boolean)
        .join("\n");
    }
    if (badge) {
      const step = completeStep(state);
      const same = ranks.length > 1 ? replicasIdentical(state, step) : null;
      badge.dataset.state = same === null ? (ranks.length === 1 && step ? "single" : "unknown") : same ? "same" : "differ";
      badge.textContent =
        same === null ? (ranks.length === 1 && step ? t("badge.single") : "") : same ? t("badge.same") : t("badge.differ");
      badge.hidden = !badge.textContent;
    }
  }

  /** Animate one all-reduce. While one is running, only the newest request is kept. */
  function animate({ step, commMs }) {
    if (!geom || geom.n < 2 || !edgesLayer.childElementCount) return;
    const job = { step, commMs };
    if (anim.running) {
      anim.pending = job;
      return;
    }
    run(job);
  }

  function run(job) {
    const gen = ++anim.gen;
    anim.running = true;
    const { n, R, angles, delta } = geom;
    const duration = animationMs(job.commMs);
    const hops = 2 * (n - 1);
    svg.dataset.animatedStep = String(job.step);
    packetsLayer.replaceChildren();
    const packets = [];
    for (let r = 0; r < n; r++) packets.push(el("circle", { r: 9, cx: -999, cy: -999, class: "packet" }, packetsLayer));
    centerSub.textContent = t("topo.step", { step: job.step });
    const t0 = performance.now();
    let done = false;
    const finish = () => {
      if (done || gen !== anim.gen) return;
      done = true;
      packetsLayer.replaceChildren();
      anim.running = false;
      if (lastState) renderCenter(lastState);
      const next = anim.pending;
      anim.pending = null;
      if (next) run(next);
    };
    const frame = (now) => {
      if (done || gen !== anim.gen) return;
      const p = Math.max(0, Math.min(1, (now - t0) / duration));
      const hp = p * hops;
      const hop = Math.min(hops - 1, Math.floor(hp));
      const frac = hp - hop;
      const gather = hop >= n - 1;
      centerMain.textContent = gather ? t("topo.allgather") : t("topo.reducescatter");
      for (let r = 0; r < n; r++) {
        const src = (((r + hop) % n) + n) % n;
        const a0 = angles[src] + delta;
        const span = (2 * Math.PI) / n - 2 * delta;
        const [x, y] = pos(a0 + frac * span, R);
        packets[r].setAttribute("cx", x.toFixed(1));
        packets[r].setAttribute("cy", y.toFixed(1));
        packets[r].setAttribute("fill", gather ? OKABE_ITO.blue : OKABE_ITO.orange);
      }
      if (p < 1) requestAnimationFrame(frame);
      else finish();
    };
    requestAnimationFrame(frame);
    // Background tabs may not run animation frames: never leave the ring "busy".
    setTimeout(finish, duration + 300);
  }

  function cancel() {
    anim.gen++;
    anim.running = false;
    anim.pending = null;
    packetsLayer.replaceChildren();
    if (lastState) renderCenter(lastState);
  }

  function reset() {
    key = null;
    cancel();
  }

  return { render, animate, cancel, reset };
}
