// strategies/data_parallel/alphabeta.js — the α–β card: the modelled time of ring, tree and naive all-reduce for the run's network, with this run as a marker.
//
// The α–β (Hockney) cost of ring, tree and naive all-reduce for the run's
// network, against message size (log-log) or against the number of workers, with this
// run's own modelled communication time as a marker. Drawn with Plotly; redrawn only
// when what it shows changes.

import { fmtBytes, fmtNum, getLang, t } from "../../core/i18n.js";
import { curvesBySize, curvesByWorkers, logTicks, ringTreeCrossover } from "./netmodel.js";
import { networkText } from "../../views/netlabels.js";
import { compressionText } from "./words.js";
import { createThrottledCard } from "../../views/card.js";
import { OKABE_ITO } from "../../views/palette.js";
import { gradBytes, ranksOf, runNetwork } from "../../core/selectors.js";
import { compressionOf } from "./compression.js";
import { modelledCommMean, runAlgo } from "./slice.js";

export const AB_COLORS = { ring: OKABE_ITO.orange, tree: OKABE_ITO.blue, naive: OKABE_ITO.purple };
const DASH = { ring: "solid", tree: "solid", naive: "dashdot" };
const SIZE_TICKS = [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
const SIZE_TEXT = ["1 KB", "10 KB", "100 KB", "1 MB", "10 MB", "100 MB", "1 GB"];
const MIN_INTERVAL_MS = 300;

/** Pure: what the chart shows for a state, or null when the run has no network model. */
export function alphaBetaView(state) {
  const net = runNetwork(state);
  if (!net) return null;
  const n = Math.max(2, ranksOf(state).length || state.worldSize || 2);
  const N = gradBytes(state);
  return {
    network: net,
    alpha: net.latency_us,
    beta: net.bandwidth_gbps,
    n,
    N,
    algo: runAlgo(state) || "builtin",
    compression: compressionOf(state.config),
    measured: modelledCommMean(state),
    crossover: ringTreeCrossover(n, net.latency_us, net.bandwidth_gbps),
  };
}

export function createAlphaBeta(card, div, paramsEl, captionEl, onVisible) {
  let xMode = "size";
  let large = false;
  let drawnKey = "";
  const throttle = createThrottledCard({ card, onVisible, intervalMs: MIN_INTERVAL_MS, draw });

  function render(state) {
    const on = !!runNetwork(state);
    throttle.setVisible(on);
    if (!on) return;
    throttle.schedule(state); // the view (which walks every step) is computed when drawing
  }

  function markerLabel(v) {
    return v.compression ? t("ab.thisRunCompressed", { method: compressionText(v.compression, { feedback: false }) }) : t("ab.thisRun");
  }

  function markerText(v) {
    return v.compression ? t("ab.thisRunShortCompressed") : t("ab.thisRun");
  }

  function draw(state) {
    if (!state || !window.Plotly || card.hidden) return;
    const v = alphaBetaView(state);
    if (!v) return;
    const key = [getLang(), xMode, large, v.n, v.N, v.alpha, v.beta, v.measured, v.algo, !!v.compression].join("|");
    if (key === drawnKey) return;
    drawnKey = key;
    const d = card.dataset;
    d.workers = String(v.n);
    d.gradBytes = v.N == null ? "" : String(v.N);
    d.measuredMs = v.measured == null ? "" : String(v.measured);
    d.xMode = xMode;

    paramsEl.textContent = t("ab.params", {
      net: networkText(v.network),
      n: v.n,
      N: v.N == null ? "–" : fmtBytes(v.N),
    });
    const cross = v.crossover;
    captionEl.textContent =
      (cross ? t("ab.captionCross", { n: v.n, size: fmtBytes(cross) }) : t("ab.captionNoCross", { n: v.n })) +
      " " +
      t("ab.captionNaive") +
      (v.network.links && v.network.links.length ? " " + t("ab.captionLinks") : "");

    const byWorkers = xMode === "workers";
    const curves = byWorkers ? curvesByWorkers(v.N || 1e6, v.alpha, v.beta) : curvesBySize(v.n, v.alpha, v.beta);
    const traces = ["ring", "tree", "naive"].map((algo) => ({
      x: curves.x,
      y: curves[algo],
      type: "scatter",
      mode: "lines",
      name: t("ab.algo." + algo),
      meta: algo,
      line: { color: AB_COLORS[algo], width: large ? 3.5 : 2.4, dash: DASH[algo] },
      hovertemplate: byWorkers
        ? `${t("ab.algo." + algo)}: n = %{x}, %{y:.3~g} ms<extra></extra>`
        : `${t("ab.algo." + algo)}: N = %{x:.3~s}B, %{y:.3~g} ms<extra></extra>`,
    }));
    const mx = byWorkers ? v.n : v.N;
    const marker = {
      x: v.measured != null && mx ? [mx] : [],
      y: v.measured != null && mx ? [v.measured] : [],
      type: "scatter",
      mode: "markers+text",
      name: markerLabel(v),
      meta: "this-run",
      text: [markerText(v)],
      textposition: "bottom right",
      textfont: { size: large ? 16 : 12, color: "#000" },
      marker: { symbol: "diamond", size: large ? 16 : 12, color: "#000", line: { color: "#fff", width: 1.5 } },
      hovertemplate: `${markerLabel(v)}: ${t("ab.measuredHover")} %{y:.3~g} ms<extra></extra>`,
    };
    traces.push(marker);
    const font = large ? 16 : 12;
    const ys = [...curves.ring, ...curves.tree, ...curves.naive, ...marker.y].filter((y) => y > 0);
    const yTicks = logTicks(Math.min(...ys), Math.max(...ys));
    const layout = {
      margin: { l: 56, r: 12, t: 28, b: 44 },
      font: { size: font, family: "system-ui, -apple-system, 'Segoe UI', 'Noto Sans SC', 'PingFang SC', sans-serif", color: "#111" },
      xaxis: byWorkers
        ? { type: "log", title: { text: t("ab.xWorkers"), standoff: 4 }, tickvals: [2, 4, 8, 16, 32, 64], gridcolor: "#e6e6e6", automargin: true }
        : {
            type: "log",
            title: { text: t("ab.xSize"), standoff: 4 },
            tickvals: SIZE_TICKS,
            ticktext: SIZE_TEXT,
            gridcolor: "#e6e6e6",
            automargin: true,
          },
      yaxis: {
        type: "log",
        title: { text: t("ab.y") },
        gridcolor: "#e6e6e6",
        automargin: true,
        tickvals: yTicks,
        ticktext: yTicks.map((y) => fmtNum(y, 1)),
      },
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      showlegend: true,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      shapes: [],
      annotations: [],
      uirevision: `ab-${xMode}`,
    };
    if (!byWorkers && cross && cross > 1e3 && cross < 1e9) {
      layout.shapes.push({
        type: "line",
        xref: "x",
        yref: "paper",
        x0: cross,
        x1: cross,
        y0: 0,
        y1: 1,
        line: { color: "#777", width: 1, dash: "dot" },
      });
      layout.annotations.push({
        x: Math.log10(cross),
        y: 1,
        xref: "x",
        yref: "paper",
        yanchor: "top",
        text: t("ab.crossLabel", { size: fmtBytes(cross) }),
        showarrow: false,
        font: { size: font - 1, color: "#555" },
        bgcolor: "rgba(255,255,255,0.85)",
      });
    }
    window.Plotly.react(div, traces, layout, { displayModeBar: false, responsive: true });
  }

  function setXMode(m) {
    xMode = m === "workers" ? "workers" : "size";
    drawnKey = "";
    throttle.redrawSoon();
  }

  function setLarge(v) {
    large = !!v;
    drawnKey = "";
  }

  function invalidate() {
    drawnKey = "";
  }

  function resize() {
    if (window.Plotly && div.data && !card.hidden) window.Plotly.Plots.resize(div);
  }

  return { render, setXMode, setLarge, invalidate, resize };
}
