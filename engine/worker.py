"""One worker process: joins the process group, trains, and reports every step.

Started by the supervisor through a forkserver that has already imported torch (this
module is preloaded there), so starting a worker costs a fork, not an ``import torch``.

Two pipes connect a worker to its supervisor, one per direction, each private to this
worker (a killed worker can corrupt only its own pipe, never a shared queue):

- events: the training loop puts events on a bounded in-process queue and a sender thread
  writes them to the pipe, so emitting never blocks training; when the queue is full the
  event is dropped and counted (``events_dropped`` in the next step event);
- control: a reader thread applies pause/resume/step/stop/pace messages. End-of-file on it
  means the supervisor is gone, and the worker exits at once: no orphans.
"""

from __future__ import annotations

import ctypes
import math
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from engine import causes, checkpoint
from engine import data as datasets
from engine.comms import Comms
from engine.config import RunConfig
from engine.control import ControlState, Regroup, StepGate
from engine.events import make_event, phases_of
from engine.model import (
    boundary_grid,
    flat_params,
    load_flat,
    model_for,
    param_fingerprint,
)
from engine.network import build_network
from engine.sampling import write_sample, writing_due
from engine.strategies.base import WorkerContext, step_phases
from engine.topology import Topology

EVENT_QUEUE_SIZE = 20_000
HEARTBEAT_S = 0.5  # an idle sender says "alive" this often; silence means frozen
SEND_BATCH = 256
SEND_INTERVAL_S = 0.01  # events reach the supervisor at most this late, at a human pace
# At full speed nobody follows each step by eye, and every batch costs a wake-up, a pickle
# and a pipe write here and in the supervisor, on the cores training needs: batch longer.
FULL_SPEED_SEND_INTERVAL_S = 0.05
PR_SET_PDEATHSIG = 1
EXIT_SUPERVISOR_GONE = 70


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What the supervisor tells a worker (pickled to the new process)."""

    rank: int
    world_size: int
    config: dict[str, Any]
    backend: str
    device: str
    store_host: str
    store_port: int
    t0: float  # supervisor's time.monotonic() at run start (system-wide clock on Linux)
    checkpoint_dir: str | None = None
    resume: dict[str, Any] | None = None  # {file, sha256, step}: restart from this checkpoint
    control_seq: int = 0  # control messages the run had already applied (restarts)
    paused: bool = False  # the run was paused when this generation started
    regroup: dict[str, Any] | None = None  # {members, store_port}: join an elastic run


class EventSender:
    """Non-blocking emit: events collect in a bounded buffer that a background thread
    sends down the pipe in batches every ``SEND_INTERVAL_S`` (``FULL_SPEED_SEND_INTERVAL_S``
    while the run goes at full speed: ``paced`` says which).

    Training pays one ``deque.append`` per event (atomic, no lock, no thread woken), not
    a wake-up of the sender per event, which at full speed cost more than the event.
    """

    def __init__(self, conn: Connection, t0: float, queue_size: int = EVENT_QUEUE_SIZE,
                 paced: Callable[[], bool] = lambda: True) -> None:
        self.conn = conn
        self.t0 = t0
        self.paced = paced
        self.dropped = 0
        self._limit = queue_size
        self._buffer: deque[dict[str, Any]] = deque()
        self._urgent = threading.Event()  # an essential message, or closing: send now
        self._closing = False
        self._thread = threading.Thread(target=self._drain, name="event-sender", daemon=True)
        self._thread.start()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def emit(self, type_: str, *, essential: bool = False, **fields: Any) -> None:
        self.put(make_event(type_, t=self.now(), **fields), essential=essential)

    def put(self, message: dict[str, Any], *, essential: bool = False) -> None:
        """Queue without waiting; when the buffer is full the event is dropped and
        counted. ``essential`` messages (done, error, control news) are always kept and
        sent at once."""
        if essential:
            self._buffer.append(message)
            self._urgent.set()
        elif len(self._buffer) < self._limit:
            self._buffer.append(message)
        else:
            self.dropped += 1

    def close(self) -> None:
        """Send everything queued so far (control messages included), then stop."""
        self._closing = True
        self._urgent.set()
        self._thread.join(timeout=10)

    def _drain(self) -> None:
        last_sent = time.monotonic()
        while True:
            self._urgent.wait(SEND_INTERVAL_S if self.paced() else FULL_SPEED_SEND_INTERVAL_S)
            self._urgent.clear()
            closing = self._closing  # read before draining: nothing queued before is lost
            batches = []
            while self._buffer:
                batch = []
                while self._buffer and len(batch) < SEND_BATCH:
                    batch.append(self._buffer.popleft())
                batches.append(batch)
            if not batches and time.monotonic() - last_sent >= HEARTBEAT_S:
                batches = [[{"type": "_hb"}]]  # nothing to say, but alive (not frozen)
            try:
                for batch in batches:
                    self.conn.send(batch)
                    last_sent = time.monotonic()
            except OSError:
                os._exit(EXIT_SUPERVISOR_GONE)
            if closing:
                return


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL us when our parent (the forkserver) dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # not Linux: the control-pipe lifeline below still applies
        pass


def _read_control(conn: Connection, control: ControlState) -> None:
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            os._exit(EXIT_SUPERVISOR_GONE)  # the supervisor is gone: never linger
        control.receive(message)


# A spare's data set and model, built before it is needed.
Prepared = tuple[datasets.Dataset | datasets.TextDataset, torch.nn.Module]


def _prepare(config: RunConfig) -> Prepared:
    """The run's data set and initial model: the same on every rank (seeded), on the CPU."""
    dataset = datasets.dataset_for(config)
    return dataset, model_for(config, dataset.num_classes)


