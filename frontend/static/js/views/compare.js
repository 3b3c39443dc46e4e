// views/compare.js — two to four runs side by side (`?compare=A,B[,C,D]`): their mean losses
// overlaid (by step or by time since each run started), their timelines one above the
// other on the same time axis, what each measured (memory per process, bytes and time per
// step, idle fraction: the chapter's 表4, tradeoffs.js), how each got to a target loss
// (chapter 9's 表9: optimizercard.js), how GFS runs placed and moved their chunks (chapter
// 7's 表7: placementcard.js), and their configs in one table with the differing
// fields highlighted.
//
// Every run is followed over /ws/runs/{id} like the main view (live runs keep growing)
// and reduced by the same pure reducer; this module only lays the two states out (what it
// shows, as pure functions: comparedata.js).

import * as api from "../core/api.js";
import { fmtBytes, fmtNum, getLang, t } from "../core/i18n.js";
import { applyEvent, initialState } from "../core/reducer.js";
import { isLive, lossSeries, stepRanks, TERMINAL_STATUSES } from "../core/selectors.js";
import { getParam, parseCompare, setParams } from "../core/urlstate.js";
import {
  binSegments,
  canonical,
  configDiffMany,
  fieldLabel,
  niceTicks,
  optionLabel,
  runEnd,
  runName,
  runSegments,
} from "./comparedata.js";
import { mountOptimizerCard } from "./optimizercard.js";
import { OKABE_ITO } from "./palette.js";
import { mountPlacementCard } from "./placementcard.js";
import { tradeoffRow } from "./tradeoffs.js";

