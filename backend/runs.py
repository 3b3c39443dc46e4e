"""The run manager: starts runs, relays control, persists events and fans them out.

Events arrive on a supervisor's monitor thread; they are handed to the event loop with
``call_soon_threadsafe`` so that all run state, the hub and the viewers' backlogs are
touched only from the loop — which is what makes ``?after=`` resumes gapless.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backend.cluster import RETRY_S, ClusterFull
from backend.hub import Hub, Viewer
from backend.retention import Keeper
from backend.settings import Settings
from backend.store import LIVE_STATUSES, Store
from backend.waiting import Waiting
from engine.causes import cause_text, make
from engine.config import RunConfig
from engine.supervisor import RunSupervisor, resolve_backend

if TYPE_CHECKING:
    from backend.cluster import RayCluster

SHUTDOWN = make("shutdown")  # why live runs end when the server goes down


class RunLimitError(Exception):
    """Too many runs or workers are live; the client should retry later (HTTP 429)."""


class RunNotLiveError(Exception):
    """A control action on a run that has ended (HTTP 409)."""


@dataclass(eq=False)
class LiveRun:
    id: str
    config: RunConfig
    created_at: float
    supervisor: RunSupervisor | None = None
    status: str = "starting"
    step: int = 0
    finished_at: float | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    workers: dict[int, dict[str, Any]] = field(default_factory=dict)
    worker_steps: dict[int, int] = field(default_factory=dict)  # each worker's newest step
    versions: int = 0  # the run's model version, for strategies that count them
    student: str | None = None  # the anonymous id of the page that started it
    queue_position: int | None = None  # while queued: 1 is next
    waiting: Waiting | None = None  # while queued: the limit that holds it
    control_token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    """Given only to whoever started the run: without it, controls are refused (403), so
    in a classroom nobody can pause or kill someone else's run."""

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    def progress(self) -> int:
        """Steps done, in the unit the run asked for: the newest step any worker reported
        (lock step), or the strategy's own count (an asynchronous parameter server's
        versions / workers; see ``StrategySpec.progress``)."""
        spec = self.config.spec
        steps = list(self.worker_steps.values())
        if callable(spec.progress):
            return spec.progress(self.config, steps, self.versions)
        return max(steps, default=0)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "config": self.config.to_dict(),
            "created_at": self.created_at, "finished_at": self.finished_at,
            "queue_position": self.queue_position,
            "waiting_for": self.waiting.text if self.waiting else None,
            "waiting_reason": self.waiting.public() if self.waiting else None,
            "step": self.step, "workers": [self.workers[r] for r in sorted(self.workers)],
            "summary": self.summary, "error": self.error,
        }


