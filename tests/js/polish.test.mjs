// Polish pass: compare labels, run keys hidden behind the compare view, the timeline clock
// in the URL, a rebuilt server on its node, the replicas badge after a failure, and the
// run list kept in step with the run's own events. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { FIELD_LABELS, fieldLabel } from "../../frontend/static/js/compare.js";
import { faultNarration } from "../../frontend/static/js/faultlog.js";
import { CATALOGS, t } from "../../frontend/static/js/i18n.js";
import { isRunKey } from "../../frontend/static/js/presenter.js";
import { RESTORED_SHOW_VERSIONS, restoredNote } from "../../frontend/static/js/pstopology.js";
import { mergeRunStatus } from "../../frontend/static/js/runlist.js";
import { reduceEvents } from "../../frontend/static/js/state.js";
import { replicasBadge } from "../../frontend/static/js/topology.js";
import { viewParamsFrom, writeViewParams } from "../../frontend/static/js/viewstate.js";

let seq = 0;
const ev = (type, fields) => ({ seq: ++seq, run_id: "r", t: seq * 0.01, rank: null, step: null, type, ...fields });

test("compare: every config field has a label in both languages, raw name as fallback", () => {
  for (const [field, key] of Object.entries(FIELD_LABELS)) {
    assert.ok(key in CATALOGS.en && key in CATALOGS.zh, `${field}: ${key}`);
  }
  assert.equal(fieldLabel("batch_size", (k) => CATALOGS.en[k]), "Batch size per worker");
  assert.equal(fieldLabel("batch_size", (k) => CATALOGS.zh[k]), "每个进程的批大小");
  assert.equal(fieldLabel("some_new_field", (k) => CATALOGS.en[k] ?? k), "some_new_field");
});

test("run keys are the ones that act on the lab's run", () => {
  for (const k of ["ArrowRight", "ArrowLeft", "l", "L", "1", "9"]) assert.ok(isRunKey(k), k);
  for (const k of ["p", "h", "f", "?", "Escape", "0"]) assert.ok(!isRunKey(k), k);
});

test("timeline clock round-trips through the URL; the default stays out of it", () => {
  for (const tl of ["wall", "compact", "modelled"]) {
    const q = writeViewParams(new URLSearchParams("run=abc&big=1"), { tl, x: "time" });
    assert.equal(viewParamsFrom(new URLSearchParams(q.toString())).tl, tl);
    assert.equal(q.has("tl"), tl !== "wall");
    assert.equal(q.get("run"), "abc");
  }
  assert.equal(viewParamsFrom(new URLSearchParams("tl=bogus")).tl, "wall");
  assert.equal(writeViewParams(new URLSearchParams("tl=compact"), { tl: "wall" }).toString(), "");
});

function psWithRestore() {
  seq = 0;
  const evs = [
    ev("run_started", { config: { strategy: "parameter_server", workers: 2, servers: 1, ps_mode: "sync" }, world_size: 3, num_servers: 1, strategy: "parameter_server" }),
    ev("worker_started", { rank: 0, role: "server", pid: 10 }),
    ev("worker_started", { rank: 1, role: "worker", pid: 11 }),
    ev("worker_started", { rank: 2, role: "worker", pid: 12 }),
  ];
  for (let v = 1; v <= 96; v++) evs.push(ev("ps_update", { rank: 0, version: v, applied: [{ worker: 1, read_version: v - 1, staleness: 0 }] }));
  evs.push(ev("worker_failed", { rank: 0, cause: "killed by signal SIGKILL", detection_ms: 20 }));
  evs.push(ev("recovery", { policy: "restart", failed_rank: 0, from_step: 0, generation: 1 }));
  evs.push(ev("server_restored", { rank: 0, version: 96, checkpoint_version: 90, replayed: 6, torn_tail: false, refused: [] }));
  return evs;
}

test("a rebuilt server says so on its node for a few versions, and in the narration", () => {
  const evs = psWithRestore();
  let s = reduceEvents(evs);
  const note = restoredNote(s, 0, 96);
  assert.equal(note.checkpointVersion, 90);
  assert.equal(note.replayed, 6);
  assert.equal(restoredNote(s, 1, 96), null); // another rank
  assert.equal(restoredNote(s, 0, 96 + RESTORED_SHOW_VERSIONS - 1).replayed, 6);
  assert.equal(restoredNote(s, 0, 96 + RESTORED_SHOW_VERSIONS), null);
  assert.equal(t("polish.rebuilt", { cv: 90, n: 6 }), "rebuilt: checkpoint v90 + 6 replayed");
  assert.match(faultNarration(s, s.lastStep), /Server 0 .*rebuilt: checkpoint v90 \+ 6 updates replayed/);
  assert.match(CATALOGS.zh["polish.rebuilt"], /已重建：检查点 v\{cv\}/);
  // before the rebuild nothing is said
  s = reduceEvents(evs.slice(0, -1));
  assert.equal(restoredNote(s, 0, 96), null);
});

function dpRun(workers = 3) {
  seq = 0;
  const evs = [
    ev("run_started", { config: { strategy: "data_parallel", workers }, world_size: workers, strategy: "data_parallel" }),
  ];
  for (let r = 0; r < workers; r++) evs.push(ev("worker_started", { rank: r, role: "worker", pid: 100 + r }));
  return evs;
}
const stepEv = (rank, step, sum = 1.5) => ev("step", { rank, step, loss: 1 / step, param_checksum: sum, compute_ms: 1, comm_ms: 1, wait_ms: 0 });

test("replicas badge: identical, then only the ranks still alive, then — when the run failed", () => {
  const evs = dpRun(3);
  for (let s = 1; s <= 3; s++) for (let r = 0; r < 3; r++) evs.push(stepEv(r, s));
  assert.equal(replicasBadge(reduceEvents(evs)).state, "same");
  evs.push(ev("worker_failed", { rank: 2, cause: "killed by signal SIGKILL", detection_ms: 10 }));
  evs.push(stepEv(0, 4), stepEv(1, 4));
  const mid = replicasBadge(reduceEvents(evs));
  assert.equal(mid.state, "same-alive");
  assert.equal(mid.params.ranks, "0, 1");
  evs.push(ev("run_finished", { status: "failed", error: "rank 2 (pid 102): killed by signal SIGKILL", summary: {} }));
  const end = replicasBadge(reduceEvents(evs));
  assert.equal(end.state, "failed");
  assert.equal(t(end.key), "replicas: —");
  // a run that finished normally keeps its verdict
  const ok = dpRun(2);
  for (let r = 0; r < 2; r++) ok.push(stepEv(r, 1));
  ok.push(ev("run_finished", { status: "finished", error: null, summary: {} }));
  assert.equal(replicasBadge(reduceEvents(ok)).state, "same");
});

test("run list: the run's terminal status wins over a stale 'running' from the server", () => {
  const runs = [{ id: "a", status: "running", step: 10 }, { id: "b", status: "finished", step: 5 }];
  const m = mergeRunStatus(runs, "a", "finished", 20);
  assert.equal(m.changed, true);
  assert.deepEqual(m.runs[0], { id: "a", status: "finished", step: 20 });
  assert.equal(runs[0].status, "running"); // not mutated
  assert.equal(mergeRunStatus(runs, "b", "running").changed, false); // server says it ended
  assert.equal(mergeRunStatus(runs, "zzz", "finished").changed, false);
  assert.equal(mergeRunStatus(runs, "a", "none").changed, false);
});
