"""The run supervisor: owns a run's worker processes from start to teardown.

It picks a free rendezvous port itself, starts N workers, relays control messages,
stamps every event with a gapless ``seq``, watches the workers, and makes sure that every
process it started is dead when the run ends — finished, stopped, failed, or abandoned.
This module is the run's lifecycle; its other jobs have rooms of their own, functions of
the supervisor that share its public state (``lock``, ``workers``, ``failure``, …):

- engine/processes.py — the forkserver, spawning, reading events, killing;
- engine/spawning.py — starting a generation, a newcomer; the warm pool of spares;
- engine/faultinject.py — faults aimed at ranks and links, and the planned schedule;
- engine/detection.py — heartbeats, exits, broken groups, naming the root cause;
- engine/recovery/ — one module per recovery policy, chosen by ``config.recovery``;
- engine/runreport.py — run_started, the progress followed, run_finished's summary;
- engine/causes.py — why something failed, as a code with fields.
What differs between strategies is asked of the strategy's spec, never of its name.

Threads: one reader per worker and one monitor that consumes what the readers deliver,
enforces deadlines and tears down. ``on_events`` is called from the monitor (and from
``control``'s caller) with the supervisor's lock held, so callbacks see events in ``seq``
order. Keep the callback short.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine import causes, detection, faultinject, processes, recovery, runreport, spawning
from engine.config import RunConfig
from engine.events import json_safe, make_event
from engine.processes import _CTX, WorkerHandle, resolve_backend, warm_up
from engine.recovery.elastic import RecoveryInProgress
from engine.remote_workers import HostLobby
from engine.spawning import WarmPool

__all__ = ["_CTX", "RecoveryInProgress", "RunSupervisor", "resolve_backend", "warm_up"]

OnEvents = Callable[[list[dict[str, Any]]], None]
POLL_S = 0.1  # the monitor looks at its workers at least this often
CONTROL_ACTIONS = ("pause", "resume", "step", "stop", "set_pace")
ABANDONED = causes.make("abandoned")


class RunSupervisor:
    def __init__(self, config: RunConfig, *, run_id: str, on_events: OnEvents,
                 workdir: Path | None = None) -> None:
        self.config = config
        self.spec = config.spec
        self.policy = recovery.policy_for(config.recovery)
        self.run_id = run_id
        # Checkpoints live in the run's own directory (a temporary one when headless).
        self._own_tmp = workdir is None and config.checkpoint_every is not None
        if self._own_tmp:
            workdir = Path(tempfile.mkdtemp(prefix=f"distlab-{run_id}-"))
        self.checkpoint_dir = workdir / "checkpoints" if workdir is not None else None
        self.devices: list[str] = []
        self.generation = 0  # +1 after every restart
        self.restarts = 0
        self.paused = False
        self.last_progress = 0.0
        self.regroup_retries = 0
        self.resume: dict[str, Any] | None = None  # what a restarted generation resumes
        self.failure: WorkerHandle | None = None  # the judged root cause, until recovered
        self.link_fault: tuple[int, int, str] | None = None  # the last link fault injected
        self._on_events = on_events
        self.lock = threading.RLock()
        self._seq = 0
        self.t0 = 0.0
        self.workers: list[WorkerHandle] = []
        self.control_seq = 0  # control messages are numbered 1, 2, … (see engine/control.py)
        self.inbox: processes.Inbox = queue.Queue()
        self.outcome = runreport.Outcome()
        self.stop_requested = False
        self._finished = threading.Event()
        self.store: Any = None  # dist.TCPStore of the current group
        self.old_stores: list[Any] = []  # kept alive until teardown
        self.group_generation = 0  # elastic: +1 every time the members change
        self.schedule = sorted((dict(f) for f in config.faults), key=lambda f: f["after_step"])
        self.backend = ""
        self.lobby: HostLobby | None = None  # launcher torchrun: where they join
        self.pool = WarmPool(config.world_size if self.policy.name == "restart" else 0,
                             self.config.to_dict, f"distlab-{run_id}", self.lock)

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Spawn the workers and return; the run goes on in the background.

        Holds the lock throughout, so a control message sent meanwhile waits and then
        reaches every rank, and no event can precede ``run_started``.
        """
        with self.lock:
            try:
                remote = self.config.launcher == "torchrun"
                # torchrun: the backend is chosen once the hosts say what they have
                self.backend, self.devices = (self.config.backend, []) if remote else \
                    resolve_backend(self.config.backend, self.config.world_size)
                self.t0 = time.monotonic()
                self.emit([runreport.run_started(self)])
                if remote:
                    self.lobby = HostLobby(self)
                else:
                    self.spawn_generation()
            except Exception as exc:
                self.pool.retire()
                self.teardown()
                self._finish("failed", causes.of_exception("start_failed", exc))
                raise
        threading.Thread(target=self._watch, name=f"run-{self.run_id}", daemon=True).start()

    def spawn_generation(self) -> None:
        """Start one process per rank in a fresh process group (again, after a restart)."""
        spawning.spawn_generation(self)

    def add_worker(self, rank: int, regroup: dict[str, Any]) -> WorkerHandle:
        """Elastic: a new process for ``rank`` that joins the group ``regroup`` names."""
        return spawning.add_worker(self, rank, regroup)

    def control(self, action: str, pace: float | None = None) -> None:
        """Relay a user's control action to every rank (they agree on it per step)."""
        if action not in CONTROL_ACTIONS:
            raise ValueError(f"unknown control action {action!r}")
        if action == "set_pace" and pace is not None:
            RunConfig(**{**self.config.to_dict(), "pace": pace})  # validates the range
        with self.lock:
            if self._finished.is_set():
                raise RuntimeError("the run has already ended")
            if action == "stop":
                self.stop_requested = True
            if action in ("pause", "step", "resume"):
                self.paused = action != "resume"
                self.last_progress = time.monotonic()  # a pause is not a stall
            if action == "set_pace":
                self.config.pace = pace
            self.send_control({"action": action, "pace": pace})
            self.emit([make_event("control", t=self.now(), action=action,
                                  pace=self.config.pace)])

    def send_control(self, message: dict[str, Any]) -> None:
        """Number a control message and send it to every rank (they agree on it)."""
        self.control_seq += 1
        message = {**message, "seq": self.control_seq}
        for w in self.workers:
            if w.status in ("starting", "running"):
                # OSError: that worker is dying; the monitor reports it.
                with contextlib.suppress(OSError):
                    w.control.send(message)

    def inject(self, action: str, rank: int, factor: float | None = None, *,
               scheduled: bool = False) -> None:
        """A fault on a worker process (engine/faultinject.py)."""
        faultinject.inject(self, action, rank, factor, scheduled=scheduled)

    def inject_link(self, action: str, src: int, dst: int, ms: float | None = None, *,
                    scheduled: bool = False) -> None:
        """A fault on the link src→dst (engine/faultinject.py)."""
        faultinject.inject_link(self, action, src, dst, ms, scheduled=scheduled)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.control("stop")

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def kill(self, reason: causes.Cause | str | None = None, status: str = "stopped") -> None:
        """Abandon the run now: SIGKILL every worker (e.g. ``shutdown`` of the server)."""
        with self.lock:
            self.stop_requested = True
            if self.outcome.error is None:
                self.outcome.status, self.outcome.error = status, reason or ABANDONED
        processes.kill_all(self.workers)
        self.pool.retire()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    # ------------------------------------------------------------------- monitor
    def _watch(self) -> None:
        # torchrun: wait for the hosts' workers to join (not if the run is stopped first)
        gathered = self.lobby is None or self.lobby.gather()
        while gathered:
            try:
                self._watch_loop()
            except Exception as exc:  # a bug here must not leave workers behind
                self.outcome.error = causes.of_exception("internal", exc)
                break
            if not self.policy.should_apply(self):
                break
            self.policy.apply(self)
        runreport.blame_failure(self)
        self.pool.retire()
        self.teardown()
        self._finish(*runreport.final_status(self))

    def _watch_loop(self) -> None:
        deadline: float | None = None
        settle_until: float | None = None
        self.last_progress = time.monotonic()
        while True:
            detection.check_heartbeats(self)
            if detection.stalled(self):
                return
            settle_until = detection.settle_deadline(self, settle_until)
            if settle_until is not None and time.monotonic() > settle_until:
                detection.judge_failure(self)
                return
            if all(w.status == "done" for w in self.active()):
                return
            detection.check_lost_peers(self)
            if self.stop_requested and deadline is None:
                deadline = time.monotonic() + self.config.timeout_s + processes.GRACE_S
            if deadline is not None and time.monotonic() > deadline:
                if self.outcome.error is None:
                    self.outcome.error = causes.make("stop_timeout")
                return
            # Wake at the settle deadline, not up to a poll later: after a kill the
            # survivors are blocked and send nothing, so the judgement (and the recovery)
            # would otherwise wait out the whole poll.
            wait = POLL_S if settle_until is None else min(
                POLL_S, max(0.0, settle_until - time.monotonic()))
            try:
                w, batch = self.inbox.get(timeout=wait)
            except queue.Empty:
                continue
            if w.generation != self.generation:
                continue  # news from processes of before a restart
            if batch is processes.EOF:
                detection.on_eof(w)
            else:
                self._on_batch(w, batch)

    def _on_batch(self, w: WorkerHandle, batch: list[dict[str, Any]]) -> None:
        events = []
        for message in batch:
            kind = message["type"]
            if kind == "_done":
                w.status = "done"
            elif kind == "_error":
                detection.fail(w, message["cause"], root=False)
            elif kind == "_hb":
                pass  # heartbeat: the reader thread noted the time
            elif kind == "_peer_lost":
                detection.on_peer_lost(self, w, message)
            else:
                events.append(message)
                runreport.observe(self, w, message)
        if events:
            self.emit(events)
        self.pool.refill_if_needed(self.workers)
        if self.schedule:
            faultinject.fire_scheduled(self, max((e["step"] for e in events
                                                  if e["type"] == "step"), default=0))

    # ------------------------------------------------------------------- helpers
    def teardown(self) -> None:
        """Every process of this generation gone; the stores released."""
        processes.teardown(self.workers)
        if self.lobby is not None:
            self.lobby.close()
        self.store = None
        self.old_stores.clear()

    def active(self) -> list[WorkerHandle]:
        """Workers that are part of the run (not those an elastic shrink left behind)."""
        return [w for w in self.workers if w.status != "left"]

    def now(self) -> float:
        return time.monotonic() - self.t0

    def emit(self, events: list[dict[str, Any]]) -> None:
        with self.lock:
            stamped = []
            for event in events:
                self._seq += 1
                stamped.append({**json_safe(event), "seq": self._seq, "run_id": self.run_id})
            self._on_events(stamped)

    def _finish(self, status: str, cause: causes.Cause | str | None) -> None:
        with self.lock:
            if self._finished.is_set():
                return
            summary = runreport.summary(self)
            self.outcome.status = status
            self.emit([make_event("run_finished", t=self.now(), status=status,
                                  error=causes.cause_text(cause) if cause else None,
                                  cause=cause, summary=summary)])
            self._finished.set()
        if self._own_tmp and self.checkpoint_dir is not None:
            shutil.rmtree(self.checkpoint_dir.parent, ignore_errors=True)
