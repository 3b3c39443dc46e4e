// strategies/mapreduce/slice.js — MapReduce's reducer slice and selectors: the jobs (one per step), each with its phases, the master's decisions (assigned, done, late, lost), the tasks the workers measured, and the checked result.
//
// The events (engine/strategies/mapreduce.py): `mr_job` opens job k (its settings and the
// splits' sizes), `mr_phase` marks map → reduce → done, `mr_assign` is each decision of the
// master, `mr_task` each task a worker ran (its times, pairs, partition bytes), and
// `mr_result` the output checked against the one-process job. Jobs are kept whole (a
// run has a few); a restarted view replays them from the log like everything else.

import { isNum } from "../../core/log.js";

export const MR = "mapreduce";

export function isMapReduce(state) {
  return state.strategy === MR || !!(state.config && state.config.strategy === MR);
}

function jobsOf(state) {
  return (state.mr && state.mr.jobs) || [];
}

/** Replace job `step` (made if new) by `fn(job)`. */
function withJob(state, base, step, fn) {
  const jobs = jobsOf(state).slice();
  let i = jobs.findIndex((j) => j.step === step);
  if (i < 0) {
    jobs.push({ step, settings: null, phases: [], decisions: [], tasks: [], result: null });
    i = jobs.length - 1;
  }
  jobs[i] = fn(jobs[i]);
  return { ...base, mr: { jobs } };
}

const stepOf = (e) => (Number.isInteger(e.step) ? e.step : 1);

function mrJob(state, base, e) {
  const settings = { job: e.job, corpus: e.corpus, documents: e.documents, mapTasks: e.map_tasks, reduceTasks: e.reduce_tasks, combiner: !!e.combiner, backup: !!e.backup_tasks, splits: Array.isArray(e.splits) ? e.splits.slice() : [], workers: Array.isArray(e.workers) ? e.workers.slice() : [], t: e.t };
  return withJob(state, base, stepOf(e), (j) => ({ ...j, settings }));
}

function mrPhase(state, base, e) {
  return withJob(state, base, stepOf(e), (j) => ({ ...j, phases: [...j.phases, { phase: String(e.phase), t: e.t }] }));
}

function mrAssign(state, base, e) {
  const d = { kind: e.kind, task: e.task, worker: e.worker, attempt: e.attempt, backup: !!e.backup, state: e.state, t: e.t };
  return withJob(state, base, stepOf(e), (j) => ({ ...j, decisions: [...j.decisions, d] }));
}

function mrTask(state, base, e) {
  const task = {
    kind: e.kind,
    task: e.task,
    worker: e.rank,
    attempt: e.attempt,
    backup: !!e.backup,
    t0: e.t_start,
    t1: e.t_end,
    computeMs: e.compute_ms,
    emulatedMs: e.emulated_ms,
    pairs: e.pairs ?? null,
    emitted: e.emitted ?? null,
    bytes: Array.isArray(e.bytes) ? e.bytes.slice() : null,
    bytesIn: isNum(e.bytes_in) ? e.bytes_in : null,
    keys: e.keys ?? null,
  };
  return withJob(state, base, stepOf(e), (j) => ({ ...j, tasks: [...j.tasks, task] }));
}

function mrResult(state, base, e) {
  const result = { keys: e.keys, correct: !!e.correct, mismatched: e.mismatched ?? 0, examples: e.examples || [], top: e.top || [], jobS: e.job_s };
  return withJob(state, base, stepOf(e), (j) => ({ ...j, result }));
}

export const slice = {
  events: { mr_job: mrJob, mr_phase: mrPhase, mr_assign: mrAssign, mr_task: mrTask, mr_result: mrResult },
  initial: { mr: null },
  lockstep: false, // workers run tasks as the master hands them out
  serverRanks: (state) => (isMapReduce(state) ? [0] : []), // the master reports no steps
};

// ---------------------------------------------------------------- selectors

/** The newest job (or job `step`), or null. */
export function jobAt(state, step = null) {
  const jobs = jobsOf(state);
  if (!jobs.length) return null;
  return step == null ? jobs[jobs.length - 1] : jobs.find((j) => j.step === step) || null;
}

export function allJobs(state) {
  return jobsOf(state);
}

/** Pure: what a job measured — tasks by kind, backups and lost tasks, the shuffle's
 *  bytes (the map tasks' partitions that counted: the first copy of each task to finish),
 *  the pairs before and after the combiner, and each worker's current task. */
export function jobSummary(job) {
  if (!job) return null;
  const done = job.decisions.filter((d) => d.state === "done");
  const winner = new Set(done.map((d) => `${d.kind}/${d.task}/${d.worker}`));
  const counted = job.tasks.filter((t) => winner.has(`${t.kind}/${t.task}/${t.worker}`));
  const maps = counted.filter((t) => t.kind === "map");
  const sum = (xs) => xs.reduce((a, b) => a + (isNum(b) ? b : 0), 0);
  const running = new Map(); // worker -> its latest assignment not yet reported
  for (const d of job.decisions) {
    if (d.state === "assigned") running.set(d.worker, d);
    else if (running.get(d.worker) && running.get(d.worker).kind === d.kind && running.get(d.worker).task === d.task) running.delete(d.worker);
  }
  for (const t of job.tasks) {
    const r = running.get(t.worker);
    if (r && r.kind === t.kind && r.task === t.task) running.delete(t.worker);
  }
  const phase = job.phases.length ? job.phases[job.phases.length - 1].phase : null;
  // a map task done, then lost with its worker's disk, is not done until done again
  const now = new Map();
  for (const d of job.decisions) if (d.state === "done" || d.state === "lost") now.set(`${d.kind}/${d.task}`, d.state);
  const doneNow = (kind) => [...now].filter(([k, st]) => k.startsWith(kind + "/") && st === "done").length;
  return {
    step: job.step,
    phase,
    mapsDone: doneNow("map"),
    reducesDone: doneNow("reduce"),
    backups: job.decisions.filter((d) => d.state === "assigned" && d.backup).length,
    late: job.decisions.filter((d) => d.state === "late").length,
    lost: job.decisions.filter((d) => d.state === "lost"),
    pairs: sum(maps.map((t) => t.pairs)),
    kept: sum(maps.map((t) => t.emitted)),
    mapBytes: sum(maps.map((t) => sum(t.bytes || []))),
    shuffled: sum(counted.filter((t) => t.kind === "reduce").map((t) => t.bytesIn)),
    running: Object.fromEntries([...running].map(([w, d]) => [w, d])),
    result: job.result,
  };
}
