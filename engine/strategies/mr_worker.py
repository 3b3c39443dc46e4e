"""A MapReduce worker: does what the master says, one task at a time.

- ``map`` task m: run the map function over split m (and the combiner, if on), cut the
  pairs into R partitions by ``hash(key) mod R`` and keep them here — the paper's "local
  disk": they are lost if this worker dies, and the master has them made again;
- ``send`` partition r of map task m's output to the worker reducing r (the shuffle:
  real messages, their bytes counted; sent without waiting, so a busy worker still serves
  its map output, as a machine's disk does while its CPU is busy);
- ``reduce`` partition r: receive it from every map task's holder, reduce, report the
  output to the master;
- ``end_job``: report this job's step (times and bytes); ``stop``.

A task's work is real (the map and reduce functions) plus an emulated part (``task_ms``,
longer on a straggler): our corpus is small, a real cluster's is not. The UI says so.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import deque
from typing import Any

from engine.mapreduce_job import (
    combine,
    make_corpus,
    map_task,
    partitions,
    reduce_task,
    splits,
    to_tensor,
)
from engine.strategies.base import WorkerContext, step_phases
from engine.strategies.mr_protocol import (
    COMMAND,
    DATA,
    MASTER,
    REPORT,
    Inbox,
    Posted,
    recv_obj,
    send_obj,
)

POLL_S = 0.002


class MapReduceWorker:
    def __init__(self, ctx: WorkerContext, runtime: Any) -> None:
        self.ctx, self.runtime, self.comms = ctx, runtime, ctx.comms
        self.config, self.opts = ctx.config, ctx.config.opts
        self.me = ctx.topo.rank
        self.index = self.me - 1  # among the workers, from 0 (straggler_rank counts so)
        self.commands = Inbox(self.comms, COMMAND, src=MASTER,
                              last=lambda _src, cmd: cmd["do"] == "stop")
        self.queue: deque[dict[str, Any]] = deque()
        self.posted = Posted()
        self.outputs: dict[tuple[int, int], list[Any]] = {}  # (job, map task) → partitions
        self.corpus: dict[int, list[str]] = {}
        self._fresh_job()

    def _fresh_job(self) -> None:
        self.t_job = self.runtime.now()
        self.spent = {"wait": 0.0, "compute": 0.0, "emulated": 0.0, "shuffle": 0.0}
        self.docs = 0

    def run(self) -> None:
        try:
            while (cmd := self._next()) is not None:
                getattr(self, "_" + cmd["do"])(cmd)
        finally:
            for work, _ in self.posted.items:  # the last partitions on their way
                # (if their reducer died, the master has the partition sent again)
                with contextlib.suppress(RuntimeError):
                    work.wait()

    def _next(self) -> dict[str, Any] | None:
        """The next command (None: stop), waiting for it if there is none yet."""
        if self.queue:
            cmd = self.queue.popleft()
        else:
            start = time.perf_counter()
            while (got := self.commands.poll()) is None:
                time.sleep(POLL_S)
            self.spent["wait"] += (time.perf_counter() - start) * 1e3
            cmd = got[1]
        if cmd["do"] == "stop":  # say goodbye: the master's inbox waits for everyone's
            send_obj(self.comms, {"bye": True}, MASTER, tag=REPORT, op="report")
            return None
        return cmd

    def _busy(self, ms: float, job: int, kind: str, task: int) -> bool:
        """The emulated part of a task: serve shuffle sends meanwhile, keep the other
        commands for later. Returns False if the master cancelled the task (its other copy
        finished first: this one is no longer needed)."""
        start = time.perf_counter()
        end = start + ms / 1e3
        cancelled = False
        while not cancelled and (left := end - time.perf_counter()) > 0:
            got = self.commands.poll()
            if got is None:
                time.sleep(min(POLL_S, left))
            elif got[1]["do"] == "send":
                self._send(got[1])
            elif got[1]["do"] == "cancel":
                cancelled = (got[1]["job"], got[1]["kind"], got[1]["task"]) == (job, kind, task)
            else:
                self.queue.append(got[1])
        self.spent["emulated"] += (time.perf_counter() - start) * 1e3
        return not cancelled

    def _cancel(self, _cmd: dict[str, Any]) -> None:
        """A cancel that came after its task was done: nothing to stop."""

    def _cancelled(self, job: int, kind: str, task: int, cmd: dict[str, Any],
                   t_start: float, compute_ms: float) -> None:
        self._task_event(job, kind, task, cmd, t_start, compute_ms, 0.0, cancelled=True)
        send_obj(self.comms, {"cancelled": kind, "job": job, "task": task,
                              "attempt": cmd["attempt"]}, MASTER, tag=REPORT, op="report")

    def _work_ms(self, job: int, kind: str, task: int) -> float:
        """How long this task's emulated work takes: task_ms, × the slow-down on a
        straggler (the run's straggler setting, or a "slow" fault)."""
        control = self.ctx.control
        control.apply_through(control.received_seq)  # a "slow" fault sent meanwhile
        factor = control.slow_factor
        config = self.config
        if config.straggler == "one" and self.index == config.straggler_rank:
            factor *= config.straggler_factor
        elif config.straggler == "random":
            draw = random.Random(f"{config.seed}/{self.index}/{job}/{kind}{task}").random()
            if draw < config.straggler_prob:
                factor *= config.straggler_factor
        return self.opts.task_ms * factor

    def _corpus(self, job: int) -> list[str]:
        if job not in self.corpus:  # each job its own generated corpus, as the master's
            self.corpus = {job: make_corpus(self.opts.corpus, self.opts.documents,
                                            self.config.seed + job - 1)}
        return self.corpus[job]

    # ---- the commands

    def _map(self, cmd: dict[str, Any]) -> None:
        job, m = cmd["job"], cmd["task"]
        corpus = self._corpus(job)  # generated once per job (a real one would be read)
        t_start, start = self.runtime.now(), time.perf_counter()
        docs = splits(self.opts.documents, self.opts.map_tasks)[m]
        pairs = map_task(self.opts.job, corpus, docs)
        emitted = combine(self.opts.job, pairs) if self.opts.combiner else pairs
        parts = partitions(emitted, self.opts.reduce_tasks)
        sizes = [to_tensor(p).numel() for p in parts]  # what each reducer will receive
        compute_ms = (time.perf_counter() - start) * 1e3
        self.spent["compute"] += compute_ms
        emulated_ms = self._work_ms(job, "map", m)
        if not self._busy(emulated_ms, job, "map", m):
            return self._cancelled(job, "map", m, cmd, t_start, compute_ms)
        self.outputs[(job, m)] = parts
        self.docs += len(docs)
        self._task_event(job, "map", m, cmd, t_start, compute_ms, emulated_ms,
                         pairs=len(pairs), emitted=len(emitted), bytes=sizes)
        send_obj(self.comms, {"done": "map", "job": job, "task": m, "bytes": sizes,
                              "attempt": cmd["attempt"]}, MASTER, tag=REPORT, op="report")

    def _send(self, cmd: dict[str, Any]) -> None:
        start = time.perf_counter()
        part = self.outputs[(cmd["job"], cmd["task"])][cmd["partition"]]
        self.posted.post(self.comms, part, cmd["to"], step=cmd["job"])
        self.spent["shuffle"] += (time.perf_counter() - start) * 1e3

    def _reduce(self, cmd: dict[str, Any]) -> None:
        job, r = cmd["job"], cmd["partition"]
        t_start, start = self.runtime.now(), time.perf_counter()
        inputs, lost, received = [], [], 0
        for m, holder in cmd["sources"]:
            if holder == self.me:
                inputs.append(self.outputs[(job, m)][r])
                continue
            try:  # every source is read, so no stale partition is left on a channel
                got = recv_obj(self.comms, holder, tag=DATA, traffic=True)
                received += to_tensor(got).numel()
                inputs.append(got)
            except RuntimeError:
                lost.append(holder)  # it died: its map output is gone with it
        fetch_ms = (time.perf_counter() - start) * 1e3
        self.spent["shuffle"] += fetch_ms
        if lost:
            send_obj(self.comms, {"failed": "reduce", "job": job, "partition": r,
                                  "holders": lost, "attempt": cmd["attempt"]},
                     MASTER, tag=REPORT, op="report")
            return
        start = time.perf_counter()
        output = reduce_task(self.opts.job, inputs)
        compute_ms = (time.perf_counter() - start) * 1e3
        self.spent["compute"] += compute_ms
        emulated_ms = self._work_ms(job, "reduce", r)
        if not self._busy(emulated_ms, job, "reduce", r):
            return self._cancelled(job, "reduce", r, cmd, t_start, compute_ms)
        self._task_event(job, "reduce", r, cmd, t_start, compute_ms, emulated_ms,
                         keys=len(output), bytes_in=received, fetch_ms=round(fetch_ms, 3))
        send_obj(self.comms, {"done": "reduce", "job": job, "partition": r,
                              "output": output, "attempt": cmd["attempt"]},
                 MASTER, tag=REPORT, op="report")

    def _task_event(self, job: int, kind: str, task: int, cmd: dict[str, Any],
                    t_start: float, compute_ms: float, emulated_ms: float,
                    **fields: Any) -> None:
        self.ctx.emit("mr_task", rank=self.me, step=job, kind=kind, task=task,
                      attempt=cmd["attempt"], backup=cmd.get("backup", False),
                      t_start=round(t_start, 6), t_end=round(self.runtime.now(), 6),
                      compute_ms=round(compute_ms, 3), emulated_ms=round(emulated_ms, 3),
                      **fields)

    def _end_job(self, cmd: dict[str, Any]) -> None:
        """The job is done: this worker's step, then forget the job's map outputs."""
        job = cmd["job"]
        stats = self.comms.take_stats()
        spent = self.spent
        self.runtime.emit(
            "step", rank=self.me, step=job, loss=None, grad_norm=None,
            compute_ms=round(spent["compute"], 4), emulated_ms=round(spent["emulated"], 4),
            comm_ms=round(spent["shuffle"], 4), wait_ms=round(spent["wait"], 4),
            comm_modelled_ms=None, bytes_sent=stats.bytes_sent, bytes_recv=stats.bytes_recv,
            param_checksum=None, param_hash="", lr=None, samples=self.docs,
            t_start=round(self.t_job, 6), events_dropped=self.runtime.dropped(),
            phases=step_phases(("wait", spent["wait"]), ("compute", spent["compute"]),
                               ("emulated", spent["emulated"]), ("comm", spent["shuffle"])))
        self.outputs = {k: v for k, v in self.outputs.items() if k[0] != job}
        self._fresh_job()
