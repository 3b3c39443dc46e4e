// views/timeline.js — the timeline: swimlanes, one per rank, for the last ~30 steps.
//
// Swimlanes, one per rank, for the last ~30 steps.
//
// Each step of each rank is laid out from its measured start (`t_start`): its phases
// (`stepPhases`: wait, compute, emulated, comm; a parameter server's own), back to back. Whatever is left until the step's event time `t` is
// idle (pace sleep) and stays blank. In "idle removed" mode every step gets a slot as
// wide as its slowest rank's busy time, so short segments stay visible at slow paces.
// In "modelled" mode (runs with a network model) the comm segment is the step's
// comm_modelled_ms (α–β time on the modelled network) while wait and compute stay
// measured; steps follow each other without idle time, each beginning when the slowest
// rank finished the previous one (a synchronous all-reduce is a barrier).

import { fmtNum, getLang, t } from "../core/i18n.js";
import { watchSize } from "./boxsize.js";
import { setAttr, setData, setText } from "./dom.js";
import { networkText } from "./netlabels.js";
import { checkpointList, faultMarkers, recoveryList, skippedSteps } from "../core/faults.js";
import { runNetwork, timelineWindow } from "../core/selectors.js";
import { faultEffect, textIn } from "../core/specs.js";
import { stepRange } from "./faultlog.js";

export const TIMELINE_STEPS = 30;
// A step without `phases` took these, in this order (engine/events.py DEFAULT_PHASES).
const DEFAULT_PHASES = ["wait", "compute", "emulated", "comm"];
const SEG_KEYS = {
  wait: "timeline.wait",
  compute: "timeline.compute",
  comm: "timeline.comm",
  pull: "timeline.pull",
  push: "timeline.pushOnly",
  blocked: "timeline.blocked",
  emulated: "timeline.emulated",
};

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function niceTicks(lo, hi, count = 5) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) ticks.push(v);
  return ticks;
}

const msOf = (rec, seg, modelled = false) => {
  const v = modelled && seg === "comm" ? rec.comm_modelled_ms : rec[`${seg}_ms`];
  return Number.isFinite(v) && v > 0 ? v : 0;
};

/** Pure: the phases of one step record, in order, as [name, ms] with ms > 0: the one
 *  rule on the page (engine/events.py `phases_of` is its mirror for the trace export).
 *  As the engine measured and sent them (`phases`), else derived from the step's timings:
 *  wait → compute → emulated → comm. The engine leaves `phases` out when they are exactly
 *  that (the common case) and sends them when a strategy has phases of its own (the
 *  parameter server). Parameter-server runs recorded before steps carried phases (they
 *  have `pull_ms`) get the order the page drew then. */
export function stepPhases(rec) {
  if (Array.isArray(rec.phases)) {
    return rec.phases.filter(([, ms]) => Number.isFinite(ms) && ms > 0);
  }
  if (Number.isFinite(rec.pull_ms)) {
    const pull = rec.pull_ms > 0 ? rec.pull_ms : 0;
    const held = msOf(rec, "blocked") > 0 ? "blocked" : msOf(rec, "wait") > 0 ? "wait" : "pull";
    const out = [
      [held, held === "pull" ? pull : Math.max(pull, msOf(rec, held))],
      ["compute", msOf(rec, "compute")],
      ["emulated", msOf(rec, "emulated")],
      ["push", msOf(rec, "comm")],
    ];
    return out.filter(([, ms]) => ms > 0);
  }
  return DEFAULT_PHASES.map((seg) => [seg, msOf(rec, seg)]).filter(([, ms]) => ms > 0);
}

/** Pure: the segments the timeline draws for one step record: its phases (`stepPhases`);
 *  on the modelled clock, communication is charged its modelled time instead. */
export function recSegments(rec, modelled = false) {
  const phases = stepPhases(rec);
  if (!modelled) return phases;
  return phases
    .map(([seg, ms]) => [seg, seg === "comm" ? msOf(rec, "comm", true) : ms])
    .filter(([, ms]) => ms > 0);
}

/** Step slots for workers that do not move in lock step (an asynchronous parameter
 *  server): a straggler's step 7 and a fast worker's step 7 are not the same moment, so
 *  each lane packs its own records back to back (idle removed), from the window's start. */
