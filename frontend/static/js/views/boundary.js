// views/boundary.js — the model's decision boundary on the 2-D data set.
//
// The model's decision boundary on the 2-D data set.
// Background: P(class 1) on the grid of the newest `boundary` event at or before the
// shown step. Points: filled by label, ringed by the rank whose shard holds them.

import { getLang, t } from "../core/i18n.js";
import { frontendFor } from "../core/registry.js";
import { watchSize } from "./boxsize.js";
import { classColor, probRGB, rankColor } from "./palette.js";

/** Whose model the frame is, in words: the strategy's own (a parameter server: the
 *  server's model, or one worker's pulled copy where no server holds all of it), else
 *  "model as of step N" (data parallelism: every replica is the same). */
function boundaryNote(state, b) {
  const fe = frontendFor(state.strategy || (state.config && state.config.strategy));
  return (fe && fe.boundaryNote && fe.boundaryNote(state, b)) || t("boundary.asOf", { step: b.step });
}

/** Pure: a boundary frame's P(class 1) per cell, row-major from ymin: decoded from its
 *  bytes (`d8`: base64 of P × 255, each cell as its difference mod 256 from the cell on
 *  its left, a row's first as it is — engine/model.py), or what older runs recorded: the
 *  bytes themselves (`q8`) or a list of numbers (`probs`). */
export function gridProbs(grid) {
  if (Array.isArray(grid.probs)) return grid.probs;
  const differences = typeof grid.d8 === "string";
  const coded = differences ? grid.d8 : grid.q8;
  if (typeof coded !== "string") return null;
  const bytes = atob(coded);
  const nx = grid.nx > 0 ? grid.nx : bytes.length;
  const out = new Float32Array(bytes.length);
  let cell = 0;
  for (let k = 0; k < bytes.length; k++) {
    const b = bytes.charCodeAt(k);
    cell = differences && k % nx !== 0 ? (cell + b) & 255 : b;
    out[k] = cell / 255;
  }
  return out;
}