def spare_main(config_dict: dict[str, Any], events_conn: Connection,
               control_conn: Connection) -> None:
    """A spare process of a run that restarts from checkpoints (engine/processes.py's
    warm pool): started ahead of need, it builds the run's data set and model, then waits
    for the rank it is to be. A restart then costs no process start-up."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepared = _prepare(RunConfig.from_dict(config_dict))
    try:
        spec = control_conn.recv()
    except (EOFError, OSError):
        os._exit(EXIT_SUPERVISOR_GONE)  # the run ended without needing us
    worker_main(spec, events_conn, control_conn, prepared)


def worker_main(spec: WorkerSpec, events_conn: Connection, control_conn: Connection,
                prepared: Prepared | None = None,
                lifeline: Callable[[], None] | None = None) -> None:
    # A worker on another host (engine/join.py) brings its own lifeline: it watches its
    # torchrun agent, to tell the supervisor that the host is lost before it exits.
    (lifeline or _die_with_parent)()
    # Ctrl+C in a terminal signals the whole process group; the supervisor, not the
    # keyboard, decides when a worker ends (and records why).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = RunConfig.from_dict(spec.config)
    control = ControlState(config.pace, rank=spec.rank)
    sender = EventSender(events_conn, spec.t0, paced=lambda: bool(control.pace))
    # A restarted worker joins a run already under way: it starts from the run's controls.
    control.received_seq = control.applied_seq = spec.control_seq
    control.paused = spec.paused
    threading.Thread(
        target=_read_control, args=(control_conn, control), name="control", daemon=True
    ).start()
    torch.set_num_threads(1)  # N workers share a few cores; oversubscription only hurts
    try:
        _train(spec, config, sender, control, prepared or _prepare(config))
        sender.put({"type": "_done", "rank": spec.rank}, essential=True)
    except Exception as exc:  # reported to the supervisor, which fails the run
        sender.put({
            "type": "_error", "rank": spec.rank, "cause": causes.of_exception("exception", exc),
            "traceback": traceback.format_exc(),
        }, essential=True)
        sender.close()
        sys.exit(1)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    sender.close()


def _train(spec: WorkerSpec, config: RunConfig, sender: EventSender,
           control: ControlState, prepared: Prepared) -> None:
    if spec.device.startswith("cuda"):
        torch.cuda.set_device(spec.device)
    dataset, model = prepared
    model = model.to(spec.device)
    loop = _Trainer(spec, config, sender, control, dataset, model)
    started = False

    def announce(group: _Group) -> None:
        nonlocal started
        if not started:  # once per process, after its first group is formed
            role = config.roles[spec.rank]  # the process rank this worker was started as
            # Sent at once, not with the next batch: the supervisor must know the rank
            # is up before its peers' first steps arrive (faults check it).
            sender.emit("worker_started", essential=True, rank=spec.rank, pid=os.getpid(),
                        role=role,
                        device=spec.device, host=socket.gethostname(),
                        shard_size=(0 if role == "server" else datasets.samples_per_epoch(
                            config.num_samples, config.batch_size,
                            group.ctx.data_world)))
            started = True

    # Elastic runs change groups: after a failure (the supervisor's out-of-band regroup)
    # or when a worker is added back (a regroup agreed on at a step boundary). A worker
    # added back starts by joining the group named in its spec — inside the retry, so if
    # that group breaks while it joins, it joins the next one instead.
    message: dict[str, Any] | None = spec.regroup
    generation = spec.regroup["generation"] if spec.regroup else 0
    must_agree = False
    if spec.regroup is None:
        group = loop.join(list(range(spec.world_size)), spec.store_port)
        announce(group)
        if config.spec.loop == "own":  # e.g. the parameter server: no lock step
            group.strategy.run(group.ctx, _Runtime(
                sender, StepGate(control), control,
                dataset.extent() if dataset.kind == "points" else None,
                checkpoint_dir=spec.checkpoint_dir, resumed=spec.resume is not None,
                resume_until=(spec.resume or {}).get("until")))
            return
        if spec.resume is not None:
            # Replicas: every rank loads the same verified checkpoint. A split model: each
            # process loads its own part's (spec.parts_checkpoint).
            mine = spec.resume["ranks"][str(spec.rank)] if "ranks" in spec.resume \
                else spec.resume
            ckpt = checkpoint.load(Path(spec.checkpoint_dir) / mine["file"],
                                   mine["sha256"], spec.resume["step"])
            held = model if config.spec.replicas else group.ctx.model
            load_flat([p.data for p in held.parameters()], ckpt.params.to(spec.device))
            if config.spec.optimizer_state:
                if ckpt.optimizer is None:
                    raise checkpoint.CheckpointError(
                        f"{ckpt.path.name}: holds no optimizer state, and the "
                        f"{config.spec.name} strategy needs it to restart")
                group.strategy.load_optimizer_state(ckpt.optimizer)
            loop.done = ckpt.step
    while True:
        try:
            if message is not None:
                if dist.is_initialized():
                    dist.destroy_process_group()
                generation = message["generation"]
                group = loop.join(message["members"], message["store_port"],
                                  generation=generation)
                announce(group)
                message, must_agree = None, True
            if must_agree:
                loop.agree_on_progress(group)
                must_agree = False
            loop.run(group)
            return
        except Regroup as order:  # a worker is added back (at this step boundary), or a
            message = order.message  # newer regroup replaced the one being joined
        except RuntimeError as exc:  # the group broke: a peer died or froze (or a join did)
            if config.recovery != "shrink":
                raise
            # Elastic: tell the supervisor, then wait for the new membership. The
            # generation lets it ignore news of a group it has already replaced.
            sender.put({"type": "_peer_lost", "rank": spec.rank, "generation": generation,
                        "cause": causes.of_exception("collective", exc, limit=300)},
                       essential=True)
            message = control.wait_for_regroup(timeout=config.timeout_s + REGROUP_WAIT_S)
            if message is None:
                raise


def _show_nothing(_model: torch.nn.Module, _step: int) -> None:
    """Only the leader shows the model."""


REGROUP_WAIT_S = 30.0
MEET_POLL_S = 0.02


@dataclass(slots=True)
class _Group:
    """This worker's view of one process group (there is a new one after every regroup)."""

    topo: Topology
    comms: Comms
    ctx: WorkerContext
    strategy: Any
    gate: StepGate


