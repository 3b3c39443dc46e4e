// views/tailview.js — the tail-latency card: per step the slowest and the median rank's step time, and the run's p50 and p99.
//
// Tail latency of synchronous steps (Dean & Barroso, "The Tail at Scale",
// 2013): per step the slowest rank's step time and the median rank's, and the run's p50
// and p99 of the per-step max. One slow worker makes every synchronous step slow.

import { setData, setText } from "./dom.js";
import { fmtNum, getLang, t } from "../core/i18n.js";
import { createThrottledCard } from "./card.js";
import { OKABE_ITO } from "./palette.js";
import { tailLatency, tailLatencyApplies } from "../core/selectors.js";

const MIN_INTERVAL_MS = 300;
export const TAIL_MIN_STEPS = 5;

export function createTailPanel({ card, plotDiv, statsEl }, onVisible) {
  let drawnKey = "";
  let large = false;
  let lastTl = null; // the payload drawn last: redrawn at once when the language changes

  const throttle = createThrottledCard({ card, onVisible, intervalMs: MIN_INTERVAL_MS, draw, consume: true, visibleFromDom: true });

  function render(state) {
    const tl = tailLatencyApplies(state) ? tailLatency(state) : null;
    const on = !!tl && tl.steps >= TAIL_MIN_STEPS;
    throttle.setVisible(on);
    if (!on) {
      setData(plotDiv, "p50", "");
      setData(plotDiv, "p99", "");
      setData(plotDiv, "steps", "0");
      return;
    }
    setData(plotDiv, "p50", String(tl.p50));
    setData(plotDiv, "p99", String(tl.p99));
    setData(plotDiv, "steps", String(tl.steps));
    setText(statsEl, t("tail.stats", {
      p50: fmtNum(tl.p50, 3),
      p99: fmtNum(tl.p99, 3),
      ratio: tl.p50 > 0 ? fmtNum(tl.p99 / tl.p50, 2) : "?",
    }));
    throttle.schedule(tl);
  }

  function draw(tl) {
    if (!tl || !window.Plotly || card.hidden) return;
    lastTl = tl;
    const k = `${getLang()}|${large}|${tl.x.length}|${tl.x[tl.x.length - 1]}|${tl.p99}|${tl.max[tl.max.length - 1]}`;
    if (k === drawnKey) return;
    drawnKey = k;
    const font = large ? 16 : 12;
    const x0 = tl.x[0];
    const x1 = tl.x[tl.x.length - 1];
    const traces = [
      {
        type: "scatter",
        mode: "lines",
        x: tl.x,
        y: tl.median,
        name: t("tail.median"),
        line: { color: OKABE_ITO.blue, width: 1.5 },
        hovertemplate: `${t("tail.median")} %{y:.3f} ms<extra>%{x}</extra>`,
      },
      {
        type: "scatter",
        mode: "lines",
        x: tl.x,
        y: tl.max,
        name: t("tail.max"),
        line: { color: OKABE_ITO.vermillion, width: 2 },
        hovertemplate: `${t("tail.max")} %{y:.3f} ms<extra>%{x}</extra>`,
      },
    ];
    const hline = (y, color, label) => ({
      shape: { type: "line", x0, x1, y0: y, y1: y, line: { color, width: 1.2, dash: "dash" } },
      ann: { x: x1, y, text: label, showarrow: false, xanchor: "right", yanchor: "bottom", font: { color, size: font - 1 } },
    });
    const lines = [hline(tl.p50, "#555", `p50 ${fmtNum(tl.p50, 3)} ms`), hline(tl.p99, OKABE_ITO.vermillion, `p99 ${fmtNum(tl.p99, 3)} ms`)];
    const layout = {
      margin: { l: 48, r: 8, t: 6, b: 34 },
      font: { size: font, family: "system-ui, -apple-system, 'Segoe UI', 'Noto Sans SC', 'PingFang SC', sans-serif", color: "#111" },
      xaxis: { title: { text: t("tail.xAxis"), standoff: 2 }, zeroline: false, automargin: true },
      yaxis: { title: { text: t("tail.yAxis") }, zeroline: false, gridcolor: "#e6e6e6", automargin: true, rangemode: "tozero" },
      showlegend: true,
      legend: { orientation: "h", x: 0, xanchor: "left", y: 1, yanchor: "bottom", font: { size: font - 1 } },
      shapes: lines.map((l) => l.shape),
      annotations: lines.map((l) => l.ann),
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
    };
    window.Plotly.react(plotDiv, traces, layout, { displayModeBar: false, responsive: true });
  }

  return {
    render,
    resize() {
      if (window.Plotly && plotDiv.data && !card.hidden) window.Plotly.Plots.resize(plotDiv);
    },
    setLarge(v) {
      large = !!v;
      drawnKey = "";
    },
    /** Language change: the axis titles, legend and hover texts are redrawn now (a
     *  finished run sends no more events that would schedule a draw). */
    invalidate() {
      drawnKey = "";
      if (lastTl && !card.hidden) draw(lastTl);
    },
  };
}
