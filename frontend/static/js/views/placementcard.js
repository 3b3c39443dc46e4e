// views/placementcard.js — the compare view's card for 表7 (chapter 7: range vs hash vs consistent hashing), drawn when a compared run is GFS: one column per run, one row per measured quantity (placementtable.js reads them from the runs' events).
//
// As in 表4 and 表9, each cell carries its number in `data-value` (tests read them) and
// "—" with the reason where the run did not measure it.

import { fmtBytes, fmtNum, getLang, t } from "../core/i18n.js";
import { placementRow, showsPlacement } from "./placementtable.js";

function esc(s) {
  return String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

const na = (reason) => {
  const why = esc(t("compare.place.na." + reason));
  return `<td class="na" data-value="" data-reason="${reason}" title="${why}">— <span class="na-why">${why}</span></td>`;
};
const num = (v, text, sub = "", extra = "") => `<td data-value="${esc(v)}"${extra}><b>${esc(text)}</b>${sub ? `<span class="sub">${esc(sub)}</span>` : ""}</td>`;

/** Why a GFS run's row is empty: not GFS, or a GFS run from before membership events. */
const empty = (r) => (!r.gfs ? na("notGfs") : na("noPlacement"));

function moved(c, which) {
  if (c.reason) return na(c.reason);
  const sub = t(which === "join" ? "compare.place.joined" : "compare.place.left", { server: c.server, step: c.step, chunks: c.chunks, bytes: fmtBytes(c.bytes), verified: c.verified });
  return num(c.moved, t("compare.place.movedOf", { n: c.moved, total: c.total, pct: fmtNum(100 * c.fraction, 3) }), sub, ` data-total="${c.total}" data-chunks="${c.chunks}"`);
}

function balanced(b, reason) {
  if (!b) return na(reason);
  return num(b.ratio, fmtNum(b.ratio, 3), t("compare.place.maxMean", { max: b.max, mean: fmtNum(b.mean, 3), n: b.servers }), ` data-max="${b.max}" data-mean="${b.mean}"`);
}

function scrubbed(r) {
  const last = !r.leave.reason ? r.leave.scrub : !r.join.reason ? r.join.scrub : null;
  if (!last) return na("noChange");
  return num(last.verified, `${last.full ? "✓" : "✗"} ${t("compare.place.scrubCount", { n: last.verified })}`, t(last.full ? "compare.place.scrubFull" : "compare.place.scrubUnder"), ` data-full="${last.full}"`);
}

const CELLS = {
  policy: (r) => (!r.policy ? empty(r) : num(r.policy, t("compare.place.policy." + r.policy), r.policy === "consistent" ? t("compare.place.vnodes", { n: r.vnodes }) : "")),
  join: (r) => (!r.policy ? empty(r) : moved(r.join, "join")),
  leave: (r) => (!r.policy ? empty(r) : moved(r.leave, "leave")),
  balanceWritten: (r) => (!r.policy ? empty(r) : balanced(r.written, "noChange")),
  balanceJoin: (r) => (!r.policy ? empty(r) : r.join.reason ? na(r.join.reason) : balanced(r.join.balance, "noJoin")),
  balanceLeave: (r) => (!r.policy ? empty(r) : r.leave.reason ? na(r.leave.reason) : balanced(r.leave.balance, "noLeave")),
  scrub: (r) => (!r.policy ? empty(r) : scrubbed(r)),
};

/**
 * Fill `section` (an empty card) with 表7's head, table and note; hidden unless a compared
 * run is GFS.
 * @returns {{draw(runs: {key, color, label, state}[]): void}}
 */
export function mountPlacementCard(section) {
  let lastKey = "";
  section.innerHTML = `
    <div class="card-head"><h2>${esc(t("compare.place.title"))}</h2></div>
    <div class="diff-wrap"><table class="compare-diff compare-measured compare-placement" data-testid="compare-placement"></table></div>
    <p class="caption">${esc(t("compare.place.note"))}</p>`;
  section.hidden = true;

  function draw(runs) {
    const show = showsPlacement(runs.map((r) => r.state));
    section.hidden = !show;
    if (!show) return;
    const key = `${getLang()}|${runs.map((r) => `${r.key}:${r.state.lastSeq}`).join("|")}`;
    if (key === lastKey) return;
    lastKey = key;
    const rows = runs.map((r) => placementRow(r.state));
    const table = section.querySelector("[data-testid=compare-placement]");
    const line = (q) => `<tr data-quantity="${q}"><th scope="row">${esc(t("compare.place.q." + q))}</th>${rows.map(CELLS[q]).join("")}</tr>`;
    table.innerHTML =
      `<thead><tr><th></th>${runs
        .map((r) => `<th data-side="${r.key}" data-finished="${!!r.state.finished}"><span class="cmp-swatch" style="background:${r.color}"></span>${r.key.toUpperCase()} · ${esc(r.label)}</th>`)
        .join("")}</tr></thead><tbody>` +
      Object.keys(CELLS).map(line).join("") +
      "</tbody>";
  }

  return { draw };
}
