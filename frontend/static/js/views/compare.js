// views/compare.js — any two runs side by side (`?compare=A,B`): their mean losses overlaid (by
// step or by time since each run started), their timelines one above the other on the
// same time axis, and their configs in one table with the differing fields highlighted.
//
// Both runs are followed over /ws/runs/{id} like the main view (live runs keep growing)
// and reduced by the same pure reducer; this module only lays the two states out (what it
// shows, as pure functions: comparedata.js).

import * as api from "../core/api.js";
import { fmtNum, getLang, t } from "../core/i18n.js";
import { applyEvent, initialState } from "../core/reducer.js";
import { isLive, lossSeries, stepRanks, TERMINAL_STATUSES } from "../core/selectors.js";
import { getParam, parseCompare, setParams } from "../core/urlstate.js";
import {
  binSegments,
  canonical,
  configDiff,
  fieldLabel,
  niceTicks,
  optionLabel,
  runEnd,
  runName,
  runSegments,
} from "./comparedata.js";
import { OKABE_ITO } from "./palette.js";

export const COLORS = { a: OKABE_ITO.blue, b: OKABE_ITO.vermillion };
const MAX_SEGMENTS = 4000; // per timeline; beyond it, segments are binned per few pixels
const REDRAW_MS = 250;

function esc(s) {
  return String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

/** A value cell: short values stay on one line, long ones (JSON) wrap; a select's value
 *  shows the form's label (the raw value as its tooltip). */
function cell(v, field) {
  const label = optionLabel(field, v);
  const s = label || fmtValue(v);
  const title = label ? ` title="${esc(fmtValue(v))}"` : "";
  return `<td${s.length > 18 ? ' class="long"' : ""}${title}>${esc(s)}</td>`;
}

function fmtValue(v) {
  if (v === undefined || v === null) return "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

// ------------------------------------------------------------------ the view

/**
 * @param {object} o
 *   el          — the (empty) <section data-testid="compare-view">
 *   onOpen(on)  — the view opened or closed (main.js hides or shows the lab)
 */
export function createCompareView({ el, onOpen }) {
  const side = {
    a: { id: null, conn: null, state: initialState(), run: null, error: "" },
    b: { id: null, conn: null, state: initialState(), run: null, error: "" },
  };
  let gen = 0;
  let xMode = "time";
  let onlyDiff = false;
  let large = false;
  let runs = [];
  let timer = null;
  let lastDraw = 0;

  function build() {
    el.innerHTML = `
      <div class="compare-head">
        <h2>${esc(t("compare.title"))}</h2>
        <label class="compare-pick"><span class="cmp-swatch" style="background:${COLORS.a}"></span>A
          <select data-testid="compare-select-a" data-side="a"></select></label>
        <button type="button" class="btn small" data-testid="compare-swap" data-act="swap" title="${esc(t("compare.swapTitle"))}">⇅</button>
        <label class="compare-pick"><span class="cmp-swatch" style="background:${COLORS.b}"></span>B
          <select data-testid="compare-select-b" data-side="b"></select></label>
        <button type="button" class="btn small" data-testid="compare-close" data-act="close">${esc(t("compare.close"))}</button>
      </div>
      <p class="compare-error" data-testid="compare-error" role="alert" hidden></p>
      <div class="compare-grid">
        <section class="card compare-card-loss">
          <div class="card-head">
            <h2>${esc(t("compare.loss"))}</h2>
            <div class="seg-toggle" role="group" data-testid="compare-x">
              <button type="button" class="toggle" data-x="step" data-testid="compare-x-step">${esc(t("chart.xStep"))}</button>
              <button type="button" class="toggle" data-x="time" data-testid="compare-x-time">${esc(t("chart.xTime"))}</button>
            </div>
          </div>
          <div class="viz"><div class="compare-loss" data-testid="compare-loss"></div></div>
          <div class="legend compare-legend" data-part="legend"></div>
        </section>
        <section class="card compare-card-diff">
          <div class="card-head">
            <h2>${esc(t("compare.config"))}</h2>
            <label class="check small"><input type="checkbox" data-testid="compare-only-diff"${onlyDiff ? " checked" : ""}> <span>${esc(t("compare.onlyDiff"))}</span></label>
          </div>
          <div class="diff-wrap"><table class="compare-diff" data-testid="compare-diff"></table></div>
          <p class="caption" data-part="diff-note"></p>
        </section>
        <section class="card compare-card-timeline">
          <div class="card-head">
            <h2>${esc(t("compare.timelines"))}</h2>
            <div class="legend">
              <span class="lg-item"><span class="lg-box seg-wait"></span>${esc(t("timeline.wait"))}</span>
              <span class="lg-item"><span class="lg-box seg-compute"></span>${esc(t("timeline.compute"))}</span>
              <span class="lg-item"><span class="lg-box seg-comm"></span>${esc(t("timeline.comm"))}</span>
              <span class="lg-item"><span class="lg-box seg-emulated"></span>${esc(t("timeline.emulated"))}</span>
              <span class="lg-item"><span class="lg-box seg-push"></span>${esc(t("timeline.push"))}</span>
            </div>
          </div>
          <div class="compare-tl-label" data-part="label-a"></div>
          <div class="viz compare-tl"><svg class="timeline" data-testid="compare-timeline-a"></svg></div>
          <div class="compare-tl-label" data-part="label-b"></div>
          <div class="viz compare-tl"><svg class="timeline" data-testid="compare-timeline-b"></svg></div>
          <p class="caption">${esc(t("compare.timelineCaption"))}</p>
        </section>
      </div>`;
    el.querySelector('[data-act="close"]').addEventListener("click", close);
    el.querySelector('[data-act="swap"]').addEventListener("click", () => {
      if (side.a.id && side.b.id) open(side.b.id, side.a.id);
    });
    for (const sel of el.querySelectorAll("select[data-side]")) {
      sel.addEventListener("change", () => {
        const other = sel.dataset.side === "a" ? side.b.id : side.a.id;
        if (sel.value && sel.value !== other) {
          if (sel.dataset.side === "a") open(sel.value, side.b.id);
          else open(side.a.id, sel.value);
        } else fillSelects();
      });
    }
    for (const b of el.querySelectorAll("[data-testid=compare-x] .toggle")) {
      b.addEventListener("click", () => {
        xMode = b.dataset.x;
        markToggle();
        lossKey = "";
        draw();
      });
    }
    el.querySelector("[data-testid=compare-only-diff]").addEventListener("change", (ev) => {
      onlyDiff = ev.target.checked;
      el.querySelector("[data-testid=compare-diff]").classList.toggle("only-diff", onlyDiff);
    });
    markToggle();
    lossKey = "";
    diffKey = "";
  }

  function markToggle() {
    for (const b of el.querySelectorAll("[data-testid=compare-x] .toggle")) {
      b.classList.toggle("active", b.dataset.x === xMode);
      b.setAttribute("aria-pressed", String(b.dataset.x === xMode));
    }
    const div = el.querySelector("[data-testid=compare-loss]");
    if (div) div.dataset.x = xMode;
  }

  // ---------------------------------------------------------------- data

  function follow(key, id, g) {
    const s = side[key];
    s.conn?.close();
    s.id = id;
    s.state = initialState();
    s.run = null;
    s.error = "";
    api.getRun(id).then((r) => {
      if (g !== gen) return;
      if (r.ok) s.run = r.data;
      else s.error = r.status === 404 ? t("compare.noRun", { id }) : api.errorMessage(r.data, t("error.generic", { status: r.status }));
      schedule();
    });
    s.conn = api.followRun(id, {
      after: 0,
      onEvents(events) {
        if (g !== gen) return;
        let st = s.state;
        for (const e of events) if (e.type !== "comm") st = applyEvent(st, e);
        s.state = st;
        schedule();
      },
      async shouldReconnect() {
        const r = await api.getRun(id);
        if (g !== gen) return false;
        return r.status !== 404 && !(r.ok && r.data.status === "interrupted");
      },
    });
  }

  async function open(a, b) {
    const ids = parseCompare(`${a || ""},${b || ""}`);
    if (!ids) return false;
    const g = ++gen;
    if (!el.childElementCount) build();
    el.hidden = false;
    el.dataset.a = ids[0];
    el.dataset.b = ids[1];
    follow("a", ids[0], g);
    follow("b", ids[1], g);
    setUrl(ids);
    onOpen?.(true);
    lossKey = "";
    diffKey = "";
    fillSelects();
    schedule();
    api.listRuns().then((r) => {
      if (g === gen && r.ok && Array.isArray(r.data)) {
        runs = r.data;
        fillSelects();
      }
    });
    return true;
  }

  function close() {
    gen++;
    side.a.conn?.close();
    side.b.conn?.close();
    side.a.conn = side.b.conn = null;
    el.hidden = true;
    setUrl(null);
    onOpen?.(false);
  }

  const setUrl = (ids) => setParams({ compare: ids || null });

  function fillSelects() {
    for (const key of ["a", "b"]) {
      const sel = el.querySelector(`select[data-side="${key}"]`);
      if (!sel) continue;
      const list = [...runs];
      const id = side[key].id;
      if (id && !list.some((r) => r.id === id)) list.unshift({ id, config: side[key].run?.config, status: side[key].run?.status });
      sel.innerHTML = list
        .map((r) => `<option value="${esc(r.id)}">${esc(`${r.id.slice(0, 8)} · ${runName(r.config)} · ${r.status ? t("status." + r.status) : ""}`)}</option>`)
        .join("");
      sel.value = id || "";
    }
  }

  function schedule() {
    if (el.hidden || timer) return;
    timer = setTimeout(draw, Math.max(0, REDRAW_MS - (performance.now() - lastDraw)));
  }

  // ---------------------------------------------------------------- drawing

  function draw() {
    timer = null;
    lastDraw = performance.now();
    if (el.hidden) return;
    const err = [side.a.error, side.b.error].filter(Boolean).join(" · ");
    const errEl = el.querySelector("[data-testid=compare-error]");
    errEl.textContent = err;
    errEl.hidden = !err;
    drawLoss();
    drawDiff();
    drawTimelines();
  }

  const config = (s) => s.state.config || (s.run && s.run.config) || null;
  const statusOf = (s) => (s.state.finished ? s.state.status : (s.run && TERMINAL_STATUSES.includes(s.run.status) ? s.run.status : s.state.status));

  function label(key) {
    const s = side[key];
    const st = statusOf(s);
    const sum = s.state.summary || {};
    const bits = [`${key.toUpperCase()} · ${s.id ? s.id.slice(0, 8) : "?"}`, runName(config(s))];
    if (st && st !== "none") bits.push(t("status." + st));
    if (s.state.finished && Number.isFinite(sum.wall_s)) bits.push(t("compare.wall", { s: fmtNum(sum.wall_s, 3) }));
    const series = lossSeries(s.state).mean;
    const lastLoss = [...series.y].reverse().find((y) => y != null);
    if (lastLoss != null) bits.push(t("compare.lastLoss", { loss: fmtNum(lastLoss, 4), step: series.x[series.y.lastIndexOf(lastLoss)] }));
    return bits.join(" · ");
  }

  let lossKey = "";
  function drawLoss() {
    const div = el.querySelector("[data-testid=compare-loss]");
    const legend = el.querySelector('[data-part="legend"]');
    const key = `${getLang()}|${large}|${xMode}|${side.a.state.lastSeq}|${side.b.state.lastSeq}`;
    if (key === lossKey || !window.Plotly) return;
    lossKey = key;
    const byTime = xMode === "time";
    const xName = byTime ? t("chart.time") : t("chart.step");
    const traces = [];
    const counts = {};
    for (const k of ["a", "b"]) {
      const m = lossSeries(side[k].state).mean;
      counts[k] = m.x.length;
      traces.push({
        x: byTime ? m.xt : m.x,
        y: m.y,
        type: "scatter",
        mode: "lines",
        name: k.toUpperCase(),
        meta: k,
        line: { color: COLORS[k], width: large ? 4 : 2.6, dash: k === "b" ? "dash" : "solid" },
        hovertemplate: `${k.toUpperCase()}<br>${xName} %{x}<br>${t("chart.loss")} %{y:.4f}<extra></extra>`,
      });
    }
    div.dataset.stepsA = String(counts.a);
    div.dataset.stepsB = String(counts.b);
    const font = large ? 17 : 12;
    window.Plotly.react(
      div,
      traces,
      {
        margin: { l: 52, r: 10, t: 8, b: 40 },
        font: { size: font, family: "system-ui, -apple-system, 'Segoe UI', 'Noto Sans SC', 'PingFang SC', sans-serif", color: "#111" },
        xaxis: { title: { text: xName, standoff: 4 }, zeroline: false, gridcolor: "#e6e6e6", automargin: true },
        yaxis: { title: { text: t("chart.loss") }, automargin: true, gridcolor: "#e6e6e6", zeroline: false },
        showlegend: false,
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "#ffffff",
        uirevision: `cmp|${xMode}|${side.a.id}|${side.b.id}`,
      },
      { displayModeBar: false, responsive: true },
    );
    legend.innerHTML = ["a", "b"]
      .map(
        (k) =>
          `<span class="lg-item" data-side="${k}"><span class="lg-line${k === "b" ? " lg-dashed-b" : ""}" style="background:${COLORS[k]};height:4px"></span>${esc(label(k))}</span>`,
      )
      .join("");
    for (const k of ["a", "b"]) {
      const l = el.querySelector(`[data-part="label-${k}"]`);
      l.innerHTML = `<span class="cmp-swatch" style="background:${COLORS[k]}"></span>${esc(label(k))}`;
    }
  }

  let diffKey = "";
  function drawDiff() {
    const ca = config(side.a);
    const cb = config(side.b);
    const key = `${getLang()}|${canonical(ca)}|${canonical(cb)}`;
    if (key === diffKey) return;
    diffKey = key;
    const table = el.querySelector("[data-testid=compare-diff]");
    const note = el.querySelector('[data-part="diff-note"]');
    if (!ca || !cb) {
      table.innerHTML = `<tbody><tr><td class="empty">${esc(t("compare.loading"))}</td></tr></tbody>`;
      note.textContent = "";
      return;
    }
    const rows = configDiff(ca, cb);
    const n = rows.filter((r) => r.differs).length;
    table.dataset.differing = rows
      .filter((r) => r.differs)
      .map((r) => r.field)
      .join(",");
    table.innerHTML =
      `<thead><tr><th>${esc(t("compare.field"))}</th><th><span class="cmp-swatch" style="background:${COLORS.a}"></span>A</th><th><span class="cmp-swatch" style="background:${COLORS.b}"></span>B</th></tr></thead><tbody>` +
      rows
        .map(
          (r) =>
            `<tr data-field="${esc(r.field)}" data-differs="${r.differs}"${r.differs ? ' class="differs"' : ""}><th scope="row" title="${esc(r.field)}">${esc(fieldLabel(r.field))}</th>${cell(r.a, r.field)}${cell(r.b, r.field)}</tr>`,
        )
        .join("") +
      "</tbody>";
    note.textContent = n ? t("compare.differCount", { n, of: rows.length }) : t("compare.same");
  }

  function drawTimelines() {
    // One clock for both: seconds since each run started, from the first measured step
    // of either run (start-up before it is the same blank for both) to the last.
    const segs = { a: runSegments(side.a.state), b: runSegments(side.b.state) };
    const hi = Math.max(runEnd(side.a.state), runEnd(side.b.state), 1e-3);
    let first = Infinity;
    for (const k of ["a", "b"]) for (const x of segs[k]) first = Math.min(first, x.x0);
    const lo = Number.isFinite(first) && first < hi ? Math.max(0, first - 0.02 * (hi - first)) : 0;
    for (const k of ["a", "b"]) drawTimeline(el.querySelector(`[data-testid=compare-timeline-${k}]`), side[k].state, segs[k], lo, hi);
  }

  function drawTimeline(svg, state, segs, lo, hi) {
    const box = svg.getBoundingClientRect();
    const Wd = Math.max(240, Math.round(box.width || 800));
    const Ht = Math.max(80, Math.round(box.height || 150));
    svg.setAttribute("viewBox", `0 0 ${Wd} ${Ht}`);
    const ranks = stepRanks(state);
    if (!ranks.length) {
      svg.innerHTML = `<text x="${Wd / 2}" y="${Ht / 2}" text-anchor="middle" class="empty-text">${esc(t(isLive(state.status) ? "timeline.empty" : "compare.loading"))}</text>`;
      svg.dataset.segments = "0";
      return;
    }
    const fs = large ? 15 : 11;
    const left = large ? 84 : 64;
    const right = 10;
    const top = fs + 4; // room for the step numbers above the lanes
    const bottom = large ? 26 : 20;
    const laneH = (Ht - top - bottom) / ranks.length;
    const sx = (v) => left + ((v - lo) / (hi - lo || 1)) * (Wd - left - right);
    const rowOf = new Map(ranks.map((r, i) => [r, i]));
    const hatch = `cmp-hatch-${svg.dataset.testid.slice(-1)}`;
    const parts = [
      `<defs><pattern id="${hatch}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#cfe3f1"/><rect width="3" height="6" fill="#0072b2"/></pattern></defs>`,
    ];
    ranks.forEach((r, i) => {
      const y = top + i * laneH;
      parts.push(`<rect class="lane-bg${i % 2 ? " odd" : ""}" x="${left}" y="${y.toFixed(1)}" width="${Wd - left - right}" height="${laneH.toFixed(1)}"/>`);
      parts.push(`<text class="lane-label" x="${left - 8}" y="${(y + laneH / 2 + fs * 0.35).toFixed(1)}" text-anchor="end" font-size="${fs}">${esc(t("topo.rank", { rank: r }))}</text>`);
    });
    const segH = Math.max(3, laneH * 0.6);
    // the emulated-compute hatch is this SVG's own pattern (the lab's may be hidden)
    const cls = (seg) => `seg seg-${seg === "pull" ? "push pull" : seg}"${seg === "emulated" ? ` style="fill:url(#${hatch})"` : ""}`;
    if (segs.length <= MAX_SEGMENTS) {
      for (const s of segs) {
        const x0 = sx(s.x0);
        const w = Math.max(1, sx(s.x1) - x0);
        const y = top + rowOf.get(s.rank) * laneH + (laneH - segH) / 2;
        parts.push(
          `<rect class="${cls(s.seg)} data-seg="${s.seg}" data-step="${s.step}" data-rank="${s.rank}" x="${x0.toFixed(2)}" y="${y.toFixed(1)}" width="${w.toFixed(2)}" height="${segH.toFixed(1)}"><title>${esc(`${t("topo.rank", { rank: s.rank })} · ${t("topo.step", { step: s.step })} · ${fmtNum(s.ms, 3)} ms`)}</title></rect>`,
        );
      }
      svg.dataset.binned = "false";
    } else {
      // Too many to draw: each few-pixel bin shows the share of its time spent in each
      // kind of segment, stacked from the lane's bottom.
      const numBins = Math.max(20, Math.floor((Wd - left - right) / 3));
      const bins = binSegments(segs, lo, hi, numBins);
      const stack = new Map();
      for (const b of bins) {
        const k = `${b.rank}|${b.x0}`;
        const below = stack.get(k) || 0;
        stack.set(k, below + b.frac);
        const yBase = top + rowOf.get(b.rank) * laneH + (laneH + segH) / 2;
        const h = segH * b.frac;
        parts.push(
          `<rect class="${cls(b.seg).replace(/^seg /, "seg binned ")} data-seg="${b.seg}" data-rank="${b.rank}" x="${sx(b.x0).toFixed(2)}" y="${(yBase - segH * (below + b.frac)).toFixed(2)}" width="${Math.max(1, sx(b.x1) - sx(b.x0)).toFixed(2)}" height="${h.toFixed(2)}"/>`,
        );
      }
      svg.dataset.binned = "true";
    }
    // where every few steps began (the earliest rank): how far each run got by when
    const starts = new Map();
    for (const x of segs) if (!(starts.get(x.step) <= x.x0)) starts.set(x.step, x.x0);
    const steps = [...starts.keys()].sort((p, q) => p - q);
    const every = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].find((k) => steps.length / k <= 12) || Math.ceil(steps.length / 12);
    for (const step of steps) {
      if (step % every !== 0 && step !== 1) continue;
      const px = sx(starts.get(step)).toFixed(1);
      parts.push(`<line class="step-guide" x1="${px}" x2="${px}" y1="${top - 4}" y2="${Ht - bottom}"/>`);
      parts.push(`<text class="step-label" x="${(+px + 2).toFixed(1)}" y="${fs}" font-size="${fs - 1}">${step}</text>`);
    }
    // axis, shared by both timelines
    const axisY = Ht - bottom;
    parts.push(`<line class="axis" x1="${left}" x2="${Wd - right}" y1="${axisY}" y2="${axisY}"/>`);
    for (const v of niceTicks(lo, hi, Math.max(3, Math.floor((Wd - left) / 110)))) {
      const px = sx(v).toFixed(1);
      parts.push(`<line class="tick" x1="${px}" x2="${px}" y1="${axisY}" y2="${axisY + 4}"/>`);
      parts.push(`<text class="tick-label" x="${px}" y="${axisY + 4 + fs}" text-anchor="middle" font-size="${fs - 1}">${esc(`${fmtNum(v, 3)} s`)}</text>`);
    }
    svg.innerHTML = parts.join("");
    svg.dataset.segments = String(segs.length);
    svg.dataset.lo = String(lo);
    svg.dataset.hi = String(hi);
  }

  function resize() {
    if (el.hidden || !el.childElementCount) return;
    const div = el.querySelector("[data-testid=compare-loss]");
    if (div && div.data && window.Plotly) window.Plotly.Plots.resize(div);
    drawTimelines();
  }
  // the timelines are drawn to their boxes' size
  new ResizeObserver(() => resize()).observe(el);

  return {
    open,
    close,
    get isOpen() {
      return !el.hidden;
    },
    get ids() {
      return [side.a.id, side.b.id];
    },
    /** Boot: open the view if the URL asks for it (?compare=A,B). */
    fromUrl() {
      const ids = getParam("compare");
      return ids ? open(ids[0], ids[1]) : false;
    },
    relocalize() {
      if (!el.childElementCount) return;
      build();
      fillSelects();
      schedule();
    },
    setLarge(on) {
      large = !!on;
      lossKey = "";
      schedule();
    },
    resize,
  };
}
