// strategies/decentralized/words.js — how decentralized SGD's numbers read: a graph's name, a mixing weight, a worker's subscript.

import { fmtNum, t } from "../../core/i18n.js";

/** A graph's name in the page's language ("ring", "环"). */
export function graphName(name) {
  const key = `gossip.graph.${name}`;
  const s = t(key);
  return s === key ? String(name || "?") : s;
}

/** A mixing weight as a small fraction where it is one (1/3), else a decimal. */
export function fmtWeight(w) {
  if (w == null || !Number.isFinite(w)) return "–";
  for (let d = 1; d <= 16; d++) {
    const k = Math.round(w * d);
    if (Math.abs(w * d - k) < 1e-4) return k === 0 ? "0" : d === 1 ? String(k) : `${k}/${d}`;
  }
  return fmtNum(w, 3);
}

const SUB = "₀₁₂₃₄₅₆₇₈₉";

/** x₁₂ for worker 12. */
export const sub = (n) => String(n).replace(/\d/g, (d) => SUB[Number(d)]);

/** What worker `rank` computes in a step: "Worker 1 averages with 0, 2: x₁ ← 1/3·x₁ + 1/3·x₀ + 1/3·x₂ − γ·g₁". */
export function mixLine(node) {
  const terms = node.weights.map((w) => ` + ${fmtWeight(w.weight)}·x${sub(w.peer)}`).join("");
  return t("gossip.selected", { rank: node.id, peers: node.neighbours.join(", "), self: fmtWeight(node.selfWeight), sub: sub(node.id), terms });
}
