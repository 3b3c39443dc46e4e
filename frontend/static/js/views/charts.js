// views/charts.js — the loss chart: loss per worker plus the global mean, drawn with Plotly.
//
// Loss per worker plus the global mean, drawn with Plotly (window.Plotly,
// served locally from /vendor/plotly.min.js). Redraws are throttled to ~4–5 Hz and use
// Plotly.react, which diffs instead of rebuilding.

import { getLang, t } from "../core/i18n.js";
import { OFFSCREEN_MS, SETTLE_MS } from "./card.js";
import { inFrame, watchInView } from "./frame.js";
import { rankColor } from "./palette.js";
import { cursorUnit, lossSeries } from "../core/selectors.js";

const MIN_INTERVAL_MS = 220;
// A redraw waits at least COST_FACTOR times what the last one took (up to
// MAX_INTERVAL_MS): on a machine where Plotly needs 20 ms a draw, the chart takes at most
// a thirtieth of the page's time, and the frames around it stay free for the animation.
const COST_FACTOR = 30;
const MAX_INTERVAL_MS = 1000;
const HEAVY = { heavy: true };
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

/**
 * Axis ranges computed from the traces themselves ({x: [lo, hi], y: [lo, hi]}, y in log10
 * units for a log axis), or null when nothing is plottable. The chart always passes these
 * explicitly: Plotly's autorange is state kept inside the div, and a draw made while the
 * card was hidden, zero-sized or still settling an earlier draw left the axes at Plotly's
 * empty-data default (x −1…6, y −1…4) for the rest of the run.
 */
