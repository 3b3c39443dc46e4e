"""The run supervisor: owns a run's worker processes from start to teardown.

It picks a free rendezvous port itself (a ``TCPStore`` on port 0, never a fixed 29500),
starts N workers through a forkserver with torch preloaded, relays control messages,
stamps every event with a gapless ``seq``, watches exit codes, and makes sure that every
process it started is dead when the run ends — finished, stopped, failed, or abandoned.

Workers die with their supervisor three ways: ``PR_SET_PDEATHSIG`` (the forkserver, their
parent, exits when the process that started it dies), end-of-file on their control pipe,
and multiprocessing's own termination of daemonic children at interpreter exit.

Threads: one reader per worker (blocking reads of its event pipe, so a worker frozen
half-way through a message stalls only its own reader) and one monitor that consumes what
the readers deliver, enforces deadlines and tears down. ``on_events`` is called from the
monitor (and from ``control``'s caller) with the supervisor's lock held, so callbacks see
events in ``seq`` order. Keep the callback short.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing as mp
import multiprocessing.forkserver
import os
import queue
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from engine import checkpoint, updatelog
from engine import data as datasets
from engine.config import RunConfig
from engine.events import SCHEMA_VERSION, json_safe, make_event
from engine.faultplan import LINK_FAULTS, RANK_FAULTS, check_fault
from engine.model import build_model, num_params
from engine.network import build_network
from engine.worker import WorkerSpec, worker_main

OnEvents = Callable[[list[dict[str, Any]]], None]
CONTROL_ACTIONS = ("pause", "resume", "step", "stop", "set_pace")
PROCESS_FAULTS = (*RANK_FAULTS, "rejoin")  # rejoin: add a worker back to an elastic run
HEARTBEAT_TIMEOUT_S = 5.0  # workers say "alive" every 0.5 s; this much silence is a hang
FAILURE_SETTLE_S = 0.3  # after a first failure, collect the others' news before judging
STORE_HOST = "127.0.0.1"
GRACE_S = 5.0  # how long finished/stopped workers get to exit before SIGKILL
STALL_MIN_S = 60.0  # no step for this long (and not paused) ends a run as stuck
REGROUP_RETRY_S = 1.0  # elastic: a group that broke with nobody failed is formed again…
REGROUP_RETRIES = 3  # …this many times before the rank that reports it is failed

_CTX = mp.get_context("forkserver")
_CTX.set_forkserver_preload(["engine.worker"])


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


@dataclass(slots=True)
class WorkerHandle:
    rank: int
    process: Any  # multiprocessing.Process (forkserver flavour)
    events: Connection
    control: Connection
    device: str
    status: str = "starting"  # starting | running | done | failed | killed
    role: str = "worker"  # worker | server
    pid: int | None = None
    last_step: int = 0
    last_loss: float | None = None
    dropped: int = 0
    events_open: bool = True
    generation: int = 0  # 0 for the first processes, +1 after every restart
    last_seen: float = 0.0  # monotonic time of its last message (heartbeats included)
    cause: str | None = None  # why it failed, in words
    root_cause: bool = False  # failed by itself (signal, hang, own error), not as collateral
    fault: str | None = None  # the fault injected into it, if any
    fault_at: float | None = None
    detected_at: float | None = None
    joining: bool = False  # elastic: added back, not yet part of a group
    peer_lost: str | None = None  # elastic: its collective broke; it awaits a new group
    peer_lost_at: float | None = None


@dataclass(slots=True)
class _Outcome:
    status: str | None = None
    error: str | None = None
    first_step_t: float | None = None
    last_step_t: float | None = None
    versions: int = 0  # parameter server: server 0's parameter version


_EOF = None  # what a reader thread delivers when its worker's pipe closes


class RecoveryInProgress(ValueError):
    """An elastic change asked for while the group is still changing."""


class RunSupervisor:
    def __init__(self, config: RunConfig, *, run_id: str, on_events: OnEvents,
                 workdir: Path | None = None) -> None:
        self.config = config
        self.run_id = run_id
        # Checkpoints live in the run's own directory (a temporary one when headless).
        self._own_tmp = workdir is None and config.checkpoint_every is not None
        if self._own_tmp:
            workdir = Path(tempfile.mkdtemp(prefix=f"distlab-{run_id}-"))
        self._checkpoint_dir = workdir / "checkpoints" if workdir is not None else None
        self._devices: list[str] = []
        self._generation = 0
        self._restarts = 0
        self._paused = False
        self._last_progress = 0.0
        self._regroup_retries = 0
        self._resume: dict[str, Any] | None = None
        self._failure: WorkerHandle | None = None
        self._link_fault: tuple[int, int, str] | None = None  # the last link fault injected
        self._on_events = on_events
        self._lock = threading.RLock()
        self._seq = 0
        self._t0 = 0.0
        self._workers: list[WorkerHandle] = []
        self._control_seq = 0  # control messages are numbered 1, 2, … (see engine/control.py)
        self._inbox: queue.Queue[tuple[WorkerHandle, list[dict[str, Any]] | None]] = (
            queue.Queue())
        self._outcome = _Outcome()
        self._stop_requested = False
        self._finished = threading.Event()
        self._store: dist.TCPStore | None = None
        self._old_stores: list[dist.TCPStore] = []  # kept alive until teardown
        self._group_generation = 0  # elastic: +1 every time the members change
        self._schedule = sorted((dict(f) for f in config.faults), key=lambda f: f["after_step"])
        self.backend = ""

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Spawn the workers and return; the run goes on in the background.

        Holds the lock throughout, so a control message sent meanwhile waits and then
        reaches every rank, and no event can precede ``run_started``.
        """
        config = self.config
        with self._lock:
            try:
                self.backend, self._devices = resolve_backend(config.backend,
                                                              config.world_size)
                self._t0 = time.monotonic()
                self._emit_run_started()
                self._spawn_generation()
            except Exception as exc:
                self._teardown()
                self._finish("failed", f"could not start the run: {type(exc).__name__}: {exc}")
                raise
        threading.Thread(target=self._watch, name=f"run-{self.run_id}", daemon=True).start()

    def _spawn_generation(self) -> None:
        """Start one process per rank in a fresh process group (again, after a restart)."""
        config = self.config
        # Port 0: the OS picks a free port, so concurrent runs never collide.
        self._store = dist.TCPStore(STORE_HOST, 0, config.world_size, is_master=True,
                                    wait_for_workers=False,
                                    timeout=timedelta(seconds=config.timeout_s))
        self._workers = []
        for rank in range(config.world_size):
            self._workers.append(self._spawn(rank, self._devices[rank], self._store.port))
        for w in self._workers:
            threading.Thread(target=self._read_events, args=(w,), daemon=True,
                             name=f"run-{self.run_id}-read{w.rank}").start()

    def _spawn(self, rank: int, device: str, port: int,
               regroup: dict[str, Any] | None = None) -> WorkerHandle:
        ev_recv, ev_send = _CTX.Pipe(duplex=False)
        ctl_recv, ctl_send = _CTX.Pipe(duplex=False)
        spec = WorkerSpec(rank=rank, world_size=self.config.world_size,
                          config=self.config.to_dict(), backend=self.backend, device=device,
                          store_host=STORE_HOST, store_port=port, t0=self._t0,
                          checkpoint_dir=(str(self._checkpoint_dir)
                                          if self._checkpoint_dir else None),
                          resume=self._resume, control_seq=self._control_seq,
                          paused=self._paused, regroup=regroup)
        proc = _CTX.Process(target=worker_main, args=(spec, ev_send, ctl_recv),
                            name=f"distlab-{self.run_id}-rank{rank}", daemon=True)
        proc.start()
        # Close our copies of the child's ends: EOF then really means "the other side died".
        ev_send.close()
        ctl_recv.close()
        return WorkerHandle(rank=rank, process=proc, events=ev_recv, control=ctl_send,
                            device=device, pid=proc.pid, generation=self._generation)

    def control(self, action: str, pace: float | None = None) -> None:
        """Relay a user's control action to every rank (they agree on it per step)."""
        if action not in CONTROL_ACTIONS:
            raise ValueError(f"unknown control action {action!r}")
        if action == "set_pace" and pace is not None:
            RunConfig(**{**self.config.to_dict(), "pace": pace})  # validates the range
        with self._lock:
            if self._finished.is_set():
                raise RuntimeError("the run has already ended")
            if action == "stop":
                self._stop_requested = True
            if action in ("pause", "step", "resume"):
                self._paused = action != "resume"
                self._last_progress = time.monotonic()  # a pause is not a stall
            if action == "set_pace":
                self.config.pace = pace
            self._send_control({"action": action, "pace": pace})
            self._emit([make_event("control", t=self._now(), action=action,
                                   pace=self.config.pace)])

    def _send_control(self, message: dict[str, Any]) -> None:
        """Number a control message and send it to every rank (they agree on it)."""
        self._control_seq += 1
        message = {**message, "seq": self._control_seq}
        for w in self._workers:
            if w.status in ("starting", "running"):
                # OSError: that worker is dying; the monitor reports it.
                with contextlib.suppress(OSError):
                    w.control.send(message)

    def inject(self, action: str, rank: int, factor: float | None = None, *,
               scheduled: bool = False) -> None:
        """A fault on a real worker process: ``kill`` sends SIGKILL, ``freeze`` SIGSTOP;
        ``slow`` (× factor) and ``corrupt`` (next gradient NaN) reach the rank as control
        messages, applied at a step boundary."""
        if action not in PROCESS_FAULTS:
            raise ValueError(f"unknown fault {action!r}; choose one of {PROCESS_FAULTS}")
        fault = {"action": action, "rank": rank, **({"factor": factor} if action == "slow"
                                                    else {})}
        check_fault(self.config, self.config.spec, fault)  # as for a scheduled fault
        with self._lock:
            if self._finished.is_set():
                raise RuntimeError("the run has already ended")
            if action == "rejoin":
                self._rejoin(rank)
                return
            w = self._workers[rank]
            if w.status == "left":
                raise ValueError(f"rank {rank} has left the group; rejoin it first")
            if w.status != "running":
                raise ValueError(f"rank {rank} is {w.status}, not running")
            w.fault, w.fault_at = action, time.monotonic()
            if action in ("kill", "freeze"):
                os.kill(w.pid, signal.SIGKILL if action == "kill" else signal.SIGSTOP)
            else:
                self._send_control({"action": action, "rank": rank, "factor": factor})
            self._emit([make_event("fault", t=self._now(), rank=rank, action=action,
                                   factor=factor if action == "slow" else None,
                                   pid=w.pid, **({"scheduled": True} if scheduled else {}))])

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.control("stop")

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def kill(self, reason: str = "the run was abandoned", status: str = "stopped") -> None:
        """Abandon the run now: SIGKILL every worker (e.g. on server shutdown)."""
        with self._lock:
            self._stop_requested = True
            if self._outcome.error is None:
                self._outcome.status, self._outcome.error = status, reason
        self._kill_all()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    # ------------------------------------------------------------------- monitor
    def _read_events(self, w: WorkerHandle) -> None:
        while True:
            try:
                batch = w.events.recv()
            except (EOFError, OSError):
                w.events.close()
                self._inbox.put((w, _EOF))
                return
            w.last_seen = time.monotonic()
            self._inbox.put((w, batch))

    def _watch(self) -> None:
        while True:
            try:
                self._watch_loop()
            except Exception as exc:  # a bug here must not leave workers behind
                self._outcome.error = f"supervisor error: {exc}"
                break
            if self._should_restart():
                self._restart()
            elif self._should_shrink():
                self._shrink()
            elif self._should_continue():
                self._continue_without()
            else:
                break
        failure = self._failure
        if failure is not None and self._outcome.error is None:
            self._outcome.error = f"rank {failure.rank} (pid {failure.pid}): {failure.cause}"
            self._outcome.status = "failed"
        self._teardown()
        out = self._outcome
        if out.status is None:
            stopped_early = self._stop_requested and not self._reached_the_end()
            out.status = "failed" if out.error else ("stopped" if stopped_early else "finished")
        self._finish(out.status, out.error)

    def _watch_loop(self) -> None:
        deadline: float | None = None
        settle_until: float | None = None
        self._last_progress = time.monotonic()
        while True:
            self._check_heartbeats()
            if self._stalled():
                return
            if settle_until is None and any(w.status == "failed" for w in self._workers):
                # One rank down means the run cannot go on. Its peers now fail too (their
                # collectives break): wait a moment so the root cause is the one reported.
                settle_until = time.monotonic() + FAILURE_SETTLE_S
            if settle_until is not None and time.monotonic() > settle_until:
                self._judge_failure()
                return
            if all(w.status == "done" for w in self._active()):
                return
            self._check_lost_peers()
            if self._stop_requested and deadline is None:
                deadline = time.monotonic() + self.config.timeout_s + GRACE_S
            if deadline is not None and time.monotonic() > deadline:
                if self._outcome.error is None:
                    self._outcome.error = "workers did not stop in time; killed"
                return
            try:
                w, batch = self._inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if w.generation != self._generation:
                continue  # news from processes of before a restart
            if batch is _EOF:
                self._on_eof(w)
            else:
                self._on_batch(w, batch)

    def _stalled(self) -> bool:
        """A safety net: a run that is not paused yet makes no progress for much longer
        than any step could take is stuck (a bug, or a peer waiting for a lost message
        without a timeout). End it, rather than hang a lecture."""
        config = self.config
        step_s = ((config.emulated_compute_ms / 1e3) * config.straggler_factor
                  + (1.0 / config.pace if config.pace else 0.0))
        limit = max(STALL_MIN_S, 6 * config.timeout_s, 3 * step_s)
        if self._paused or time.monotonic() - self._last_progress < limit:
            return False
        if self._outcome.error is None:
            self._outcome.error = (f"no progress for {limit:.0f} s although nobody failed: "
                                   "the run is stuck and was ended")
        return True

    def _check_heartbeats(self) -> None:
        now = time.monotonic()
        limit = min(HEARTBEAT_TIMEOUT_S, self.config.timeout_s)
        for w in self._workers:
            if w.status == "running" and w.last_seen and now - w.last_seen > limit:
                self._fail(w, f"frozen: no heartbeat for {now - w.last_seen:.1f} s",
                           root=True)

    def _on_eof(self, w: WorkerHandle) -> None:
        w.events_open = False
        if w.status in ("done", "failed", "left"):
            return
        w.process.join(timeout=1.0)
        code = w.process.exitcode
        if code is not None and code < 0:
            self._fail(w, f"killed by signal {signal.Signals(-code).name}", root=True)
        else:
            self._fail(w, f"exited unexpectedly with code {code}", root=True)

    def _on_batch(self, w: WorkerHandle, batch: list[dict[str, Any]]) -> None:
        events = []
        for message in batch:
            kind = message["type"]
            if kind == "_done":
                w.status = "done"
            elif kind == "_error":
                self._fail(w, message["error"], root=False)
            elif kind == "_hb":
                pass  # heartbeat: the reader thread noted the time
            elif kind == "_peer_lost":
                if message.get("generation", 0) < self._group_generation:
                    continue  # about a group already replaced (its regroup is on the way)
                w.peer_lost = message["error"]
                w.peer_lost_at = w.peer_lost_at or time.monotonic()
            else:
                events.append(message)
                self._observe(w, message)
        if events:
            self._emit(events)
        if self._schedule:
            self._fire_scheduled(max((e["step"] for e in events if e["type"] == "step"),
                                     default=0))

    def _observe(self, w: WorkerHandle, event: dict[str, Any]) -> None:
        if event["type"] == "worker_started":
            w.status = "running"
            w.joining = False
            w.role = event["role"]
        elif event["type"] == "step":
            self._last_progress = time.monotonic()
            self._regroup_retries = 0
            w.last_step = event["step"]
            w.last_loss = event["loss"]
            w.dropped = event["events_dropped"]
            out = self._outcome
            if out.first_step_t is None:
                out.first_step_t = event["t_start"]
            out.last_step_t = event["t"]
        elif event["type"] == "ps_update" and event["rank"] == 0:
            self._outcome.versions = event["version"]

    def _fail(self, w: WorkerHandle, cause: str, *, root: bool) -> None:
        """Record why a rank failed. ``root``: it failed by itself (a signal, a hang, an
        exit); an exception may also just be the echo of a peer's death."""
        if w.status == "failed":
            return
        w.status, w.cause, w.root_cause = "failed", cause, root
        w.detected_at = time.monotonic()

    def _judge_failure(self) -> None:
        """Name the rank(s) that caused the failure, each reported once."""
        if self._outcome.error is not None:
            return  # the run was abandoned (server shutdown): its workers did not fail
        failed = [w for w in self._workers if w.status == "failed"]
        roots = [w for w in failed if w.root_cause] or failed[:1]
        link = self._link_fault
        if link is not None and link[2] == "drop" and not any(w.root_cause for w in failed):
            waiting = next((w for w in failed if w.rank == link[1]), roots[0])
            waiting.cause = (f"timed out waiting for a message from rank {link[0]}, which "
                             f"was dropped on the link {link[0]}→{link[1]}")
            roots = [waiting]
        for w in roots:
            detection = (round((w.detected_at - w.fault_at) * 1e3, 1)
                         if w.fault_at is not None and w.detected_at is not None else None)
            self._emit([make_event("worker_failed", t=self._now(), rank=w.rank,
                                   cause=w.cause, detection_ms=detection, pid=w.pid)])
        self._failure = roots[0]

    def inject_link(self, action: str, src: int, dst: int, ms: float | None = None, *,
                    scheduled: bool = False) -> None:
        """A fault on the link src→dst: ``delay`` adds ``ms`` to every message (emulated),
        ``drop`` loses the next message and everything after it on that link, so its
        receiver waits in vain until the process-group timeout."""
        if action not in LINK_FAULTS:
            raise ValueError(f"unknown link fault {action!r}; choose one of {LINK_FAULTS}")
        fault = {"action": action, "src": src, "dst": dst,
                 **({"ms": ms} if action == "delay" else {})}
        check_fault(self.config, self.config.spec, fault)  # as for a scheduled fault
        if self._group_generation:
            raise ValueError("link faults name the original ranks: not available once an "
                             "elastic run has changed its members")
        with self._lock:
            if self._finished.is_set():
                raise RuntimeError("the run has already ended")
            self._link_fault = (src, dst, action)
            self._send_control({"action": action, "src": src, "dst": dst, "ms": ms})
            self._emit([make_event("fault", t=self._now(), rank=src, action=action,
                                   factor=None, pid=None, src=src, dst=dst, ms=ms,
                                   **({"scheduled": True} if scheduled else {}))])

    def _should_restart(self) -> bool:
        config = self.config
        return (self._failure is not None and self._outcome.error is None
                and config.recovery == "restart" and self._restarts < config.max_restarts
                and not self._stop_requested)

    def _restart(self) -> None:
        """The torchrun model: stop everyone, restart every rank from the last checkpoint."""
        with self._lock:
            failed = self._failure
            assert failed is not None and self._checkpoint_dir is not None
            progress = max(w.last_step for w in self._workers)
            self._teardown()
            if self.config.strategy == "parameter_server":
                # Each server rebuilds its shard from its checkpoint plus its update log
                # (a server_restored event); workers resume at the iteration on record.
                ckpt, refused = None, []
                from_step, progress = progress, 0
                self._resume = {"ps": True, "until": self._common_ps_version()}
            else:
                ckpt, refused = checkpoint.load_latest(self._checkpoint_dir)
                from_step = ckpt.step if ckpt else 0
                self._resume = None if ckpt is None else {
                    "file": ckpt.path.name, "step": ckpt.step,
                    "sha256": hashlib.sha256(ckpt.path.read_bytes()).hexdigest()}
            self._restarts += 1
            self._generation += 1
            self._failure = None
            self._emit([make_event(
                "recovery", t=self._now(), rank=failed.rank, step=from_step,
                policy="restart", failed_rank=failed.rank, from_step=from_step,
                lost_steps=[from_step + 1, progress] if progress > from_step else None,
                generation=self._generation, refused=refused)])
            self._spawn_generation()

    # ------------------------------------------------------------- elastic runs
    def _should_shrink(self) -> bool:
        config = self.config
        survivors = [w for w in self._workers if w.status == "running"]
        return (self._failure is not None and self._outcome.error is None
                and config.recovery == "shrink" and self._restarts < config.max_restarts
                and bool(survivors) and not self._stop_requested)

    def _shrink(self) -> None:
        """Elastic recovery: the survivors form a smaller group and go on from their own
        state, without a checkpoint (as elastic Horovod does). They are waiting for this:
        their collectives broke when the failed rank went away."""
        with self._lock:
            failed = self._failure
            assert failed is not None
            self._take_out_failed()
            members = self._regroup_now()
            self._restarts += 1
            self._failure = None
            self._emit_recovery("shrink", failed.rank, members[0].last_step,
                                [w.rank for w in members])

    def _should_continue(self) -> bool:
        """Parameter server, recovery ``continue``: dead workers are simply left behind,
        as long as no server died and enough workers remain to make progress."""
        config = self.config
        if (self._failure is None or self._outcome.error is not None
                or config.recovery != "continue" or self._stop_requested):
            return False
        failed = [w for w in self._workers if w.status == "failed"]
        alive = [w for w in self._workers if w.role == "worker" and w.status == "running"]
        opts = config.opts
        needed = config.workers - opts.backup_workers if opts.ps_mode == "backup" else 1
        return all(w.role == "worker" for w in failed) and len(alive) >= needed

    def _continue_without(self) -> None:
        with self._lock:
            failed = self._failure
            assert failed is not None
            for w in self._take_out_failed():
                # The survivors' control threads pass it on to the servers.
                self._send_control({"action": "worker_left", "rank": w.rank})
            self._failure = None
            self._emit_recovery("continue", failed.rank, failed.last_step,
                                [w.rank for w in self._active()])

    def _rejoin(self, rank: int) -> None:
        """Add a worker that left back: a new process for its rank joins the survivors at
        the next step boundary and receives the current parameters before its first step."""
        if self.config.recovery != "shrink":
            raise ValueError("rejoin needs recovery 'shrink' (an elastic run)")
        if (self._failure is not None
                or any(x.status in ("failed", "starting") or x.peer_lost_at is not None
                       for x in self._workers)):
            raise RecoveryInProgress("the group is still changing (a failure or another "
                                     "rejoin in progress); try again in a moment")
        w = self._workers[rank]
        if w.status != "left":
            raise ValueError(f"rank {rank} is {w.status}: only a rank that has left the "
                             "group can rejoin")
        survivors = [x for x in self._workers if x.status == "running"]
        if not survivors:
            raise ValueError("no running workers to rejoin")
        # Survivors keep group ranks 0..k-1 (rank 0 holds the state to broadcast); the
        # newcomer comes last.
        message = self._new_group([x.rank for x in survivors] + [rank])
        self._send_control({"action": "regroup", **message})  # agreed at a step boundary
        newcomer = self._spawn(rank, self._devices[rank], message["store_port"],
                               regroup=message)
        newcomer.joining = True
        self._workers[rank] = newcomer
        threading.Thread(target=self._read_events, args=(newcomer,), daemon=True,
                         name=f"run-{self.run_id}-read{rank}g{self._group_generation}").start()
        self._emit_recovery("rejoin", rank, survivors[0].last_step, message["members"])

    def _take_out_failed(self) -> list[WorkerHandle]:
        """Failed workers leave the run for good: SIGKILL (a frozen one too, so it is not
        left stopped) and marked ``left``."""
        gone = [w for w in self._workers if w.status == "failed"]
        for w in gone:
            w.process.kill()
            w.process.join(timeout=GRACE_S)
            w.status = "left"
        return gone

    def _regroup_now(self) -> list[WorkerHandle]:
        """Out of band (the old group is broken): tell the running workers, and any being
        added back, to form a new group. Returns its members, in group-rank order."""
        members = [w for w in self._workers
                   if w.status == "running" or (w.status == "starting" and w.joining)]
        message = self._new_group([w.rank for w in members])
        for w in members:
            w.peer_lost = w.peer_lost_at = None
            with contextlib.suppress(OSError):  # that worker is dying: the monitor sees it
                w.control.send({"type": "regroup", **message})
        return members

    def _emit_recovery(self, policy: str, rank: int, from_step: int,
                       members: list[int]) -> None:
        """A ``recovery`` event of an elastic policy (no checkpoint, so no lost steps)."""
        self._emit([make_event(
            "recovery", t=self._now(), rank=rank, step=from_step, policy=policy,
            failed_rank=rank, from_step=from_step, lost_steps=None,
            generation=self._group_generation, refused=[], members=members)])

    def _common_ps_version(self) -> int | None:
        """Sync and backup servers must restart at one version: the newest every server's
        log holds (one may have applied a round the crash kept another from applying)."""
        if self.config.opts.ps_mode not in ("sync", "backup") or self._checkpoint_dir is None:
            return None
        return min(updatelog.last_version(self._checkpoint_dir / f"server{i}" / "updates.log")
                   for i in range(self.config.num_servers))

    def _new_group(self, members: list[int]) -> dict[str, Any]:
        """A fresh rendezvous for a new membership (the old group cannot be reused)."""
        if self._store is not None:
            self._old_stores.append(self._store)
        self._store = dist.TCPStore(STORE_HOST, 0, len(members), is_master=True,
                                    wait_for_workers=False,
                                    timeout=timedelta(seconds=self.config.timeout_s))
        self._group_generation += 1
        return {"generation": self._group_generation, "members": members,
                "store_port": self._store.port}

    def _check_lost_peers(self) -> None:
        """Ranks whose group broke (or never formed) although nobody failed.

        Elastic runs first form the same group again, a few times: a join can time out
        while a member is still leaving the previous group. If that does not help, a rank
        whose collective keeps breaking with nobody failed is itself the problem.
        """
        lost = [w for w in self._workers
                if w.peer_lost_at is not None and w.status in ("running", "starting")]
        if not lost:
            return
        now = time.monotonic()
        first = min(w.peer_lost_at for w in lost if w.peer_lost_at is not None)
        if (self.config.recovery == "shrink" and self._regroup_retries < REGROUP_RETRIES
                and now - first > REGROUP_RETRY_S
                and not any(w.status == "failed" for w in self._workers)):
            self._regroup_retries += 1
            with self._lock:
                self._regroup_now()
            return
        limit = self.config.timeout_s + GRACE_S
        for w in lost:
            if w.status == "running" and now - first > limit:
                self._fail(w, w.peer_lost or "its collective broke", root=False)

    def _fire_scheduled(self, step: int) -> None:
        """Faults planned before the run fire once the first worker has finished their
        step; one that cannot apply any more is reported, not silently lost."""
        due = []
        while self._schedule and self._schedule[0]["after_step"] <= step:
            due.append(self._schedule.pop(0))
        for fault in due:
            action = fault["action"]
            try:
                if action in LINK_FAULTS:
                    self.inject_link(action, fault["src"], fault["dst"], fault.get("ms"),
                                     scheduled=True)
                else:
                    self.inject(action, fault["rank"], fault.get("factor"), scheduled=True)
            except (ValueError, RuntimeError) as exc:
                if isinstance(exc, RecoveryInProgress):
                    self._schedule.insert(0, fault)  # a recovery is under way: next step
                    continue
                self._emit([make_event("fault", t=self._now(), rank=fault.get("rank"),
                                       action=action, factor=fault.get("factor"), pid=None,
                                       scheduled=True, not_applied=str(exc))])

    def _active(self) -> list[WorkerHandle]:
        """Workers that are part of the run (not those an elastic shrink left behind)."""
        return [w for w in self._workers if w.status != "left"]

    # ------------------------------------------------------------------- helpers
    def _teardown(self) -> None:
        """Give exiting workers a moment, SIGKILL the rest, release pipes and the store."""
        grace_until = time.monotonic() + GRACE_S
        for w in self._workers:
            if w.status == "done":
                w.process.join(timeout=max(0.0, grace_until - time.monotonic()))
        self._kill_all()
        for w in self._workers:
            w.process.join(timeout=GRACE_S)
            w.control.close()  # reader threads see EOF on events once the worker is gone
        self._store = None
        self._old_stores.clear()

    def _kill_all(self) -> None:
        for w in self._workers:
            if w.process.is_alive():
                w.process.kill()  # SIGKILL works on frozen (SIGSTOPped) processes too
                if w.status not in ("done", "failed"):
                    w.status = "killed"

    def _steps_done(self) -> int:
        """Steps every worker completed; for the parameter server, the furthest worker's
        (with backup workers or async, a straggler legitimately completes fewer)."""
        # A newcomer that died before its first step does not hold the run back.
        steps = [w.last_step for w in self._active() if w.role == "worker"
                 and (w.last_step > 0 or w.status in ("running", "done"))]
        if self.config.strategy == "parameter_server":
            return max(steps, default=0)
        return min(steps, default=0)

    def _reached_the_end(self) -> bool:
        config = self.config
        if config.strategy != "parameter_server":
            return self._steps_done() >= config.steps
        per_step = 1 if config.opts.ps_mode in ("sync", "backup") else config.workers
        return self._outcome.versions >= config.steps * per_step

    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _emit(self, events: list[dict[str, Any]]) -> None:
        with self._lock:
            stamped = []
            for event in events:
                self._seq += 1
                stamped.append({**json_safe(event), "seq": self._seq, "run_id": self.run_id})
            self._on_events(stamped)

    def _emit_run_started(self) -> None:
        config = self.config
        dataset = datasets.make_dataset(config.dataset, config.num_samples, config.seed)
        model = build_model(config.model, config.hidden, config.seed)
        network = build_network(config.network, world_size=config.world_size,
                                latency_us=config.latency_us,
                                bandwidth_gbps=config.bandwidth_gbps, links=config.links)
        self._emit([make_event(
            "run_started", t=self._now(), config=config.to_dict(),
            world_size=config.world_size, num_servers=config.num_servers,
            backend=self.backend, num_params=num_params(model),
            schema_version=SCHEMA_VERSION, strategy=config.strategy,
            network=network.describe() if network else None,
            dataset={"name": dataset.name, "num_classes": dataset.num_classes,
                     "extent": [round(v, 4) for v in dataset.extent()],
                     "points": datasets.points_for_ui(dataset, config.workers, config.seed,
                                                      rank_offset=config.num_servers)},
        )])

    def _finish(self, status: str, error: str | None) -> None:
        with self._lock:
            if self._finished.is_set():
                return
            out = self._outcome
            losses = [w.last_loss for w in self._active() if w.last_loss is not None]
            steps_done = self._steps_done()
            train_s = ((out.last_step_t or 0) - (out.first_step_t or 0)) if steps_done else 0
            summary = {
                "steps_completed": steps_done,
                "wall_s": round(self._now(), 4),
                "startup_s": round(out.first_step_t, 4) if out.first_step_t else None,
                "steps_per_s": round(steps_done / train_s, 2) if train_s > 0 else None,
                "final_loss": round(sum(losses) / len(losses), 6) if losses else None,
                "events_dropped": sum(w.dropped for w in self._workers),
                **({"versions": out.versions}
                   if self.config.strategy == "parameter_server" else {}),
            }
            self._outcome.status = status
            self._emit([make_event("run_finished", t=self._now(), status=status,
                                   error=error, summary=summary)])
            self._finished.set()
        if self._own_tmp and self._checkpoint_dir is not None:
            shutil.rmtree(self._checkpoint_dir.parent, ignore_errors=True)