export const COLORS = { a: OKABE_ITO.blue, b: OKABE_ITO.vermillion, c: OKABE_ITO.green, d: OKABE_ITO.purple };
const KEYS = ["a", "b", "c", "d"]; // the sides, in order (at most four runs: core/urlstate.js)
const DASH = { a: "solid", b: "dash", c: "dot", d: "dashdot" };
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
  const side = {};
  for (const k of KEYS) side[k] = { id: null, conn: null, state: initialState(), run: null, error: "" };
  let keys = ["a", "b"]; // the sides in use
  let gen = 0;
  let xMode = "time";
  let onlyDiff = false;
  let large = false;
  let runs = [];
  let timer = null;
  let lastDraw = 0;
  let optimizers = null; // 表9's card (optimizercard.js), mounted by build()
  let placement = null; // 表7's card (placementcard.js), shown for GFS runs

  function build() {
    el.innerHTML = `
      <div class="compare-head">
        <h2>${esc(keys.length === 2 ? t("compare.title") : t("compare.titleN", { n: keys.length }))}</h2>
        ${keys
          .map(
            (k, i) =>
              `${i === 1 && keys.length === 2 ? `<button type="button" class="btn small" data-testid="compare-swap" data-act="swap" title="${esc(t("compare.swapTitle"))}">⇅</button>` : ""}<label class="compare-pick"><span class="cmp-swatch" style="background:${COLORS[k]}"></span>${k.toUpperCase()}
          <select data-testid="compare-select-${k}" data-side="${k}"></select></label>`,
          )
          .join("")}
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
          ${keys
            .map(
              (k) => `<div class="compare-tl-label" data-part="label-${k}"></div>
          <div class="viz compare-tl"><svg class="timeline" data-testid="compare-timeline-${k}"></svg></div>`,
            )
            .join("")}
          <p class="caption">${esc(t("compare.timelineCaption"))}</p>
        </section>
        <section class="card compare-card-measured">
          <div class="card-head"><h2>${esc(t("compare.measured"))}</h2></div>
          <div class="diff-wrap"><table class="compare-diff compare-measured" data-testid="compare-measured"></table></div>
          <p class="caption" data-part="measured-note">${esc(t("compare.measuredNote"))}</p>
        </section>
        <section class="card compare-card-placement" data-part="placement"></section>
        <section class="card compare-card-optimizers" data-part="optimizers"></section>
      </div>`;
    optimizers = mountOptimizerCard(el.querySelector('[data-part="optimizers"]'));
    placement = mountPlacementCard(el.querySelector('[data-part="placement"]'));
    el.querySelector('[data-act="close"]').addEventListener("click", close);
    el.querySelector('[data-act="swap"]')?.addEventListener("click", () => {
      if (side.a.id && side.b.id) open(side.b.id, side.a.id);
    });
    for (const sel of el.querySelectorAll("select[data-side]")) {
      sel.addEventListener("change", () => {
        const others = keys.filter((k) => k !== sel.dataset.side).map((k) => side[k].id);
        if (sel.value && !others.includes(sel.value)) open(...keys.map((k) => (k === sel.dataset.side ? sel.value : side[k].id)));
        else fillSelects();
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
    measuredKey = "";
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

  /** Open the view on two to four runs (ids in order: A, B, C, D). */
  async function open(...given) {
    const ids = parseCompare(given.filter(Boolean).join(","));
    if (!ids) return false;
    const g = ++gen;
    const wanted = KEYS.slice(0, ids.length);
    for (const k of keys) if (!wanted.includes(k)) side[k].conn?.close();
    if (!el.childElementCount || wanted.join() !== keys.join()) {
      keys = wanted;
      build();
    }
    el.hidden = false;
    KEYS.forEach((k, i) => {
      if (ids[i]) el.dataset[k] = ids[i];
      else delete el.dataset[k];
      if (ids[i]) follow(k, ids[i], g);
      else side[k].id = null;
    });
    el.dataset.runs = String(ids.length);
    setUrl(ids);
    onOpen?.(true);
    lossKey = "";
    diffKey = "";
    measuredKey = "";
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
    for (const k of KEYS) {
      side[k].conn?.close();
      side[k].conn = null;
    }
    el.hidden = true;
    setUrl(null);
    onOpen?.(false);
  }

  const setUrl = (ids) => setParams(ids ? { compare: ids } : { compare: null, target: null });

  function fillSelects() {
    for (const key of keys) {
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
    const err = keys.map((k) => side[k].error).filter(Boolean).join(" · ");
    const errEl = el.querySelector("[data-testid=compare-error]");
    errEl.textContent = err;
    errEl.hidden = !err;
    drawLoss();
    drawDiff();
    drawTimelines();
    drawMeasured();
    const drawn = keys.map((k) => ({ key: k, color: COLORS[k], label: runName(config(side[k])), state: side[k].state, config: config(side[k]) }));
    optimizers?.draw(drawn);
    placement?.draw(drawn);
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
    const key = `${getLang()}|${large}|${xMode}|${keys.map((k) => side[k].state.lastSeq).join("|")}`;
    if (key === lossKey || !window.Plotly) return;
    lossKey = key;
    const byTime = xMode === "time";
    const xName = byTime ? t("chart.time") : t("chart.step");
    const traces = [];
    const counts = {};
    for (const k of keys) {
      const m = lossSeries(side[k].state).mean;
      counts[k] = m.x.length;
      traces.push({
        x: byTime ? m.xt : m.x,
        y: m.y,
        type: "scatter",
        mode: "lines",
        name: k.toUpperCase(),
        meta: k,
        line: { color: COLORS[k], width: large ? 4 : 2.6, dash: DASH[k] },
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
        uirevision: `cmp|${xMode}|${keys.map((k) => side[k].id).join("|")}`,
      },
      { displayModeBar: false, responsive: true },
    );
    legend.innerHTML = keys
      .map(
        (k) =>
          `<span class="lg-item" data-side="${k}"><span class="lg-line${k === "b" ? " lg-dashed-b" : ""}" style="background:${COLORS[k]};height:4px"></span>${esc(label(k))}</span>`,
      )
      .join("");
    for (const k of keys) {
      const l = el.querySelector(`[data-part="label-${k}"]`);
      l.innerHTML = `<span class="cmp-swatch" style="background:${COLORS[k]}"></span>${esc(label(k))}`;
    }
  }

  let diffKey = "";
  function drawDiff() {
    const configs = keys.map((k) => config(side[k]));
    const key = `${getLang()}|${configs.map(canonical).join("|")}`;
    if (key === diffKey) return;
    diffKey = key;
    const table = el.querySelector("[data-testid=compare-diff]");
    const note = el.querySelector('[data-part="diff-note"]');
    if (configs.some((c) => !c)) {
      table.innerHTML = `<tbody><tr><td class="empty">${esc(t("compare.loading"))}</td></tr></tbody>`;
      note.textContent = "";
      return;
    }
    const rows = configDiffMany(configs);
    const n = rows.filter((r) => r.differs).length;
    table.dataset.differing = rows
      .filter((r) => r.differs)
      .map((r) => r.field)
      .join(",");
    table.innerHTML =
      `<thead><tr><th>${esc(t("compare.field"))}</th>${keys.map((k) => `<th><span class="cmp-swatch" style="background:${COLORS[k]}"></span>${k.toUpperCase()}</th>`).join("")}</tr></thead><tbody>` +
      rows
        .map(
          (r) =>
            `<tr data-field="${esc(r.field)}" data-differs="${r.differs}"${r.differs ? ' class="differs"' : ""}><th scope="row" title="${esc(r.field)}">${esc(fieldLabel(r.field))}</th>${r.values.map((v) => cell(v, r.field)).join("")}</tr>`,
        )
        .join("") +
      "</tbody>";
    note.textContent = n ? t("compare.differCount", { n, of: rows.length }) : t("compare.same");
  }

  // ------------------------------------------------ what each run measured (表4)

  let measuredKey = "";
  /** One column per run, one row per measured quantity (tradeoffs.js reads them from the
   *  run's events); "—" with its reason where the run did not measure one. */
  function drawMeasured() {
    const table = el.querySelector("[data-testid=compare-measured]");
    if (!table) return;
    const key = `${getLang()}|${keys.map((k) => `${side[k].id}:${side[k].state.lastSeq}`).join("|")}`;
    if (key === measuredKey) return;
    measuredKey = key;
    const rows = keys.map((k) => tradeoffRow(side[k].state));
    const na = (reason) => `<td class="na" data-value="" title="${esc(t("compare.na." + reason))}">— <span class="na-why">${esc(t("compare.na." + reason))}</span></td>`;
    const num = (v, text, title = "") => `<td data-value="${esc(v)}"${title ? ` title="${esc(title)}"` : ""}>${text}</td>`;
    const memoryCell = (m) =>
      !m
        ? na("noMemory")
        : num(
            m.total,
            `<b>${esc(fmtBytes(m.total))}</b><span class="sub">${esc(t("compare.memoryParts", { params: fmtBytes(m.params), grads: fmtBytes(m.grads), acts: fmtBytes(m.activations), opt: fmtBytes(m.optimizer) }))}</span>`,
            t("compare.memoryTitle", { rank: m.rank, step: m.step }),
          );
    const idleCell = (x) =>
      x.value == null
        ? na(x.reason)
        : num(x.value, `<b>${esc(`${fmtNum(x.value * 100, 3)} %`)}</b><span class="sub" data-kind="${x.kind}">${esc(t("compare.idle." + x.kind, { n: x.steps }))}</span>`);
    const line = (q, cells) => `<tr data-quantity="${q}"><th scope="row">${esc(t("compare.q." + q))}</th>${cells.join("")}</tr>`;
    table.innerHTML =
      `<thead><tr><th></th>${keys
        .map((k) => `<th data-side="${k}"><span class="cmp-swatch" style="background:${COLORS[k]}"></span>${k.toUpperCase()} · ${esc(runName(config(side[k])))}</th>`)
        .join("")}</tr></thead><tbody>` +
      line("memory", rows.map((r) => memoryCell(r.memory))) +
      line("bytes", rows.map((r) => (r.bytes == null ? na("noSteps") : num(r.bytes, `<b>${esc(fmtBytes(r.bytes))}</b>`)))) +
      line("time", rows.map((r) => (r.time == null ? na("noSteps") : num(r.time.ms, `<b>${esc(`${fmtNum(r.time.ms, 3)} ms`)}</b><span class="sub">${esc(t(r.time.writing ? "compare.medianOfWriting" : "compare.medianOf", { n: r.time.steps }))}</span>`)))) +
      line("idle", rows.map((r) => idleCell(r.idle))) +
      // chapter 2's comparison: what crossed between nodes, and the modelled network's time
      (rows.some((r) => r.across != null) ? line("across", rows.map((r) => (r.across == null ? na("noNodes") : num(r.across, `<b>${esc(fmtBytes(r.across))}</b>`)))) : "") +
      (rows.some((r) => r.modelled != null) ? line("modelled", rows.map((r) => (r.modelled == null ? na(config(side[keys[rows.indexOf(r)]])?.network ? "notModelled" : "noNetwork") : num(r.modelled, `<b>${esc(`${fmtNum(r.modelled, 3)} ms`)}</b>`)))) : "") +
      "</tbody>";
  }

  function drawTimelines() {
    // One clock for both: seconds since each run started, from the first measured step
    // of either run (start-up before it is the same blank for both) to the last.
    const segs = {};
    for (const k of keys) segs[k] = runSegments(side[k].state);
    const hi = Math.max(...keys.map((k) => runEnd(side[k].state)), 1e-3);
    let first = Infinity;
    for (const k of keys) for (const x of segs[k]) first = Math.min(first, x.x0);
    const lo = Number.isFinite(first) && first < hi ? Math.max(0, first - 0.02 * (hi - first)) : 0;
    for (const k of keys) drawTimeline(el.querySelector(`[data-testid=compare-timeline-${k}]`), side[k].state, segs[k], lo, hi);
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
      return keys.map((k) => side[k].id);
    },
    /** Boot: open the view if the URL asks for it (?compare=A,B). */
    fromUrl() {
      const ids = getParam("compare");
      return ids ? open(...ids) : false;
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
