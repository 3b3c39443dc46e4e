// strategies/parameter_server/psview.js — the staleness card of a parameter-server run: the staleness histogram of the applied gradients and the newest update.
//
// The staleness card of a parameter-server run: a histogram of the staleness
// of every applied gradient (as of the shown step), its mean, for SSP the bound s and the
// clock-gap distribution, and the newest update in words.

import { fmtNum, getLang, t } from "../../core/i18n.js";
import { createThrottledCard } from "../../views/card.js";
import { OKABE_ITO } from "../../views/palette.js";
import { isPs, psConfig, stalenessHistogram } from "./slice.js";

const MIN_INTERVAL_MS = 250;
// The most x labels the histogram draws, however wide its card.
const MAX_TICKS = 12;
const NICE_STEPS = [1, 2, 5];

/**
 * The spacing of the staleness axis's labels (whole versions): the smallest of 1, 2, 5,
 * 10, 20, 50, … that keeps the labels of 0..xmax apart in `widthPx` (each label is about
 * 0.6 em per digit plus a gap) and at most MAX_TICKS of them.
 */
export function stalenessTick(xmax, widthPx, fontPx) {
  const hi = Math.max(0, Math.ceil(xmax));
  const labelPx = String(hi).length * fontPx * 0.62 + fontPx * 1.2;
  const fit = Math.floor(Math.max(0, widthPx) / labelPx);
  const most = Math.max(2, Math.min(MAX_TICKS, fit));
  for (let scale = 1; ; scale *= 10) {
    for (const n of NICE_STEPS) {
      const d = n * scale;
      if (Math.floor(hi / d) + 1 <= most) return d;
    }
  }
}

