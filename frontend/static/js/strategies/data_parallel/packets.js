// strategies/data_parallel/packets.js — the ring's packets: one step's messages animated round by round (hand-written all-reduce), or the built-in ring's hops.
//
// Driven by step events, never by a free-running timer: while one animation runs only
// the newest request is kept. The topology (topology.js) owns the drawing this moves
// packets on: `scene()` gives its geometry, edges and mode as of its last render.

import { stepMessages } from "../../core/comm.js";
import { fmtBytes, fmtNum, t } from "../../core/i18n.js";
import { setAttr, setText } from "../../views/dom.js";
import { inFrame } from "../../views/frame.js";
import { OKABE_ITO } from "../../views/palette.js";
import { commRounds } from "./slice.js";

const NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes, appended to `parent`. */
export function el(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export const f1 = (x) => x.toFixed(1);
export const linkKey = (src, dst) => `${src}>${dst}`;

/** A packet's radius at the drawing's scale. */
export const packetRadius = (geom) => 12 * Math.max(0.8, geom.k);

/** Summing phases are orange, phases that hand results out are blue (legend in the card). */
export const OP_COLORS = {
  reduce_scatter: OKABE_ITO.orange,
  reduce: OKABE_ITO.orange,
  all_reduce: OKABE_ITO.orange,
  all_gather: OKABE_ITO.blue,
  broadcast: OKABE_ITO.blue,
};
const opColor = (op) => OP_COLORS[op] || OKABE_ITO.purple;

export function animationMs(commMs) {
  const ms = Number.isFinite(commMs) ? commMs * 40 : 0;
  return Math.max(200, Math.min(900, ms));
}

// Each round of messages lasts its slowest measured message × ROUND_SCALE, clamped so
// that a 0.1 ms loopback message is still visible and a stalled one does not hold the
// picture; a whole step is squeezed into STEP_MAX_MS (never below ROUND_MIN_MS a round).
const ROUND_SCALE = 40;
const ROUND_MIN_MS = 160;
const ROUND_MAX_MS = 600;
const ROUND_FLOOR_MS = 90;
const STEP_MAX_MS = 2400;

/** Pure: how long (ms) each round of a step is shown. */
export function roundDurations(rounds) {
  const raw = rounds.map((r) => Math.max(ROUND_MIN_MS, Math.min(ROUND_MAX_MS, (r.durationMs || 0) * ROUND_SCALE)));
  const total = raw.reduce((a, b) => a + b, 0);
  if (total <= STEP_MAX_MS) return raw;
  const k = STEP_MAX_MS / total;
  return raw.map((ms) => Math.max(ROUND_FLOOR_MS, ms * k));
}

/** A point of a quadratic Bézier curve (p0, control c, p2) at u in [0, 1]. */
export function bez(p0, c, p2, u) {
  const a = (1 - u) * (1 - u);
  const b = 2 * (1 - u) * u;
  const d = u * u;
  return [a * p0[0] + b * c[0] + d * p2[0], a * p0[1] + b * c[1] + d * p2[1]];
}

/**
 * The packets of the ring's SVG. `layer`: the packets' group; `phaseEl`: the phase line;
 * `center`: {main, sub} texts in the ring's middle; `scene()`: {geom, mode, edges, algo,
 * ringArcs, onRing} of the topology; `render(state)`: draw a state first; `idle()`: the
 * topology's texts once no animation runs.
 */
export function createPackets({ svg, layer, phaseEl, center, scene, render, idle }) {
  const packetsLayer = layer;
  const centerMain = center.main;
  const centerSub = center.sub;
  const anim = { gen: 0, running: false, pending: null };
  let animatedMessages = 0;
  const pool = []; // a round's packets: {g, circle, chunk, title}, reused from round to round

  /** The i-th packet of a round (made the first time a round has that many). */
  function packetAt(i) {
    if (!pool[i]) {
      const g = el("g", { class: "packet" });
      const circle = el("circle", {}, g);
      const chunk = el("text", { x: 0, "text-anchor": "middle", class: "packet-chunk" });
      const title = el("title", {}, g);
      pool[i] = { g, circle, chunk, title };
    }
    return pool[i];
  }

  /** Animate step `step` of `state`: its real messages if there are any, else (built-in
   *  all-reduce) the ring hops at the measured comm_ms. While one animation runs, only
   *  the newest request is kept: steps that arrive faster than they can be shown are
   *  skipped, never queued. */
  function animate({ step, state, commMs }) {
    const job = { step, state, commMs };
    if (anim.running) {
      anim.pending = job;
      return;
    }
    // started in the next animation frame (views/frame.js), beside the page's other draws
    const gen = anim.gen; // a cancel (a scrub, another run) in between drops it
    inFrame("packets", () => {
      if (gen !== anim.gen) return;
      if (anim.running) anim.pending = job;
      else run(job);
    });
  }

  function run(job) {
    if (job.state) render(job.state);
    const { geom, mode, edges, algo, hasEdges } = scene();
    if (!geom || geom.n < 2) return;
    if (mode === "links") {
      const msgs = stepMessages(job.state, job.step);
      const rounds = commRounds(msgs, algo, geom.n).filter((r) => r.messages.some((m) => edges.has(linkKey(m.src, m.dst))));
      if (rounds.length) runRounds(job, rounds);
    } else if (mode === "ring" && hasEdges) {
      runRing(job);
    }
  }

  function begin(job) {
    const gen = ++anim.gen;
    anim.running = true;
    svg.dataset.animatedStep = String(job.step);
    packetsLayer.replaceChildren();
    return gen;
  }

  function finishFn(gen) {
    let done = false;
    return () => {
      if (done || gen !== anim.gen) return;
      done = true;
      packetsLayer.replaceChildren();
      anim.running = false;
      if (phaseEl) phaseEl.textContent = "";
      idle();
      const next = anim.pending;
      anim.pending = null;
      if (next) run(next);
    };
  }

  function runRounds(job, rounds) {
    const gen = begin(job);
    const { geom } = scene();
    const durations = roundDurations(rounds);
    const starts = [];
    let total = 0;
    for (const d of durations) {
      starts.push(total);
      total += d;
    }
    const r = packetRadius(geom);
    const fs = 14 * Math.max(0.8, geom.k);
    let current = -1;
    let packets = [];
    const finish = finishFn(gen);
    const enterRound = (i) => {
      current = i;
      const round = rounds[i];
      packets = [];
      for (const m of round.messages) {
        const e = scene().edges.get(linkKey(m.src, m.dst));
        if (!e) continue;
        // the packets' elements are made once and reused round after round
        const p = packetAt(packets.length);
        setAttr(p.g, "data-op", m.op);
        setAttr(p.g, "data-src", m.src);
        setAttr(p.g, "data-dst", m.dst);
        setAttr(p.circle, "r", f1(r));
        setAttr(p.circle, "fill", opColor(m.op));
        if (m.chunk != null) {
          setAttr(p.chunk, "y", f1(fs * 0.36));
          setAttr(p.chunk, "font-size", f1(fs));
          setText(p.chunk, String(m.chunk));
          if (p.chunk.parentNode !== p.g) p.g.insertBefore(p.chunk, p.title);
        } else p.chunk.remove();
        setText(
          p.title,
          t("topo.packetTitle", {
            op: t("op." + m.op),
            src: m.src,
            dst: m.dst,
            bytes: fmtBytes(m.bytes),
            ms: fmtNum(m.duration_ms, 3),
          }),
        );
        packets.push({ g: p.g, e });
      }
      packetsLayer.replaceChildren(...packets.map((p) => p.g));
      animatedMessages += packets.length;
      svg.dataset.animatedMessages = String(animatedMessages);
      if (phaseEl) {
        phaseEl.textContent = t("topo.phase", {
          step: job.step,
          op: t("op." + round.op),
          round: round.round + 1,
          of: round.of,
        });
      }
    };
    const t0 = performance.now();
    const frame = (now) => {
      if (gen !== anim.gen || !anim.running) return;
      const el_ = now - t0;
      if (el_ >= total) return finish();
      let i = current < 0 ? 0 : current;
      while (i + 1 < rounds.length && el_ >= starts[i + 1]) i++;
      if (i !== current) enterRound(i);
      const u = Math.max(0, Math.min(1, (el_ - starts[i]) / durations[i]));
      const ease = u < 0.5 ? 2 * u * u : 1 - Math.pow(-2 * u + 2, 2) / 2;
      for (const p of packets) {
        const [x, y] = bez(p.e.p0, p.e.c, p.e.p2, ease);
        p.g.setAttribute("transform", `translate(${f1(x)},${f1(y)})`);
      }
      requestAnimationFrame(frame);
    };
    enterRound(0);
    for (const p of packets) p.g.setAttribute("transform", `translate(${f1(p.e.p0[0])},${f1(p.e.p0[1])})`);
    requestAnimationFrame(frame);
    // Background tabs may not run animation frames: never leave the picture "busy".
    setTimeout(finish, total + 400);
  }

  function runRing(job) {
    const gen = begin(job);
    const { geom, onRing } = scene();
    const { R } = geom;
    const n = scene().ringArcs.length; // the members of the ring, in ring order
    const duration = animationMs(job.commMs);
    const hops = 2 * (n - 1);
    const packets = [];
    for (let r = 0; r < n; r++) packets.push(el("circle", { r: 9, cx: -999, cy: -999, class: "packet" }, packetsLayer));
    centerSub.textContent = t("topo.step", { step: job.step });
    const t0 = performance.now();
    const finish = finishFn(gen);
    const frame = (now) => {
      if (gen !== anim.gen || !anim.running) return;
      const p = Math.max(0, Math.min(1, (now - t0) / duration));
      const hp = p * hops;
      const hop = Math.min(hops - 1, Math.floor(hp));
      const frac = hp - hop;
      const gather = hop >= n - 1;
      centerMain.textContent = gather ? t("topo.allgather") : t("topo.reducescatter");
      for (let r = 0; r < n; r++) {
        const arc = scene().ringArcs[(((r + hop) % n) + n) % n];
        const [x, y] = onRing(arc.a0 + frac * (arc.a1 - arc.a0), R);
        packets[r].setAttribute("cx", f1(x));
        packets[r].setAttribute("cy", f1(y));
        packets[r].setAttribute("fill", gather ? OKABE_ITO.blue : OKABE_ITO.orange);
      }
      if (p < 1) requestAnimationFrame(frame);
      else finish();
    };
    requestAnimationFrame(frame);
    setTimeout(finish, duration + 300);
  }

  function cancel() {
    anim.gen++;
    anim.running = false;
    anim.pending = null;
    packetsLayer.replaceChildren();
    if (phaseEl) phaseEl.textContent = "";
    idle();
  }

  /** Forget the counters of the run shown so far (another run is loaded). */
  function resetCounts() {
    animatedMessages = 0;
    delete svg.dataset.animatedMessages;
    delete svg.dataset.animatedStep;
  }

  return {
    animate,
    cancel,
    resetCounts,
    get running() {
      return anim.running;
    },
  };
}
