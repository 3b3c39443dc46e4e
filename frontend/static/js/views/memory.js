// views/memory.js — memory per process, measured: stacked bars of parameters, gradients, optimizer state and activations, beside ZeRO's accounting for the run's stage.
//
// The numbers come from the step events' `memory` (engine/memory.py, step 1 and every
// 50th): what each process holds. The accounting is the ZeRO paper's per-process model
// states (Rajbhandari et al. 2020, §5) with everything in fp32: Ψ parameters of 4 bytes,
// Adam's m and v 8 bytes per parameter; stage 0 is plain data parallelism.

import { fmtBytes, t } from "../core/i18n.js";
import { optionsOf } from "../core/selectors.js";

const KINDS = ["params", "grads", "optimizer", "activations"];

/** Pure: bytes per process the paper's accounting gives, by kind (fp32, Adam or SGD). */
export function accounting({ psi, n, stage, adam }) {
  const full = 4 * psi;
  return {
    params: stage >= 3 ? full / n : full,
    grads: stage >= 2 ? full / n : full,
    optimizer: adam ? (stage >= 1 ? (2 * full) / n : 2 * full) : 0,
  };
}

/** Pure: what the card draws, or null when the run reported no memory. */
export function memoryView(state) {
  const ranks = Object.keys(state.memory || {}).map(Number).sort((a, b) => a - b);
  if (!ranks.length) return null;
  const c = state.config || {};
  const stage = c.strategy === "zero" ? Number(optionsOf(c).stage) : c.strategy === "data_parallel" || c.strategy === "single" ? 0 : null;
  const expected = stage == null || !state.numParams ? null : accounting({ psi: state.numParams, n: c.workers || 1, stage, adam: c.optimizer === "adam" });
  const rows = ranks.map((r) => ({ rank: r, ...state.memory[r] }));
  const max = Math.max(...rows.map((m) => KINDS.reduce((s, k) => s + (m[k] || 0), 0)), 1);
  return { rows, max, stage, expected, step: Math.max(...rows.map((m) => m.step)) };
}

export function createMemoryView({ card, barsEl, noteEl }, onVisible) {
  let drawnKey = null;

  function render(state) {
    const v = memoryView(state);
    const show = !!v;
    if (card.hidden === show) {
      card.hidden = !show;
      onVisible(show);
    }
    if (!v) {
      drawnKey = null;
      return;
    }
    const key = `${state.runId}|${v.step}|${v.rows.length}|${document.documentElement.lang}`;
    if (key === drawnKey) return;
    drawnKey = key;
    card.dataset.step = String(v.step);
    barsEl.replaceChildren(
      ...v.rows.map((m) => {
        const row = document.createElement("div");
        row.className = "mem-row";
        row.dataset.rank = String(m.rank);
        const label = document.createElement("span");
        label.className = "mem-label";
        label.textContent = t("memory.rank", { rank: m.rank });
        const bar = document.createElement("span");
        bar.className = "mem-bar";
        for (const k of KINDS) {
          const seg = document.createElement("span");
          seg.className = `mem-seg mem-${k}`;
          seg.dataset.kind = k;
          seg.dataset.bytes = String(m[k] || 0);
          seg.style.width = `${(100 * (m[k] || 0)) / v.max}%`;
          seg.title = `${t("memory." + k)}: ${fmtBytes(m[k] || 0)}`;
          bar.append(seg);
        }
        const total = document.createElement("span");
        total.className = "mem-total";
        total.textContent = fmtBytes(KINDS.reduce((s, k) => s + (m[k] || 0), 0));
        row.append(label, bar, total);
        return row;
      }),
    );
    const lines = [];
    if (v.expected) {
      const states = v.rows[0];
      lines.push(
        t("memory.accounting", {
          stage: v.stage,
          params: fmtBytes(v.expected.params),
          grads: fmtBytes(v.expected.grads),
          optimizer: fmtBytes(v.expected.optimizer),
          mparams: fmtBytes(states.params || 0),
          mgrads: fmtBytes(states.grads || 0),
          moptimizer: fmtBytes(states.optimizer || 0),
        }),
      );
    }
    if (v.rows.some((m) => m.gathered_params)) lines.push(t("memory.gathered", { bytes: fmtBytes(Math.max(...v.rows.map((m) => m.gathered_params || 0))) }));
    lines.push(t("memory.note", { step: v.step }));
    noteEl.textContent = lines.join(" ");
  }

  return {
    render,
    invalidate() {
      drawnKey = null;
    },
  };
}
