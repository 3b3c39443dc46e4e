// strategies/tensor_parallel/shards.js — the shards card: which heads and MLP columns each process holds, and every block's four all-reduces of the newest step.

import { setHidden } from "../../views/dom.js";
import { fmtBytes, t } from "../../core/i18n.js";
import { shardsView } from "./slice.js";

const COLUMNS = [
  ["attention.forward", "tp.attentionForward"],
  ["mlp.forward", "tp.mlpForward"],
  ["mlp.backward", "tp.mlpBackward"],
  ["attention.backward", "tp.attentionBackward"],
];

export function createShardsView({ card, holdsEl, tableEl, formulaEl }) {
  let drawnKey = null;

  function render(state) {
    const v = shardsView(state);
    setHidden(card, !v);
    if (!v) {
      drawnKey = null;
      return;
    }
    const key = `${state.runId}|${v.step}|${document.documentElement.lang}`;
    if (key === drawnKey) return;
    drawnKey = key;
    card.dataset.step = v.step == null ? "" : String(v.step);
    card.dataset.allreduces = v.count == null ? "" : String(v.count);
    holdsEl.replaceChildren(
      ...v.ranks.map((r) => {
        const li = document.createElement("li");
        li.dataset.rank = String(r.rank);
        li.textContent = t("tp.holds", { rank: r.rank, h0: r.heads[0], h1: r.heads[1], heads: v.heads, c0: r.columns[0], c1: r.columns[1], hidden: v.hidden });
        return li;
      }),
    );
    if (v.step == null) {
      tableEl.replaceChildren();
      formulaEl.textContent = t("tp.waiting");
      return;
    }
    const head = document.createElement("tr");
    head.append(document.createElement("th"));
    for (const [, label] of COLUMNS) {
      const th = document.createElement("th");
      th.textContent = t(label);
      head.append(th);
    }
    const rows = Object.keys(v.blocks)
      .map(Number)
      .sort((a, b) => a - b)
      .map((b) => {
        const tr = document.createElement("tr");
        tr.dataset.block = String(b);
        const th = document.createElement("th");
        th.textContent = t("tp.block", { n: b });
        tr.append(th);
        for (const [k] of COLUMNS) {
          const td = document.createElement("td");
          const ms = v.blocks[b][k];
          td.textContent = ms == null ? "–" : ms.toFixed(2);
          td.dataset.op = k;
          tr.append(td);
        }
        return tr;
      });
    tableEl.replaceChildren(head, ...rows);
    formulaEl.textContent = t("tp.formula", {
      tensor: fmtBytes(v.tensorBytes),
      layers: v.perStep / 4,
      n: v.perStep,
      expected: fmtBytes(v.expectedSent),
      measured: v.measuredSent == null ? "–" : fmtBytes(v.measuredSent),
    });
  }

  return {
    render,
    invalidate() {
      drawnKey = null;
    },
  };
}
