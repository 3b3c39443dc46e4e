// strategies/local_sgd/replicas.js — the replicas card of a local SGD / DiLoCo run: each worker's checksum minus the mean checksum per step (the replicas fan out for H steps and snap together at each sync), the drift each worker measured at each sync, and the bytes each worker sent against data parallelism's.
//
// Drawn from the step events only (param_checksum, bytes_sent, synced, drift), live and
// on replay alike: the state is the reducer's, up to the newest complete step or the
// cursor. The chart is Plotly, as the loss chart beside it, redrawn at most every
// MIN_INTERVAL_MS; no timers of its own.

import { fmtBytes, fmtNum, getLang, t } from "../../core/i18n.js";
import { createThrottledCard } from "../../views/card.js";
import { rankColor } from "../../views/palette.js";
import { completeStep } from "../../core/selectors.js";
import { checksumSpread, isLocalSgd, meanBytes, replicaView, stepInRound } from "./slice.js";

const MIN_INTERVAL_MS = 250;
const MAX_MARKERS = 60;
const FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans SC', 'PingFang SC', sans-serif";

/** Pure: the Plotly traces of a replica view — per worker a line of checksum − mean
 *  (top axis) and its drift at each sync (bottom axis). `meta` names each trace for the
 *  tests and the hover. */
export function replicaTraces(v, words) {
  const dense = v.steps.length > 40;
  const lines = v.ranks.map((r) => ({
    type: "scatter",
    mode: dense ? "lines" : "lines+markers",
    x: v.steps,
    y: v.dev[r],
    name: words.worker(r),
    meta: { kind: "deviation", rank: r },
    line: { color: rankColor(r), width: 2 },
    marker: { size: 4, color: rankColor(r) },
    hovertemplate: `${words.worker(r)} · ${words.step} %{x}: %{y:.4g}<extra></extra>`,
  }));
  const drift = v.ranks.map((r) => ({
    type: "scatter",
    mode: "markers",
    x: v.drift[r].map((d) => d.step),
    y: v.drift[r].map((d) => d.value),
    yaxis: "y2",
    name: words.worker(r),
    meta: { kind: "drift", rank: r },
    marker: { size: 8, symbol: "diamond", color: rankColor(r), line: { width: 1, color: "#fff" } },
    hovertemplate: `${words.worker(r)} · ${words.sync} %{x}: ‖xᵢ − x̄‖ = %{y:.4g}<extra></extra>`,
  }));
  return [...lines, ...drift];
}

/** Pure: a dotted vertical line across both axes at every sync step — up to MAX_MARKERS
 *  of them: with H = 1 or 2 over a long run the lines would grey out the chart (and slow
 *  Plotly down), and the drift markers below still show every sync. */
export function syncShapes(syncs) {
  if (syncs.length > MAX_MARKERS) return [];
  return syncs.map((k) => ({ type: "line", xref: "x", yref: "paper", x0: k, x1: k, y0: 0, y1: 1, line: { color: "#888", width: 1, dash: "dot" } }));
}

export function createReplicasPanel({ card, chartDiv, headEl, nowEl, bytesEl, captionEl }, onVisible) {
  let drawnKey = null;
  let chartKey = "";
  let large = false;
  let lastPayload = null;

  const throttle = createThrottledCard({ card, onVisible, intervalMs: MIN_INTERVAL_MS, draw: drawChart, visibleFromDom: true });

  /** The line under the chart: each worker's bytes over the run against data
   *  parallelism's; the exact counts ride on data attributes (the tests read them). */
  function drawBytes(v) {
    const b = meanBytes(v.bytes);
    bytesEl.dataset.sent = JSON.stringify(v.bytes.map((x) => x.sent));
    bytesEl.dataset.dp = JSON.stringify(v.bytes.map((x) => x.dp));
    bytesEl.dataset.ranks = JSON.stringify(v.bytes.map((x) => x.rank));
    bytesEl.textContent = b
      ? t("lsgd.bytes", { sent: fmtBytes(b.sent), steps: v.steps.length, syncs: v.syncs.length, perSync: fmtBytes(b.perSync), dp: fmtBytes(b.dp), x: fmtNum(b.ratio, 3) })
      : t("lsgd.bytesWaiting");
  }

  function render(state, force) {
    // the view is the same as long as the newest complete step is (every event re-renders:
    // building the whole series each time would cost steps × workers per event)
    const step = isLocalSgd(state) ? completeStep(state) : 0;
    const key = `${state.runId}|${step}|${getLang()}`;
    if (key === drawnKey && !force) return;
    const v = step ? replicaView(state, step) : null;
    throttle.setVisible(!!v);
    drawnKey = v ? key : null;
    if (!v) return;
    chartDiv.dataset.step = String(v.step);
    chartDiv.dataset.syncs = v.syncs.join(",");
    headEl.textContent = t(v.diloco ? "lsgd.headDiloco" : "lsgd.head", { h: v.h, n: v.ranks.length, step: v.step });
    nowEl.textContent = v.syncedNow
      ? t("lsgd.nowSynced", { step: v.step, drift: fmtNum(v.lastDrift, 3) })
      : t("lsgd.nowApart", { step: v.step, k: stepInRound(v.step, v.h), h: v.h, spread: fmtNum(checksumSpread(state, v.step), 3) });
    drawBytes(v);
    captionEl.textContent = t("lsgd.caption");
    throttle.schedule(v);
  }

  function drawChart(v) {
    if (!v || !window.Plotly || card.hidden) return;
    lastPayload = v;
    const k = `${getLang()}|${large}|${v.step}|${v.syncs.length}|${v.ranks.length}`;
    if (k === chartKey) return;
    chartKey = k;
    const words = { worker: (r) => t("lsgd.worker", { rank: r }), step: t("lsgd.step"), sync: t("lsgd.sync") };
    const font = large ? 16 : 11;
    const layout = {
      margin: { l: 52, r: 8, t: 16, b: 22 },
      font: { size: font, family: FONT, color: "#111" },
      // the steps, as the loss chart's beside it: one axis for both panels, its labels
      // under the lower one (anchored there, not between the two)
      xaxis: { zeroline: false, automargin: true, anchor: "y2", range: [0.5, Math.max(v.step, 2) + 0.5] },
      // top: checksum − mean (0 = the average model); bottom: the drift at each sync
      yaxis: { domain: [0.42, 1], zeroline: true, zerolinecolor: "#999", gridcolor: "#e6e6e6", automargin: true, exponentformat: "power" },
      yaxis2: { domain: [0, 0.27], rangemode: "tozero", nticks: 3, gridcolor: "#e6e6e6", automargin: true, exponentformat: "power" },
      shapes: syncShapes(v.syncs),
      annotations: [
        { text: t("lsgd.deviation"), showarrow: false, xref: "paper", yref: "paper", x: 0, y: 1.0, xanchor: "left", yanchor: "bottom", font: { size: font, color: "#555" } },
        { text: t("lsgd.drift"), showarrow: false, xref: "paper", yref: "paper", x: 0, y: 0.29, xanchor: "left", yanchor: "bottom", font: { size: font, color: "#555" } },
      ],
      showlegend: false,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
    };
    window.Plotly.react(chartDiv, replicaTraces(v, words), layout, { displayModeBar: false, responsive: true });
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
