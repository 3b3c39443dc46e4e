// strategies/data_parallel/compressionview.js — the compression card of a compressed run: bytes on the wire, error and ratio, error-feedback residual per step.
//
// The compression panel of a compressed run: bytes on the wire per
// step (per rank, the encoded payload, and what an uncompressed fp32 ring all-reduce
// would send), the relative error and compression ratio per step, and the error-feedback
// residual ‖e‖ per step. Three small Plotly charts, redrawn at most ~3 times a second.

import { fmtBytes, fmtNum, getLang, t } from "../../core/i18n.js";
import { compressionText } from "./words.js";
import { createThrottledCard } from "../../views/card.js";
import { inFrame } from "../../views/frame.js";
import { rankColor } from "../../views/palette.js";
import { completeStep, gradBytes, ranksOf } from "../../core/selectors.js";
import { compressionAt, compressionOf, compressionSeries } from "./compression.js";
import { thin } from "../../views/charts.js";

const MIN_INTERVAL_MS = 300;
/** Compressors whose expected output is not the gradient (Karimireddy et al. 2019,
 *  "Error Feedback Fixes SignSGD and other Gradient Compression Schemes"). */
const BIASED = new Set(["topk", "sign"]);
const FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans SC', 'PingFang SC', sans-serif";

/** Pure: the panel's numbers as of the state's newest complete step, or null. */
export function compressionView(state) {
  const c = compressionOf(state.config);
  if (!c || state.strategy === "single") return null;
  const step = completeStep(state);
  return {
    compression: c,
    n: ranksOf(state).length,
    N: gradBytes(state),
    step,
    at: compressionAt(state, step),
  };
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]);
}

