// charts.js — loss per worker plus the global mean, drawn with Plotly (window.Plotly,
// served locally from /vendor/plotly.min.js). Redraws are throttled to ~4–5 Hz and use
// Plotly.react, which diffs instead of rebuilding.

import { getLang, t } from "./i18n.js";
import { rankColor } from "./palette.js";
import { lossSeries } from "./state.js";

const MIN_INTERVAL_MS = 220;
const MAX_POINTS = 1500; // per trace; a chart a few hundred pixels wide shows no more

/** Every k-th point (and always the last), so long runs stay cheap to redraw. */
export function thin(x, y, maxPoints = MAX_POINTS) {
  const n = x.length;
  if (n <= maxPoints) return { x, y };
  const stride = Math.ceil(n / maxPoints);
  const xs = [];
  const ys = [];
  for (let i = 0; i < n; i += stride) {
    xs.push(x[i]);
    ys.push(y[i]);
  }
  if ((n - 1) % stride !== 0) {
    xs.push(x[n - 1]);
    ys.push(y[n - 1]);
  }
  return { x: xs, y: ys };
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

export function createLossChart(div, legendEl) {
  let legendKey = "";
  let pending = null;
  let timer = null;
  let last = 0;
  let options = { large: false, logY: false };
  let baseline = null; // {x, y, xt}: global-mean loss of the baseline / compared run
  let baselineLabel = null; // its legend text (default: "uncompressed baseline")
  let xMode = "step"; // step | time (seconds since the run started)

  function draw() {
    timer = null;
    last = performance.now();
    const state = pending;
    pending = null;
    if (!state || !window.Plotly) return;
    const series = lossSeries(state);
    const byTime = xMode === "time";
    const X = (s) => (byTime && s.xt ? s.xt : s.x);
    const xName = byTime ? t("chart.time") : t("chart.step");
    const baseName = baselineLabel || t("chart.baseline");
    const traces = series.ranks.map((s) => ({
      ...thin(X(s), s.y),
      type: "scatter",
      mode: "lines",
      name: t("chart.rank", { rank: s.rank }),
      line: { color: rankColor(s.rank), width: options.large ? 2.5 : 1.6 },
      opacity: 0.85,
      hovertemplate: `${t("chart.rank", { rank: s.rank })}<br>${xName} %{x}<br>${t("chart.loss")} %{y:.4f}<extra></extra>`,
    }));
    if (series.ranks.length > 1) {
      traces.push({
        ...thin(X(series.mean), series.mean.y),
        type: "scatter",
        mode: "lines",
        name: t("chart.mean"),
        line: { color: "#000000", width: options.large ? 5 : 3.5 },
        hovertemplate: `${t("chart.mean")}<br>${xName} %{x}<br>${t("chart.loss")} %{y:.4f}<extra></extra>`,
      });
    }
    if (baseline && baseline.x.length) {
      traces.push({
        ...thin(X(baseline), baseline.y),
        type: "scatter",
        mode: "lines",
        name: baseName,
        meta: "baseline",
        line: { color: "#7a7a7a", width: options.large ? 3.5 : 2.4, dash: "dash" },
        hovertemplate: `${baseName}<br>${xName} %{x}<br>${t("chart.loss")} %{y:.4f}<extra></extra>`,
      });
    }
    renderLegend(series.ranks.map((x) => x.rank));
    const font = options.large ? 17 : 12;
    const layout = {
      margin: { l: 52, r: 10, t: 8, b: 40 },
      font: { size: font, family: "system-ui, -apple-system, 'Segoe UI', 'Noto Sans SC', 'PingFang SC', sans-serif", color: "#111" },
      xaxis: { title: { text: xName, standoff: 4 }, zeroline: false, gridcolor: "#e6e6e6", automargin: true },
      yaxis: {
        title: { text: t("chart.loss") },
        type: options.logY ? "log" : "linear",
        automargin: true,
        gridcolor: "#e6e6e6",
        zeroline: false,
      },
      showlegend: false, // an HTML legend (one line) leaves the plot more room
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      uirevision: `loss|${xMode}`,
      datarevision: `${state.lastSeq}`,
    };
    if (!series.ranks.some((x) => x.x.length) && !(baseline && baseline.x.length)) {
      // nothing to plot yet: a quiet empty frame instead of Plotly's default ranges
      layout.xaxis.range = [0, 10];
      layout.yaxis.range = [0, 1];
      layout.yaxis.type = "linear";
      layout.annotations = [
        { text: t("timeline.empty"), showarrow: false, x: 5, y: 0.5, font: { size: font + 1, color: "#777" } },
      ];
    }
    window.Plotly.react(div, traces, layout, { displayModeBar: false, responsive: true });
  }

  function renderLegend(ranks) {
    if (!legendEl) return;
    const hasBase = !!(baseline && baseline.x.length);
    const k = `${getLang()}|${ranks.join(",")}|${hasBase}|${baselineLabel}`;
    if (k === legendKey) return;
    legendKey = k;
    const line = (color, w) => `<span class="lg-line" style="background:${color};height:${w}px"></span>`;
    const items = ranks.map((r) => `<span class="lg-item">${line(rankColor(r), 3)}${r}</span>`);
    legendEl.innerHTML =
      (ranks.length ? `<span class="lg-note">${t("chart.ranks")}</span>${items.join("")}` : "") +
      (ranks.length > 1 ? `<span class="lg-item lg-strong">${line("#000", 5)}${t("chart.mean")}</span>` : "") +
      (hasBase ? `<span class="lg-item" data-testid="baseline-legend"><span class="lg-line lg-dashed"></span>${esc(baselineLabel || t("chart.baseline"))}</span>` : "");
  }

  function render(state) {
    pending = state;
    if (timer) return;
    const wait = Math.max(0, MIN_INTERVAL_MS - (performance.now() - last));
    timer = setTimeout(draw, wait);
  }

  /** Overlay (or remove, with null) the baseline's global-mean loss {x, y}. */
  function setBaseline(series, label = null) {
    baseline = series && series.x && series.x.length ? series : null;
    baselineLabel = label;
  }

  /** x axis: "step" (the worker's iteration) or "time" (seconds since the run started). */
  function setXMode(m) {
    xMode = m === "time" ? "time" : "step";
  }

  function setOptions(o) {
    options = { ...options, ...o };
  }

  function resize() {
    if (window.Plotly && div.data) window.Plotly.Plots.resize(div);
  }

  return { render, setOptions, setBaseline, setXMode, resize };
}
