// strategies/gfs_train/reads.js — the reads grid of a training run through GFS, in the store card: one row per worker with the samples the sampler dealt it this epoch, in reading order — each cell read from the worker's own host (local) or from another chunkserver (remote), or not read yet; a padded repeat marked; the dropped tail listed; locality and the epoch's check below.
//
// Drawn from the events only (slice.js's readsView).

import { fmtNum, t } from "../../core/i18n.js";
import { isGfsTrain, readsView } from "./slice.js";

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}

export function createReadsGrid({ box, headEl }) {
  let drawnKey = null;

  function render(state) {
    const v = isGfsTrain(state) ? readsView(state) : null;
    box.hidden = !v;
    if (!v) {
      drawnKey = null;
      return;
    }
    const steps = (state.config && state.config.steps) || 0;
    headEl.textContent = t("gfsTrain.head", { epoch: v.epoch, step: v.step, steps, r: (state.gfs && state.gfs.setup && state.gfs.setup.replicas) || "?" });
    const key = `${state.runId}|${v.epoch}|${v.local}|${v.remote}|${v.corrupt}|${v.unreachable}|${v.checks.length}|${document.documentElement.lang}`;
    if (key === drawnKey) return;
    drawnKey = key;
    draw(v, state);
  }

  function draw(v, state) {
    const w = (state.config && state.config.workers) || v.rows.length;
    const title = el("div", "gfs-reads-title", t("gfsTrain.gridTitle", { epoch: v.epoch, tail: t(`gfsTrain.tail.${v.plan.tail}`) }));
    const legend = el("div", "legend gfs-reads-legend");
    for (const k of ["local", "remote", "unread", "padded"]) {
      const item = el("span", "lg-item");
      item.append(el("span", `gfs-cell ${k === "padded" ? "local padded" : k}`), el("span", null, t(`gfsTrain.lg.${k}`)));
      legend.append(item);
    }
    const grid = el("div", "gfs-reads-grid");
    grid.dataset.testid = "gfs-reads-grid";
    grid.dataset.epoch = String(v.epoch);
    for (const row of v.rows) {
      const line = el("div", "gfs-reads-row");
      line.dataset.worker = String(row.worker);
      line.append(el("span", "gfs-reads-who", t("gfsTrain.worker", { worker: row.worker, rank: row.worker + 1, server: row.worker + 1 + w })));
      const cells = el("span", "gfs-reads-cells");
      for (const c of row.cells) {
        const cell = el("span", `gfs-cell ${c.read ? (c.local ? "local" : "remote") : "unread"}${c.padded ? " padded" : ""}`);
        cell.dataset.sample = String(c.sample);
        if (c.read) cell.dataset.server = String(c.server);
        cell.title = c.read ? t(c.local ? "gfsTrain.cellLocal" : "gfsTrain.cellRemote", { sample: c.sample, chunk: c.chunk, server: c.server }) + (c.padded ? t("gfsTrain.cellPadded") : "") : t("gfsTrain.cellUnread", { sample: c.sample });
        cells.append(cell);
      }
      line.append(cells, el("span", "gfs-reads-count", t("gfsTrain.rowCount", { local: row.local, remote: row.remote })));
      grid.append(line);
    }
    const facts = el("ul", "gfs-facts gfs-reads-facts");
    const fact = (k, text, correct) => {
      const li = el("li", null, text);
      li.dataset.fact = k;
      if (correct != null) li.dataset.correct = String(correct);
      facts.append(li);
    };
    fact("locality", v.locality == null ? t("gfsTrain.factMemory") : t("gfsTrain.factLocality", { pct: fmtNum(100 * v.locality, 0), local: v.local, remote: v.remote }));
    fact("tail", v.plan.tail === "pad" ? t("gfsTrain.factPadded", { n: v.plan.numPadded, samples: v.plan.samples, w }) : t("gfsTrain.factDropped", { n: v.plan.numDropped, samples: v.plan.samples, w, list: v.plan.dropped.join(", ") }));
    if (v.corrupt) fact("corrupt", t("gfsTrain.factCorrupt", { n: v.corrupt }));
    if (v.unreachable) fact("unreachable", t("gfsTrain.factUnreachable", { n: v.unreachable }));
    const done = v.checks.filter((c) => c.complete);
    if (done.length) {
      const ok = done.filter((c) => c.exactlyOnce).length;
      fact("check", t(ok === done.length ? "gfsTrain.factOnce" : "gfsTrain.factNotOnce", { ok, n: done.length }), ok === done.length);
    }
    box.replaceChildren(title, legend, grid, facts);
  }

  return {
    render,
    relocalize() {
      drawnKey = null;
    },
  };
}