class _Trainer:
    """The synchronous training loop of one worker, across process groups.

    ``done`` is the last step this worker completed; it survives a regroup, so an
    elastic run goes on from where the survivors were instead of from a checkpoint.
    """

    def __init__(self, spec: WorkerSpec, config: RunConfig, sender: EventSender,
                 control: ControlState, dataset: datasets.Dataset, model: torch.nn.Module
                 ) -> None:
        self.spec, self.config, self.sender, self.control = spec, config, sender, control
        self.dataset, self.model = dataset, model
        self.done = 0
        self.step_now = 0
        # What the leader shows of a whole model (show_model): the MLP's decision
        # boundary over the points, or the transformer's writing.
        self.extent = dataset.extent() if dataset.kind == "points" else None
        self.boundary = BoundaryPacer()

    def show_model(self, model: torch.nn.Module, step: int) -> None:
        """The leader shows the whole model when it is due: the MLP's decision boundary
        over the points, or what the transformer writes."""
        rank = self.spec.rank
        if self.extent and self.boundary.due(self.config, self.control, step):
            self.sender.emit("boundary", rank=rank, step=step,
                             grid=boundary_grid(model, self.extent))
        if self.config.model == "transformer" and writing_due(self.config, step):
            self.sender.emit("sample", rank=rank, step=step,
                             **write_sample(model, self.dataset, self.config.context))

    def join(self, members: list[int], store_port: int,
             generation: int | None = None) -> _Group:
        """Join the process group of ``members`` (workers, in group-rank order).

        ``generation``: an elastic regroup. Then the members first meet in the store, and
        one that learns of a newer regroup meanwhile goes there instead (Regroup), so that
        nobody waits in a group the others have already given up.
        """
        spec, config = self.spec, self.config
        rank, world = members.index(spec.rank), len(members)
        timeout = timedelta(seconds=config.timeout_s)
        store = dist.TCPStore(spec.store_host, store_port, world, is_master=False,
                              timeout=timeout)
        if generation is not None:
            self._meet(store, members, generation)
        dist.init_process_group(spec.backend, store=store, rank=rank, world_size=world,
                                timeout=timeout)
        ids = () if members == list(range(world)) else tuple(members)
        topo = Topology(rank=rank, world_size=world, backend=spec.backend, device=spec.device,
                        ids=ids, node_size=config.node_size)
        # Parameter-server runs put the servers first; only workers train on data. After
        # an elastic regroup each global batch is dealt out among the members.
        num_servers = config.num_servers
        data_rank, data_world = rank - num_servers, world - num_servers
        network = build_network(config.network, world_size=world,
                                latency_us=config.latency_us,
                                bandwidth_gbps=config.bandwidth_gbps, links=config.links,
                                nodes=[topo.node_of(r) for r in range(world)])
        comms = Comms(topo, emit_comm=self._emit_comm if config.detail else None,
                      network=network, link_faults=self.control)
        ctx = WorkerContext(config=config, topo=topo, comms=comms, model=self.model,
                            data=self.dataset, data_rank=data_rank, data_world=data_world,
                            control=self.control, emit=self.sender.emit,
                            clock=self.sender.now,
                            show_model=self.show_model if topo.is_leader else _show_nothing,
                            regrouped=generation is not None,
                            joining=spec.regroup is not None and self.done == 0)
        strategy = config.spec.implementation()
        strategy.setup(ctx)  # rank 0 broadcasts its parameters: every replica equal
        comms.take_stats()  # set-up traffic (the initial broadcast) is not step 1's
        return _Group(topo, comms, ctx, strategy, StepGate(self.control, comms, spec.device))

    def _meet(self, store: dist.TCPStore, members: list[int], generation: int) -> None:
        store.set(f"ready/{self.spec.rank}", "1")
        keys = [f"ready/{m}" for m in members]
        deadline = time.monotonic() + 2 * self.config.timeout_s
        while not store.check(keys):
            newer = self.control.take_newer_regroup(generation)
            if newer is not None:
                raise Regroup(newer)
            if time.monotonic() > deadline:
                raise RuntimeError(f"regroup {generation}: not every member of {members} "
                                   "arrived in time")
            time.sleep(MEET_POLL_S)

    def agree_on_progress(self, group: _Group) -> None:
        """After a regroup, everyone goes on from group rank 0's step (whose parameters
        ``join`` has just broadcast), so state and step number travel together — and from
        its controls: a newcomer must also be paused, with the same single steps owed."""
        control = self.control
        state = torch.tensor([self.done, int(control.paused), control.step_tokens],
                             dtype=torch.int64, device=self.spec.device)
        group.comms.broadcast(state, src=0)
        group.comms.take_stats()
        self.done, paused, tokens = (int(v) for v in state.tolist())
        control.adopt(paused=bool(paused), step_tokens=tokens)

    def _emit_comm(self, *, step: int | None = None, **fields: Any) -> None:
        # A strategy that owns its loop names the step itself (a server's reply belongs
        # to the iteration of the worker that asked).
        self.sender.emit("comm", rank=self.spec.rank, step=step or self.step_now or None,
                         **fields)

    def run(self, group: _Group) -> None:
        """Train until the last step or a stop; raises if the group breaks."""
        spec, config, sender, model = self.spec, self.config, self.sender, self.model
        rank, topo, comms = spec.rank, group.topo, group.comms
        # This process's parameters: the whole model, or the part a strategy that splits
        # the model kept (its setup set ``ctx.model`` to its part).
        held = list(group.ctx.model.parameters())
        while self.done < config.steps:
            if not group.gate.wait_for_next_step():
                return
            step = self.done + 1
            t_start = sender.now()
            self.step_now = step
            result = group.strategy.train_step(step)
            stats = comms.take_stats()
            self.done = step
            extra = result.extra or {}
            checksum, digest = param_fingerprint(held)
            phases = step_phases(*(result.phases or [
                ("wait", stats.wait_ms), ("compute", result.compute_ms),
                ("emulated", extra.get("emulated_ms", 0.0)), ("comm", stats.comm_ms)]))
            fields: dict[str, Any] = dict(
                loss=round(result.loss, 6),
                grad_norm=round(result.grad_norm, 6), compute_ms=round(result.compute_ms, 4),
                comm_ms=round(stats.comm_ms, 4), wait_ms=round(stats.wait_ms, 4),
                comm_modelled_ms=(None if stats.modelled_ms is None
                                  else round(stats.modelled_ms, 6)),
                bytes_sent=stats.bytes_sent, bytes_recv=stats.bytes_recv,
                **({"bytes_across_nodes": stats.bytes_across} if config.node_size else {}),
                param_checksum=checksum, param_hash=digest,
                lr=config.lr, samples=result.samples,
                # The step began with the barrier wait that preceded the compute.
                t_start=round(t_start - stats.wait_ms / 1e3, 6),
                events_dropped=sender.dropped, **extra,
            )
            # Phases that are just this step's own timings in the usual order are left
            # out: every reader derives them (phases_of), and they would repeat four
            # numbers to every live viewer each step. Phases of the strategy's own go.
            if [(name, ms) for name, ms in phases] != phases_of(fields):
                fields["phases"] = phases
            sender.emit("step", rank=rank, step=step, **fields)
            if config.spec.replicas and topo.is_leader:  # else the strategy shows it
                self.show_model(model, step)
            if (spec.checkpoint_dir and config.checkpoint_every
                    and step % config.checkpoint_every == 0
                    and (topo.is_leader or not config.spec.replicas)):
                # Replicas are identical, so the leader's copy is the run's state; where the
                # model is split, every process saves its own part, in a folder of its own.
                started = time.perf_counter()
                folder = Path(spec.checkpoint_dir)
                if not config.spec.replicas:
                    folder = folder / checkpoint.part_folder(rank)
                path, size = checkpoint.save(
                    folder, step, flat_params(group.ctx.model),
                    group.strategy.optimizer_state() if config.spec.optimizer_state else None)
                sender.emit("checkpoint_saved", rank=rank, step=step,
                            file=str(path.relative_to(spec.checkpoint_dir)), bytes=size,
                            duration_ms=round((time.perf_counter() - started) * 1e3, 3))


