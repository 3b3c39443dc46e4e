// strategies/pipeline/schedule.js — the schedule grid: process × time, one cell per forward / backward pass of a micro-batch, idle time visible.
//
// Drawn from measured events only (the cells each stage reported for the step), live and
// on replay alike: the newest step every stage has reported.

import { setHidden } from "../../views/dom.js";
import { fmtBytes, t } from "../../core/i18n.js";
import { cellLabel, scheduleGrid } from "./slice.js";

const SVG = "http://www.w3.org/2000/svg";
const ROW_H = 26;
const LABEL_W = 74;

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

const pct = (x) => (x == null ? "–" : `${Math.round(x * 100)} %`);

function piecesText(pieces, layers) {
  if (!pieces.length) return "";
  const names = [];
  const blocks = pieces.filter((i) => i >= 1 && i <= layers);
  if (pieces.includes(0)) names.push(t("pipeline.embedding"));
  if (blocks.length === 1) names.push(t("pipeline.block", { n: blocks[0] }));
  else if (blocks.length > 1) names.push(t("pipeline.blocks", { first: blocks[0], last: blocks[blocks.length - 1] }));
  if (pieces.includes(layers + 1)) names.push(t("pipeline.head"));
  return t("pipeline.pieces", { pieces: names.join(" + ") });
}

/** An interleaved stage's pieces, chunk by chunk: "chunk 0: embedding + block 1 | chunk 1: block 3". */
function chunksText(chunks, layers) {
  const parts = chunks.map((pieces, c) => `${t("pipeline.chunk", { c })}: ${piecesText(pieces, layers).replace(t("pipeline.pieces", { pieces: "" }), "")}`);
  return t("pipeline.pieces", { pieces: parts.join(" | ") });
}

export function createScheduleView({ card, svg, summaryEl, stagesEl, chunkLegend }) {
  let drawnKey = null;

  function render(state) {
    const grid = scheduleGrid(state);
    setHidden(card, !grid);
    if (!grid) {
      drawnKey = null;
      return;
    }
    const width = Math.max(320, Math.round(svg.getBoundingClientRect().width || 640));
    const key = `${state.runId}|${grid.step}|${width}|${document.documentElement.lang}`;
    if (key === drawnKey) return;
    drawnKey = key;
    svg.replaceChildren();
    svg.dataset.step = grid.step == null ? "" : String(grid.step);
    svg.dataset.bubble = grid.bubble == null ? "" : grid.bubble.toFixed(4);
    if (grid.step == null) {
      summaryEl.textContent = t("pipeline.waiting");
      stagesEl.replaceChildren();
      svg.setAttribute("viewBox", `0 0 ${width} 10`);
      svg.setAttribute("height", "10");
      return;
    }
    const height = grid.stages.length * ROW_H + 18;
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("height", String(height));
    const span = grid.t1 - grid.t0 || 1e-6;
    const x = (s) => LABEL_W + ((s - grid.t0) / span) * (width - LABEL_W - 6);
    grid.stages.forEach((stage, row) => {
      const y = row * ROW_H + 4;
      const label = el("text", { x: 4, y: y + ROW_H / 2 + 1, class: "pp-label" }, svg);
      label.textContent = t("pipeline.stage", { stage: row });
      // The idle background: whatever a cell does not cover is time this stage waited.
      el("rect", { x: LABEL_W, y, width: width - LABEL_W - 6, height: ROW_H - 8, class: "pp-idle" }, svg);
      for (const [kind, micro, start, end, chunk] of stage.cells) {
        const x0 = x(start);
        const w = Math.max(1.5, x(end) - x0);
        // interleaved: odd chunks in a lighter tone, so a micro-batch's rounds stand apart
        const tone = grid.v > 1 && chunk % 2 === 1 ? " pp-chunk-odd" : "";
        const cell = el("rect", { x: x0.toFixed(1), y, width: w.toFixed(1), height: ROW_H - 8, class: `pp-cell pp-${kind}${tone}`, "data-kind": kind, "data-micro": micro, "data-stage": row, ...(grid.v > 1 ? { "data-chunk": chunk } : {}) }, svg);
        const on = grid.v > 1 ? ` · ${t("pipeline.chunk", { c: chunk })}` : "";
        el("title", {}, cell).textContent = `${kind === "F" ? t("pipeline.forward") : t("pipeline.backward")} ${micro}${on} · ${((end - start) * 1e3).toFixed(2)} ms`;
        const label = cellLabel(kind, micro, chunk, grid.v);
        if (w > 6 * label.length + 2) {
          const tx = el("text", { x: (x0 + w / 2).toFixed(1), y: y + ROW_H / 2 + 1, class: `pp-cell-label${tone}` }, svg);
          tx.textContent = label;
        }
      }
    });
    const axis = el("text", { x: width - 6, y: height - 3, class: "pp-axis" }, svg);
    axis.textContent = `${t("pipeline.stepOf", { step: grid.step })} · ${(span * 1e3).toFixed(1)} ms`;
    summaryEl.textContent = t(grid.v > 1 ? "pipeline.bubbleInterleaved" : "pipeline.bubble", {
      measured: pct(grid.bubble),
      p: grid.p,
      m: grid.m,
      v: grid.v,
      formula: pct(grid.formula),
    });
    if (chunkLegend) setHidden(chunkLegend, !(grid.v > 1));
    const layers = (state.config && state.config.layers) || 0;
    stagesEl.replaceChildren(
      ...grid.stages.map((s, row) => {
        const li = document.createElement("li");
        li.dataset.stage = String(row);
        li.dataset.inFlight = String(s.inFlight ?? "");
        const held = s.inFlight == null ? "" : t(grid.v > 1 ? "pipeline.heldChunks" : "pipeline.held", { n: s.inFlight, bytes: fmtBytes(s.actBytes || 0) });
        const holds = s.chunks && s.chunks.length > 1 ? chunksText(s.chunks, layers) : piecesText(s.pieces, layers);
        li.textContent = `${t("pipeline.stage", { stage: row })}: ${[holds, held].filter(Boolean).join(" · ")}`;
        return li;
      }),
    );
  }

  return {
    render,
    invalidate() {
      drawnKey = null;
    },
  };
}
