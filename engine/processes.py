"""A run's worker processes: started through a forkserver, read, and killed.

Workers are started through a forkserver that has already imported torch (``warm_up``),
so starting one costs a fork, not an ``import torch``; a run that restarts from
checkpoints also keeps spares forked ahead of need (``Spare``), so a restart costs not
even that. Each has two private pipes (events up, control down); one reader thread per
worker does blocking reads of its event pipe, so a worker frozen half-way through a
message stalls only its own reader.

Workers die with their supervisor three ways: ``PR_SET_PDEATHSIG`` (the forkserver, their
parent, exits when the process that started it dies), end-of-file on their control pipe,
and multiprocessing's own termination of daemonic children at interpreter exit.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.forkserver
import queue
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from typing import Any

import torch
import torch.distributed as dist

from engine.causes import Cause
from engine.worker import WorkerSpec, spare_main, worker_main

STORE_HOST = "127.0.0.1"
GRACE_S = 5.0  # how long finished/stopped workers get to exit before SIGKILL

_CTX = mp.get_context("forkserver")
_CTX.set_forkserver_preload(["engine.worker"])

EOF = None  # what a reader thread delivers when its worker's pipe closes
Inbox = queue.Queue  # of (WorkerHandle, list of messages | EOF)


def warm_up() -> None:
    """Start the forkserver and let it finish ``import torch`` now, not on the first run."""
    multiprocessing.forkserver.ensure_running()
    probe = _CTX.Process(target=_noop, daemon=True)  # served only once the preload is done
    probe.start()
    probe.join()


def _noop() -> None:
    pass


def resolve_backend(requested: str, world_size: int) -> tuple[str, list[str]]:
    """gloo on CPU; nccl when CUDA offers at least one GPU per worker."""
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if requested == "nccl" and gpus < world_size:
        raise ValueError(f"backend nccl needs one GPU per worker: {world_size} workers, "
                         f"{gpus} GPUs")
    if requested == "nccl" or (requested == "auto" and gpus >= world_size):
        return "nccl", [f"cuda:{r}" for r in range(world_size)]
    return "gloo", ["cpu"] * world_size


def new_store(world_size: int, timeout_s: float) -> dist.TCPStore:
    """A rendezvous on port 0: the OS picks a free port, so concurrent runs never collide
    (never a fixed 29500)."""
    return dist.TCPStore(STORE_HOST, 0, world_size, is_master=True, wait_for_workers=False,
                         timeout=timedelta(seconds=timeout_s))


@dataclass(slots=True)
class WorkerHandle:
    rank: int
    process: Any  # multiprocessing.Process (forkserver flavour)
    events: Connection
    control: Connection
    device: str
    status: str = "starting"  # starting | running | done | failed | killed | left
    role: str = "worker"  # worker | server
    pid: int | None = None
    last_step: int = 0
    last_loss: float | None = None
    dropped: int = 0
    events_open: bool = True
    generation: int = 0  # 0 for the first processes, +1 after every restart
    last_seen: float = 0.0  # monotonic time of its last message (heartbeats included)
    cause: Cause | None = None  # why it failed (engine/causes.py)
    root_cause: bool = False  # failed by itself (signal, hang, own error), not as collateral
    fault: str | None = None  # the fault injected into it, if any
    fault_at: float | None = None
    detected_at: float | None = None
    joining: bool = False  # elastic: added back, not yet part of a group
    peer_lost: Cause | None = None  # elastic: its collective broke; it awaits a new group
    peer_lost_at: float | None = None


def _start(target: Any, first: Any, name: str) -> tuple[Any, Connection, Connection]:
    """Start ``target(first, events_out, control_in)`` in a new process; return the
    process and our ends of its two pipes (events in, control out)."""
    ev_recv, ev_send = _CTX.Pipe(duplex=False)
    ctl_recv, ctl_send = _CTX.Pipe(duplex=False)
    proc = _CTX.Process(target=target, args=(first, ev_send, ctl_recv), name=name,
                        daemon=True)
    proc.start()
    # Close our copies of the child's ends: EOF then really means "the other side died".
    ev_send.close()
    ctl_recv.close()
    return proc, ev_recv, ctl_send


def spawn(spec: WorkerSpec, name: str, generation: int) -> WorkerHandle:
    """Start one worker process; its reader is started separately (``start_reader``)."""
    proc, events, control = _start(worker_main, spec, name)
    return WorkerHandle(rank=spec.rank, process=proc, events=events, control=control,
                        device=spec.device, pid=proc.pid, generation=generation)


@dataclass(slots=True)
class Spare:
    """A process started ahead of need: the warm pool of a run that restarts from
    checkpoints. It has built the run's data set and model and waits on its control pipe
    for a WorkerSpec; a restart then costs no fork, no start-up and no model building
    (bench/recovery.py). It dies like a worker: with the forkserver, or at end-of-file on
    its control pipe."""
    process: Any
    events: Connection
    control: Connection


def spawn_spare(config: dict[str, Any], name: str) -> Spare:
    """Start a spare for the run of ``config`` (engine/worker.py spare_main)."""
    proc, events, control = _start(spare_main, config, name)
    return Spare(process=proc, events=events, control=control)


def assign(spare: Spare, spec: WorkerSpec, generation: int) -> WorkerHandle | None:
    """Make a spare the worker ``spec`` describes; ``None`` if it has died meanwhile."""
    if not spare.process.is_alive():
        retire([spare])
        return None
    try:
        spare.control.send(spec)
    except OSError:
        retire([spare])
        return None
    return WorkerHandle(rank=spec.rank, process=spare.process, events=spare.events,
                        control=spare.control, device=spec.device, pid=spare.process.pid,
                        generation=generation)


def retire(spares: list[Spare]) -> None:
    """Spares no longer needed: killed and reaped, their pipes closed."""
    for spare in spares:
        if spare.process.is_alive():
            spare.process.kill()
    for spare in spares:
        spare.process.join(timeout=GRACE_S)
        spare.control.close()
        spare.events.close()


def start_reader(w: WorkerHandle, inbox: Inbox, name: str) -> None:
    threading.Thread(target=_read_events, args=(w, inbox), daemon=True, name=name).start()


def _read_events(w: WorkerHandle, inbox: Inbox) -> None:
    while True:
        try:
            batch = w.events.recv()
        except (EOFError, OSError):
            w.events.close()
            inbox.put((w, EOF))
            return
        w.last_seen = time.monotonic()
        inbox.put((w, batch))


def teardown(workers: list[WorkerHandle]) -> None:
    """Give exiting workers a moment, SIGKILL the rest, release their pipes."""
    grace_until = time.monotonic() + GRACE_S
    for w in workers:
        if w.status == "done":
            w.process.join(timeout=max(0.0, grace_until - time.monotonic()))
    kill_all(workers)
    for w in workers:
        w.process.join(timeout=GRACE_S)
        w.control.close()  # reader threads see EOF on events once the worker is gone


def kill_all(workers: list[WorkerHandle]) -> None:
    for w in workers:
        if w.process.is_alive():
            w.process.kill()  # SIGKILL works on frozen (SIGSTOPped) processes too
            if w.status not in ("done", "failed"):
                w.status = "killed"


def take_out_failed(workers: list[WorkerHandle]) -> list[WorkerHandle]:
    """Failed workers leave the run for good: SIGKILL (a frozen one too, so it is not
    left stopped) and marked ``left``."""
    gone = [w for w in workers if w.status == "failed"]
    for w in gone:
        w.process.kill()
        w.process.join(timeout=GRACE_S)
        w.status = "left"
    return gone