export function createCompressionPanel(els, onVisible) {
  const { card, title, stats, bytesDiv, errorDiv, residualDiv, residualFig, caption } = els;
  let large = false;
  let textKey = "";
  const throttle = createThrottledCard({ card, onVisible, intervalMs: MIN_INTERVAL_MS, draw });

  function render(state) {
    const v = compressionView(state);
    throttle.setVisible(!!v);
    if (!v) return;
    throttle.schedule(state);
  }

  function layoutBase(yTitle, extra = {}) {
    const font = large ? 15 : 11;
    return {
      margin: { l: 50, r: 10, t: 4, b: 34 },
      font: { size: font, family: FONT, color: "#111" },
      xaxis: { title: { text: t("chart.step"), standoff: 2 }, gridcolor: "#e6e6e6", zeroline: false, automargin: true },
      yaxis: { title: { text: yTitle }, gridcolor: "#e6e6e6", zeroline: false, automargin: true, rangemode: "tozero" },
      showlegend: false,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      ...extra,
    };
  }

  function drawText(v) {
    const c = v.compression;
    const key = `${getLang()}|${c.method}|${c.errorFeedback}|${v.n}`;
    if (key !== textKey) {
      textKey = key;
      title.textContent = ` — ${compressionText(c)}`;
      const parts = [t(c.gathered ? "comp.captionGathered" : "comp.captionPowerSgd")];
      if (c.errorFeedback) parts.push(t("comp.captionEf"));
      // Biased compressors without error feedback drop the same kind of coordinates every
      // step and never apply them: the loss can flatten above where it would go. Say so,
      // so that a stall reads as the lesson, not as a bug.
      const stalls = BIASED.has(c.method) && !c.errorFeedback;
      if (stalls) parts.push(t(`comp.captionNoEf.${c.method}`));
      caption.dataset.noEf = String(stalls);
      caption.textContent = parts.join(" ");
    }
    const a = v.at;
    const d = card.dataset;
    d.step = String(v.step);
    d.method = c.method;
    if (!a) {
      stats.innerHTML = `<span class="comp-empty">${esc(t("comp.waiting"))}</span>`;
      return;
    }
    d.payload = String(a.payload ?? "");
    d.sent = String(a.sent ?? "");
    d.reference = String(a.reference ?? "");
    const item = (label, value, sub) =>
      `<div class="comp-stat"><span class="cs-label">${esc(label)}</span><span class="cs-value">${esc(value)}</span>${
        sub ? `<span class="cs-sub">${esc(sub)}</span>` : ""
      }</div>`;
    const out = [
      item(t("comp.statStep"), String(v.step)),
      item(
        t("comp.statPayload"),
        fmtBytes(a.payload),
        a.ratio ? t("comp.statPayloadSub", { ratio: fmtNum(a.ratio, 3), N: fmtBytes(v.N) }) : "",
      ),
      item(
        t("comp.statWire"),
        fmtBytes(a.sent),
        a.wireRatio ? t("comp.statWireSub", { ratio: fmtNum(a.wireRatio, 3), ref: fmtBytes(a.reference) }) : "",
      ),
      item(t("comp.statError"), fmtNum(a.error, 3)),
    ];
    if (c.errorFeedback) out.push(item(t("comp.statResidual"), fmtNum(a.residual, 3)));
    stats.innerHTML = out.join("");
  }

  function draw(state) {
    if (!state || card.hidden) return;
    const v = compressionView(state);
    if (!v) return;
    drawText(v);
    if (!window.Plotly) return;
    const ser = compressionSeries(state);
    const w = large ? 2.6 : 1.6;
    const config = { displayModeBar: false, responsive: true };

    // bytes on the wire
    const bytes = ser.ranks.map((r, i) => ({
      ...thin(r.x, r.sent),
      type: "scatter",
      mode: "lines",
      name: t("comp.sentBy", { rank: r.rank }),
      meta: `sent-${r.rank}`,
      line: { color: rankColor(r.rank), width: w },
      legendgroup: "sent",
      hovertemplate: `${t("comp.sentBy", { rank: r.rank })}: %{y:,.0f} B<extra>${t("chart.step")} %{x}</extra>`,
      showlegend: i === 0,
    }));
    if (bytes.length) bytes[0].name = t("comp.sentLegend");
    bytes.push({
      ...thin(ser.mean.x, ser.mean.payload),
      type: "scatter",
      mode: "lines",
      name: t("comp.payloadLegend"),
      meta: "payload",
      line: { color: "#000", width: w + 1 },
      hovertemplate: `${t("comp.payloadLegend")}: %{y:,.0f} B<extra>${t("chart.step")} %{x}</extra>`,
    });
    const xs = ser.mean.x.length ? ser.mean.x : ser.ranks[0] ? ser.ranks[0].x : [];
    if (ser.reference && xs.length) {
      bytes.push({
        x: [xs[0], xs[xs.length - 1]],
        y: [ser.reference, ser.reference],
        type: "scatter",
        mode: "lines",
        name: t("comp.referenceLegend"),
        meta: "reference",
        line: { color: "#666", width: w, dash: "dash" },
        hovertemplate: `${t("comp.referenceLegend")}: %{y:,.0f} B<extra></extra>`,
      });
    }
    // A log axis: a 1 % payload beside the uncompressed reference is a line, not a flat
    // smear on the x-axis (each decade is a factor of ten in bytes).
    const logAxis = { ...layoutBase("").yaxis, title: { text: t("comp.bytesAxis") }, type: "log", dtick: 1 };
    delete logAxis.rangemode; // linear axes only
    bytesDiv.dataset.yscale = "log";
    // each chart in an animation frame of its own (views/frame.js)
    plot("comp-bytes", bytesDiv,
      bytes,
      layoutBase(t("comp.bytesAxis"), {
        yaxis: logAxis,
        showlegend: true,
        legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: large ? 14 : 11 } },
        margin: { l: 54, r: 10, t: 22, b: 34 },
      }),
      config,
    );

    // relative error (per rank thin, mean bold) and the compression ratio on a second axis
    const err = ser.ranks.map((r) => ({
      ...thin(r.x, r.error),
      type: "scatter",
      mode: "lines",
      name: t("chart.rank", { rank: r.rank }),
      meta: `error-${r.rank}`,
      line: { color: rankColor(r.rank), width: 1 },
      opacity: 0.6,
      hovertemplate: `${t("chart.rank", { rank: r.rank })}: %{y:.3g}<extra>${t("chart.step")} %{x}</extra>`,
    }));
    err.push({
      ...thin(ser.mean.x, ser.mean.error),
      type: "scatter",
      mode: "lines",
      name: t("comp.errorLegend"),
      meta: "error",
      line: { color: "#000", width: w + 0.6 },
      hovertemplate: `${t("comp.errorLegend")}: %{y:.3g}<extra>${t("chart.step")} %{x}</extra>`,
    });
    err.push({
      ...thin(ser.mean.x, ser.mean.ratio),
      type: "scatter",
      mode: "lines",
      name: t("comp.ratioLegend"),
      meta: "ratio",
      yaxis: "y2",
      line: { color: "#009E73", width: w, dash: "dot" },
      hovertemplate: `${t("comp.ratioLegend")}: %{y:.3g}×<extra>${t("chart.step")} %{x}</extra>`,
    });
    plot("comp-error", errorDiv,
      err,
      layoutBase(t("comp.errorAxis"), {
        margin: { l: 46, r: 40, t: 4, b: 34 },
        yaxis2: {
          overlaying: "y",
          side: "right",
          tickmode: "auto",
          nticks: 5,
          rangemode: "tozero",
          showgrid: false,
          title: { text: t("comp.ratioAxis"), font: { color: "#009E73" } },
          tickfont: { color: "#009E73" },
          automargin: true,
        },
      }),
      config,
    );

    // error-feedback residual
    residualFig.hidden = !v.compression.errorFeedback;
    if (v.compression.errorFeedback) {
      const res = ser.ranks.map((r) => ({
        ...thin(r.x, r.residual),
        type: "scatter",
        mode: "lines",
        name: t("chart.rank", { rank: r.rank }),
        meta: `residual-${r.rank}`,
        line: { color: rankColor(r.rank), width: w },
        hovertemplate: `${t("chart.rank", { rank: r.rank })}: ‖e‖ = %{y:.3g}<extra>${t("chart.step")} %{x}</extra>`,
      }));
      plot("comp-residual", residualDiv, res, layoutBase(t("comp.residualAxis")), config);
    }
  }

  /** One chart's Plotly.react, in an animation frame of its own. */
  function plot(name, div, traces, layout, config) {
    inFrame(name, () => window.Plotly.react(div, traces, layout, config), { heavy: true });
  }

  function setLarge(v) {
    large = !!v;
  }

  function invalidate() {
    textKey = "";
  }

  function resize() {
    if (!window.Plotly || card.hidden) return;
    for (const div of [bytesDiv, errorDiv, residualDiv]) if (div.data) window.Plotly.Plots.resize(div);
  }

  return { render, setLarge, invalidate, resize };
}