function laneByLane(win, modelled) {
  const out = [];
  let hi = 0;
  for (const lane of win.lanes) {
    let x = 0;
    for (const rec of lane.recs) {
      for (const [seg, ms] of recSegments(rec, modelled)) {
        out.push({ rank: lane.rank, step: rec.step, seg, ms, x0: x, x1: x + ms, ...(modelled && seg === "comm" ? { modelled: true } : {}) });
        x += ms;
      }
    }
    hi = Math.max(hi, x);
  }
  return { segs: out, lo: 0, hi: Math.max(hi, 1e-9), unit: "ms", stepStarts: new Map() };
}

/** Pure layout: returns [{rank, step, seg, x0, x1}] in "time units" plus the axis range. */
export function layoutSegments(win, mode = "wall") {
  const out = [];
  if (mode !== "wall" && win.lockstep === false) return laneByLane(win, mode === "modelled");
  if (mode === "modelled") {
    // Slot per step = its slowest rank's wait + compute + modelled comm, no gaps: a
    // time axis in ms from the first shown step.
    const steps = new Map();
    for (const lane of win.lanes) {
      for (const rec of lane.recs) {
        const busy = recSegments(rec, true).reduce((a, [, ms]) => a + ms, 0);
        steps.set(rec.step, Math.max(steps.get(rec.step) || 0, busy));
      }
    }
    const order = [...steps.keys()].sort((a, b) => a - b);
    const start = new Map();
    let acc = 0;
    for (const s of order) {
      start.set(s, acc);
      acc += steps.get(s);
    }
    for (const lane of win.lanes) {
      for (const rec of lane.recs) {
        let x = start.get(rec.step);
        for (const [seg, ms] of recSegments(rec, true)) {
          if (ms > 0) out.push({ rank: lane.rank, step: rec.step, seg, ms, x0: x, x1: x + ms, modelled: seg === "comm" });
          x += ms;
        }
      }
    }
    return { segs: out, lo: 0, hi: Math.max(acc, 1e-9), unit: "ms", stepStarts: start };
  }
  if (mode === "compact") {
    // Slot per step = slowest rank's busy time (ms); idle removed.
    const steps = new Map();
    for (const lane of win.lanes) {
      for (const rec of lane.recs) {
        const busy = recSegments(rec).reduce((a, [, ms]) => a + ms, 0);
        steps.set(rec.step, Math.max(steps.get(rec.step) || 0, busy));
      }
    }
    const order = [...steps.keys()].sort((a, b) => a - b);
    const start = new Map();
    let acc = 0;
    const gap = order.length ? Math.max(...steps.values()) * 0.08 : 0;
    for (const s of order) {
      start.set(s, acc);
      acc += steps.get(s) + gap;
    }
    for (const lane of win.lanes) {
      for (const rec of lane.recs) {
        let x = start.get(rec.step);
        for (const [seg, ms] of recSegments(rec)) {
          if (ms > 0) out.push({ rank: lane.rank, step: rec.step, seg, ms, x0: x, x1: x + ms });
          x += ms;
        }
      }
    }
    return { segs: out, lo: 0, hi: Math.max(acc - gap, 1e-9), unit: "ms", stepStarts: start };
  }
  const stepStarts = new Map();
  for (const lane of win.lanes) {
    for (const rec of lane.recs) {
      let x = Number.isFinite(rec.t_start) ? rec.t_start : rec.t;
      if (!stepStarts.has(rec.step) || x < stepStarts.get(rec.step)) stepStarts.set(rec.step, x);
      for (const [seg, ms] of recSegments(rec)) {
        if (ms > 0) out.push({ rank: lane.rank, step: rec.step, seg, ms, x0: x, x1: x + ms / 1000 });
        x += ms / 1000;
      }
    }
  }
  const hi = Math.max(win.t1, ...out.map((s) => s.x1), win.t0 + 1e-6);
  return { segs: out, lo: win.t0, hi, unit: "s", stepStarts };
}

/** Pure: one box per (rank, step) whose update was skipped (a NaN gradient), spanning
 *  that step's segments on its lane: [{rank, step, x0, x1}] in the layout's units. */