export function dataRanges(traces, { logY = false } = {}) {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const tr of traces) {
    const xs = tr.x || [];
    const ys = tr.y || [];
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      const y = ys[i];
      if (!Number.isFinite(x) || !Number.isFinite(y) || (logY && y <= 0)) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      const v = logY ? Math.log10(y) : y;
      if (v < y0) y0 = v;
      if (v > y1) y1 = v;
    }
  }
  if (!(x0 <= x1) || !(y0 <= y1)) return null;
  if (x0 === x1) {
    x0 -= 1;
    x1 += 1;
  }
  const span = y1 - y0;
  const pad = span > 0 ? span * 0.06 : Math.max(Math.abs(y0) * 0.1, 0.05);
  return { x: [x0, x1], y: [y0 - pad, y1 + pad] };
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

  let busy = false; // a Plotly.react has not settled yet
  let broken = false; // the last draw threw: start the plot afresh
  let lastState = null;
  let drawMs = 0; // what the last draw took (its synchronous part)
  let settle = null;

  // A draw into a hidden (zero-size) card is skipped; when the card gets a size the
  // newest state is drawn (ResizeObserver), so a run loaded behind a hidden card still shows.
  if (typeof ResizeObserver !== "undefined") {
    new ResizeObserver(() => {
      if (lastState && visible()) render(lastState);
    }).observe(div);
  }

  // out of sight (the page scrolled to the panels below): drawn seldom, and at once when back
  const inView = watchInView(div, () => drawSoon());

  /** The planned draw in the next frame instead of when its timer says. */
  function drawSoon() {
    if (!timer || !pending) return;
    clearTimeout(timer);
    timer = setTimeout(() => inFrame("loss-chart", draw, HEAVY), 0);
  }

  function visible() {
    return div.isConnected && div.clientWidth > 0 && div.clientHeight > 0;
  }

  function draw() {
    timer = null;
    last = performance.now();
    const state = pending;
    if (!state || !window.Plotly) return;
    if (!visible()) return; // keep `pending`: drawn once the card is shown
    if (busy) {
      // never start a react while the previous one is still laying out: draw after it
      timer = setTimeout(() => inFrame("loss-chart", draw, HEAVY), MIN_INTERVAL_MS);
      return;
    }
    pending = null;
    const series = lossSeries(state);
    const byTime = xMode === "time";
    const X = (s) => (byTime && s.xt ? s.xt : s.x);
    // an asynchronous parameter server's x is each worker's iteration, not the run's step
    const xName = byTime ? t("chart.time") : t(cursorUnit(state) === "iteration" ? "chart.iteration" : "chart.step");
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
      // ticklabeloverflow "allow": the margins are made to fit the labels (automargin), so
      // Plotly need not measure every label again on each redraw to hide those that spill
      xaxis: { title: { text: xName, standoff: 4 }, zeroline: false, gridcolor: "#e6e6e6", automargin: true, ticklabeloverflow: "allow" },
      yaxis: {
        title: { text: t("chart.loss") },
        type: options.logY ? "log" : "linear",
        automargin: true,
        ticklabeloverflow: "allow",
        gridcolor: "#e6e6e6",
        zeroline: false,
      },
      showlegend: false, // an HTML legend (one line) leaves the plot more room
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      uirevision: `loss|${xMode}|${state.runId || ""}`,
      // the baseline's events do not move this run's lastSeq: count them too
      datarevision: `${state.runId || ""}|${state.lastSeq}|${baseline ? baseline.x.length : 0}|${traces.length}`,
    };
    const ranges = dataRanges(traces, { logY: options.logY });
    if (ranges) {
      Object.assign(layout.xaxis, { autorange: false, range: ranges.x });
      Object.assign(layout.yaxis, { autorange: false, range: ranges.y });
    } else {
      // nothing to plot yet: a quiet empty frame instead of Plotly's default ranges
      layout.xaxis.range = [0, 10];
      layout.yaxis.range = [0, 1];
      layout.yaxis.type = "linear";
      layout.annotations = [
        { text: t("timeline.empty"), showarrow: false, x: 5, y: 0.5, font: { size: font + 1, color: "#777" } },
      ];
    }
    const config = { displayModeBar: false, responsive: true };
    busy = true;
    const done = () => {
      busy = false;
    };
    const fail = (err) => {
      busy = false;
      broken = true;
      console.warn("loss chart: redraw failed, the next draw starts afresh", err);
      render(state);
    };
    const t0 = performance.now();
    try {
      if (broken) {
        broken = false;
        window.Plotly.purge(div);
        Promise.resolve(window.Plotly.newPlot(div, traces, layout, config)).then(done, fail);
      } else {
        Promise.resolve(window.Plotly.react(div, traces, layout, config)).then(done, fail);
      }
    } catch (err) {
      fail(err);
    }
    drawMs = Math.min(MAX_INTERVAL_MS / COST_FACTOR, performance.now() - t0);
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
    lastState = state;
    if (!inView()) {
      // out of sight: drawn once the states stop coming (paused, ended), not every few ms
      clearTimeout(settle);
      settle = setTimeout(drawSoon, SETTLE_MS);
    }
    if (timer) return;
    const every = inView() ? Math.max(MIN_INTERVAL_MS, drawMs * COST_FACTOR) : OFFSCREEN_MS;
    const wait = Math.max(0, every - (performance.now() - last));
    // drawn in an animation frame of its own (views/frame.js), not on top of the others
    timer = setTimeout(() => inFrame("loss-chart", draw, HEAVY), wait);
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
    // Plotly throws on a div that is not displayed; the ResizeObserver redraws it later
    if (window.Plotly && div.data && visible()) window.Plotly.Plots.resize(div);
  }

  return { render, setOptions, setBaseline, setXMode, resize };
}

/** The loss card's controls, wired to `chart`: its x axis (by iteration | by time; a
 *  parameter-server run shows that toggle) and its log scale. `viewState()` is the state
 *  to redraw. Returns setX(x). */
export function wireLossCard(chart, viewState) {
  const el = document.getElementById("loss-chart");
  function setX(x) {
    for (const o of document.querySelectorAll("#chart-x .toggle")) {
      o.classList.toggle("active", o.dataset.x === x);
      o.setAttribute("aria-pressed", String(o.dataset.x === x));
    }
    el.dataset.x = x;
    chart.setXMode(x);
  }
  for (const b of document.querySelectorAll("#chart-x .toggle")) {
    b.addEventListener("click", () => {
      setX(b.dataset.x);
      chart.render(viewState());
    });
  }
  document.getElementById("chart-log").addEventListener("change", (ev) => {
    chart.setOptions({ logY: ev.target.checked });
    chart.render(viewState());
  });
  return setX;
}
