"""Parameter server: servers hold the parameters, workers compute the gradients.

Ranks 0..S-1 are servers, each owning one contiguous shard of the flat parameter vector;
ranks S..S+W-1 are workers, each with its own shard of the data. One worker iteration:

1. pull: ask every server for its parameter shard (the server may make it wait);
2. compute the gradient of the loss on its own batch;
3. push: send each server its slice of the gradient, tagged with the version it read.

What a server does with pushed gradients is the consistency model:

- ``sync`` (BSP): wait until every worker's gradient for the current version is in,
  apply their mean, version + 1. Everyone waits for the slowest worker.
- ``backup`` (Chen et al. 2016): N + b workers; apply the mean of the *first* N gradients
  of a version and drop the b late ones. A straggler no longer sets the pace.
- ``async`` (ASP): apply every gradient the moment it arrives. Its staleness is the
  server's version when applied minus the version its worker read.
- ``ssp`` (stale synchronous parallel): async, but a worker more than s iterations ahead
  of the slowest worker is not served its next pull until the slowest catches up.

When a worker dies (recovery ``continue``), the servers are told by the surviving
workers (a LEFT message) and stop expecting it: async and SSP simply go on with the
others, backup mode goes on while enough workers remain to fill a round.

With checkpoints (``checkpoint_every`` K) each server saves its shard every K versions
and writes every update to a log before applying it (engine/updatelog.py). Under recovery
``restart``, a crash restarts every process; each server rebuilds its exact state from
its last checkpoint plus a replay of the log, and each worker resumes at the iteration
the servers have on record for it.

All messages are real point-to-point sends on the process group. A server receives from
*any* worker (whoever is first), which is what makes arrival order — and staleness — real.

References: Li et al., "Scaling distributed machine learning with the parameter server",
OSDI 2014; Chen et al., "Revisiting distributed synchronous SGD", 2016; Ho et al., "More
effective distributed ML via a stale synchronous parallel parameter server", NIPS 2013;
Dean & Barroso, "The tail at scale", CACM 2013.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from engine import checkpoint, updatelog
from engine.model import flat_params, load_flat
from engine.strategies.base import WorkerContext, emulate_work, local_gradients

PULL, PUSH, DONE, LEFT = 1, 2, 3, 4  # what a worker's header says: [kind, a, b, sender]
WAITED_FOR_VERSION, BLOCKED_BY_SSP = 1, 2  # why a server held a pull back
HEADER_TAG, PAYLOAD_TAG = 10, 11
# Waiting is normal here: a paused worker stops pulling, a straggler keeps a sync server
# waiting. So receives do not use the process group's short timeout; a dead peer closes
# its connection (an immediate error) and its supervisor notices its exit.
PATIENCE = timedelta(days=1)
MAX_BROKEN_RECEIVES = 50


def _recv(tensor: torch.Tensor, src: int | None = None, tag: int = PAYLOAD_TAG) -> None:
    """Receive into ``tensor``, from ``src`` or from any rank, waiting as long as needed."""
    dist.irecv(tensor, src=src, tag=tag).wait(PATIENCE)


def _header(kind: int, a: int, b: int) -> torch.Tensor:
    return torch.tensor([kind, a, b, dist.get_rank()])


def shard_bounds(numel: int, servers: int) -> list[tuple[int, int]]:
    """Contiguous, nearly equal slices of the flat parameter vector, one per server."""
    sizes = [len(c) for c in torch.arange(numel).tensor_split(servers)]
    starts = [sum(sizes[:i]) for i in range(servers)]
    return [(a, a + n) for a, n in zip(starts, sizes, strict=True)]


class ParameterServer:
    """Runs the server loop on ranks < servers, the worker loop on the others."""

    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    def run(self, ctx: WorkerContext, runtime: Any) -> None:
        if ctx.topo.rank < ctx.config.servers:
            _Server(ctx, runtime).serve()
        else:
            _Worker(ctx, runtime).work()


# ----------------------------------------------------------------------- server
@dataclass
class _Pull:
    worker: int
    min_version: int
    asked_at: float
    held: int = 0  # why we made it wait (0: we did not)


@dataclass
class _ServerState:
    version: int = 0
    clocks: dict[int, int] = field(default_factory=dict)  # worker -> iterations pushed
    active: set[int] = field(default_factory=set)  # workers not yet sent "stop"
    pending: dict[int, _Pull] = field(default_factory=dict)
    round: list[tuple[int, int, int, torch.Tensor]] = field(default_factory=list)
    stopping: bool = False


class _Server:
    def __init__(self, ctx: WorkerContext, runtime: Any) -> None:
        config = self.config = ctx.config
        self.ctx, self.emit, self.runtime = ctx, runtime.emit, runtime
        self.index = ctx.topo.rank
        self.start, self.end = shard_bounds(sum(p.numel() for p in ctx.model.parameters()),
                                            config.servers)[self.index]
        self.params = flat_params(ctx.model)[self.start:self.end].clone()
        self.workers = list(range(config.servers, ctx.topo.world_size))
        num_workers = len(self.workers)
        # sync and backup: one version per step; async and ssp: one per gradient.
        per_version = num_workers - config.backup_workers
        self.needed = per_version if config.ps_mode in ("sync", "backup") else 1
        self.budget = config.steps if self.needed > 1 or num_workers == 1 else (
            config.steps * num_workers)
        self.state = _ServerState(clocks=dict.fromkeys(self.workers, 0),
                                  active=set(self.workers))
        self.log: updatelog.UpdateLog | None = None
        self.directory: Path | None = None
        if runtime.checkpoint_dir and config.checkpoint_every:
            self.directory = Path(runtime.checkpoint_dir) / f"server{self.index}"
            if runtime.resumed:
                self._rebuild()
            self.log = updatelog.UpdateLog(self.directory / "updates.log")

    def _rebuild(self) -> None:
        """After a crash: the last good checkpoint, then the logged updates since."""
        assert self.directory is not None
        s = self.state
        # Synchronous servers each apply a round on their own, so a crash can leave one a
        # version ahead of another; they all go back to the version every one of them has.
        until = self.runtime.resume_until
        ckpt, refused = checkpoint.load_latest(self.directory, max_step=until)
        base = ckpt.step if ckpt is not None else 0  # no checkpoint yet: the initial shard
        params = ckpt.params.clone() if ckpt is not None else self.params
        path = self.directory / "updates.log"
        updates, torn = updatelog.read(path)
        self.params, s.version, replayed = updatelog.replay(params, base, updates, until)
        kept = [u for u in updates if u.version <= s.version]
        updatelog.UpdateLog.rewrite(path, kept)  # new appends follow the last kept one
        for update in kept:  # the log is never cut short, so it knows every worker's clock
            for entry in update.applied:
                s.clocks[entry["worker"]] = max(s.clocks[entry["worker"]], entry["step"])
        self.emit("server_restored", rank=self.index, step=s.version, version=s.version,
                  checkpoint_version=base, replayed=replayed, torn_tail=torn,
                  refused=refused, param_checksum=float(self.params.double().sum()))

    def serve(self) -> None:
        header = torch.zeros(4, dtype=torch.int64)
        grad = torch.empty_like(self.params)
        s = self.state
        broken = 0  # receive errors in a row
        while s.active:
            try:
                _recv(header, tag=HEADER_TAG)  # from whichever worker is first
            except RuntimeError:
                # A worker killed with our reply unread resets its connection; the
                # receive from any worker reports that. Under 'continue' it is news of a
                # death we hear of anyway (LEFT), not a reason to stop serving — unless
                # the receive keeps failing, which no single death explains.
                broken += 1
                if self.config.recovery != "continue" or broken > MAX_BROKEN_RECEIVES:
                    raise
                time.sleep(0.01)
                continue
            broken = 0
            kind, a, b, src = (int(v) for v in header)
            if kind == PULL:
                s.pending[src] = _Pull(src, min_version=a, asked_at=time.monotonic())
            elif kind == PUSH:
                try:
                    _recv(grad, src=src)
                except RuntimeError:
                    if self.config.recovery != "continue":
                        raise
                    self._forget(src)  # it died between its header and its gradient
                    self._serve_pulls()
                    continue
                self.ctx.comms.stats.bytes_recv += grad.numel() * 4
                s.clocks[src] = b
                self._on_gradient(src, read_version=a, grad=grad.clone())
            elif kind == DONE:  # stopped by the user, or by another server's end
                s.active.discard(src)
                # A synchronous round can no longer collect its gradients; asynchronous
                # servers go on with whoever is still pushing.
                if len(s.active) < self.needed:
                    s.stopping = True
            elif kind == LEFT:  # worker a died; every survivor says so, once is enough
                self._forget(a)
            self._serve_pulls()

    def _forget(self, worker: int) -> None:
        """A dead worker: stop waiting for it (its pulls, its clock, its rounds)."""
        s = self.state
        if worker not in s.active:
            return
        s.active.discard(worker)
        s.pending.pop(worker, None)
        if self.needed == 1 and len(self.workers) > 1:
            # Async: its unfinished iterations are not made up by the others.
            self.budget -= max(0, self.config.steps - s.clocks[worker])
            if s.version >= self.budget:
                s.stopping = True
        if len(s.active) < self.needed:
            s.stopping = True

    def _on_gradient(self, worker: int, read_version: int, grad: torch.Tensor) -> None:
        s = self.state
        if s.stopping:
            return
        if not torch.isfinite(grad).all():  # checked before it can touch the parameters
            self.emit("nan_detected", rank=None, step=s.version, ranks=[worker],
                      action="skipped", server=self.index)
            return
        if read_version < s.version and self.needed > 1:
            # Backup mode: this version was applied without it. Too late: dropped.
            self.emit("gradient_dropped", rank=self.index, step=s.version, worker=worker,
                      read_version=read_version, version=s.version)
            return
        s.round.append((worker, s.clocks[worker], read_version, grad))
        if len(s.round) < self.needed:
            return
        mean = torch.stack([g for *_, g in s.round]).mean(dim=0)
        applied = [{"worker": w, "step": step, "read_version": r, "staleness": s.version - r}
                   for w, step, r, _ in s.round]
        if self.config.ps_mode == "ssp":
            slowest = min(s.clocks[w] for w in s.active) if s.active else 0
            for entry in applied:
                entry["clock_gap"] = s.clocks[entry["worker"]] - 1 - slowest
        delta = self.config.lr * mean
        if self.log is not None:  # logged before it is applied (write-ahead)
            self.log.append(s.version + 1, [{"worker": w, "step": step}
                                            for w, step, *_ in s.round], delta)
        self.params -= delta
        s.version += 1
        s.round = []
        self.emit("ps_update", rank=self.index, step=s.version, version=s.version,
                  applied=applied, param_checksum=float(self.params.double().sum()),
                  shard=[self.start, self.end])
        if self.directory is not None and s.version % self.config.checkpoint_every == 0:
            started = time.perf_counter()
            path, size = checkpoint.save(self.directory, s.version, self.params)
            self.emit("checkpoint_saved", rank=self.index, step=s.version, file=path.name,
                      bytes=size, duration_ms=round((time.perf_counter() - started) * 1e3, 3))
        if s.version >= self.budget:
            s.stopping = True

    def _serve_pulls(self) -> None:
        s = self.state
        slowest = min((s.clocks[w] for w in s.active), default=0)
        for worker, pull in list(s.pending.items()):
            if not s.stopping:
                if s.version < pull.min_version:
                    pull.held = WAITED_FOR_VERSION
                    continue
                ahead = s.clocks[worker] - slowest
                if self.config.ps_mode == "ssp" and ahead > self.config.staleness_bound:
                    pull.held = BLOCKED_BY_SSP
                    continue
            # The worker's clock on record: after a restart it resumes from there.
            reply = torch.tensor([s.version, int(s.stopping), pull.held, s.clocks[worker]])
            del s.pending[worker]
            try:
                dist.send(reply, dst=worker, tag=HEADER_TAG)
                dist.send(self.params, dst=worker, tag=PAYLOAD_TAG)
            except RuntimeError:
                if self.config.recovery != "continue":
                    raise
                self._forget(worker)  # it died after asking; its LEFT notice is on the way
                continue
            self.ctx.comms.stats.bytes_sent += self.params.numel() * 4
            if s.stopping:
                s.active.discard(worker)


# ----------------------------------------------------------------------- worker
class _Worker:
    def __init__(self, ctx: WorkerContext, runtime: Any) -> None:
        self.ctx, self.runtime = ctx, runtime
        self.config = ctx.config
        self.index = ctx.topo.rank - self.config.servers  # among the workers, from 0
        numel = sum(p.numel() for p in ctx.model.parameters())
        self.bounds = shard_bounds(numel, self.config.servers)
        self.flat = torch.empty(numel)
        if self.config.recovery == "continue":
            ctx.control.on_worker_left = self._announce_left

    def _announce_left(self, gone: int) -> None:
        """Tell every server that worker ``gone`` died (from the control thread: our own
        main thread may be waiting for a server that waits for the dead worker)."""
        try:
            for server in range(self.config.servers):
                dist.send(_header(LEFT, gone, 0), dst=server, tag=HEADER_TAG)
        except RuntimeError:
            pass  # the run is ending anyway; the servers no longer listen

    def work(self) -> None:
        ctx, config = self.ctx, self.config
        servers = range(config.servers)
        versions = [0] * config.servers
        clock = 0
        header = torch.zeros(4, dtype=torch.int64)
        while True:
            if not self.runtime.gate.wait_for_next_step():
                for server in servers:
                    dist.send(_header(DONE, 0, clock), dst=server, tag=HEADER_TAG)
                return
            t_start = self.runtime.now()
            # 1. pull: sync and backup must read a version newer than their last push.
            min_version = versions[0] + 1 if clock and config.ps_mode in ("sync", "backup") \
                else 0
            started = time.perf_counter()
            for server in servers:
                dist.send(_header(PULL, min_version, clock), dst=server, tag=HEADER_TAG)
            stopped, held = [], 0
            for server, (a, b) in zip(servers, self.bounds, strict=True):
                _recv(header, src=server, tag=HEADER_TAG)
                _recv(self.flat[a:b], src=server)
                versions[server], server_stop, why, on_record = (int(v) for v in header)
                if server == 0 and clock == 0:
                    clock = on_record  # a restarted worker goes on where it was
                held = max(held, why)
                if server_stop:
                    stopped.append(server)
            pull_ms = (time.perf_counter() - started) * 1e3
            if stopped:
                # Tell the servers that did not stop us yet, so none of them waits for us.
                for server in servers:
                    if server not in stopped:
                        dist.send(_header(DONE, 0, clock), dst=server, tag=HEADER_TAG)
                return
            load_flat(list(ctx.model.parameters()), self.flat)
            # 2. compute, on this worker's own batch.
            x, y = ctx.batch(clock + 1)
            compute_start = time.perf_counter()
            loss = local_gradients(ctx.model, x, y)
            grad = torch.cat([p.grad.reshape(-1) for p in ctx.model.parameters()])
            compute_ms = (time.perf_counter() - compute_start) * 1e3
            if ctx.control.take_corruption():  # a "corrupt" fault aimed at this worker
                grad.fill_(float("nan"))
            emulated_ms, slowed = emulate_work(config, self.index, clock + 1, compute_ms,
                                               ctx.control.slow_factor)
            # 3. push each server its slice, tagged with the version we read from it.
            started = time.perf_counter()
            for server, (a, b) in zip(servers, self.bounds, strict=True):
                dist.send(_header(PUSH, versions[server], clock + 1), dst=server,
                          tag=HEADER_TAG)
                dist.send(grad[a:b].contiguous(), dst=server, tag=PAYLOAD_TAG)
            push_ms = (time.perf_counter() - started) * 1e3
            clock += 1
            self.runtime.emit(
                "step", rank=ctx.topo.rank, step=clock, loss=round(loss, 6),
                grad_norm=round(float(grad.norm()), 6), compute_ms=round(compute_ms, 4),
                emulated_ms=round(emulated_ms, 4), slowed=slowed,
                comm_ms=round(push_ms, 4),
                # Time the servers held our pull back: waiting for the others' gradients
                # (sync), or blocked for being too far ahead (ssp).
                wait_ms=round(pull_ms if held == WAITED_FOR_VERSION else 0.0, 4),
                blocked_ms=round(pull_ms if held == BLOCKED_BY_SSP else 0.0, 4),
                pull_ms=round(pull_ms, 4), comm_modelled_ms=None,
                bytes_sent=grad.numel() * 4, bytes_recv=self.flat.numel() * 4,
                param_checksum=float(self.flat.double().sum()),
                param_hash="", read_version=versions[0], read_versions=list(versions),
                lr=config.lr, samples=len(y), t_start=round(t_start, 6),
                events_dropped=self.runtime.dropped(),
            )
            if self.index == 0:  # the first worker draws the model it pulled
                self.runtime.maybe_emit_boundary(ctx, clock)