export function skipBoxes(win, layout, skipped) {
  if (!skipped || !skipped.size) return [];
  const boxes = new Map();
  for (const s of layout.segs) {
    if (!skipped.has(s.step)) continue;
    const k = `${s.rank}:${s.step}`;
    const b = boxes.get(k);
    if (b) {
      b.x0 = Math.min(b.x0, s.x0);
      b.x1 = Math.max(b.x1, s.x1);
    } else boxes.set(k, { rank: s.rank, step: s.step, x0: s.x0, x1: s.x1 });
  }
  return [...boxes.values()].sort((a, b) => a.rank - b.rank || a.step - b.step);
}

/** Pure: where a fault marker goes on the axis: its time on the wall clock; on the
 *  step-slot clocks, the start of the step after the newest one reported when it came
 *  (or the end of the axis). null when it lies before the shown window. */
export function markerX(m, layout, mode) {
  if (mode === "wall") return Number.isFinite(m.t) && m.t >= layout.lo ? m.t : null;
  const next = layout.stepStarts.get(m.step + 1);
  if (next !== undefined) return next;
  const steps = [...layout.stepStarts.keys()];
  if (!steps.length || m.step < Math.min(...steps) - 1) return null;
  return m.step >= Math.max(...steps) ? layout.hi : null;
}

/** Pure: where the lost steps of each recovery go: [{x0, x1, rec}] in the layout's
 *  units. Wall clock: from the end of the checkpoint's step to the failure. Step-slot
 *  clocks (where the re-executed steps took the lost ones' place): a thin band at the start
 *  of the first re-executed step. Bands wholly before the window are left out. */
export function lostBands(recoveries, layout, mode) {
  const out = [];
  for (const r of recoveries) {
    if (!r.lostSteps) continue;
    if (mode === "wall") {
      if (!Number.isFinite(r.lostT0) || !Number.isFinite(r.lostT1) || r.lostT1 < layout.lo) continue;
      out.push({ x0: Math.max(layout.lo, r.lostT0), x1: Math.max(r.lostT1, r.lostT0), rec: r });
    } else {
      const x = layout.stepStarts.get(r.fromStep + 1);
      if (x === undefined) continue;
      out.push({ x0: x, x1: x, rec: r, thin: true });
    }
  }
  return out;
}

/** Pure: checkpoint markers [{x, cp}]: at the checkpoint's time (wall clock) or after its
 *  step's slot (step-slot clocks); those before the window are left out. */
export function checkpointXs(checkpoints, layout, mode) {
  const out = [];
  for (const cp of checkpoints) {
    const x = markerX({ t: cp.t, step: cp.step }, layout, mode);
    if (x != null && x <= layout.hi + 1e-9) out.push({ x, cp });
  }
  return out;
}

const MARK_GLYPH = { kill: "⚡", freeze: "❄", slow: "×", corrupt: "NaN", delay: "Δ", drop: "✂", rejoin: "↩" };

/** The axis caption: always says which clock the timeline shows. */
export function axisText(mode, network) {
  if (mode === "modelled" && network) return t("timeline.axisModelled", { net: networkText(network) });
  return mode === "compact" ? t("timeline.axisCompact") : t("timeline.axisWall");
}

const NS = "http://www.w3.org/2000/svg";
const DEFS = `<defs><pattern id="hatch-skip" patternUnits="userSpaceOnUse" width="7" height="7" patternTransform="rotate(45)"><rect width="7" height="7" fill="rgba(213,94,0,0.08)"/><rect width="2" height="7" fill="rgba(213,94,0,0.55)"/></pattern><pattern id="hatch-lost" patternUnits="userSpaceOnUse" width="8" height="8" patternTransform="rotate(45)"><rect width="8" height="8" fill="rgba(120,120,120,0.10)"/><rect width="2.5" height="8" fill="rgba(90,90,90,0.55)"/></pattern><pattern id="hatch-emulated" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#cfe3f1"/><rect width="3" height="6" fill="#0072b2"/></pattern><pattern id="tl-hatch-emulated" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#cfe3f1"/><rect width="3" height="6" fill="#0072b2"/></pattern></defs>`;

