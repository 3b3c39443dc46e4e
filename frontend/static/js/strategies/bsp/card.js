// strategies/bsp/card.js — the BSP card: the supersteps as columns (per worker: its compute, then its wait at the barrier, and the vertex messages it sent), the messages between every pair of workers in the shown superstep, the best-ranked vertices, and the change per superstep (convergence) as a Plotly chart.
//
// Everything drawn comes from the step events (strategies/bsp/slice.js). The bar of a
// cell is measured time: compute (with any emulated work) then the barrier wait — the
// time the worker waited for the other workers' messages. With a straggler, everyone
// else's bar is mostly wait, every superstep.

import { fmtNum, getLang, t } from "../../core/i18n.js";
import { createThrottledCard } from "../../views/card.js";
import { OKABE_ITO, rankColor } from "../../views/palette.js";
import { bspView } from "./slice.js";

const MIN_INTERVAL_MS = 250;

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text != null) e.textContent = text;
  return e;
}

const ms = (x) => (x == null ? "–" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
export const algName = (a) => t(`bsp.alg.${a}`);

/** One worker in one superstep: its time bar, the messages it sent, its wait. */
function cell(rec, rank, step, scale, combiner) {
  const td = el("td", { class: `bsp-cell${rec && rec.slowed ? " slowed" : ""}`, "data-testid": "bsp-cell", "data-step": step, "data-rank": rank });
  if (!rec) {
    td.textContent = "–";
    return td;
  }
  td.dataset.messages = String(rec.messages ?? "");
  td.dataset.raw = String(rec.messagesRaw ?? "");
  td.dataset.wait = String(rec.barrierMs ?? "");
  const bar = el("div", { class: "bsp-bar" });
  const width = (x) => `${Math.max(0, (100 * (x || 0)) / scale).toFixed(1)}%`;
  bar.append(el("span", { class: "bsp-compute", style: `width:${width(rec.computeMs)}` }), el("span", { class: "bsp-wait", style: `width:${width(rec.barrierMs)}` }));
  const raw = combiner && rec.messagesRaw != null && rec.messagesRaw !== rec.messages ? t("bsp.msgsRaw", { raw: rec.messagesRaw }) : "";
  td.append(bar, el("div", { class: "bsp-num" }, t("bsp.msgs", { n: rec.messages ?? "–" }) + raw), el("div", { class: "bsp-num bsp-waitnum" }, t("bsp.wait", { ms: ms(rec.barrierMs) })));
  td.title = t("bsp.cellTitle", { step, rank, compute: ms(rec.computeMs), wait: ms(rec.barrierMs), n: rec.messages ?? "–", raw: rec.messagesRaw ?? "–" });
  return td;
}

function stepsTable(v) {
  const scale = Math.max(1e-6, ...v.columns.flatMap((c) => c.workers.map((r) => (r ? (r.computeMs || 0) + (r.barrierMs || 0) : 0))));
  const table = el("table", { class: "bsp-steps", "data-testid": "bsp-steps" });
  const head = el("tr");
  head.append(el("th", {}, t("bsp.colWorker")));
  for (const c of v.columns) head.append(el("th", { class: c.step === v.step ? "shown" : "" }, t("bsp.superstep", { step: c.step })));
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  for (let r = 0; r < v.n; r++) {
    const tr = el("tr");
    const name = el("th", { class: "bsp-worker", style: `border-left-color:${rankColor(r)}` }, t("bsp.worker", { rank: r, vertices: v.owned[r] ?? "–" }));
    tr.append(name, ...v.columns.map((c) => cell(c.workers[r], r, c.step, scale, v.combiner)));
    tbody.append(tr);
  }
  const foot = el("tr", { class: "bsp-total" });
  foot.append(el("th", {}, t("bsp.total")));
  for (const c of v.columns) {
    const sent = c.workers.every(Boolean) ? c.workers.reduce((a, r) => a + (r.messages || 0), 0) : null;
    foot.append(el("td", { "data-testid": "bsp-total", "data-step": c.step, "data-messages": sent ?? "" }, sent == null ? "–" : String(sent)));
  }
  tbody.append(foot);
  table.append(thead, tbody);
  return table;
}

/** The shown superstep's messages from each worker (rows) to each (columns); the
 *  diagonal is what stays inside a worker (never sent). */
function pairsTable(v) {
  const table = el("table", { class: "bsp-pairs", "data-testid": "bsp-pairs" });
  const head = el("tr");
  head.append(el("th", {}, t("bsp.fromTo")));
  for (let j = 0; j < v.n; j++) head.append(el("th", {}, `→ ${j}`));
  table.append(head);
  v.pairs.forEach((row, i) => {
    const tr = el("tr");
    tr.append(el("th", { style: `border-left:4px solid ${rankColor(i)}` }, String(i)));
    for (let j = 0; j < v.n; j++) {
      const own = i === j;
      const n = own ? (v.workers[i] ? v.workers[i].messagesLocal : null) : row[j];
      tr.append(el("td", { class: own ? "own" : "", "data-testid": "bsp-pair", "data-src": i, "data-dst": j, "data-messages": n ?? "" }, n == null ? "–" : String(n)));
    }
    table.append(tr);
  });
  return table;
}

function checkLine(v) {
  if (!v.check) return [];
  const words = t(v.check.ok ? "bsp.checkOk" : "bsp.checkBad", { error: v.check.error.toExponential(1) });
  return [el("p", { class: `bsp-check${v.check.ok ? " ok" : " bad"}`, "data-testid": "bsp-check", "data-ok": String(v.check.ok), "data-error": String(v.check.error) }, words)];
}

function topList(v) {
  if (v.components != null) return [...checkLine(v), el("p", { class: "bsp-sub", "data-testid": "bsp-components" }, t("bsp.components", { n: v.components }))];
  if (!v.top.length) return checkLine(v);
  const list = el("ol", { class: "bsp-top", "data-testid": "bsp-top" });
  for (const x of v.top) list.append(el("li", { "data-vertex": x.vertex, "data-value": x.value }, t("bsp.topRow", { vertex: x.vertex, value: x.value.toFixed(4), rank: x.rank })));
  return [...checkLine(v), el("p", { class: "bsp-sub" }, t("bsp.topTitle")), list];
}

export function createBspCard({ card, headEl, stepsEl, pairsEl, topEl, chartDiv, nowEl, captionEl }, onVisible) {
  let drawnKey = null;
  let chartKey = "";
  const throttle = createThrottledCard({ card, onVisible, intervalMs: MIN_INTERVAL_MS, draw: drawChart, visibleFromDom: true });
  // The chart shares its row with the pairs and the best vertices, which appear after it
  // is first drawn: follow the box's size, not only the window's.
  // Plotly.react keeps the size of the first draw, so the chart is drawn at the box's
  // size, and again when it changes.
  let lastPayload = null;
  if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => lastPayload && drawChart(lastPayload)).observe(chartDiv);

  function drawChart(payload) {
    if (!payload || !window.Plotly || card.hidden) return;
    lastPayload = payload;
    const { series, algorithm } = payload;
    const width = chartDiv.clientWidth;
    const height = chartDiv.clientHeight;
    const k = `${getLang()}|${series.steps.length}|${series.values[series.values.length - 1]}|${width}x${height}`;
    if (k === chartKey) return;
    chartKey = k;
    // PageRank's change shrinks geometrically (by about d each superstep): a log axis,
    // a label per power of ten, once it spans one
    const positive = algorithm === "pagerank" && series.values.length > 1 && series.values.every((x) => x > 0);
    const log = positive && Math.log10(Math.max(...series.values) / Math.min(...series.values)) >= 1;
    const trace = { type: "scatter", mode: series.steps.length > 40 ? "lines" : "lines+markers", x: series.steps, y: series.values, line: { color: OKABE_ITO.vermillion, width: 2 }, marker: { size: 4, color: OKABE_ITO.vermillion }, hovertemplate: `${t("bsp.superstepWord")} %{x}: %{y:.3g}<extra></extra>` };
    const layout = {
      ...(width > 0 && height > 0 ? { width, height, autosize: false } : {}),
      margin: { l: 48, r: 8, t: 4, b: 26 },
      font: { size: 11, family: "system-ui, -apple-system, 'Segoe UI', 'Noto Sans SC', 'PingFang SC', sans-serif", color: "#111" },
      xaxis: { zeroline: false, automargin: true, dtick: series.steps.length <= 12 ? 1 : undefined },
      yaxis: { type: log ? "log" : "linear", dtick: log ? 1 : undefined, exponentformat: "power", gridcolor: "#e6e6e6", automargin: true, rangemode: log ? undefined : "tozero" },
      showlegend: false,
      annotations: series.steps.length ? [] : [{ text: t("bsp.noneYet"), showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { color: "#777" } }],
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
    };
    window.Plotly.react(chartDiv, [trace], layout, { displayModeBar: false, responsive: true });
  }

  function render(state, force) {
    const v = bspView(state);
    throttle.setVisible(!!v);
    if (!v) {
      drawnKey = null;
      return;
    }
    chartDiv.dataset.points = String(v.series.steps.length);
    throttle.schedule({ series: v.series, algorithm: v.algorithm });
    const key = `${state.runId}|${v.step}|${v.columns.length}|${v.components}|${v.check ? v.check.error : ""}|${getLang()}`;
    if (key === drawnKey && !force) return;
    drawnKey = key;
    card.dataset.step = v.step ? String(v.step) : "";
    headEl.textContent = t("bsp.head", {
      alg: algName(v.algorithm), vertices: v.vertices ?? "–", edges: v.edges ?? "–",
      graph: t(`bsp.graph.${v.graph}`), partition: t(`bsp.part.${v.partition}`),
      combiner: t(v.combiner ? "bsp.combinerOn" : "bsp.combinerOff"),
    });
    stepsEl.replaceChildren(v.columns.length ? stepsTable(v) : el("p", { class: "bsp-none" }, t("bsp.noneYet")));
    pairsEl.replaceChildren(el("p", { class: "bsp-sub" }, t("bsp.pairsTitle", { step: v.step ?? "–" })), pairsTable(v));
    topEl.replaceChildren(...topList(v));
    nowEl.dataset.value = v.change == null ? "" : String(v.change);
    nowEl.textContent = v.change == null ? "" : t(v.algorithm === "pagerank" ? "bsp.changeNow" : "bsp.changedNow", { step: v.step, value: fmtNum(v.change, 3) });
    nowEl.previousElementSibling.textContent = t(v.algorithm === "pagerank" ? "bsp.changeTitle" : "bsp.changedTitle");
    captionEl.textContent = t("bsp.caption");
  }

  return {
    render,
    resize() {
      chartKey = "";
      if (lastPayload) drawChart(lastPayload);
    },
    invalidate() {
      drawnKey = null;
      chartKey = "";
    },
  };
}
