// strategies/parameter_server/pstopology.js — a parameter-server run's topology: server nodes in a row above the worker nodes, packets from real events.
//
// A parameter-server run: server nodes in a row above the worker nodes,
// every worker linked to every server.
//
// Animated from real events only (never a timer pretending): a worker's `step` event
// means it pulled the parameters before computing (a blue packet server → worker); each
// gradient in a `ps_update` is a push (an orange packet worker → server, labelled with the
// version it was computed on and the version it was applied at); a `gradient_dropped` is a
// red packet that stops short of the server. When events outrun the animation (full
// speed), the newest batch replaces the running one: skipped, never queued.

import { fmtBytesShort, fmtBytes, fmtNum, t } from "../../core/i18n.js";
import { OKABE_ITO, rankColor, STATUS_FILL } from "../../views/palette.js";
import { isRestarting } from "../../core/faults.js";
import { psConfig, psNodes } from "./slice.js";
import { decorateNode, failedLines, faultTitle } from "../../views/faultlog.js";

const NS = "http://www.w3.org/2000/svg";
const W = 340;
const H = 320;
const SERVER_Y = 52;
const WORKER_Y = 236;
const ANIM_MS = 700;
const MAX_PACKETS = 14;

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

const f1 = (x) => x.toFixed(1);

/** Pure: x positions of n nodes spread over the width. */
export function rowPositions(n, width = W) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(((i + 0.5) * width) / n);
  return out;
}

/** Pure: what to animate for a batch of events (newest first, capped): [{kind, src, dst,
 *  label, title}] with kind pull | push | drop. */
export function packetsFor(events, servers) {
  const out = [];
  const serverSet = new Set(servers);
  const pulled = new Set();
  for (let i = events.length - 1; i >= 0 && out.length < MAX_PACKETS; i--) {
    const e = events[i];
    if (!e) continue;
    if (e.type === "ps_update" && Array.isArray(e.applied)) {
      for (const a of e.applied) {
        if (out.length >= MAX_PACKETS) break;
        const applied = Number.isInteger(e.version) ? e.version - 1 : null;
        out.push({
          kind: "push",
          src: a.worker,
          dst: e.rank,
          label: e.rank === servers[0] ? t("ps.pushLabel", { read: a.read_version, at: applied, s: a.staleness }) : "",
          staleness: a.staleness,
        });
      }
    } else if (e.type === "gradient_dropped") {
      out.push({ kind: "drop", src: e.worker, dst: e.rank, label: e.rank === servers[0] ? t("ps.dropLabel") : "" });
    } else if (e.type === "step" && Number.isInteger(e.rank) && !serverSet.has(e.rank) && !pulled.has(e.rank)) {
      pulled.add(e.rank);
      for (const s of servers) {
        if (out.length >= MAX_PACKETS) break;
        out.push({ kind: "pull", src: s, dst: e.rank, label: "" });
      }
    }
  }
  return out.reverse();
}

/** How many server versions after a rebuild its node keeps saying so. */
export const RESTORED_SHOW_VERSIONS = 10;

/** Pure: the newest rebuild of server `rank` (a `server_restored` entry of the fault
 *  log) while the server is fewer than RESTORED_SHOW_VERSIONS versions past it, else null. */
export function restoredNote(state, rank, version) {
  const log = (state && state.faultLog) || [];
  for (let i = log.length - 1; i >= 0; i--) {
    const e = log[i];
    if (e.kind !== "restored" || e.rank !== rank) continue;
    const at = Number.isInteger(e.version) ? e.version : 0;
    return Number.isInteger(version) && version >= at + RESTORED_SHOW_VERSIONS ? null : e;
  }
  return null;
}

/** Shrink an SVG text (squeezing its glyphs) to at most `maxW` user units wide: labels
 *  never run into the neighbouring node, whatever the language or the type size. */
function fitText(node, maxW) {
  node.removeAttribute("textLength");
  node.removeAttribute("lengthAdjust");
  if (!node.textContent || !(maxW > 0) || !node.getComputedTextLength) return;
  let w = 0;
  try {
    w = node.getComputedTextLength();
  } catch {
    return; // not rendered (hidden SVG): drawn again when shown
  }
  if (w > maxW) {
    node.setAttribute("textLength", f1(maxW));
    node.setAttribute("lengthAdjust", "spacingAndGlyphs");
  }
}