/**
 * The segments' rects, kept from one render to the next in a layer that the axis scales:
 * a segment's x and width are in the axis's own units (seconds of wall time, or ms), from
 * `origin`, and the layer's transform maps them to pixels. A step's rects are made once,
 * when it comes into the window, and left alone while the window slides (only the
 * layer's transform changes) until it leaves. `key` names a segment (rank, step, phase,
 * occurrence); an attribute is written only when it changed.
 */
function createSegPool(layer) {
  let byKey = new Map(); // key -> {el, title, cls, attrs: {}, ms}
  function draw(list) {
    const next = new Map();
    for (const d of list) {
      let s = byKey.get(d.key);
      if (s) byKey.delete(d.key);
      else {
        const el = document.createElementNS(NS, "rect");
        const title = document.createElementNS(NS, "title");
        el.appendChild(title);
        layer.appendChild(el);
        s = { el, title, cls: null, attrs: {}, ms: null };
      }
      if (s.cls !== d.cls) s.el.setAttribute("class", (s.cls = d.cls));
      for (const k in d.attrs) {
        const v = d.attrs[k];
        if (s.attrs[k] !== v) s.el.setAttribute(k, (s.attrs[k] = v));
      }
      // the tooltip's words are made only for a new segment (or one whose time changed)
      if (s.ms !== d.ms) {
        s.ms = d.ms;
        s.title.textContent = d.label();
      }
      next.set(d.key, s);
    }
    for (const s of byKey.values()) s.el.remove();
    byKey = next;
  }
  function clear() {
    layer.replaceChildren();
    byKey = new Map();
  }
  return { draw, clear };
}

/** Pure: the narrowest a segment is drawn, in axis units at `k` pixels per unit: 1.5 px,
 *  rounded up to a step of 2^(1/4), so that it stays the same while the scale drifts. */
export function minSegWidth(k) {
  const w = 1.5 / k;
  return Math.pow(2, Math.ceil(Math.log2(w) * 4) / 4);
}

/** An axis-unit number as an attribute: enough digits for a hundredth of a pixel. */
const unitAttr = (v) => String(+v.toFixed(6));

