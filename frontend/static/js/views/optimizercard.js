// views/optimizercard.js — the compare view's card for 表9 (chapter 9: distributed optimizers): the target-loss input and the table optimizertable.js derives from each run's events.
//
// One column per run, as in 表4 (compare.js drawMeasured); each cell carries its number in
// `data-value` (tests read them), "—" with the reason where the run did not measure it.
// The target loss lives in the URL (`?target=`, core/urlstate.js) so a link shows the same
// table; text that is not a positive number is refused beside the input and the table
// keeps the last good target.

import { fmtBytes, fmtNum, getLang, t } from "../core/i18n.js";
import { getParam, setParams } from "../core/urlstate.js";
import { canonical } from "./comparedata.js";
import { DEFAULT_TARGET, optimizerTable, parseTarget, SMOOTH_STEPS } from "./optimizertable.js";

function esc(s) {
  return String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

const na = (reason, params, extra = "", sub = "") => {
  const why = esc(t("compare.opt.na." + reason, params));
  return `<td class="na" data-value="" data-reason="${reason}"${extra} title="${why}">— <span class="na-why">${why}</span>${sub ? `<span class="sub">${esc(sub)}</span>` : ""}</td>`;
};
const num = (v, text, sub = "", extra = "") =>
  `<td data-value="${esc(v)}"${extra}><b>${esc(text)}</b>${sub ? `<span class="sub">${esc(sub)}</span>` : ""}</td>`;

/** The cells of one quantity, one per run (`row` a line of optimizerTable). */
const CELLS = {
  steps: (r) =>
    r.target.step == null
      ? na(r.target.reason, { best: fmtNum(r.target.best, 3), n: r.target.steps })
      : num(r.target.step, t("compare.opt.step", { step: r.target.step }), t("compare.opt.smoothed", { loss: fmtNum(r.target.smoothed, 3), n: SMOOTH_STEPS })),
  time: (r) =>
    r.target.step == null
      ? na(r.target.reason, { best: fmtNum(r.target.best, 3), n: r.target.steps })
      : r.target.seconds == null
        ? na("noTime")
        : num(r.target.seconds, `${fmtNum(r.target.seconds, 3)} s`, t("compare.opt.sinceStart")),
  bytes: (r) => {
    if (!r.bytes) return na("noBytes");
    const run = ` data-run="${r.bytes.run}"`;
    const whole = t("compare.opt.wholeRun", { bytes: fmtBytes(r.bytes.run), n: r.bytes.workers });
    if (r.bytes.upTo == null) return na(r.target.reason, { best: fmtNum(r.target.best, 3), n: r.target.steps }, run, whole);
    return num(r.bytes.upTo, fmtBytes(r.bytes.upTo), whole, run);
  },
  memory: (r) =>
    !r.memory
      ? na("noMemory")
      : num(r.memory.bytes, fmtBytes(r.memory.bytes), r.memory.plainSgd ? t("compare.opt.plainSgd") : t("compare.opt.memoryAt", { rank: r.memory.rank, step: r.memory.step })),
  final: (r) => (!r.final ? na("noSteps") : num(r.final.value, fmtNum(r.final.value, 4), t("compare.opt.lastSteps", { n: r.final.steps }))),
  seedSteps: (r) => seedCell(r.seeds, r.seeds.steps, (v) => t("compare.opt.stepsSpread", { n: v })),
  seedLoss: (r) => seedCell(r.seeds, r.seeds.loss, (v) => fmtNum(v, 3)),
};

/** A spread across seeds: the group's range, which seeds; or why there is none. */
function seedCell(s, value, fmt) {
  if (s.reason) return na(s.reason);
  const extra = ` data-runs="${s.runs}"`;
  if (value == null) return na(s.stepsReason || "noSteps", {}, extra);
  return num(value, fmt(value), t("compare.opt.seedsOf", { n: s.runs, seeds: s.seeds.join(", ") }), extra);
}

/**
 * Fill `section` (an empty card) with 表9's head, target input, table and note.
 * @returns {{draw(runs: {key, color, label, state, config}[]): void}}
 */
export function mountOptimizerCard(section) {
  let target = getParam("target") ?? DEFAULT_TARGET;
  let lastKey = "";
  let lastRuns = [];
  section.innerHTML = `
    <div class="card-head">
      <h2>${esc(t("compare.opt.title"))}</h2>
      <label class="opt-target">${esc(t("compare.opt.target"))}
        <input type="text" inputmode="decimal" size="6" data-testid="compare-target" value="${esc(target)}" aria-describedby="opt-target-error"></label>
      <span class="opt-target-error" id="opt-target-error" data-testid="compare-target-error" role="alert" hidden></span>
    </div>
    <div class="diff-wrap"><table class="compare-diff compare-measured compare-optimizers" data-testid="compare-optimizers"></table></div>
    <p class="caption">${esc(t("compare.opt.note", { n: SMOOTH_STEPS }))}</p>`;
  const input = section.querySelector("[data-testid=compare-target]");
  const error = section.querySelector("[data-testid=compare-target-error]");
  // A good value applies as it is typed; a bad one is refused when committed (Enter or
  // leaving the box), not while it is typed ("0" on the way to "0.25").
  const check = (commit) => {
    const v = parseTarget(input.value);
    if (v == null && !commit) return;
    input.setAttribute("aria-invalid", String(v == null));
    error.hidden = v != null;
    error.textContent = v == null ? t("compare.opt.badTarget", { text: input.value, kept: fmtNum(target, 4) }) : "";
    if (v == null || v === target) return;
    target = v;
    setParams({ target: v });
    draw(lastRuns);
  };
  input.addEventListener("input", () => check(false));
  input.addEventListener("change", () => check(true));

  function draw(runs) {
    lastRuns = runs;
    const table = section.querySelector("[data-testid=compare-optimizers]");
    const key = `${getLang()}|${target}|${runs.map((r) => `${r.key}:${r.state.lastSeq}:${canonical(r.config)}`).join("|")}`;
    if (key === lastKey) return;
    lastKey = key;
    const rows = optimizerTable(
      runs.map((r) => r.state),
      runs.map((r) => r.config),
      target,
    );
    table.dataset.target = String(target);
    const line = (q) => `<tr data-quantity="${q}"><th scope="row">${esc(t("compare.opt.q." + q, { target: fmtNum(target, 4) }))}</th>${rows.map(CELLS[q]).join("")}</tr>`;
    table.innerHTML =
      `<thead><tr><th></th>${runs
        .map(
          (r) =>
            `<th data-side="${r.key}" data-finished="${!!r.state.finished}"><span class="cmp-swatch" style="background:${r.color}"></span>${r.key.toUpperCase()} · ${esc(r.label)}${r.config ? `<span class="sub">${esc(t("compare.opt.seed", { seed: r.config.seed }))}</span>` : ""}</th>`,
        )
        .join("")}</tr></thead><tbody>` +
      Object.keys(CELLS).map(line).join("") +
      "</tbody>";
  }

  return { draw };
}
