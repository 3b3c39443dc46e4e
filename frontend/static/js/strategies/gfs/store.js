// strategies/gfs/store.js — the store card of a GFS run: one column per chunkserver with the chunks it holds now (coloured by chunk; the primary outlined bold, a re-replicated copy dashed and marked +, a replica a fault corrupted on disk crossed in red until a read catches it), a dead server greyed with what it held; below, the reads of the shown epoch and what the epoch checked.
//
// Drawn from the events only (slice.js's storeView): the master's newest `gfs_map`, the
// reads of the newest epoch, the copies the master made.

import { fmtBytes, fmtNum, t } from "../../core/i18n.js";
import { membershipView } from "./membership.js";
import { isGfs, storeView } from "./slice.js";

const NS = "http://www.w3.org/2000/svg";
// colour-blind-safe (Okabe–Ito), cycled by chunk id
const CHUNK_COLORS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999999"];

function svgEl(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export function createStoreCard({ card, svg, factsEl, headEl }, onVisible) {
  let drawnKey = null;

  function render(state) {
    const v = isGfs(state) ? storeView(state) : null;
    const show = !!v;
    if (card.hidden === show) {
      card.hidden = !show;
      onVisible?.(show);
    }
    if (!show) {
      drawnKey = null;
      return;
    }
    const g = state.gfs;
    const mv = membershipView(state); // a spare joining, a server leaving (membership.js)
    const key = `${state.runId}|${mv ? mv.moves.length : 0}|${g.changes.length}|${g.rereps.length}|${g.corrupted.length}|${g.epochs.length}|${v.reads.total}|${document.documentElement.lang}`;
    if (key === drawnKey) return;
    drawnKey = key;
    drawColumns(v, mv);
    drawFacts(v, mv);
    headEl.textContent = t("gfs.head", { step: v.step ?? 0, steps: (state.config && state.config.steps) || 0, r: v.setup.replicas, n: v.setup.chunks });
  }

  function drawColumns(v, mv) {
    const moved = lastMoves(mv);
    const box = svg.getBoundingClientRect();
    const Wd = Math.max(320, Math.round(box.width || 720));
    const cols = v.columns.length;
    const colW = Wd / cols;
    const most = Math.max(1, ...v.columns.map((c) => Math.max(c.chunks.length, c.dead ? c.lost.length : 0)));
    const perRow = Math.max(1, Math.floor((colW - 12) / 38));
    const rows = Math.ceil(most / perRow);
    const top = 30;
    const cell = 22;
    const Ht = top + rows * (cell + 6) + 8;
    svg.setAttribute("viewBox", `0 0 ${Wd} ${Ht}`);
    svg.replaceChildren();
    v.columns.forEach((c, i) => {
      const x0 = i * colW;
      const g = svgEl("g", { class: `gfs-column${c.dead ? " dead" : ""}`, "data-testid": "gfs-column", "data-server": c.server, "data-chunks": c.chunks.length, "data-dead": String(c.dead) }, svg);
      svgEl("rect", { x: x0 + 3, y: 2, width: colW - 6, height: Ht - 4, rx: 6, class: "gfs-col-bg" }, g);
      svgEl("text", { x: x0 + colW / 2, y: 18, "text-anchor": "middle", class: "gfs-col-title" }, g).textContent = t(c.dead ? "gfs.serverDead" : columnTitle(mv, c.server), { rank: c.server, n: c.chunks.length });
      const shown = c.dead ? c.lost.map((chunk) => ({ chunk, primary: false, copy: false, bad: false })) : c.chunks;
      shown.forEach((ch, k) => {
        const cx = x0 + 8 + (k % perRow) * 38;
        const cy = top + Math.floor(k / perRow) * (cell + 6);
        const came = !c.dead && moved.has(`${ch.chunk}/${c.server}`);
        const cls = ["gfs-chunk", ch.primary ? "primary" : "", ch.copy ? "copy" : "", came ? "moved" : "", ch.bad ? "bad" : ""].filter(Boolean).join(" ");
        const b = svgEl("g", { class: cls, "data-testid": "gfs-chunk", "data-chunk": ch.chunk, "data-copy": String(ch.copy), "data-moved": String(came) }, g);
        svgEl("rect", { x: cx, y: cy, width: 34, height: cell, rx: 3, fill: CHUNK_COLORS[ch.chunk % CHUNK_COLORS.length] }, b);
        svgEl("text", { x: cx + 17, y: cy + cell * 0.68, "text-anchor": "middle", class: "gfs-chunk-label" }, b).textContent = `${ch.copy ? "+" : came ? "→" : ""}C${ch.chunk}`;
        if (ch.bad) svgEl("path", { d: `M${cx},${cy} l34,${cell} M${cx + 34},${cy} l-34,${cell}`, class: "gfs-bad-cross" }, b);
        svgEl("title", {}, b).textContent = t("gfs.chunkTitle", { chunk: ch.chunk, server: c.server, role: t(came ? "gfs.roleMoved" : ch.primary ? "gfs.rolePrimary" : ch.copy ? "gfs.roleCopy" : "gfs.roleReplica") });
      });
    });
    svg.dataset.copies = String(v.map.copies.length);
    svg.dataset.under = String(v.map.under.length);
    svg.dataset.dead = v.map.dead.join(",");
  }

  function drawFacts(v, mv) {
    const s = v.setup;
    const lines = [["layout", t("gfs.factLayout", { n: s.chunks, k: s.chunkSamples, r: s.replicas, placement: t(`gfs.placement.${s.placement}`, { n: mv ? mv.vnodes : "" }), bytes: fmtBytes(s.bytes) })]];
    if (mv) lines.push(...membershipFacts(mv, s.replicas));
    if (v.step != null) lines.push(["reads", t(v.reads.byServers ? "gfs.factReadsServers" : "gfs.factReads", { step: v.step, total: v.reads.total, ok: v.reads.ok, fo: v.reads.failedOver, corrupt: v.reads.corrupt, gone: v.reads.unreachable })]);
    if (v.reads.byServers) lines.push(["locality", t("gfs.factLocality", { local: v.reads.local, remote: v.reads.remote })]);
    const e = v.epoch;
    if (e) lines.push(["check", t(e.exactlyOnce && e.equal ? "gfs.factOnce" : "gfs.factNotOnce", { samples: e.samples, expected: e.expected, s: fmtNum(e.epochS, 3) })]);
    if (v.map.dead.length) lines.push(["dead", t("gfs.factDead", { servers: v.map.dead.join(", ") })]);
    if (v.rereps.length) lines.push(["rereplicated", t("gfs.factCopies", { n: v.rereps.length, bytes: fmtBytes(v.rerepBytes) })]);
    lines.push(["replicas", v.map.under.length ? t("gfs.factUnder", { chunks: v.map.under.join(", "), r: s.replicas }) : t("gfs.factFull", { r: s.replicas })]);
    for (const h of v.corrupted) lines.push(["corrupted", t(h.caughtIn == null ? "gfs.factCorrupted" : "gfs.factCaught", { chunk: h.chunk, server: h.server, block: h.block, step: h.caughtIn })]);
    factsEl.replaceChildren(
      ...lines.map(([k, text]) => {
        const li = document.createElement("li");
        li.dataset.fact = k;
        if (k === "check") li.dataset.correct = String(!!(e.exactlyOnce && e.equal));
        li.textContent = text;
        return li;
      }),
    );
  }

  return {
    render,
    relocalize() {
      drawnKey = null;
    },
  };
}

/** "chunk/server" of each replica the newest join or leave copied (they are marked →). */
function lastMoves(mv) {
  const last = mv && (mv.leave || mv.join);
  return new Set(last ? mv.moves.filter((m) => m.step === last.step && m.verified).map((m) => `${m.chunk}/${m.dst}`) : []);
}

/** A column's title: a member's, or the spare's (not in the placement yet) or a retired
 *  server's (decommissioned: alive, holding nothing). */
function columnTitle(mv, server) {
  if (mv && mv.retired.includes(server)) return "gfs.serverRetired";
  if (mv && mv.outside.includes(server)) return "gfs.serverSpare";
  return "gfs.server";
}

/** The store card's lines on a join, a leave, the balance now and the scrub after (also
 *  a lesson's "measured in this run"): [fact, text] pairs. */
export function membershipFacts(mv, r) {
  const out = [];
  for (const c of [mv.join, mv.leave].filter(Boolean)) {
    out.push([c.reason, t(c.reason === "join" ? "gfs.factJoin" : "gfs.factLeave", { step: c.step, server: c.server, moved: c.moved, total: c.total, bytes: fmtBytes(c.bytes) })]);
  }
  const last = mv.leave || mv.join;
  const b = (last && last.balance) || mv.written;
  if (b) out.push(["balance", t("gfs.factBalance", { counts: b.counts.map(([s, n]) => `${s}: ${n}`).join(", "), ratio: fmtNum(b.ratio, 3) })]);
  if (last && last.scrub) {
    const sc = last.scrub;
    out.push(["scrub", t(sc.full ? "gfs.factScrub" : "gfs.factScrubBad", { step: last.step, n: sc.verified, r, chunks: sc.under.join(", ") })]);
  }
  return out;
}
