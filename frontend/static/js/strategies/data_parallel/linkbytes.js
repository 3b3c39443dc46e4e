// strategies/data_parallel/linkbytes.js — the bytes-per-rank card: bytes sent and received per rank, measured, beside what the all-reduce's formula predicts.
//
// Bytes sent and received per rank, measured, beside what the textbook
// formula for the run's all-reduce predicts for the same steps. A strategy drawn as our
// ring that sends something else per step (ZeRO: its stage's collectives) gives its own
// expectation through its frontend's `traffic(state, n, N)` hook.
//
// Measured numbers come from the `comm` events (every message, detail mode) when there
// are any, else from the per-step byte counters of the `step` events. Both are exact
// counts of what went through the process group; the set-up broadcast of the initial
// weights is listed apart so that the totals compare with the per-step formulas.

import { setData, setHtml, setProp } from "../../views/dom.js";
import { fmtBytes, t } from "../../core/i18n.js";
import { createThrottledCard } from "../../views/card.js";
import { rankColor } from "../../views/palette.js";
import { linkTraffic, stepTraffic } from "../../core/comm.js";
import { frontendOf } from "../../core/registry.js";
import { completeStep, gradBytes, ranksOf } from "../../core/selectors.js";
import { compressionOf } from "./compression.js";
import { expectedTraffic, runAlgo } from "./slice.js";

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

/** Pure: the rows and numbers the card shows, as of the newest complete step. */
export function linkBytesView(state) {
  const algo = runAlgo(state);
  if (!algo) return null;
  const ranks = ranksOf(state);
  const n = ranks.length;
  const step = completeStep(state);
  const comm = linkTraffic(state, step);
  const useComm = comm.messages > 0;
  const measured = useComm ? comm : stepTraffic(state, step);
  const steps = measured.steps;
  const N = gradBytes(state);
  // Compressed gradients are not N bytes: the formulas for N do not apply.
  const compressed = !!compressionOf(state.config);
  const name = state.strategy || (state.config && state.config.strategy);
  const own = frontendOf(name);
  // The formula is for one all-reduce of the gradient a step: data parallelism's, or what
  // a strategy's own frontend says it sends (ZeRO). Others drawn on this ring (local SGD
  // averaging every H steps, L-BFGS) send what they send: measured, without a formula.
  const expected =
    compressed || !(name === "data_parallel" || (own && own.traffic))
      ? { perRank: [], headline: null }
      : own && own.traffic
        ? own.traffic(state, n, N)
        : expectedTraffic(algo, n, N);
  // The formula line: its catalog key and the byte counts it quotes (formatted by the card).
  const formula =
    expected.formula || (expected.headline == null ? null : { key: `bytes.formula.${algo}`, vars: { per: expected.headline } });
  const rows = ranks.map((rank, i) => {
    const m = measured.ranks[rank] || {};
    const e = expected.perRank[i];
    return {
      rank,
      sent: m.sent || 0,
      recv: m.recv || 0,
      expectedSent: e ? e.sent * steps : null,
      expectedRecv: e ? e.recv * steps : null,
    };
  });
  const setup = state.setupTraffic;
  const setupSenders = Object.entries(setup.ranks).filter(([, v]) => v.sent > 0);
  return {
    algo,
    n,
    step,
    steps,
    N,
    source: useComm ? "comm" : "steps",
    compressed,
    headline: expected.headline,
    formula,
    formulaNote: expected.note || null,
    ring: algo === "ring" || !!expected.ring,
    rows,
    setup: setupSenders.length
      ? { rank: Number(setupSenders[0][0]), bytes: setupSenders[0][1].sent / Math.max(1, setupSenders[0][1].sentMsgs) }
      : null,
  };
}

export function createLinkBytes(section, formulaEl, tableEl, noteEl, onVisible) {
  const { setVisible } = createThrottledCard({ card: section, onVisible });

  function render(state) {
    const v = linkBytesView(state);
    setVisible(!!v);
    if (!v) return;
    // (each write only where it changes something: see views/dom.js)
    setData(section, "algo", v.algo);
    setData(section, "workers", String(v.n));
    setData(section, "step", String(v.step));
    setData(section, "steps", String(v.steps));
    setData(section, "source", v.source);
    setData(section, "gradBytes", v.N == null ? "" : String(v.N));
    setData(section, "formulaBytes", v.headline == null ? "" : String(v.headline));
    setData(section, "formulaKey", v.formula ? v.formula.key : "");

    const lines = [];
    const say = ({ key, vars }) => t(key, Object.fromEntries(Object.entries(vars).map(([k, x]) => [k, fmtBytes(x)])));
    if (v.formula) lines.push(`<b>${esc(say(v.formula))}</b>`);
    else if (v.compressed) lines.push(`<b>${esc(t("bytes.compressed"))}</b>`);
    if (v.formulaNote) lines.push(esc(say(v.formulaNote)));
    if (v.N != null) lines.push(esc(t("bytes.N", { bytes: fmtBytes(v.N), params: v.N / 4 })));
    setHtml(formulaEl, lines.join("<br>"));

    const max = Math.max(1, ...v.rows.map((r) => Math.max(r.sent, r.recv, r.expectedSent || 0)));
    const head = `<thead><tr><th>${esc(t("bytes.rank"))}</th><th>${esc(t("bytes.sent"))}</th><th>${esc(
      t("bytes.recv"),
    )}</th><th title="${esc(t("bytes.formulaTitle"))}">${esc(t("bytes.formula"))}</th></tr></thead>`;
    const body = v.rows
      .map((r) => {
        const pct = (x) => `${((100 * x) / max).toFixed(1)}%`;
        const exp = r.expectedSent == null ? "–" : fmtBytes(r.expectedSent);
        return `<tr data-rank="${r.rank}" data-sent="${r.sent}" data-recv="${r.recv}" data-expected-sent="${
          r.expectedSent ?? ""
        }" data-expected-recv="${r.expectedRecv ?? ""}">
          <td class="b-rank"><span class="lg-dot" style="background:${rankColor(r.rank)}"></span>${r.rank}</td>
          <td class="b-sent"><div class="b-cell"><span class="b-bar"><span class="b-fill" style="width:${pct(r.sent)}"></span>${
            r.expectedSent != null ? `<span class="b-mark" style="left:${pct(r.expectedSent)}"></span>` : ""
          }</span><span>${fmtBytes(r.sent)}</span></div></td>
          <td class="b-num">${fmtBytes(r.recv)}</td>
          <td class="b-num b-exp">${exp}</td>
        </tr>`;
      })
      .join("");
    setHtml(tableEl, v.steps ? head + `<tbody>${body}</tbody>` : `<tbody><tr><td class="b-empty">${esc(t("bytes.empty"))}</td></tr></tbody>`);

    const notes = [];
    if (v.steps) notes.push(t(v.source === "comm" ? "bytes.sourceComm" : "bytes.sourceSteps", { step: v.step }));
    if (v.setup) notes.push(t("bytes.setup", { rank: v.setup.rank, bytes: fmtBytes(v.setup.bytes) }));
    const sents = v.rows.map((r) => r.sent);
    if (v.ring && v.steps && Math.max(...sents) !== Math.min(...sents)) notes.push(t("bytes.chunks"));
    // one line, cut with an ellipsis when the card is narrow; the whole text on hover
    setHtml(noteEl, notes.length ? `<span>${esc(notes.join(" · "))}</span>` : "");
    setProp(noteEl, "title", notes.join("\n"));
  }

  return { render };
}
