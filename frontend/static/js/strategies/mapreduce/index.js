// strategies/mapreduce/index.js — MapReduce's frontend, as registered with core/registry.js: its slice, words, views and narration.

import catalog from "./catalog.js";
import { fmtBytes, fmtNum, t } from "../../core/i18n.js";
import { optionsOf } from "../../core/selectors.js";
import { isMapReduce, jobAt, jobSummary, MR, slice } from "./slice.js";
import { views } from "./views.js";

/** The line of a job: its phase, the tasks done, the bytes shuffled. */
function narrate(state, s) {
  if (!isMapReduce(state)) return null;
  const job = jobAt(state, s.step) || jobAt(state);
  if (!job || !job.settings) return null;
  const m = jobSummary(job);
  return t("narr.mr", { step: job.step, phase: t(`mr.phase.${m.phase || "map"}`), m: m.mapsDone, mt: job.settings.mapTasks, r: m.reducesDone, rt: job.settings.reduceTasks, bytes: fmtBytes(m.shuffled) });
}

/** What a lesson's reveal says the run measured: the newest job's check and time. */
function measuredLines(state) {
  if (!isMapReduce(state)) return null;
  const job = jobAt(state);
  if (!job || !job.result) return null;
  const m = jobSummary(job);
  return [
    t("mr.measuredJob", { job: t(`mr.job.${job.settings.job}`), keys: job.result.keys, correct: job.result.correct ? "✓" : "✗" }),
    t(job.settings.combiner ? "mr.measuredTime" : "mr.measuredTimeNoCombiner", { s: fmtNum(job.result.jobS, 3), bytes: fmtBytes(m.shuffled), pairs: m.pairs, kept: m.kept }),
  ];
}

/** "MapReduce · word count · M=12 R=4", with the combiner and backups where on. */
function runWords(c, form) {
  const o = optionsOf(c || {});
  const s = t("strategy.mrShort");
  if (!(form === "overlay" || form === "list" || form === "name") || !o.job) return s;
  const extras = [o.combiner ? "combiner" : "", o.backup_tasks ? "backup" : ""].filter(Boolean).join(", ");
  return `${s} · ${t(`mr.job.${o.job}`)} · M=${o.map_tasks} R=${o.reduce_tasks}${extras ? ` · ${extras}` : ""}`;
}

/** The comparison's time per job beside this run's (from both run summaries: a job is a
 *  step, so a job's time is 1 / steps per second). */
function compareLines(c, mine) {
  if (!c || !(c.steps_per_s > 0) || !mine || !(mine.steps_per_s > 0)) return null;
  const own = 1 / mine.steps_per_s;
  const theirs = 1 / c.steps_per_s;
  return [t("mr.compareJobs", { mine: fmtNum(own, 3), theirs: fmtNum(theirs, 3), x: fmtNum(own / theirs, 2) })];
}

function articleKind(state) {
  return isMapReduce(state) ? MR : null;
}

function articleKeys(kind) {
  return kind === MR ? { title: "article.mrTitle", body: "article.mr", views: "article.viewsMr", tail: "tail.explainMr" } : null;
}

export default { name: MR, slice, catalog, views, narrate, measuredLines, compareLines, runWords, articleKind, articleKeys };
