// strategies/collectives/card.js — the collectives card: one row per rank with its buffer before and after the shown step (a box per value), between them the step's real messages as arrows from rank to rank, round by round, and under them the bytes and the α–β cost of the algorithm.
//
// Everything drawn comes from events (strategies/collectives/slice.js): the buffers from
// each rank's `buffers` event, the arrows from the `comm` events (one per message, with
// the round the algorithm sent it in), the bytes from the step events, the formula from
// the `collective` event. When a new step is shown its rounds are drawn in order — a CSS
// animation started by that step's arrival, not a timer standing in for messages.

import { fmtBytes, t } from "../../core/i18n.js";
import { rankColor } from "../../views/palette.js";
import { collectivesView } from "./slice.js";

const SVG = "http://www.w3.org/2000/svg";
const LINE_H = 26; // px per line of boxes (8 boxes a line); a rank's row has 1 or 2
const PER_LINE = 8;
const HEAD_H = 30; // the header row (the rounds' numbers sit in it)
const PAD = 10;
const ROUND_S = 0.35; // seconds between two rounds in the drawing, at most

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text != null) e.textContent = text;
  return e;
}

/** A value as the student reads it: an integer as is, else one decimal. */
export function fmtValue(x) {
  if (x == null || !Number.isFinite(x)) return "–";
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

export const collName = (c) => t(`coll.name.${c}`);
export const algoName = (a) => t(`coll.algo.${a}`);

/** The boxes of one buffer; blocks of n alternate their shade when the vector splits. */
function boxes(values, { n, testid, rank, cls = "", delay = 0 }) {
  const row = el("div", { class: `coll-buf ${cls}`, "data-testid": testid, "data-rank": String(rank) });
  if (!values) {
    row.append(el("span", { class: "coll-none" }, "–"));
    return row;
  }
  row.dataset.values = JSON.stringify(values);
  if (delay) row.style.animationDelay = `${delay}s`;
  const per = values.length % n === 0 ? values.length / n : 0;
  values.forEach((v, i) => {
    const odd = per && Math.floor(i / per) % 2 === 1 ? " odd" : "";
    row.append(el("span", { class: `coll-box${odd}`, title: `[${i}] = ${fmtValue(v)}` }, fmtValue(v)));
  });
  return row;
}

/** Pure: the sizes the drawing uses: a row per rank (its lane at the row's centre), a
 *  column per round (narrower when there are many). */
export function layout(v) {
  const longest = Math.max(1, ...v.ranks.map((r) => Math.max(r.before ? r.before.length : 0, r.after ? r.after.length : 0)));
  const rowH = Math.ceil(longest / PER_LINE) * LINE_H + 6;
  const rounds = v.rounds.length ? Math.max(...v.rounds.map((r) => r.round)) + 1 : 1;
  const roundW = rounds > 8 ? 30 : 36;
  // reduce-scatter + all-gather: room in the middle for each rank's block of the sum
  const midW = v.algorithm === "rs_ag" ? Math.max(64, 34 * Math.ceil((v.elements || 0) / Math.max(1, v.n))) : 0;
  return { rowH, roundW, midW, width: 2 * PAD + rounds * roundW + midW, height: HEAD_H + v.n * rowH };
}

/** The step's messages: a lane per rank, a column per round, an arrow per message. */
function drawRounds(v, { rowH: ROW_H, roundW: ROUND_W, midW: MID_W, width, height }, roundS) {
  const s = svg("svg", { class: "coll-rounds", "data-testid": "coll-rounds", width, height, viewBox: `0 0 ${width} ${height}` });
  const defs = svg("defs");
  const marker = svg("marker", { id: "coll-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "context-stroke" }));
  defs.append(marker);
  s.append(defs);
  const y = (r) => HEAD_H + (r + 0.5) * ROW_H;
  for (let r = 0; r < v.n; r++) s.append(svg("line", { class: "coll-lane", x1: 0, x2: width, y1: y(r), y2: y(r) }));
  const mid = v.algorithm === "rs_ag" ? v.n - 1 : null; // rounds before it: the reduce-scatter
  const xOf = (k) => PAD + k * ROUND_W + (mid != null && k >= mid ? MID_W : 0);
  v.rounds.forEach((round, i) => {
    const g = svg("g", { class: `coll-round op-${round.op}`, "data-round": round.round, style: `animation-delay:${(i * roundS).toFixed(2)}s` });
    const x0 = xOf(round.round);
    const sizes = new Set(round.messages.map((m) => m.bytes));
    g.append(svg("text", { class: "coll-round-no", x: x0 + ROUND_W / 2 - 4, y: 12 }, String(round.round + 1)));
    if (sizes.size === 1) g.append(svg("text", { class: "coll-round-bytes", x: x0 + ROUND_W / 2 - 4, y: 25 }, fmtBytes(round.messages[0].bytes)));
    for (const m of round.messages) {
      const line = svg("line", { class: "coll-msg", "data-testid": "coll-msg", "data-round": round.round, "data-src": m.src, "data-dst": m.dst, "data-bytes": m.bytes, x1: x0 + 2, y1: y(m.src), x2: x0 + ROUND_W - 10, y2: y(m.dst), "marker-end": "url(#coll-arrow)" });
      line.append(svg("title", {}, t("coll.msgTitle", { round: round.round + 1, src: m.src, dst: m.dst, bytes: fmtBytes(m.bytes), op: t(`op.${m.op}`), chunk: m.chunk == null ? "–" : m.chunk })));
      g.append(line);
      if (sizes.size > 1) g.append(svg("text", { class: "coll-msg-bytes", x: x0 + ROUND_W / 2, y: (y(m.src) + y(m.dst)) / 2 - 2 }, fmtBytes(m.bytes)));
    }
    s.append(g);
  });
  if (mid != null && v.rounds.length) {
    // the middle of reduce-scatter + all-gather: each rank's block of the sum
    const x = PAD + mid * ROUND_W;
    const g = svg("g", { class: "coll-middle", style: `animation-delay:${(mid * roundS).toFixed(2)}s` });
    g.append(svg("text", { class: "coll-round-no", x: x + MID_W / 2 - 4, y: 12 }, t("coll.middle")));
    for (const r of v.ranks) {
      if (!r.middle) continue;
      g.append(svg("text", { class: "coll-mid-values", "data-testid": "coll-middle", "data-rank": r.rank, x: x + MID_W / 2 - 4, y: y(r.rank) + 4 }, r.middle.map(fmtValue).join(" ")));
    }
    s.append(g);
  }
  return s;
}

export function createCollectivesCard({ card, headEl, gridEl, costEl, captionEl }, onVisible) {
  let drawnKey = null;
  let shownStep = null;
  let shownAt = 0;

  /** Seconds between two rounds for a newly shown step: the rounds of one step are drawn
   *  within 60% of the time since the step before it arrived (a fast run, or a replay at
   *  speed, is never shown behind), at most ROUND_S each; none for a redraw of the same
   *  step (a language switch). */
  function roundSeconds(step, rounds) {
    const now = performance.now();
    if (step === shownStep) return 0;
    const gap = shownStep == null ? Infinity : (now - shownAt) / 1000;
    shownStep = step;
    shownAt = now;
    const s = Math.min(ROUND_S, (0.6 * gap) / Math.max(1, rounds));
    return s < 0.02 ? 0 : s;
  }

  function setVisible(on) {
    if (card.hidden === !on) return;
    card.hidden = !on;
    onVisible?.(on);
  }

  function render(state, force) {
    const v = collectivesView(state);
    setVisible(!!v);
    if (!v) {
      drawnKey = null;
      return;
    }
    const key = `${state.runId}|${v.step}|${v.rounds.length}|${v.ranks.map((r) => `${r.sent}/${r.recv}`).join(",")}|${document.documentElement.lang}`;
    if (key === drawnKey && !force) return;
    drawnKey = key;
    card.dataset.step = v.step ? String(v.step) : "";
    card.dataset.collective = v.collective;
    const root = v.root != null ? ` · ${t("coll.root", { root: v.root })}` : "";
    headEl.textContent = `${collName(v.collective)} · ${algoName(v.algorithm)} · ${t("coll.head", { n: v.n, elements: v.elements, bytes: fmtBytes(v.bytes) })}${root}${v.step ? ` · ${t("coll.step", { step: v.step })}` : ""}`;
    drawGrid(v);
    drawCost(v);
    captionEl.textContent = t("coll.caption");
  }

  function drawGrid(v) {
    const size = layout(v);
    const roundS = roundSeconds(v.step, v.rounds.length);
    const doneAt = v.rounds.length * roundS;
    gridEl.classList.toggle("still", roundS === 0);
    gridEl.style.setProperty("--coll-rows", String(v.n));
    gridEl.style.setProperty("--coll-row-h", `${size.rowH}px`);
    gridEl.style.setProperty("--coll-head-h", `${HEAD_H}px`);
    // without Detail there are no messages to draw: a narrow gap, and a note under the rows
    gridEl.style.setProperty("--coll-svg-w", v.detail ? `${size.width}px` : "24px");
    // every cell placed by hand: row 1 the heads, row r + 2 rank r; the arrows' picture
    // spans them all in the middle column, its lanes at the rows' centres
    const place = (e, col, row) => {
      e.style.gridColumn = String(col);
      e.style.gridRow = String(row);
      return e;
    };
    const items = [
      place(el("span", { class: "coll-colhead" }, t("coll.colRank")), 1, 1),
      place(el("span", { class: "coll-colhead" }, t(v.step ? "coll.colBefore" : "coll.waiting")), 2, 1),
      place(el("span", { class: "coll-colhead" }, t("coll.colAfter")), 4, 1),
      place(el("span", { class: "coll-colhead" }, t("coll.colBytes")), 5, 1),
    ];
    const holder = place(el("div", { class: "coll-svg-cell" }), 3, `1 / span ${v.n + 1}`);
    if (v.detail) holder.append(drawRounds(v, size, roundS));
    items.push(holder);
    for (const r of v.ranks) {
      const row = r.rank + 2;
      const label = el("span", { class: "coll-rank", "data-testid": "coll-rank", "data-rank": String(r.rank) }, t("coll.rank", { rank: r.rank }));
      label.style.borderColor = rankColor(r.rank);
      if (v.root === r.rank) label.classList.add("root");
      const after = boxes(r.after, { n: v.n, testid: "coll-after", rank: r.rank, cls: `after${r.defined ? "" : " undefined"}`, delay: doneAt });
      if (!r.defined) after.title = t("coll.undefined");
      const bytes = el("span", { class: "coll-bytes", "data-testid": "coll-bytes", "data-rank": String(r.rank), "data-sent": r.sent ?? "", "data-recv": r.recv ?? "" }, r.sent == null ? "–" : t("coll.bytes", { sent: fmtBytes(r.sent), recv: fmtBytes(r.recv ?? 0) }));
      items.push(place(label, 1, row), place(boxes(r.before, { n: v.n, testid: "coll-before", rank: r.rank, cls: "before" }), 2, row), place(after, 4, row), place(bytes, 5, row));
    }
    gridEl.replaceChildren(...items);
  }

  function drawCost(v) {
    const lines = [el("p", { class: "coll-cost", "data-testid": "coll-cost" }, t("coll.cost", { algo: algoName(v.algorithm), formula: v.formula, a: v.alphaTerms ?? "–", b: fmtBytes(v.betaBytes ?? NaN), n: v.n, N: fmtBytes(v.bytes) }))];
    if (v.rounds.length) lines.push(el("p", { class: "coll-measured", "data-testid": "coll-measured" }, t("coll.measured", { step: v.step, rounds: v.rounds.length, critical: fmtBytes(v.critical), messages: v.rounds.reduce((s, r) => s + r.messages.length, 0) })));
    if (!v.detail) lines.push(el("p", { class: "coll-nodetail", "data-testid": "coll-nodetail" }, t("coll.noDetail")));
    const bad = v.ranks.filter((r) => r.error != null && r.error > 0);
    if (v.step) lines.push(el("p", { class: `coll-check${bad.length ? " bad" : ""}`, "data-testid": "coll-check" }, bad.length ? t("coll.checkBad", { ranks: bad.map((r) => r.rank).join(", ") }) : t("coll.checkOk")));
    costEl.replaceChildren(...lines);
  }

  return { render, invalidate: () => (drawnKey = null) };
}