BOUNDARY_PER_S = 4  # the picture changes slowly, viewers are many


class BoundaryPacer:
    """When the leader draws the decision boundary: a few frames a second of the run,
    every step while paused (single steps), and at the last step.

    At a human pace that is every ``ceil(pace / BOUNDARY_PER_S)`` steps; at full speed
    it is by the clock (BOUNDARY_PER_S a second), not by step count: a frame costs the
    leader a forward pass over the grid, and in lock step everyone waits for it."""

    def __init__(self) -> None:
        self.last_t: float | None = None

    def due(self, config: RunConfig, control: ControlState, step: int) -> bool:
        if step == config.steps or control.paused:  # the end, and every single step
            return self._drawn()
        every = config.boundary_every
        if every is None and control.pace:
            every = max(1, math.ceil(control.pace / BOUNDARY_PER_S))
        if every is not None:
            return step % every == 0 and self._drawn()
        now = time.monotonic()
        if self.last_t is None or now - self.last_t >= 1 / BOUNDARY_PER_S:
            return self._drawn(now)
        return False

    def _drawn(self, now: float | None = None) -> bool:
        self.last_t = time.monotonic() if now is None else now
        return True


@dataclass(frozen=True, slots=True)
class _Runtime:
    """What a strategy that owns its loop may use of the worker process."""

    sender: EventSender
    gate: StepGate
    control: ControlState
    extent: tuple[float, float, float, float] | None  # None: the data is not 2-D points
    checkpoint_dir: str | None = None  # where a server keeps its checkpoints and log
    resumed: bool = False  # restarted after a crash: rebuild state instead of starting over
    resume_until: int | None = None  # rebuild no further than this version (sync servers)
    boundary: BoundaryPacer = field(default_factory=BoundaryPacer)

    def emit(self, type_: str, **fields: Any) -> None:
        self.sender.emit(type_, **fields)

    def boundary_due(self, ctx: WorkerContext, step: int) -> bool:
        return self.boundary.due(ctx.config, self.control, step)

    def maybe_emit_boundary(self, ctx: WorkerContext, step: int) -> None:
        if self.boundary_due(ctx, step):
            self.emit_boundary(ctx, step)

    def emit_boundary(self, ctx: WorkerContext, step: int) -> None:
        self.sender.emit("boundary", rank=ctx.topo.rank, step=step,
                         grid=boundary_grid(ctx.model, self.extent))

    def now(self) -> float:
        return self.sender.now()

    def dropped(self) -> int:
        return self.sender.dropped
