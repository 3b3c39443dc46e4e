"""The MapReduce master (Dean & Ghemawat 2008, §3.1–3.6): it holds no data, only the
state of every task, and hands tasks to idle workers.

- Map tasks first, any idle worker, in order. Reduce tasks once every map task is done
  (a reducer needs partition r of *every* map output): for reduce task r on worker w, the
  master tells each map output's holder to send partition r to w, then tells w to reduce.
- Backup tasks (§3.6): when no task of the current phase is waiting, an idle worker runs
  a copy of a task still in progress; whichever copy finishes first counts, and the other
  is stopped. One slow machine then no longer holds up the whole job.
- Failures (§3.3): a dead worker's running task goes back to waiting — and so do the map
  tasks it *completed*, because their output sat on its local disk, which the reducers
  can no longer read. Reduce output already reported is safe (the paper: in GFS).

The master learns of a death from the supervisor (recovery "continue"), or when a message
to the worker fails, or when a reducer reports that a holder's partition never came.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from engine.mapreduce_job import make_corpus, reference, splits
from engine.strategies.base import WorkerContext
from engine.strategies.mr_protocol import COMMAND, REPORT, Inbox, send_obj

POLL_S = 0.002
BYE_WAIT_S = 10.0


@dataclass
class Task:
    kind: str  # map | reduce
    id: int
    state: str = "waiting"  # waiting | running | done
    runners: set[int] = field(default_factory=set)
    holder: int | None = None  # a done map task: the worker holding its output
    attempts: int = 0
    started: float = 0.0


class MapReduceMaster:
    def __init__(self, ctx: WorkerContext, runtime: Any) -> None:
        self.ctx, self.runtime, self.comms = ctx, runtime, ctx.comms
        self.config, self.opts = ctx.config, ctx.config.opts
        self.live = set(range(1, ctx.topo.world_size))
        self.died: set[int] = set()  # told by the supervisor, from the control thread
        self._lock = threading.Lock()
        ctx.control.on_worker_left = self._on_left
        self.byes: set[int] = set()
        self.expect_byes: set[int] | None = None
        self.reports = Inbox(self.comms, REPORT, last=self._last_report)

    def _last_report(self, sender: int, report: Any) -> bool:
        """(The inbox's thread) Every worker told to stop has said goodbye."""
        if isinstance(report, dict) and report.get("bye"):
            self.byes.add(sender)
        return self.expect_byes is not None and self.expect_byes <= self.byes

    def _on_left(self, rank: int) -> None:
        with self._lock:
            self.died.add(rank)

    def run(self) -> None:
        job = 0
        while job < self.config.steps and self.runtime.gate.wait_for_next_step():
            job += 1
            if not self._job(job):
                break  # stopped by the user in the middle of the job
            for w in sorted(self.live):
                self._tell(w, {"do": "end_job", "job": job})
        self.expect_byes = set(self.live)
        for w in sorted(self.live):
            self._tell(w, {"do": "stop"})
        self.reports.thread.join(BYE_WAIT_S)  # a worker dying now: do not wait for it

    # ---- one job

    def _job(self, job: int) -> bool:
        """Run job ``job`` to its checked result; False if the user stopped the run."""
        opts = self.opts
        control = self.ctx.control
        self.job = job
        self.maps = [Task("map", m) for m in range(opts.map_tasks)]
        self.reduces = [Task("reduce", r) for r in range(opts.reduce_tasks)]
        self.busy: dict[int, Task] = {}
        self.output: dict[str, Any] = {}
        corpus = make_corpus(opts.corpus, opts.documents, self.config.seed + job - 1)
        t0 = self.runtime.now()
        self._emit("mr_job", job=opts.job, corpus=opts.corpus, documents=opts.documents,
                   map_tasks=opts.map_tasks, reduce_tasks=opts.reduce_tasks,
                   combiner=opts.combiner, backup_tasks=opts.backup_tasks,
                   splits=[len(s) for s in splits(opts.documents, opts.map_tasks)],
                   workers=sorted(self.live))
        phase = None
        while not all(t.state == "done" for t in self.reduces):
            if not self.live:
                raise RuntimeError("every MapReduce worker died: nobody left to run tasks")
            control.apply_through(control.received_seq)  # a Stop is not left for the job's end
            if control.stop:
                return False
            self._notice_deaths()
            now_phase = "map" if any(t.state != "done" for t in self.maps) else "reduce"
            if now_phase != phase:
                phase = now_phase
                self._emit("mr_phase", phase=phase)
            self._assign(phase)
            got = self.reports.poll()
            if got is None:
                time.sleep(POLL_S)
            else:
                self._on_report(*got)
        want = reference(opts.job, corpus)
        wrong = sorted(k for k in set(want) | set(self.output)
                       if want.get(k) != self.output.get(k))
        self._emit("mr_phase", phase="done")
        self._emit("mr_result", keys=len(self.output), correct=not wrong,
                   mismatched=len(wrong), examples=wrong[:5],
                   top=_top(opts.job, self.output), job_s=round(self.runtime.now() - t0, 6))
        return True

    def _assign(self, phase: str) -> None:
        tasks = self.maps if phase == "map" else self.reduces
        for w in sorted(self.live - set(self.busy)):
            if phase == "reduce" and any(m.state != "done" for m in self.maps):
                return  # a holder died meanwhile: its map tasks first, next time round
            waiting = [t for t in tasks if t.state == "waiting"]
            if waiting:
                self._start(waiting[0], w, backup=False)
            elif self.opts.backup_tasks:
                # near the end: a copy of the oldest task still running on one worker only
                running = sorted((t for t in tasks if t.state == "running"
                                  and len(t.runners) == 1 and w not in t.runners),
                                 key=lambda t: t.started)
                if running:
                    self._start(running[0], w, backup=True)

    def _start(self, task: Task, w: int, *, backup: bool) -> None:
        task.attempts += 1
        if task.state == "waiting":
            task.state, task.started = "running", time.monotonic()
        task.runners.add(w)
        self.busy[w] = task
        cmd: dict[str, Any] = {"do": task.kind, "job": self.job, "attempt": task.attempts,
                               "backup": backup}
        if task.kind == "map":
            cmd["task"] = task.id
        else:
            cmd["partition"] = task.id
            cmd["sources"] = [(m.id, m.holder) for m in self.maps]
            for m in self.maps:  # the shuffle: each holder sends partition r to w
                if m.holder != w:
                    self._tell(m.holder, {"do": "send", "job": self.job, "task": m.id,
                                          "partition": task.id, "to": w})
        self._emit("mr_assign", kind=task.kind, task=task.id, worker=w,
                   attempt=task.attempts, backup=backup, state="assigned")
        self._tell(w, cmd)

    def _on_report(self, w: int, report: dict[str, Any]) -> None:
        if report.get("job") != self.job or w not in self.live:
            return
        self.busy.pop(w, None)
        kind = report.get("done") or report.get("failed") or report.get("cancelled")
        task = (self.maps if kind == "map" else self.reduces)[
            report["partition"] if "partition" in report else report["task"]]
        task.runners.discard(w)
        if "cancelled" in report:  # its other copy was first; this one stopped early
            self._emit("mr_assign", kind=kind, task=task.id, worker=w,
                       attempt=report["attempt"], backup=False, state="cancelled")
            return
        if "failed" in report:  # a holder died before its partition came: made again
            for h in report["holders"]:
                self._dead(h)
            if task.state != "done" and not task.runners:
                task.state = "waiting"
            return
        if task.state == "done":  # the other copy was first
            self._emit("mr_assign", kind=kind, task=task.id, worker=w,
                       attempt=report["attempt"], backup=False, state="late")
            return
        task.state = "done"
        # A copy still running can only be wasted work now, and its worker is wanted for
        # the next phase: stop it (the paper lets it run; the task counts as done either way).
        for other in sorted(task.runners):
            self._tell(other, {"do": "cancel", "job": self.job, "kind": kind, "task": task.id})
        if kind == "map":
            task.holder = w
        else:
            self.output.update(report["output"])
        self._emit("mr_assign", kind=kind, task=task.id, worker=w,
                   attempt=report["attempt"], backup=False, state="done")

    # ---- failures

    def _notice_deaths(self) -> None:
        with self._lock:
            died, self.died = self.died, set()
        for w in died:
            self._dead(w)

    def _dead(self, w: int) -> None:
        if w not in self.live:
            return
        self.live.discard(w)
        self.busy.pop(w, None)
        for task in self.maps + self.reduces:
            task.runners.discard(w)
            if task.state == "running" and not task.runners:
                task.state = "waiting"
                self._emit("mr_assign", kind=task.kind, task=task.id, worker=w,
                           attempt=task.attempts, backup=False, state="lost")
        if any(t.state != "done" for t in self.reduces):
            for m in self.maps:  # its completed map output was on its local disk
                if m.state == "done" and m.holder == w:
                    m.state, m.holder = "waiting", None
                    self._emit("mr_assign", kind="map", task=m.id, worker=w,
                               attempt=m.attempts, backup=False, state="lost")

    def _tell(self, w: int | None, cmd: dict[str, Any]) -> None:
        if w is None or w not in self.live:
            return
        try:
            send_obj(self.comms, cmd, w, tag=COMMAND, op="command")
        except RuntimeError:
            self._dead(w)  # it died; the supervisor will say so too

    def _emit(self, type_: str, **fields: Any) -> None:
        self.ctx.emit(type_, rank=0, step=self.job, **fields)


def _top(job: str, output: dict[str, Any], n: int = 8) -> list[list[Any]]:
    """The most frequent words (word count: by count; index: by documents)."""
    size = (lambda v: v) if job == "word_count" else len
    best = sorted(output.items(), key=lambda kv: (-size(kv[1]), kv[0]))[:n]
    return [[k, size(v)] for k, v in best]
