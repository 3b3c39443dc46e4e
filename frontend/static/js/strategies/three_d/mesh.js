// strategies/three_d/mesh.js — the mesh card: one square per process (a block per data replica, stages as rows, tensor slices as columns), the three groups of the process pointed at, and the bytes each kind of group carried.
//
// Drawn from the `mesh` event and the step events only (live and on replay alike). The
// process pointed at (hover) or chosen (click; rank 0 until then) has its groups joined
// by lines in their colours: tensor along its row, pipeline along its column, data across
// the replicas.

import { fmtBytes, t } from "../../core/i18n.js";
import { groupsOf, KINDS, meshView } from "./slice.js";

const SVG = "http://www.w3.org/2000/svg";
const CELL = 44; // a process's square
const GAP = 8; // between squares
const BLOCK_GAP = 36; // between replicas
const LEFT = 62; // stage labels
const TOP = 30; // replica labels, and room for the data links' arches

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function html(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

const list = (ranks) => `{${ranks.join(", ")}}`;

export function createMeshView({ card, svg, selectedEl, trafficEl }) {
  let drawnKey = null;
  let chosen = 0; // clicked
  let pointed = null; // hovered
  let last = null; // the state last rendered (hover redraws from it)

  /** Where a process's square sits. */
  function place(view, [d, p, t]) {
    const blockW = view.tp * (CELL + GAP) - GAP;
    return { x: LEFT + d * (blockW + BLOCK_GAP) + t * (CELL + GAP), y: TOP + p * (CELL + GAP) };
  }

  function drawGrid(view, focus) {
    const blockW = view.tp * (CELL + GAP) - GAP;
    const width = LEFT + view.dp * (blockW + BLOCK_GAP) - BLOCK_GAP + 8;
    const height = TOP + view.pp * (CELL + GAP) - GAP + 22;
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    svg.dataset.selected = String(focus);
    for (let d = 0; d < view.dp; d++) {
      const { x } = place(view, [d, 0, 0]);
      el("rect", { x: x - 5, y: TOP - 5, width: blockW + 10, height: view.pp * (CELL + GAP) - GAP + 10, rx: 6, class: "mesh-block" }, svg);
      el("text", { x: x + blockW / 2, y: TOP - 14, class: "mesh-replica" }, svg).textContent = t("td.replica", { d });
      for (let tt = 0; tt < view.tp; tt++) {
        const c = place(view, [d, view.pp - 1, tt]);
        el("text", { x: c.x + CELL / 2, y: c.y + CELL + 15, class: "mesh-axis" }, svg).textContent = t("td.slice", { t: tt });
      }
    }
    for (let p = 0; p < view.pp; p++) {
      el("text", { x: 4, y: TOP + p * (CELL + GAP) + CELL / 2, class: "mesh-stage" }, svg).textContent = t("td.stage", { p });
    }
    const groups = groupsOf(view, focus);
    const at = Object.fromEntries(view.ranks.map((r) => [r.rank, r]));
    // The focused process's groups, as lines from it to each member (drawn under the squares).
    if (groups && at[focus]) {
      const a = place(view, at[focus].coords);
      for (const kind of KINDS) {
        for (const r of groups[kind]) {
          if (r === focus || !at[r]) continue;
          const b = place(view, at[r].coords);
          const [x1, y1, x2, y2] = [a.x + CELL / 2, a.y + CELL / 2, b.x + CELL / 2, b.y + CELL / 2];
          // Data links cross the replicas: arched into the gap above the row, clear of the squares between.
          const path = kind === "data" ? `M${x1},${y1} Q${(x1 + x2) / 2},${Math.min(y1, y2) - CELL * 1.3} ${x2},${y2}` : `M${x1},${y1} L${x2},${y2}`;
          el("path", { d: path, class: `mesh-link link-${kind}`, "data-group": kind }, svg);
        }
      }
    }
    for (const r of view.ranks) {
      const [d, p, tt] = r.coords;
      const { x, y } = place(view, r.coords);
      const kinds = groups ? KINDS.filter((k) => groups[k].has(r.rank)) : [];
      const cls = ["mesh-rank", ...kinds.map((k) => `in-${k}`), r.rank === focus ? "focus" : ""].filter(Boolean).join(" ");
      const g = el("g", { class: cls, "data-testid": "mesh-rank", "data-rank": r.rank, "data-coords": `${d},${p},${tt}`, "data-in": r.rank === focus ? "" : kinds.join(" "), tabindex: "0" }, svg);
      el("rect", { x, y, width: CELL, height: CELL, rx: 5 }, g);
      el("text", { x: x + CELL / 2, y: y + CELL / 2 - 5, class: "mesh-rank-no" }, g).textContent = String(r.rank);
      el("text", { x: x + CELL / 2, y: y + CELL / 2 + 11, class: "mesh-rank-xyz" }, g).textContent = `${d}·${p}·${tt}`;
      el("title", {}, g).textContent = t("td.rankTitle", { rank: r.rank, d, p, t: tt, tensor: list(r.groups.tensor), pipeline: list(r.groups.pipeline), data: list(r.groups.data) });
      g.addEventListener("mouseenter", () => point(r.rank));
      g.addEventListener("mouseleave", () => point(null));
      g.addEventListener("click", () => choose(r.rank));
      g.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") choose(r.rank);
      });
    }
    const f = at[focus];
    if (f) {
      const [d, p, tt] = f.coords;
      selectedEl.textContent = t("td.selected", { rank: focus, d, p, t: tt, tensor: list(f.groups.tensor), pipeline: list(f.groups.pipeline), data: list(f.groups.data) });
    }
  }

  function drawTraffic(view, focus) {
    const tr = view.traffic;
    trafficEl.dataset.step = tr ? String(tr.step) : "";
    if (!tr) {
      trafficEl.replaceChildren(html("p", { class: "caption" }, t("td.waiting")));
      return;
    }
    const top = Math.max(1, ...KINDS.map((k) => tr.total[k]));
    const mine = tr.byRank[focus];
    const rows = KINDS.map((k) => {
      const row = html("div", { class: `mesh-traffic-row link-${k}`, "data-testid": "mesh-traffic-row", "data-group": k, "data-bytes": String(tr.total[k]) });
      row.append(html("span", { class: "mesh-traffic-name" }, t(`td.group.${k}`)));
      const bar = html("span", { class: "mesh-traffic-bar" });
      bar.append(html("span", { class: "mesh-traffic-fill", style: `width:${((100 * tr.total[k]) / top).toFixed(1)}%` }));
      row.append(bar, html("span", { class: "mesh-traffic-bytes" }, fmtBytes(tr.total[k])));
      return row;
    });
    const own = mine ? [html("p", { class: "mesh-traffic-mine", "data-testid": "mesh-traffic-rank" }, t("td.trafficRank", { rank: focus, tensor: fmtBytes(mine.sent.tensor || 0), pipeline: fmtBytes(mine.sent.pipeline || 0), data: fmtBytes(mine.sent.data || 0) }))] : [];
    trafficEl.replaceChildren(html("p", { class: "mesh-traffic-head" }, t("td.traffic", { step: tr.step })), ...rows, ...own);
  }

  function draw(state, force) {
    const view = meshView(state);
    card.hidden = !view;
    if (!view) {
      drawnKey = null;
      return;
    }
    const focus = pointed != null ? pointed : Math.min(chosen, view.ranks.length - 1);
    const key = `${state.runId}|${view.dp}x${view.pp}x${view.tp}|${focus}|${view.traffic ? view.traffic.step : ""}|${document.documentElement.lang}`;
    if (key === drawnKey && !force) return;
    // While the pointer is on a square, redrawing the squares would lose it: only the traffic changes.
    const gridKey = key.split("|").filter((_, i) => i !== 3).join("|");
    if (!drawnKey || gridKey !== drawnKey.split("|").filter((_, i) => i !== 3).join("|") || force) drawGrid(view, focus);
    drawTraffic(view, focus);
    card.dataset.selected = String(focus);
    drawnKey = key;
  }

  function point(rank) {
    pointed = rank;
    if (last) draw(last);
  }

  function choose(rank) {
    chosen = rank;
    if (last) draw(last);
  }

  return {
    render(state) {
      if (last && state.runId !== last.runId) chosen = 0;
      last = state;
      draw(state);
    },
    invalidate() {
      drawnKey = null;
    },
  };
}
