// strategies/mapreduce/tasks.js — the job card of a MapReduce run: every task each worker ran, on one time axis (map, then reduce; a backup copy hatched, a copy that came second faded, a task lost with its worker crossed out), the phase boundaries, and what the job measured: the combiner's pairs, the shuffle's bytes, the output checked against the one-process job.
//
// A bar is a measured task (`mr_task`: its worker's own start and end on the run's
// clock); nothing is drawn that no event said.

import { fmtBytes, fmtNum, t } from "../../core/i18n.js";
import { allJobs, isMapReduce, jobAt, jobSummary } from "./slice.js";

const NS = "http://www.w3.org/2000/svg";

function svgEl(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export function createJobCard({ card, svg, factsEl, headEl }, onVisible) {
  let drawnKey = null;

  function render(state) {
    const job = isMapReduce(state) ? jobAt(state) : null;
    const show = !!(job && job.settings);
    if (card.hidden === show) {
      card.hidden = !show;
      onVisible?.(show);
    }
    if (!show) {
      drawnKey = null;
      return;
    }
    const key = `${state.runId}|${job.step}|${job.tasks.length}|${job.decisions.length}|${job.phases.length}|${!!job.result}|${document.documentElement.lang}`;
    if (key === drawnKey) return;
    drawnKey = key;
    const s = jobSummary(job);
    drawGantt(job);
    drawFacts(job, s, state);
    headEl.textContent = t("mr.head", { step: job.step, steps: (state.config && state.config.steps) || job.step, job: t(`mr.job.${job.settings.job}`), phase: t(`mr.phase.${s.phase || "map"}`) });
  }

  function drawGantt(job) {
    const workers = job.settings.workers;
    // drawn in the SVG's own pixels (read once a draw, a few a second): type stays type
    const box = svg.getBoundingClientRect();
    const Wd = Math.max(320, Math.round(box.width || 720));
    const top = 16;
    const left = 64;
    const laneH = Math.max(14, Math.min(30, ((box.height || 140) - top - 18) / workers.length));
    const Ht = top + workers.length * laneH + 18;
    svg.setAttribute("viewBox", `0 0 ${Wd} ${Ht}`);
    svg.replaceChildren();
    const t0 = job.settings.t ?? Math.min(...job.tasks.map((x) => x.t0));
    const ends = [...job.tasks.map((x) => x.t1), ...job.phases.map((p) => p.t)].filter(Number.isFinite);
    const t1 = Math.max(t0 + 1e-3, ...ends);
    const sx = (v) => left + ((v - t0) / (t1 - t0)) * (Wd - left - 8);
    workers.forEach((w, i) => {
      const y = top + i * laneH;
      svgEl("rect", { x: left, y, width: Wd - left - 8, height: laneH, class: `lane-bg${i % 2 ? " odd" : ""}` }, svg);
      svgEl("text", { x: left - 6, y: y + laneH * 0.68, "text-anchor": "end", class: "lane-label" }, svg).textContent = t("mr.worker", { rank: w });
    });
    const row = new Map(workers.map((w, i) => [w, i]));
    const won = new Set(job.decisions.filter((d) => d.state === "done").map((d) => `${d.kind}/${d.task}/${d.worker}`));
    const lostOn = new Set(job.decisions.filter((d) => d.state === "lost").map((d) => `${d.kind}/${d.task}/${d.worker}`));
    for (const x of job.tasks) {
      if (!row.has(x.worker) || !Number.isFinite(x.t0) || !Number.isFinite(x.t1)) continue;
      const id = `${x.kind}/${x.task}/${x.worker}`;
      const cls = ["mr-bar", `mr-${x.kind}`, x.backup ? "backup" : "", won.has(id) ? "" : "late", lostOn.has(id) ? "lost" : ""].filter(Boolean).join(" ");
      const y = top + row.get(x.worker) * laneH + 3;
      const g = svgEl("g", { class: cls, "data-testid": "mr-bar", "data-kind": x.kind, "data-task": x.task, "data-worker": x.worker }, svg);
      const x0 = sx(x.t0);
      const w = Math.max(2, sx(x.t1) - x0);
      svgEl("rect", { x: x0.toFixed(1), y, width: w.toFixed(1), height: laneH - 6, rx: 2 }, g);
      if (w > 18) svgEl("text", { x: (x0 + w / 2).toFixed(1), y: y + laneH * 0.55, "text-anchor": "middle", class: "mr-bar-label" }, g).textContent = `${x.kind === "map" ? "M" : "R"}${x.task}`;
      svgEl("title", {}, g).textContent = t("mr.barTitle", { kind: t(`mr.kind.${x.kind}`), task: x.task, worker: x.worker, ms: fmtNum((x.t1 - x.t0) * 1e3, 3), emulated: fmtNum(x.emulatedMs, 3), backup: x.backup ? t("mr.backupWord") : "" });
    }
    for (const p of job.phases) {
      if (p.phase === "map" || !Number.isFinite(p.t)) continue;
      const x = sx(p.t);
      svgEl("line", { x1: x, y1: top - 4, x2: x, y2: top + workers.length * laneH, class: "mr-phase-line" }, svg);
      // the label on the side of the line that has room for it
      const right = x < Wd - 120;
      svgEl("text", { x: right ? x + 3 : x - 3, y: top - 5, "text-anchor": right ? "start" : "end", class: "mr-phase-label" }, svg).textContent = t(`mr.phase.${p.phase}`);
    }
    svgEl("text", { x: left, y: Ht - 4, class: "lane-label" }, svg).textContent = t("mr.axis", { s: fmtNum(t1 - t0, 3) });
    svg.dataset.bars = String(job.tasks.length);
    svg.dataset.step = String(job.step);
  }

  function drawFacts(job, s, state) {
    const lines = [];
    const st = job.settings;
    lines.push(["tasks", t("mr.factTasks", { m: s.mapsDone, mt: st.mapTasks, r: s.reducesDone, rt: st.reduceTasks, w: st.workers.length })]);
    if (s.pairs) lines.push(["combiner", t(st.combiner ? "mr.factCombiner" : "mr.factNoCombiner", { pairs: s.pairs, kept: s.kept, bytes: fmtBytes(s.mapBytes) })]);
    if (s.shuffled) lines.push(["shuffle", t("mr.factShuffle", { bytes: fmtBytes(s.shuffled) })]);
    if (s.backups) lines.push(["backups", t("mr.factBackups", { n: s.backups, late: s.late })]);
    if (s.lost.length) lines.push(["lost", t("mr.factLost", { n: s.lost.length, workers: [...new Set(s.lost.map((d) => d.worker))].join(", ") })]);
    const r = s.result;
    if (r) {
      lines.push(["result", t(r.correct ? "mr.factCorrect" : "mr.factWrong", { keys: r.keys, n: r.mismatched, s: fmtNum(r.jobS, 3) })]);
      if (r.top.length) lines.push(["top", t("mr.factTop", { top: r.top.map(([k, n]) => `${k} ${n}`).join(" · ") })]);
    }
    const jobs = allJobs(state).filter((j) => j.result);
    if (jobs.length > 1) lines.push(["jobs", t("mr.factJobs", { times: jobs.map((j) => `${fmtNum(j.result.jobS, 3)} s`).join(", ") })]);
    factsEl.replaceChildren(
      ...lines.map(([k, text]) => {
        const li = document.createElement("li");
        li.dataset.fact = k;
        if (k === "result") li.dataset.correct = String(!!r.correct);
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