export function createPsTopology(svg) {
  const layer = el("g", { class: "ps-layer" });
  let key = null;
  let geom = null; // {servers: Map(rank -> {x, y, w, h}), workers: Map(rank -> {x, y, r})}
  let nodes = { servers: new Map(), workers: new Map() };
  let edgesG = null;
  let packetsG = null;
  let anim = { gen: 0 };
  let animated = 0;

  function build(sRanks, wRanks) {
    layer.replaceChildren();
    svg.appendChild(layer);
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "xMidYMin meet");
    const sx = rowPositions(sRanks.length);
    const wx = rowPositions(wRanks.length);
    const sw = Math.min(170, (W / Math.max(1, sRanks.length)) * 0.9);
    const wr = Math.min(50, (W / Math.max(1, wRanks.length)) * 0.45);
    geom = { servers: new Map(), workers: new Map(), wr };
    sRanks.forEach((r, i) => geom.servers.set(r, { x: sx[i], y: SERVER_Y, w: sw, h: 86 }));
    wRanks.forEach((r, i) => geom.workers.set(r, { x: wx[i], y: WORKER_Y, r: wr }));
    edgesG = el("g", { class: "ps-edges" }, layer);
    for (const [w, p] of geom.workers) {
      for (const [s, q] of geom.servers) {
        el("line", { class: "ps-edge", x1: f1(p.x), y1: f1(p.y - p.r), x2: f1(q.x), y2: f1(q.y + q.h / 2), "data-src": w, "data-dst": s }, edgesG);
      }
    }
    const nodesG = el("g", { class: "nodes" }, layer);
    nodes = { servers: new Map(), workers: new Map() };
    const small = wRanks.length > 4;
    // the room a worker's labels may take: the spacing between neighbours, less a gap
    geom.workerLabelW = (W / Math.max(1, wRanks.length)) * 0.9;
    geom.serverLabelW = sw * 0.92;
    for (const [r, q] of geom.servers) {
      const g = el("g", { class: "node ps-server", "data-rank": r, "data-role": "server", transform: `translate(${f1(q.x)},${f1(q.y)})` }, nodesG);
      const title = el("title", {}, g);
      el("rect", { class: "node-body server-body", x: f1(-q.w / 2), y: f1(-q.h / 2), width: f1(q.w), height: f1(q.h), rx: 8 }, g);
      const lines = {};
      [["name", -24, "node-rank"], ["version", -3, "ps-version"], ["load", 17, "node-line"], ["bytes", 34, "node-traffic"]].forEach(([n, dy, c]) => {
        lines[n] = el("text", { x: 0, y: dy + 5, class: c, "text-anchor": "middle" }, g);
      });
      nodes.servers.set(r, { g, title, lines });
    }
    for (const [r, p] of geom.workers) {
      const g = el("g", { class: "node ps-worker", "data-rank": r, "data-role": "worker", transform: `translate(${f1(p.x)},${f1(p.y)})` }, nodesG);
      // the type scales with the spacing (8 workers: 11 px, 4: 14 px)
      g.style.fontSize = `${Math.max(10, Math.min(14, Math.round((W / Math.max(1, wRanks.length)) / 4)))}px`;
      const title = el("title", {}, g);
      const circle = el("circle", { r: f1(p.r), class: "node-body", stroke: rankColor(r) }, g);
      const k = p.r / 40;
      const lines = {};
      const rows = small
        ? [["rank", -9, "node-rank"], ["read", 9, "ps-read"]]
        : [["rank", -15, "node-rank"], ["read", 1, "ps-read"], ["iter", 16, "node-line"]];
      for (const [n, dy, c] of rows) lines[n] = el("text", { x: 0, y: f1(dy * k + 4), class: c, "text-anchor": "middle" }, g);
      // marks: hourglass (held back) above-left, slow (straggler) above-right
      const hold = el("text", { class: "ps-mark ps-hold", x: f1(-p.r * 0.78), y: f1(-p.r * 0.72), "text-anchor": "middle" }, g);
      const slow = el("text", { class: "ps-mark ps-slow", x: f1(p.r * 0.8), y: f1(-p.r * 0.72), "text-anchor": "middle" }, g);
      // fault mark (⚡ ❄ ×k NaN ✖) below the node: the upper corners hold ‖ and the straggler
      const mark = el("text", { class: "fault-mark", x: 0, y: f1(p.r + 16), "text-anchor": "middle" }, g);
      nodes.workers.set(r, { g, title, circle, lines, hold, slow, mark });
    }
    packetsG = el("g", { class: "packets" }, layer);
  }

  function render(state) {
    const { servers, workers } = psNodes(state);
    const cfg = psConfig(state) || {};
    const k = `${servers.map((s) => s.rank).join(",")}|${workers.map((w) => w.rank).join(",")}`;
    if (k !== key || !layer.isConnected) {
      key = k;
      cancel();
      build(
        servers.map((s) => s.rank),
        workers.map((w) => w.rank),
      );
    }
    svg.dataset.mode = "ps";
    svg.dataset.workers = String(workers.length);
    svg.dataset.servers = String(servers.length);
    let dropped = 0;
    for (const s of servers) {
      const n = nodes.servers.get(s.rank);
      if (!n) continue;
      dropped += s.dropped;
      const d = n.g.dataset;
      d.version = String(s.version);
      d.pushes = String(s.pushes);
      d.pulls = String(s.pulls);
      d.dropped = String(s.dropped);
      d.bytesIn = s.bytesIn == null ? "0" : String(s.bytesIn);
      d.bytesOut = s.bytesOut == null ? "0" : String(s.bytesOut);
      n.lines.name.textContent = t("ps.server", { rank: s.rank });
      n.lines.version.textContent = t("ps.version", { v: s.version });
      n.lines.load.textContent = s.dropped
        ? t("ps.loadDropped", { n: s.pushes, d: s.dropped })
        : t("ps.load", { n: s.pushes });
      n.lines.bytes.textContent = s.bytesIn != null ? `↓${fmtBytesShort(s.bytesIn)} ↑${fmtBytesShort(s.bytesOut)}` : "";
      // rebuilt after a crash (checkpoint + log replay): said on the node for a while
      const rebuilt = restoredNote(state, s.rank, s.version);
      n.g.classList.toggle("restored", !!rebuilt);
      if (rebuilt) {
        const p = { cv: rebuilt.checkpointVersion ?? 0, n: rebuilt.replayed ?? 0 };
        d.restored = t("ps.rebuilt", p);
        n.lines.load.textContent = t("ps.rebuiltLine1", p);
        n.lines.bytes.textContent = t("ps.rebuiltLine2", p);
      } else delete d.restored;
      n.lines.load.classList.toggle("ps-rebuilt", !!rebuilt);
      n.lines.bytes.classList.toggle("ps-rebuilt", !!rebuilt);
      for (const line of Object.values(n.lines)) fitText(line, geom.serverLabelW);
      n.title.textContent = [
        rebuilt ? t("ps.rebuilt", { cv: rebuilt.checkpointVersion ?? 0, n: rebuilt.replayed ?? 0 }) : "",
        t("ps.server", { rank: s.rank }),
        t("ps.version", { v: s.version }),
        s.shardLen != null ? t("ps.shardTitle", { n: s.shardLen, bytes: fmtBytes(s.shardLen * 4) }) : "",
        t("ps.loadTitle", { pushes: s.pushes, pulls: s.pulls, dropped: s.dropped }),
        s.bytesIn != null ? t("ps.bytesTitle", { inb: fmtBytes(s.bytesIn), outb: fmtBytes(s.bytesOut) }) : "",
      ]
        .filter(Boolean)
        .join("\n");
    }
    svg.dataset.dropped = String(dropped);
    for (const w of workers) {
      const n = nodes.workers.get(w.rank);
      if (!n) continue;
      const info = state.workers[w.rank] || {};
      const status = info.status || (state.finished ? state.status : "starting");
      n.g.dataset.status = status;
      n.g.dataset.readVersion = w.readVersion == null ? "" : String(w.readVersion);
      n.g.dataset.blocked = String(w.blocked);
      n.g.dataset.waited = String(w.waited);
      n.g.dataset.slowed = String(w.slowed);
      n.circle.setAttribute("fill", STATUS_FILL[status] || STATUS_FILL.starting);
      n.g.classList.toggle("held", w.blocked || w.waited);
      n.g.classList.toggle("slowed", w.slowed);
      const fault = decorateNode(n.g, n.mark, state, w.rank);
      const failed = isRestarting(state, w.rank)
        ? { main: t("topo.restarting"), sub: "" }
        : fault && fault.state === "failed"
          ? failedLines(fault)
          : null;
      n.lines.rank.textContent = t("topo.rank", { rank: w.rank });
      n.lines.read.textContent = failed ? failed.main : w.readVersion == null ? "" : t("ps.read", { v: w.readVersion });
      n.lines.read.classList.toggle("fault-text", !!failed);
      // "it. 50" on the node (the full "iteration 50" is in its tooltip)
      if (n.lines.iter) n.lines.iter.textContent = failed ? failed.sub : w.step ? t("ps.iterShort", { n: w.step }) : "";
      if (n.lines.loss) n.lines.loss.textContent = w.step ? t("topo.loss", { loss: fmtNum(w.loss, 3) }) : "";
      for (const line of Object.values(n.lines)) fitText(line, geom.workerLabelW);
      n.hold.textContent = w.blocked || w.waited ? "‖" : "";
      // a "slow" fault shows its own factor in the straggler's corner (not a second mark)
      const slowK = fault && fault.slowFactor ? fault.slowFactor : cfg.factor;
      n.slow.textContent = w.slowed || (fault && fault.state === "slowed") ? `${fmtNum(slowK, 2)}×` : "";
      if (fault && fault.state === "slowed") n.mark.textContent = "";
      n.title.textContent = [
        t("topo.rank", { rank: w.rank }),
        info.pid != null ? t("topo.pid", { pid: info.pid }) : "",
        w.step ? t("ps.iter", { n: w.step }) : "",
        w.readVersions ? t("ps.readAll", { vs: w.readVersions.join(", ") }) : "",
        w.blocked ? t("ps.blockedTitle", { ms: fmtNum(w.blockedMs, 3) }) : "",
        w.waited ? t("ps.waitedTitle", { ms: fmtNum(w.waitMs, 3) }) : "",
        w.slowed && !(fault && fault.slowFactor) ? t("ps.slowedTitle", { k: fmtNum(cfg.factor, 2) }) : "",
        w.dropped ? t("ps.droppedTitle", { n: w.dropped }) : "",
        `${t("topo.status")}: ${t("status." + status)}`,
        ...faultTitle(fault, state),
      ]
        .filter(Boolean)
        .join("\n");
    }
  }

  /** Animate a batch of new events (live only). Replaces any running animation. */
  function animate(events) {
    if (!geom || !packetsG) return;
    const servers = [...geom.servers.keys()];
    const list = packetsFor(events, servers).filter((p) => {
      const w = p.kind === "pull" ? p.dst : p.src;
      const s = p.kind === "pull" ? p.src : p.dst;
      return geom.workers.has(w) && geom.servers.has(s);
    });
    if (!list.length) return;
    const gen = ++anim.gen;
    packetsG.replaceChildren();
    let labelled = false;
    const items = [...list].reverse().map((p) => {
      const wRank = p.kind === "pull" ? p.dst : p.src;
      const sRank = p.kind === "pull" ? p.src : p.dst;
      const w = geom.workers.get(wRank);
      const s = geom.servers.get(sRank);
      const top = [s.x, s.y + s.h / 2 + 4];
      const bottom = [w.x, w.y - w.r - 2];
      const from = p.kind === "pull" ? top : bottom;
      const to = p.kind === "pull" ? bottom : top;
      const g = el("g", { class: `ps-packet ps-${p.kind}`, "data-kind": p.kind, "data-src": p.src, "data-dst": p.dst }, packetsG);
      const color = p.kind === "pull" ? OKABE_ITO.blue : p.kind === "push" ? OKABE_ITO.orange : OKABE_ITO.vermillion;
      el("circle", { r: 8, fill: color }, g);
      if (p.kind === "drop") {
        const x = el("text", { class: "ps-drop-x", x: 0, y: 4, "text-anchor": "middle" }, g);
        x.textContent = "✕";
      }
      if (p.label && !labelled) {
        // one label (the newest gradient), fixed beside the middle of its edge
        labelled = true;
        const mx = (from[0] + to[0]) / 2;
        const my = (from[1] + to[1]) / 2;
        const right = mx < W * 0.6;
        const lb = el("text", { class: "ps-packet-label", x: f1(mx + (right ? 10 : -10)), y: f1(my), "text-anchor": right ? "start" : "end" }, packetsG);
        lb.textContent = p.label;
      }
      return { g, from, to, stop: p.kind === "drop" ? 0.72 : 1 };
    });
    animated += items.length;
    svg.dataset.animatedPackets = String(animated);
    const t0 = performance.now();
    const frame = (now) => {
      if (gen !== anim.gen) return;
      const u = Math.min(1, (now - t0) / ANIM_MS);
      const ease = u < 0.5 ? 2 * u * u : 1 - Math.pow(-2 * u + 2, 2) / 2;
      for (const it of items) {
        const v = ease * it.stop;
        it.g.setAttribute("transform", `translate(${f1(it.from[0] + (it.to[0] - it.from[0]) * v)},${f1(it.from[1] + (it.to[1] - it.from[1]) * v)})`);
      }
      if (u < 1) requestAnimationFrame(frame);
      else setTimeout(() => gen === anim.gen && packetsG.replaceChildren(), 250);
    };
    for (const it of items) it.g.setAttribute("transform", `translate(${f1(it.from[0])},${f1(it.from[1])})`);
    requestAnimationFrame(frame);
    setTimeout(() => gen === anim.gen && packetsG && packetsG.replaceChildren(), ANIM_MS + 600);
  }

  function cancel() {
    anim.gen++;
    if (packetsG) packetsG.replaceChildren();
  }

  /** Take the PS drawing off the SVG (the run is not a parameter-server run). */
  function hide() {
    cancel();
    key = null;
    layer.remove();
  }

  function reset() {
    animated = 0;
    delete svg.dataset.animatedPackets;
    hide();
  }

  return { render, animate, cancel, hide, reset, relocalize: () => { key = null; } };
}