export function createTimeline(svg, axisLabelEl, onModes) {
  let mode = "wall";
  let large = false;
  let lastState = null;
  let modelledAvailable = null;
  const size = watchSize(svg);
  let drawnKey = null; // what the last render drew: the state (immutable), clock, size, language
  // The drawing's layers, in paint order (null while the empty text is shown).
  let layers = null;
  let pool = null;
  let poolKey = null;
  let origin = 0; // the axis value the segments' x are counted from
  const shownHtml = new Map(); // layer -> the markup it holds

  function skeleton() {
    svg.innerHTML = `${DEFS}<g class="tl-lanes"></g><g class="tl-guides"></g><g class="tl-segs"></g><g class="tl-marks"></g><g class="tl-axis"></g>`;
    const g = (c) => svg.querySelector(`.${c}`);
    layers = {
      lanes: g("tl-lanes"),
      guides: g("tl-guides"),
      segs: g("tl-segs"),
      marks: g("tl-marks"),
      axis: g("tl-axis"),
      hatch: svg.querySelector("#tl-hatch-emulated"),
    };
    pool = createSegPool(layers.segs);
    poolKey = null;
    shownHtml.clear();
  }

  /** A layer's markup, parsed only when it differs from what the layer holds. */
  function setHtml(layer, html) {
    if (shownHtml.get(layer) === html) return;
    shownHtml.set(layer, html);
    layer.innerHTML = html;
  }

  function render(state) {
    lastState = state;
    const network = runNetwork(state);
    if (!!network !== modelledAvailable) {
      modelledAvailable = !!network;
      onModes?.({ modelled: modelledAvailable });
    }
    // A run without a network model has only one clock for communication: wall time.
    const shown = mode === "modelled" && !network ? "wall" : mode;
    setData(svg, "mode", shown);
    const box = size();
    const Wd = Math.max(240, Math.round(box.width || 600));
    const Ht = Math.max(140, Math.round(box.height || 260));
    const want = [state, shown, large, Wd, Ht, getLang()];
    if (drawnKey && want.every((v, i) => v === drawnKey[i])) return;
    drawnKey = want;
    setAttr(svg, "viewBox", `0 0 ${Wd} ${Ht}`); // (even an unchanged viewBox lays out every element again)
    const win = timelineWindow(state, TIMELINE_STEPS);
    const lanes = win.lanes;
    if (axisLabelEl) {
      setText(axisLabelEl, axisText(shown, network));
      setData(axisLabelEl, "mode", shown);
    }
    if (!lanes.length) {
      layers = null;
      svg.innerHTML = `<text x="${Wd / 2}" y="${Ht / 2}" text-anchor="middle" class="empty-text">${esc(t("timeline.empty"))}</text>`;
      return;
    }
    if (!layers) skeleton();
    const fs = large ? 16 : 12;
    const left = large ? 84 : 64;
    const right = 10;
    const top = fs + 4; // room for the step numbers above the lanes
    const bottom = large ? 30 : 24;
    const laneH = (Ht - top - bottom) / lanes.length;
    const layout = layoutSegments(win, shown);
    const { segs, lo, unit, stepStarts } = layout;
    // Fault markers after the last step stretch the wall-clock axis to show them.
    const markers = faultMarkers(state)
      .map((m) => ({ ...m, x: markerX(m, layout, shown) }))
      .filter((m) => m.x != null);
    const hi = shown === "wall" ? Math.max(layout.hi, ...markers.map((m) => m.x)) : layout.hi;
    const span = hi - lo || 1;
    const sx = (v) => left + ((v - lo) / span) * (Wd - left - right);
    // lanes
    const laneParts = [];
    lanes.forEach((lane, i) => {
      const y = top + i * laneH;
      laneParts.push(`<rect class="lane-bg${i % 2 ? " odd" : ""}" x="${left}" y="${y.toFixed(1)}" width="${Wd - left - right}" height="${laneH.toFixed(1)}"/>`);
      laneParts.push(
        `<text class="lane-label" x="${left - 8}" y="${(y + laneH / 2 + fs * 0.35).toFixed(1)}" text-anchor="end" font-size="${fs}">${esc(t("topo.rank", { rank: lane.rank }))}</text>`,
      );
    });
    setHtml(layers.lanes, laneParts.join(""));
    // step starts (thin guides) and step numbers every few steps
    const guideParts = [];
    const every = Math.max(1, Math.ceil(stepStarts.size / 6));
    [...stepStarts.entries()].forEach(([step, x]) => {
      const px = sx(x).toFixed(1);
      guideParts.push(`<line class="step-guide" x1="${px}" x2="${px}" y1="${top - 4}" y2="${Ht - bottom}"/>`);
      if (step % every === 0) {
        guideParts.push(`<text class="step-label" x="${(+px + 2).toFixed(1)}" y="${fs}" font-size="${fs - 2}">${step}</text>`);
      }
    });
    setHtml(layers.guides, guideParts.join(""));
    // segments: kept from one render to the next (a new language or clock: made afresh),
    // in axis units under a transform (a new window moves the layer, not each rect)
    const pk = `${getLang()}|${shown}|${large}|${Wd}x${Ht}|${lanes.map((l) => l.rank).join(",")}`;
    const k = (Wd - left - right) / span; // pixels per axis unit
    if (pk !== poolKey || lo < origin || lo - origin > 20 * span) {
      poolKey = pk;
      origin = lo;
      pool.clear();
    }
    const tx = left - (lo - origin) * k;
    layers.segs.setAttribute("transform", `translate(${tx.toFixed(3)},0) scale(${k.toPrecision(9)},1)`);
    // the emulated segments' hatching, undoing the layer's horizontal scale
    if (segs.some((g) => g.seg === "emulated")) setAttr(layers.hatch, "patternTransform", `scale(${(1 / k).toPrecision(9)},1) rotate(45)`);
    const rowOf = new Map(lanes.map((l, i) => [l.rank, i]));
    const segH = Math.max(4, laneH * 0.56);
    const minW = minSegWidth(k);
    const seen = new Map();
    pool.draw(
      segs.map((s) => {
        const y = top + rowOf.get(s.rank) * laneH + (laneH - segH) / 2;
        const id = `${s.rank}|${s.step}|${s.seg}`;
        const n = (seen.get(id) || 0) + 1;
        seen.set(id, n);
        return {
          key: `${id}|${n}`,
          cls: `seg seg-${s.seg === "pull" ? "push pull" : s.seg}${s.modelled ? " modelled" : ""}`,
          attrs: {
            "data-seg": s.seg,
            "data-step": String(s.step),
            "data-rank": String(s.rank),
            x: unitAttr(s.x0 - origin),
            y: y.toFixed(1),
            width: unitAttr(Math.max(minW, s.x1 - s.x0)),
            height: segH.toFixed(1),
          },
          ms: s.ms,
          label: () => {
            const what = s.modelled ? t("timeline.commModelled") : t(SEG_KEYS[s.seg] || "timeline.comm");
            return `${t("topo.rank", { rank: s.rank })} · ${t("topo.step", { step: s.step })} · ${what} ${fmtNum(s.ms, 3)} ms`;
          },
        };
      }),
    );
    const parts = [];
    // steps whose update was skipped (NaN gradient): a hatched red box on each lane
    for (const b of skipBoxes(win, layout, new Set(skippedSteps(state)))) {
      const x0 = sx(b.x0) - 2;
      const w = Math.max(5, sx(b.x1) - sx(b.x0) + 4);
      const y = top + rowOf.get(b.rank) * laneH + 1;
      const label = `${t("topo.rank", { rank: b.rank })} · ${t("topo.step", { step: b.step })} · ${t("faults.legendSkip")}`;
      parts.push(
        `<rect class="skip-box" data-step="${b.step}" data-rank="${b.rank}" x="${x0.toFixed(2)}" y="${y.toFixed(1)}" width="${w.toFixed(2)}" height="${(laneH - 2).toFixed(1)}"><title>${esc(label)}</title></rect>`,
      );
    }
    // the lost steps of each restart from a checkpoint: grey hatched band over the wall
    // time they took (their original records faded underneath), with a label
    const bands = lostBands(recoveryList(state), layout, shown);
    for (const b of bands) {
      let x0 = sx(b.x0);
      let x1 = sx(b.x1);
      if (b.thin || x1 - x0 < 8) {
        x0 -= 4;
        x1 = x0 + 8;
      }
      const text = t("recovery.lostLabel", { steps: stepRange(b.rec.lostSteps) });
      const label = `${text} · ${t("recovery.gen", { gen: b.rec.generation })}`;
      const faded = [];
      if (shown === "wall") {
        for (const lane of b.rec.lostRecs || []) {
          const row = rowOf.get(lane.rank);
          if (row === undefined) continue;
          for (const rec of lane.recs) {
            let x = Number.isFinite(rec.t_start) ? rec.t_start : rec.t;
            for (const [, ms] of recSegments(rec)) {
              const px = sx(x);
              const w = Math.max(1.5, sx(x + ms / 1000) - px);
              faded.push(`<rect class="lost-rec" x="${px.toFixed(2)}" y="${(top + row * laneH + (laneH - segH) / 2).toFixed(1)}" width="${w.toFixed(2)}" height="${segH.toFixed(1)}"/>`);
              x += ms / 1000;
            }
          }
        }
      }
      // the label sits at the band's centre, kept inside the plot
      const tw = text.length * (fs - 1) * 0.56;
      const tx = Math.max(left + 2, Math.min((x0 + x1) / 2 - tw / 2, Wd - right - tw - 2));
      parts.push(
        `<g class="lost-band" data-testid="lost-band" data-from="${b.rec.lostSteps[0]}" data-to="${b.rec.lostSteps[1]}" data-generation="${b.rec.generation}"><title>${esc(label)}</title>${faded.join("")}<rect class="lost-fill" x="${x0.toFixed(2)}" y="${top - 2}" width="${(x1 - x0).toFixed(2)}" height="${(Ht - bottom - top + 2).toFixed(1)}"/><text x="${tx.toFixed(1)}" y="${(Ht - bottom - 4).toFixed(1)}" font-size="${fs - 1}">${esc(text)}</text></g>`,
      );
    }
    svg.dataset.lostBands = String(bands.length);
    // a flag at each checkpoint (its measured write cost on hover)
    const cps = checkpointXs(checkpointList(state), layout, shown);
    for (const { x, cp } of cps) {
      const px = sx(x).toFixed(1);
      const cost = Number.isFinite(cp.durationMs) ? `${fmtNum(cp.durationMs, 3)} ms` : "?";
      const label = t("recovery.ckptTitle", { step: cp.step, cost, bytes: cp.bytes ?? "?", file: cp.file ?? "" });
      parts.push(
        `<g class="ckpt-marker" data-step="${cp.step}"><title>${esc(label)}</title><line x1="${px}" x2="${px}" y1="${top - 2}" y2="${Ht - bottom}"/><text x="${(+px + 1).toFixed(1)}" y="${Ht - bottom - 2}" font-size="${fs}">⚑</text></g>`,
      );
    }
    svg.dataset.checkpoints = String(cps.length);
    // a vertical marker at each injected fault
    for (const m of markers) {
      const px = sx(m.x).toFixed(1);
      // the strategy's own mark and words where its spec has them (GFS: a byte on disk, not NaN)
      const effect = faultEffect(state.strategy || (state.config && state.config.strategy), m.action);
      const glyph = m.action === "slow" ? `×${fmtNum(m.factor, 2)}` : effect ? effect.glyph : MARK_GLYPH[m.action] || "!";
      const actionText = effect ? textIn(effect.text, getLang()) : t("elastic.action." + m.action);
      // a link fault names its link (src→dst), a rank fault its rank
      const link = m.src != null;
      const who = link ? t("elastic.marker.link", { src: m.src, dst: m.dst }) : t("topo.rank", { rank: m.rank });
      const label = `${t("faults.legendMarker")}: ${who} · ${actionText}${m.scheduled ? ` · ${t("elastic.log.scheduled")}` : ""}`;
      const short = link ? `${glyph} ${m.src}→${m.dst}` : `${glyph} r${m.rank}`;
      parts.push(
        `<g class="fault-marker" data-action="${esc(m.action)}" data-rank="${link ? "" : m.rank}"${m.scheduled ? ' data-scheduled="true"' : ""}><title>${esc(label)}</title><line x1="${px}" x2="${px}" y1="${top - 2}" y2="${Ht - bottom}"/><text x="${(+px - 3).toFixed(1)}" y="${fs}" text-anchor="end" font-size="${fs}">${esc(short)}</text></g>`,
      );
    }
    svg.dataset.skipped = String(skippedSteps(state).length);
    svg.closest(".card")?.classList.toggle("has-skips", skippedSteps(state).length > 0);
    svg.dataset.faultMarkers = String(markers.length);
    setHtml(layers.marks, parts.join(""));
    // axis
    const axisParts = [];
    const axisY = Ht - bottom;
    axisParts.push(`<line class="axis" x1="${left}" x2="${Wd - right}" y1="${axisY}" y2="${axisY}"/>`);
    for (const v of niceTicks(lo, hi, Math.max(3, Math.floor((Wd - left) / 110)))) {
      const px = sx(v).toFixed(1);
      const txt = unit === "s" ? `${fmtNum(v, 3)} s` : `${fmtNum(v, 3)} ms`;
      axisParts.push(`<line class="tick" x1="${px}" x2="${px}" y1="${axisY}" y2="${axisY + 4}"/>`);
      axisParts.push(`<text class="tick-label" x="${px}" y="${axisY + 4 + fs}" text-anchor="middle" font-size="${fs - 1}">${esc(txt)}</text>`);
    }
    setHtml(layers.axis, axisParts.join(""));
    svg.dataset.fromStep = String(win.fromStep);
    svg.dataset.toStep = String(win.toStep);
  }

  function setMode(m) {
    mode = m === "compact" || m === "modelled" ? m : "wall";
    if (lastState) render(lastState);
  }

  function setLarge(v) {
    large = !!v;
  }

  return { render, setMode, setLarge, get mode() { return mode; } };
}

/** The timeline card's clock toggle (wall time | idle removed | modelled network time),
 *  wired to `timeline`. Returns setMode(mode). */
export function wireTimelineModes(timeline) {
  function setMode(mode) {
    for (const o of document.querySelectorAll("#timeline-modes .toggle")) {
      o.classList.toggle("active", o.dataset.mode === mode);
      o.setAttribute("aria-pressed", String(o.dataset.mode === mode));
    }
    timeline.setMode(mode);
  }
  for (const b of document.querySelectorAll("#timeline-modes .toggle")) {
    b.addEventListener("click", () => {
      if (!b.disabled) setMode(b.dataset.mode);
    });
  }
  return setMode;
}
