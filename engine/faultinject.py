"""Injection: faults aimed at a live run's processes and links, clicked or scheduled.

Which faults are valid is decided in one place, ``engine/faultplan.py`` (the same check
for a click in the page and for the schedule in the config); this module makes them
happen. ``kill`` sends SIGKILL and ``freeze`` SIGSTOP to the real process; ``slow``,
``corrupt``, ``delay`` and ``drop`` reach the ranks as control messages, applied at a step
boundary; ``rejoin`` adds a worker back to an elastic run (engine/recovery/shrink.py).
"""

from __future__ import annotations

import os
import signal
import time
from typing import TYPE_CHECKING

from engine.events import make_event
from engine.faultplan import LINK_FAULTS, RANK_FAULTS, check_fault
from engine.recovery.elastic import RecoveryInProgress
from engine.recovery.shrink import rejoin
from engine.remote_workers import RemoteWorker

if TYPE_CHECKING:
    from engine.supervisor import RunSupervisor

PROCESS_FAULTS = (*RANK_FAULTS, "rejoin")  # rejoin: add a worker back to an elastic run


def inject(sup: RunSupervisor, action: str, rank: int, factor: float | None = None, *,
           scheduled: bool = False) -> None:
    """A fault on a real worker process: ``kill`` sends SIGKILL, ``freeze`` SIGSTOP;
    ``slow`` (× factor) and ``corrupt`` (next gradient NaN) reach the rank as control
    messages, applied at a step boundary."""
    if action not in PROCESS_FAULTS:
        raise ValueError(f"unknown fault {action!r}; choose one of {PROCESS_FAULTS}")
    fault = {"action": action, "rank": rank, **({"factor": factor} if action == "slow"
                                                else {})}
    check_fault(sup.config, sup.spec, fault)  # as for a scheduled fault
    with sup.lock:
        if sup.finished:
            raise RuntimeError("the run has already ended")
        if action == "rejoin":
            rejoin(sup, rank)
            return
        w = sup.workers[rank]
        if w.status == "left":
            raise ValueError(f"rank {rank} has left the group; rejoin it first")
        if w.status != "running":
            raise ValueError(f"rank {rank} is {w.status}, not running")
        w.fault, w.fault_at = action, time.monotonic()
        if action in ("kill", "freeze"):
            sig = signal.SIGKILL if action == "kill" else signal.SIGSTOP
            if isinstance(w.process, RemoteWorker):  # on another host: it signals itself
                w.process.send_signal(sig)
            else:
                os.kill(w.pid, sig)
        else:
            sup.send_control({"action": action, "rank": rank, "factor": factor})
        sup.emit([make_event("fault", t=sup.now(), rank=rank, action=action,
                             factor=factor if action == "slow" else None,
                             pid=w.pid, **({"scheduled": True} if scheduled else {}))])


def inject_link(sup: RunSupervisor, action: str, src: int, dst: int,
                ms: float | None = None, *, scheduled: bool = False) -> None:
    """A fault on the link src→dst: ``delay`` adds ``ms`` to every message (emulated),
    ``drop`` loses the next message and everything after it on that link, so its
    receiver waits in vain until the process-group timeout."""
    if action not in LINK_FAULTS:
        raise ValueError(f"unknown link fault {action!r}; choose one of {LINK_FAULTS}")
    fault = {"action": action, "src": src, "dst": dst,
             **({"ms": ms} if action == "delay" else {})}
    check_fault(sup.config, sup.spec, fault)  # as for a scheduled fault
    if sup.group_generation:
        raise ValueError("link faults name the original ranks: not available once an "
                         "elastic run has changed its members")
    with sup.lock:
        if sup.finished:
            raise RuntimeError("the run has already ended")
        sup.link_fault = (src, dst, action)
        sup.send_control({"action": action, "src": src, "dst": dst, "ms": ms})
        sup.emit([make_event("fault", t=sup.now(), rank=src, action=action,
                             factor=None, pid=None, src=src, dst=dst, ms=ms,
                             **({"scheduled": True} if scheduled else {}))])


def fire_scheduled(sup: RunSupervisor, step: int) -> None:
    """Faults planned before the run fire once the first worker has finished their
    step; one that cannot apply any more is reported, not silently lost."""
    due = []
    while sup.schedule and sup.schedule[0]["after_step"] <= step:
        due.append(sup.schedule.pop(0))
    for fault in due:
        action = fault["action"]
        try:
            if action in LINK_FAULTS:
                inject_link(sup, action, fault["src"], fault["dst"], fault.get("ms"),
                            scheduled=True)
            else:
                inject(sup, action, fault["rank"], fault.get("factor"), scheduled=True)
        except (ValueError, RuntimeError) as exc:
            if isinstance(exc, RecoveryInProgress):
                sup.schedule.insert(0, fault)  # a recovery is under way: next step
                continue
            sup.emit([make_event("fault", t=sup.now(), rank=fault.get("rank"),
                                 action=action, factor=fault.get("factor"), pid=None,
                                 scheduled=True, not_applied=str(exc))])