export function createPsPanel({ card, plotDiv, meanEl, captionEl }, onVisible) {
  let large = false;
  let drawnKey = "";
  let lastPayload = null;
  let drawnFit = null;

  /** How the axes fit the plot's box now: the x label spacing for its width (margins
   *  taken off), and whether it is tall enough for the axis titles as well (in a short
   *  box they would spill over the caption or be cut; the card's title says what is shown). */
  function fitFor(h, cfg) {
    const font = large ? 16 : 12;
    let xmax = Math.max(h.bins.length - 1, h.gapBins.length - 1, 4);
    if (cfg.mode === "ssp" && Number.isFinite(cfg.bound)) xmax = Math.max(xmax, cfg.bound + 1);
    const width = (plotDiv.clientWidth || 300) - (large ? 90 : 70);
    const titles = !plotDiv.clientHeight || plotDiv.clientHeight >= font * 10;
    const dtick = stalenessTick(xmax, width, font);
    return { dtick, titles, key: `${dtick}|${titles}` };
  }

  const throttle = createThrottledCard({ card, onVisible, intervalMs: MIN_INTERVAL_MS, draw, consume: true, visibleFromDom: true });

  function render(state) {
    const on = isPs(state);
    throttle.setVisible(on);
    if (!on) return;
    const h = stalenessHistogram(state);
    const cfg = psConfig(state);
    plotDiv.dataset.bars = String(h.counts.filter((c) => c > 0).length);
    plotDiv.dataset.total = String(h.total);
    plotDiv.dataset.mean = h.mean == null ? "" : String(h.mean);
    plotDiv.dataset.max = String(h.max);
    plotDiv.dataset.dropped = String(h.dropped);
    plotDiv.dataset.mode = cfg.mode;
    meanEl.textContent = h.total
      ? t("ps.meanLine", { mean: fmtNum(h.mean, 3), n: h.total, max: h.max }) + (h.dropped ? ` · ${t("ps.droppedN", { n: h.dropped })}` : "")
      : h.dropped
        ? t("ps.droppedN", { n: h.dropped })
        : "";
    const u = state.ps && state.ps.lastUpdate;
    const a = u && u.applied && u.applied.length ? u.applied[u.applied.length - 1] : null;
    let cap = "";
    if (a && Number.isInteger(u.version)) {
      cap = t("ps.caption", { read: a.read_version, at: u.version - 1, s: a.staleness, rank: a.worker });
      if (u.applied.length > 1) cap = t("ps.captionSync", { n: u.applied.length, v: u.version });
    } else cap = t("ps.captionEmpty");
    if (cfg.mode === "ssp") cap += ` · ${t("ps.sspNote", { s: cfg.bound })}`;
    if (cfg.mode === "backup") cap += ` · ${t("ps.backupNote", { b: cfg.backup })}`;
    captionEl.textContent = cap;
    throttle.schedule({ h, cfg });
  }

  function draw(payload) {
    if (!payload || !window.Plotly || card.hidden) return;
    const { h, cfg } = payload;
    lastPayload = payload;
    const { dtick, titles, key: fit } = fitFor(h, cfg);
    const k = `${getLang()}|${large}|${fit}|${h.counts.join(",")}|${h.gapCounts.join(",")}|${cfg.mode}|${cfg.bound}`;
    if (k === drawnKey) return;
    drawnKey = k;
    drawnFit = fit;
    const font = large ? 16 : 12;
    const traces = [
      {
        type: "bar",
        x: h.bins,
        y: h.counts,
        name: t("ps.staleness"),
        marker: { color: OKABE_ITO.orange },
        hovertemplate: `${t("ps.staleness")} %{x}: %{y}<extra></extra>`,
      },
    ];
    const shapes = [];
    const annotations = [];
    if (cfg.mode === "ssp") {
      if (h.gapBins.length) {
        traces.push({
          type: "bar",
          x: h.gapBins,
          y: h.gapCounts,
          name: t("ps.clockGap"),
          marker: { color: OKABE_ITO.skyBlue },
          opacity: 0.75,
          hovertemplate: `${t("ps.clockGap")} %{x}: %{y}<extra></extra>`,
        });
      }
      if (Number.isFinite(cfg.bound)) {
        shapes.push({ type: "line", x0: cfg.bound + 0.5, x1: cfg.bound + 0.5, yref: "paper", y0: 0, y1: 1, line: { color: OKABE_ITO.vermillion, width: 2, dash: "dash" } });
        annotations.push({ x: cfg.bound + 0.5, yref: "paper", y: 1, text: `s = ${cfg.bound}`, showarrow: false, xanchor: "left", yanchor: "bottom", font: { color: OKABE_ITO.vermillion, size: font } });
      }
    }
    const empty = !h.counts.length;
    const ssp = cfg.mode === "ssp";
    const layout = {
      margin: { l: 40, r: 8, t: ssp ? 24 : 6, b: 36 },
      font: { size: font, family: "system-ui, -apple-system, 'Segoe UI', 'Noto Sans SC', 'PingFang SC', sans-serif", color: "#111" },
      barmode: "group",
      bargap: 0.15,
      // labels every `dtick` versions from 0, so they never run into each other
      xaxis: { title: { text: titles ? t("ps.stalenessAxis") : "", standoff: 2 }, tickmode: "linear", tick0: 0, dtick, zeroline: false, automargin: true, range: empty ? [-0.5, 4.5] : undefined },
      yaxis: { title: { text: titles ? t("ps.count") : "" }, zeroline: false, gridcolor: "#e6e6e6", automargin: true, rangemode: "tozero" },
      showlegend: cfg.mode === "ssp" && h.gapBins.length > 0,
      legend: { orientation: "h", x: 0, xanchor: "left", y: 1, yanchor: "bottom", font: { size: font - 1 } },
      shapes,
      annotations: empty ? [{ text: t("ps.noneYet"), showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { color: "#777" } }] : annotations,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
    };
    window.Plotly.react(plotDiv, traces, layout, { displayModeBar: false, responsive: true });
  }

  function resize() {
    if (!window.Plotly || !plotDiv.data || card.hidden) return;
    // a narrower or wider card may need another label spacing: draw the axis anew (react
    // keeps the size it drew at, so the resize still follows)
    if (lastPayload && fitFor(lastPayload.h, lastPayload.cfg).key !== drawnFit) draw(lastPayload);
    window.Plotly.Plots.resize(plotDiv);
  }

  return {
    render,
    resize,
    setLarge(v) {
      large = !!v;
      drawnKey = "";
    },
    invalidate() {
      drawnKey = "";
    },
  };
}