export function createBoundary(canvas, noteEl, legendEl) {
  let drawnKey = "";
  let legendKey = "";
  const size = watchSize(canvas);
  let dots = null; // {key, canvas}: the data points, drawn once per data set and size

  function renderLegend(ds) {
    if (!legendEl) return;
    const numClasses = ds ? ds.num_classes || 2 : 2;
    const ranks = ds ? [...new Set(ds.points.map((p) => p[3]).filter((r) => r != null))].sort((a, b) => a - b) : [];
    const k = `${getLang()}|${numClasses}|${ranks.join(",")}`;
    if (k === legendKey) return;
    legendKey = k;
    const sw = (fill, ring, label) =>
      `<span class="lg-item"><span class="lg-dot" style="background:${fill};box-shadow:0 0 0 2.5px ${ring}"></span>${label}</span>`;
    const parts = [];
    for (let c = 0; c < numClasses; c++) parts.push(sw(classColor(c), "#fff", t("boundary.class", { c })));
    parts.push(`<span class="lg-item"><span class="lg-heat"></span>${t("boundary.heat")}</span>`);
    const rankParts = ranks.map((r) => sw("#fff", rankColor(r), String(r)));
    legendEl.innerHTML =
      `<div class="lg-row">${parts.join("")}</div>` +
      (rankParts.length ? `<div class="lg-row"><span class="lg-note">${t("boundary.ring")}:</span>${rankParts.join("")}</div>` : "") +
      `<div class="lg-row lg-strong">${t("boundary.shards")}</div>`;
  }

  let heat = null; // offscreen canvas of the current grid
  let heatStep = null;

  function render(state, { force = false } = {}) {
    // Only points have a boundary to draw (a text run's card is hidden: views/sample.js).
    const ds = state.dataset && Array.isArray(state.dataset.points) ? state.dataset : null;
    const b = state.boundary;
    const box = size();
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.max(100, Math.round(box.width || 300));
    const ch = Math.max(100, Math.round(box.height || 300));
    renderLegend(ds);
    const key = `${getLang()}|${state.runId}|${ds ? ds.points.length : 0}|${b ? b.step : -1}|${cw}x${ch}@${dpr}`;
    if (!force && key === drawnKey) return;
    drawnKey = key;
    // a new size reallocates the canvas (and clears it); else it is only cleared below
    if (canvas.width !== Math.round(cw * dpr)) canvas.width = Math.round(cw * dpr);
    if (canvas.height !== Math.round(ch * dpr)) canvas.height = Math.round(ch * dpr);
    canvas.dataset.boundaryStep = b ? String(b.step) : "";
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    if (!ds || !Array.isArray(ds.points)) {
      ctx.fillStyle = "#666";
      ctx.font = "14px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText(t("boundary.empty"), cw / 2, ch / 2);
      if (noteEl) noteEl.textContent = "";
      return;
    }
    const ext = ds.extent || (b && b.grid.extent) || [-1, 1, -1, 1];
    const [xmin, xmax, ymin, ymax] = ext;
    // square plot area, centred
    const pad = 6;
    const side = Math.min(cw, ch) - 2 * pad;
    const ox = (cw - side) / 2;
    const oy = (ch - side) / 2;
    const px = (x) => ox + ((x - xmin) / (xmax - xmin)) * side;
    const py = (y) => oy + side - ((y - ymin) / (ymax - ymin)) * side;

    ctx.fillStyle = "#f4f4f4";
    ctx.fillRect(ox, oy, side, side);
    const probs = b && b.grid ? gridProbs(b.grid) : null;
    if (probs) {
      const { nx, ny } = b.grid;
      const gext = b.grid.extent || ext;
      if (!heat || heatStep !== b) {
        heat = document.createElement("canvas");
        heat.width = nx;
        heat.height = ny;
        const hctx = heat.getContext("2d");
        const img = hctx.createImageData(nx, ny);
        for (let j = 0; j < ny; j++) {
          // probs are row-major from the ymin row; canvas rows go top-down.
          const row = ny - 1 - j;
          for (let i = 0; i < nx; i++) {
            const [r, g, bl] = probRGB(probs[j * nx + i]);
            const o = (row * nx + i) * 4;
            img.data[o] = r;
            img.data[o + 1] = g;
            img.data[o + 2] = bl;
            img.data[o + 3] = 255;
          }
        }
        hctx.putImageData(img, 0, 0);
        heatStep = b;
      }
      ctx.save();
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      // grid values are at cell centres spanning the grid extent
      const gx0 = px(gext[0]);
      const gx1 = px(gext[1]);
      const gy0 = py(gext[3]);
      const gy1 = py(gext[2]);
      ctx.beginPath();
      ctx.rect(ox, oy, side, side);
      ctx.clip();
      ctx.drawImage(heat, gx0, gy0, gx1 - gx0, gy1 - gy0);
      ctx.restore();
    }
    // points: ring = shard owner, fill = label; drawn once per data set and size into a
    // canvas of their own, copied over each new boundary
    const dk = `${cw}x${ch}@${dpr}`;
    if (!dots || dots.ds !== ds || dots.key !== dk) {
      const layer = document.createElement("canvas");
      layer.width = canvas.width;
      layer.height = canvas.height;
      const lctx = layer.getContext("2d");
      lctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const rad = side > 420 ? 4.2 : side > 260 ? 3.4 : 2.8;
      for (const p of ds.points) {
        const [x, y, label, shard] = p;
        const cx = px(x);
        const cy = py(y);
        lctx.beginPath();
        lctx.arc(cx, cy, rad + 1.8, 0, 2 * Math.PI);
        lctx.fillStyle = shard == null ? "#ffffff" : rankColor(shard);
        lctx.fill();
        lctx.beginPath();
        lctx.arc(cx, cy, rad, 0, 2 * Math.PI);
        lctx.fillStyle = classColor(label);
        lctx.fill();
        lctx.lineWidth = 0.8;
        lctx.strokeStyle = "#ffffff";
        lctx.stroke();
      }
      dots = { ds, key: dk, canvas: layer };
    }
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(dots.canvas, 0, 0);
    ctx.restore();
    ctx.strokeStyle = "#444";
    ctx.lineWidth = 1;
    ctx.strokeRect(ox + 0.5, oy + 0.5, side - 1, side - 1);
    if (noteEl) noteEl.textContent = b ? boundaryNote(state, b) : t("boundary.waiting");
  }

  function invalidate() {
    drawnKey = "";
    legendKey = "";
    dots = null;
  }

  return { render, invalidate };
}
