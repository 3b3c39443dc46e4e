// strategies/decentralized/consensus.js — the replicas card of a decentralized run: the consensus distance over the steps (how far the replicas are from their mean) and each worker's checksum at the shown step (they differ, and are pulled together).
//
// Drawn from the step events only (the leader's `consensus`, every worker's
// param_checksum and bytes_sent), live and on replay alike; the chart is Plotly, as the
// loss chart beside it, redrawn at most every MIN_INTERVAL_MS.

import { fmtBytes, fmtNum, getLang, t } from "../../core/i18n.js";
import { createThrottledCard } from "../../views/card.js";
import { OKABE_ITO } from "../../views/palette.js";
import { graphView } from "./slice.js";

const MIN_INTERVAL_MS = 250;

function html(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

export function createConsensusPanel({ card, chartDiv, nowEl, checksumsEl, captionEl }, onVisible) {
  let drawnKey = null;
  let chartKey = "";
  let large = false;
  let lastPayload = null;

  const throttle = createThrottledCard({ card, onVisible, intervalMs: MIN_INTERVAL_MS, draw: drawChart, visibleFromDom: true });

  function drawChecksums(v) {
    const top = Math.max(1e-12, ...v.checksums.map((c) => Math.abs(c.delta ?? 0)));
    const head = html("tr", {});
    for (const k of ["gossip.colWorker", "gossip.colChecksum", "gossip.colDelta", "gossip.colSent"]) head.append(html("th", {}, t(k)));
    const rows = v.checksums.map((c) => {
      const tr = html("tr", { "data-testid": "gossip-checksum", "data-rank": String(c.rank), "data-value": c.value == null ? "" : String(c.value) });
      tr.append(html("td", {}, String(c.rank)));
      tr.append(html("td", { class: "num" }, c.value == null ? "–" : c.value.toFixed(6)));
      const td = html("td", { class: "gossip-delta" });
      if (c.delta != null) {
        // a bar from the middle: left for below the mean, right for above
        const bar = html("span", { class: "gossip-delta-bar" });
        const w = ((50 * Math.abs(c.delta)) / top).toFixed(1);
        bar.append(html("span", { class: `gossip-delta-fill${c.delta < 0 ? " neg" : ""}`, style: c.delta < 0 ? `right:50%;width:${w}%` : `left:50%;width:${w}%` }));
        td.append(bar, html("span", { class: "num" }, (c.delta >= 0 ? "+" : "") + fmtNum(c.delta, 2)));
      } else td.textContent = "–";
      tr.append(td);
      tr.append(html("td", { class: "num" }, c.bytesSent == null ? "–" : fmtBytes(c.bytesSent)));
      return tr;
    });
    const table = html("table", { class: "gossip-table" });
    const thead = html("thead", {});
    thead.append(head);
    const tbody = html("tbody", {});
    tbody.append(...rows);
    table.append(thead, tbody);
    const items = [html("p", { class: "gossip-sub" }, t("gossip.checksums")), table];
    if (v.spread != null) items.push(html("p", { class: "caption", "data-testid": "gossip-spread" }, t("gossip.spread", { spread: fmtNum(v.spread, 3) })));
    checksumsEl.dataset.step = v.step ? String(v.step) : "";
    checksumsEl.replaceChildren(...items);
  }

  function render(state, force) {
    const v = graphView(state);
    throttle.setVisible(!!v);
    if (!v) {
      drawnKey = null;
      return;
    }
    chartDiv.dataset.points = String(v.series.steps.length);
    chartDiv.dataset.step = v.step ? String(v.step) : "";
    throttle.schedule({ series: v.series, step: v.step });
    const key = `${state.runId}|${v.n}|${v.step}|${v.source}|${getLang()}`;
    if (key === drawnKey && !force) return;
    drawnKey = key;
    drawChecksums(v);
    nowEl.textContent = v.consensus == null ? "" : t("gossip.consensusNow", { step: v.step, value: fmtNum(v.consensus, 3) });
    const cap = v.source === "messages" ? "gossip.captionMessages" : v.source === "counters" ? "gossip.captionCounters" : "gossip.captionWaiting";
    captionEl.dataset.source = v.source || "";
    captionEl.textContent = t(cap);
  }

  function drawChart(payload) {
    if (!payload || !window.Plotly || card.hidden) return;
    lastPayload = payload;
    const { series, step } = payload;
    const k = `${getLang()}|${large}|${series.steps.length}|${series.values[series.values.length - 1]}|${step}`;
    if (k === chartKey) return;
    chartKey = k;
    const font = large ? 16 : 11;
    // the distance may span orders of magnitude as the replicas drift and are pulled
    // back: a log axis (a label per power of ten) where it spans one or more, else linear
    const positive = series.values.length > 0 && series.values.every((x) => x > 0);
    const log = positive && Math.log10(Math.max(...series.values) / Math.min(...series.values)) >= 1;
    const traces = [
      {
        type: "scatter",
        mode: series.steps.length > 40 ? "lines" : "lines+markers",
        x: series.steps,
        y: series.values,
        name: t("gossip.consensus"),
        line: { color: OKABE_ITO.vermillion, width: 2 },
        marker: { size: 4, color: OKABE_ITO.vermillion },
        hovertemplate: `${t("gossip.step")} %{x}: %{y:.3g}<extra></extra>`,
      },
    ];
    const layout = {
      margin: { l: 44, r: 8, t: 4, b: 22 },
      font: { size: font, family: "system-ui, -apple-system, 'Segoe UI', 'Noto Sans SC', 'PingFang SC', sans-serif", color: "#111" },
      // the x axis is the steps, as the loss chart's beside it (no title: the card is short)
      xaxis: { zeroline: false, automargin: true },
      yaxis: { type: log ? "log" : "linear", dtick: log ? 1 : undefined, exponentformat: "power", gridcolor: "#e6e6e6", automargin: true, rangemode: log ? undefined : "tozero" },
      showlegend: false,
      annotations: series.steps.length ? [] : [{ text: t("gossip.noneYet"), showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { color: "#777" } }],
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
    };
    window.Plotly.react(chartDiv, traces, layout, { displayModeBar: false, responsive: true });
  }

  return {
    render,
    resize() {
      if (!window.Plotly || !chartDiv.data || card.hidden) return;
      window.Plotly.Plots.resize(chartDiv);
    },
    setLarge(on) {
      large = !!on;
      chartKey = "";
      if (lastPayload) drawChart(lastPayload);
    },
    invalidate() {
      drawnKey = null;
      chartKey = "";
    },
  };
}
