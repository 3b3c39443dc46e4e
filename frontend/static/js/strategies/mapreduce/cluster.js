// strategies/mapreduce/cluster.js — the topology card of a MapReduce run: the master above, the workers in a row below, each worker with the task it runs now (from the master's decisions) and what it has done; a dead worker's fault marks are the common ones.
//
// Drawn from the events only: the newest job's `mr_assign` decisions say who runs what;
// `mr_task` says what each worker finished. Nothing moves on a timer.

import { t } from "../../core/i18n.js";
import { decorateNode } from "../../views/faultlog.js";
import { rankColor, STATUS_FILL } from "../../views/palette.js";
import { jobAt, jobSummary } from "./slice.js";

const NS = "http://www.w3.org/2000/svg";
const W = 300;
const H = 160;

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export function createCluster(svg, { captionEl = null } = {}) {
  const layer = el("g", { class: "mr-layer" });
  let key = null;
  let nodes = new Map();

  function build(workers) {
    layer.replaceChildren();
    svg.appendChild(layer);
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const master = { x: W / 2, y: 28 };
    const gap = W / (workers.length + 1);
    const links = el("g", { class: "mr-links" }, layer);
    nodes = new Map();
    const m = el("g", { class: "node mr-master", "data-rank": "0", "data-testid": "mr-node", transform: `translate(${master.x},${master.y})` }, layer);
    el("rect", { x: -34, y: -16, width: 68, height: 32, rx: 6, class: "node-body", stroke: rankColor(0) }, m);
    el("text", { class: "mr-node-name", "text-anchor": "middle", y: 0 }, m).textContent = t("mr.master");
    nodes.set(0, { g: m, body: m.querySelector("rect"), note: null, mark: el("text", { class: "fault-mark", x: 30, y: -10 }, m) });
    workers.forEach((w, i) => {
      const x = gap * (i + 1);
      const y = H - 44;
      el("line", { x1: master.x, y1: master.y + 16, x2: x, y2: y - 20, class: "mr-link", "data-worker": w }, links);
      const g = el("g", { class: "node mr-worker", "data-rank": w, "data-testid": "mr-node", transform: `translate(${x.toFixed(1)},${y})` }, layer);
      const body = el("circle", { r: 20, class: "node-body", stroke: rankColor(w) }, g);
      el("text", { class: "mr-node-name", "text-anchor": "middle", y: 0 }, g).textContent = String(w);
      const note = el("text", { class: "mr-node-task", "text-anchor": "middle", y: 34, "data-testid": "mr-node-task" }, g);
      const mark = el("text", { class: "fault-mark", x: 16, y: -14 }, g);
      nodes.set(w, { g, body, note, mark });
    });
  }

  function render(state) {
    const job = jobAt(state);
    if (!job || !job.settings) {
      layer.remove();
      key = null;
      return;
    }
    const workers = job.settings.workers;
    const k = workers.join(",");
    if (k !== key || !layer.isConnected) {
      key = k;
      build(workers);
    }
    const s = jobSummary(job);
    for (const [rank, n] of nodes) {
      const w = state.workers[rank] || {};
      const status = w.status || (state.finished ? state.status : "starting");
      n.g.dataset.status = status;
      n.body.setAttribute("fill", STATUS_FILL[status] || STATUS_FILL.starting);
      decorateNode(n.g, n.mark, state, rank);
      if (!n.note) continue;
      const now = s.running[rank];
      n.note.textContent = now ? t(now.backup ? "mr.nowBackup" : "mr.now", { kind: t(`mr.kind.${now.kind}`), task: now.task }) : status === "left" || status === "failed" ? t("mr.dead") : t("mr.idle");
      n.g.dataset.task = now ? `${now.kind}:${now.task}` : "";
      svg.querySelector(`.mr-link[data-worker="${rank}"]`)?.classList.toggle("busy", !!now);
    }
    svg.dataset.mode = "mapreduce";
    svg.dataset.workers = String(workers.length);
    svg.dataset.phase = s.phase || "";
    if (captionEl) {
      captionEl.dataset.i18n = "";
      captionEl.textContent = t("mr.clusterCaption", { m: s.mapsDone, mt: job.settings.mapTasks, r: s.reducesDone, rt: job.settings.reduceTasks, phase: t(`mr.phase.${s.phase || "map"}`) });
    }
  }

  function hide() {
    key = null;
    layer.remove();
  }

  return { render, hide, reset: hide, relocalize: hide };
}