class RunManager:
    def __init__(self, settings: Settings, store: Store, hub: Hub,
                 cluster: RayCluster | None = None) -> None:
        self.settings = settings
        self.cluster = cluster  # runs go to this Ray cluster (backend/cluster.py), or local
        self.store = store
        self.hub = hub
        self.runs: dict[str, LiveRun] = {}  # live (and just-ended) runs; the rest: store
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.queue: list[LiveRun] = []  # runs waiting for a place, first come first served
        self.closing = False  # the server is going down: nothing new starts
        self.keeper: Keeper | None = None  # packs ended runs, applies retention

    # ---------------------------------------------------------------- starting
    async def start(self, config: RunConfig, student: str | None = None) -> LiveRun:
        """Start a run now, or — when the server's or this student's limits are reached —
        queue it: it starts by itself, first come first served, when a place frees up.
        ``RunLimitError`` only when the queue is full too."""
        self._loop = asyncio.get_running_loop()
        # torchrun: the hosts' GPUs decide, when they join; on a Ray cluster, the node's
        if config.launcher == "local" and self.cluster is None:
            resolve_backend(config.backend, config.world_size)  # ValueError → 422 up front
        reason = self._why_wait(config, student)
        if reason is not None and len(self.queue) >= self.settings.max_queued_runs:
            raise RunLimitError(f"{reason.text}; and {len(self.queue)} runs already wait (the "
                                f"queue holds {self.settings.max_queued_runs}): try again "
                                "when one ends")
        run_id = uuid.uuid4().hex[:12]
        run = LiveRun(id=run_id, config=config, created_at=time.time(), student=student,
                      status="queued" if reason is not None else "starting")
        run.created_at = self.store.create_run(run_id, config.to_dict(), run.status, student)
        self.runs[run_id] = run
        if reason is None:
            await self._launch(run)
        else:
            self.queue.append(run)
            self._renumber()
        return run

    def _why_wait(self, config: RunConfig, student: str | None) -> Waiting | None:
        """Why a run cannot start now (the limit it meets), or None."""
        active = [r for r in self.runs.values() if r.live and r.status != "queued"]
        limits = self.settings
        on_ray = self.cluster is not None and config.launcher == "local"
        if on_ray:  # the cluster's room, not this server's, limits runs
            # let in but not placed yet: they count too
            unplaced = [r.config for r in active if r.id not in self.cluster.reserved
                        and r.config.launcher == "local"]
            reason = self.cluster.why_full(config, also=unplaced)
            if reason is not None:
                return reason
        elif len(active) >= limits.max_active_runs:
            return Waiting("server_runs", f"{len(active)} runs are live (the server runs at "
                           f"most {limits.max_active_runs} at once)",
                           {"live": len(active), "max": limits.max_active_runs})
        busy = sum(r.config.world_size for r in active)
        if not on_ray and busy + config.world_size > limits.max_active_workers:
            return Waiting("server_workers", f"{busy} worker processes are busy; "
                           f"{config.world_size} more would exceed the limit of "
                           f"{limits.max_active_workers}",
                           {"busy": busy, "more": config.world_size,
                            "max": limits.max_active_workers})
        mine = sum(1 for r in active if student is not None and r.student == student)
        if limits.max_runs_per_student and mine >= limits.max_runs_per_student:
            return Waiting("student_runs", f"you have {mine} runs live (at most "
                           f"{limits.max_runs_per_student} per student, so that everyone in "
                           "the class gets a turn)",
                           {"mine": mine, "max": limits.max_runs_per_student})
        return None

    async def _launch(self, run: LiveRun) -> None:
        run.status, run.queue_position, run.waiting = "starting", None, None
        self._persist(run)
        on_events = lambda evs: self._from_thread(run.id, evs)
        if self.cluster is not None and run.config.launcher == "local":  # torchrun: hosts
            run.supervisor = self.cluster.supervisor(run.config, run.id, on_events)
        else:
            run.supervisor = RunSupervisor(run.config, run_id=run.id, on_events=on_events,
                                           workdir=self.settings.data_dir / "runs" / run.id)
        try:
            await asyncio.to_thread(run.supervisor.start)
        except ClusterFull:  # Ray could not place it after all: back to the queue's head
            run.status, run.supervisor = "queued", None
            self.queue.insert(0, run)
            self._renumber()
            self._persist(run)
            asyncio.get_running_loop().call_later(RETRY_S, self._admit_queued)
        except Exception:  # the supervisor has already emitted run_finished(failed), why
            pass

    def _renumber(self) -> None:
        for i, run in enumerate(self.queue):
            run.queue_position = i + 1
            run.waiting = self._why_wait(run.config, run.student)

    def _admit_queued(self) -> None:
        """A place freed up: start the queued runs that fit now, oldest first (a student at
        their own limit does not hold back the others behind them)."""
        if self.closing:
            return
        for run in list(self.queue):
            if self._why_wait(run.config, run.student) is None:
                self.queue.remove(run)
                run.status = "starting"  # counted as live before the next one is weighed
                self._spawn(self._launch(run))
        self._renumber()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _cancel_queued(self, run: LiveRun) -> None:
        """Stop on a run that never started: it leaves the queue, "stopped", with the one
        event a run's viewers wait for."""
        self.queue.remove(run)
        run.status, run.queue_position, run.waiting = "stopped", None, None
        run.error, run.finished_at = "stopped while queued: it never started", time.time()
        event = {"seq": 1, "type": "run_finished", "run_id": run.id, "t": 0.0, "rank": None,
                 "step": None, "status": "stopped", "error": run.error, "summary": None}
        self.store.append_events(run.id, [event])
        self._ingest(run.id, [event])
        self._renumber()

    def _from_thread(self, run_id: str, events: list[dict[str, Any]]) -> None:
        # Persist right here, in the supervisor's thread (the store's queue is thread-safe),
        # so events are kept even if the event loop is already gone at shutdown.
        self.store.append_events(run_id, events)
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # loop closed: the server is exiting
            self._loop.call_soon_threadsafe(self._ingest, run_id, events)

    def _ingest(self, run_id: str, events: list[dict[str, Any]]) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        run.events.extend(events)
        before = (run.status, run.step, len(run.workers))
        for event in events:
            self._apply(run, event)
        if (run.status, run.step // 50, len(run.workers)) != (before[0], before[1] // 50,
                                                              before[2]) or not run.live:
            self._persist(run)
        self.hub.publish(run_id, events)
        if not run.live:
            self._spawn(self._retire(run))
            self._admit_queued()

    @staticmethod
    def _apply(run: LiveRun, event: dict[str, Any]) -> None:
        kind = event["type"]
        version_of = run.config.spec.version_of
        if version_of is not None and (version := version_of(event)) is not None:
            run.versions = version
            run.step = max(run.step, run.progress())
        if kind == "worker_started":
            run.workers[event["rank"]] = {"rank": event["rank"], "pid": event["pid"],
                                          "role": event["role"], "device": event["device"],
                                          "host": event.get("host"), "node": event.get("node"),
                                          "status": "running"}
            if len(run.workers) == run.config.world_size and run.status == "starting":
                run.status = "running"
        elif kind == "step":
            run.worker_steps[event["rank"]] = event["step"]
            run.step = max(run.step, run.progress())
        elif kind == "worker_failed" and event["rank"] in run.workers:
            run.workers[event["rank"]]["status"] = "failed"
        elif kind == "control" and run.live:
            if event["action"] in ("pause", "step"):
                run.status = "paused"
            elif event["action"] == "resume":
                run.status = "running"
        elif kind == "run_finished":
            run.status = event["status"]
            run.error = event["error"]
            run.summary = event["summary"]
            if run.summary and isinstance(run.summary.get("steps_completed"), int):
                run.step = run.summary["steps_completed"]  # as the engine counted them
            run.finished_at = time.time()
            for worker in run.workers.values():
                if worker["status"] != "failed":
                    worker["status"] = "exited"

    def _persist(self, run: LiveRun) -> None:
        self.store.update_run(run.id, status=run.status, step=run.step,
                              workers=run.public()["workers"], summary=run.summary,
                              error=run.error, finished_at=run.finished_at)

    async def _retire(self, run: LiveRun) -> None:
        """Once an ended run is safely in the store, free its memory; reads go there."""
        await asyncio.to_thread(self.store.flush)
        if self.keeper is not None:  # packed while still served from memory
            await asyncio.to_thread(self.keeper.run_ended, run.id)
        if not self.store.unsaved(run.id):  # a full disk: memory keeps its final status
            self.runs.pop(run.id, None)

    # ----------------------------------------------------------------- control
    def may_control(self, run_id: str, token: str | None) -> bool:
        """Whether ``token`` is the run's control token. Runs not in memory have ended."""
        run = self.runs.get(run_id)
        return (run is not None and token is not None
                and secrets.compare_digest(token.encode(), run.control_token.encode()))

    async def config_of(self, run_id: str) -> RunConfig | None:
        run = self.runs.get(run_id)
        if run is not None:
            return run.config
        row = await asyncio.to_thread(self.store.get_run, run_id)
        return None if row is None else RunConfig.from_dict(row["config"])

    async def control(self, run_id: str, action: str, pace: float | None,
                      rank: int | None = None, factor: float | None = None,
                      link: tuple[int, int, float | None] | None = None) -> None:
        run = self.runs.get(run_id)
        if run is not None and run.status == "queued":
            if action != "stop":
                raise RunNotLiveError(f"run {run_id} is queued (position "
                                      f"{run.queue_position}): it takes no controls until "
                                      "it starts, only stop")
            self._cancel_queued(run)
            return
        if run is None or not run.live or run.supervisor is None:
            raise RunNotLiveError(f"run {run_id} is not live; only live runs take controls")
        sup = run.supervisor
        try:
            # Off the loop: the supervisor's lock may be held while workers are spawned.
            if link is not None:
                await asyncio.to_thread(sup.inject_link, action, *link)
            elif rank is not None:
                await asyncio.to_thread(sup.inject, action, rank, factor)
            else:
                await asyncio.to_thread(sup.control, action, pace)
        except RuntimeError as exc:
            raise RunNotLiveError(str(exc)) from exc

    # ------------------------------------------------------------------- reads
    async def get(self, run_id: str) -> dict[str, Any] | None:
        run = self.runs.get(run_id)
        if run is not None:
            return run.public()
        return await asyncio.to_thread(self.store.get_run, run_id)

    async def list(self, limit: int = 50) -> list[dict[str, Any]]:
        live = [run.public() for run in self.runs.values()]  # on the loop: a consistent view
        runs = {r["id"]: r for r in await asyncio.to_thread(self.store.list_runs, limit)}
        runs.update({r["id"]: r for r in live})  # memory is fresher than the store
        return sorted(runs.values(), key=lambda r: r["created_at"], reverse=True)[:limit]

    async def events_after(self, run_id: str, after: int, limit: int | None = None
                           ) -> list[dict[str, Any]]:
        run = self.runs.get(run_id)
        if run is not None:
            # seq is gapless from 1, so "seq > after" is a slice.
            return run.events[after: None if limit is None else after + limit]
        return await asyncio.to_thread(self.store.events_after, run_id, after, limit)

    def subscribe(self, run_id: str, after: int
                  ) -> tuple[list[dict[str, Any]], Viewer | None] | None:
        """The events after ``after`` plus, for a live run, a viewer for the rest.

        Runs on the event loop with no ``await`` in between, so no event can slip between
        the backlog and the live queue. ``None``: not in memory, read the store instead.
        """
        run = self.runs.get(run_id)
        if run is None:
            return None
        backlog = run.events[after:]
        return backlog, (self.hub.subscribe(run_id) if run.live else None)

    async def exists(self, run_id: str) -> bool:
        return run_id in self.runs or await self.get(run_id) is not None

    def is_live(self, run_id: str) -> bool:
        run = self.runs.get(run_id)
        return run is not None and run.live

    def runs_on(self) -> str:
        """Where runs run: ``local`` (processes of this server) or the Ray address."""
        return "local" if self.cluster is None else self.cluster.address

    def live_count(self) -> int:
        return sum(r.live for r in self.runs.values())

    # ---------------------------------------------------------------- shutdown
    async def shutdown(self) -> None:
        """Server going down: kill every live run's workers and record why; the queued
        runs never start (a run ending now must not let one in)."""
        self.closing = True
        for run in self.queue:
            run.status, run.queue_position, run.waiting = "interrupted", None, None
            run.error, run.finished_at = cause_text(SHUTDOWN), time.time()
            self._persist(run)
        self.queue.clear()
        live = [r for r in self.runs.values() if r.live and r.supervisor is not None]
        for run in live:
            run.supervisor.kill(SHUTDOWN, status="interrupted")
        for run in live:
            await asyncio.to_thread(run.supervisor.wait, 10)
        await asyncio.sleep(0)  # let the last queued events reach memory and viewers
        for run in live:
            run.status = "interrupted"
            run.error = cause_text(SHUTDOWN)
            run.finished_at = time.time()
            self._persist(run)
