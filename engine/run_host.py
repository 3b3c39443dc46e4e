"""One run hosted on a Ray node: the same supervisor and worker processes as a local run.

``RunHost`` is what the backend places on a Ray cluster (backend/cluster.py) as one actor
per run. It runs the engine unchanged — ``RunSupervisor`` and its forkserver-started
worker processes, on the node the run's placement group reserved — and keeps the events
the supervisor emits (already stamped with their gapless ``seq``) for the server to fetch
by long polling (``events_after``). Controls and faults are relayed to the supervisor.

Nothing here imports Ray: the class is plain Python, wrapped by ``ray.remote`` only where
Ray is used, so the engine stays importable (and testable) without the optional extra.
Its methods are called concurrently (a threaded actor): a poll that waits does not hold up
a pause or a kill.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

from engine import causes
from engine.config import RunConfig
from engine.supervisor import RunSupervisor, warm_up

POLL_WAIT_S = 1.0  # a long poll returns after this long even with nothing new


class RunHost:
    def __init__(self, config: dict[str, Any], run_id: str, gpus: int) -> None:
        if gpus == 0:
            # The placement group reserved no GPU for this run: its workers must not take
            # one (``backend="auto"`` would choose nccl on a GPU node otherwise).
            os.environ["CUDA_VISIBLE_DEVICES"] = ""
        self.config = RunConfig.from_dict(config)
        self.run_id = run_id
        self._events: list[dict[str, Any]] = []  # those with seq > self._acked
        self._acked = 0  # the server has these: they need not be kept here
        self._new = threading.Condition()
        # Headless: no workdir here (the server's data directory is on another machine);
        # a run that checkpoints gets a temporary directory on this node.
        self.supervisor = RunSupervisor(self.config, run_id=run_id, on_events=self._keep)

    def _keep(self, events: list[dict[str, Any]]) -> None:
        with self._new:
            self._events.extend(events)
            self._new.notify_all()

    def start(self) -> dict[str, Any]:
        """Start the run's workers; returns where it runs (node, pid) for the record."""
        warm_up()  # this actor's own forkserver imports torch once, before the clock runs
        # A run that fails to start has already said so: run_finished(failed), with why.
        with contextlib.suppress(Exception):
            self.supervisor.start()
        return {"pid": os.getpid(), "host": os.uname().nodename}

    def events_after(self, seq: int, wait_s: float = POLL_WAIT_S
                     ) -> tuple[list[dict[str, Any]], bool]:
        """The events with ``seq`` > ``seq`` (waiting up to ``wait_s`` for some), and
        whether the run has ended (its ``run_finished`` is among the events). Asking for
        them acknowledges those up to ``seq``: they are dropped here."""
        with self._new:
            # seq is gapless from 1, so the events after a seq are a slice
            if seq > self._acked:
                del self._events[:seq - self._acked]
                self._acked = seq
            if not self._events and not self.supervisor.finished:
                self._new.wait(wait_s)
            return list(self._events), self.supervisor.finished

    def control(self, action: str, pace: float | None = None) -> None:
        self.supervisor.control(action, pace)

    def inject(self, action: str, rank: int, factor: float | None = None) -> None:
        self.supervisor.inject(action, rank, factor)

    def inject_link(self, action: str, src: int, dst: int, ms: float | None = None) -> None:
        self.supervisor.inject_link(action, src, dst, ms)

    def kill(self, reason: causes.Cause | None = None, status: str = "stopped") -> None:
        self.supervisor.kill(reason, status=status)

    def wait(self, timeout: float | None = None) -> bool:
        return self.supervisor.wait(timeout)
