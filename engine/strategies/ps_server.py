"""The parameter server's server side: it owns a shard of the parameters and applies
the workers' gradients under the run's consistency model (``parameter_server.py``
explains the modes; ``engine/updatelog.py`` the write-ahead log it rebuilds from).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine import checkpoint, updatelog
from engine.model import flat_params
from engine.strategies.base import WorkerContext
from engine.strategies.ps_painter import BoundaryPainter
from engine.strategies.ps_protocol import (
    BLOCKED_BY_SSP,
    DONE,
    HEADER_TAG,
    LEFT,
    MAX_BROKEN_RECEIVES,
    PATIENCE,
    PAYLOAD_TAG,
    PULL,
    PUSH,
    WAITED_FOR_VERSION,
    shard_bounds,
)


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


class Server:
    def __init__(self, ctx: WorkerContext, runtime: Any) -> None:
        config = self.config = ctx.config
        self.opts = opts = config.opts
        self.ctx, self.emit, self.runtime = ctx, runtime.emit, runtime
        self.comms = ctx.comms  # every message is timed, counted and reported there
        self.index = ctx.topo.rank
        self.start, self.end = shard_bounds(sum(p.numel() for p in ctx.model.parameters()),
                                            opts.servers)[self.index]
        self.params = flat_params(ctx.model)[self.start:self.end].clone()
        self.workers = list(range(opts.servers, ctx.topo.world_size))
        num_workers = len(self.workers)
        # sync and backup: one version per step; async and ssp: one per gradient.
        per_version = num_workers - opts.backup_workers
        self.needed = per_version if opts.ps_mode in ("sync", "backup") else 1
        self.budget = config.steps if self.needed > 1 or num_workers == 1 else (
            config.steps * num_workers)
        self.state = _ServerState(clocks=dict.fromkeys(self.workers, 0),
                                  active=set(self.workers))
        self.log: updatelog.UpdateLog | None = None
        # A lone server holds the whole model: it draws the decision boundary of the model
        # as it is, at each step of the run's progress (not a worker's view of it, which in
        # async mode may be a straggler's stale copy), on a thread of its own.
        self.painter = BoundaryPainter(ctx, runtime) if opts.servers == 1 else None
        self.drawn_step = 0
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
        try:
            self._serve()
        finally:
            if self.painter is not None:
                self.painter.close()

    def _serve(self) -> None:
        header = torch.zeros(4, dtype=torch.int64)
        grad = torch.empty_like(self.params)
        s = self.state
        broken = 0  # receive errors in a row
        while s.active:
            try:
                # From whichever worker is first; a header is protocol, not traffic.
                self.comms.recv(header, tag=HEADER_TAG, timeout=PATIENCE, traffic=False)
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
                    self.comms.recv(grad, src=src, tag=PAYLOAD_TAG, timeout=PATIENCE)
                except RuntimeError:
                    if self.config.recovery != "continue":
                        raise
                    self._forget(src)  # it died between its header and its gradient
                    self._serve_pulls()
                    continue
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
        if self.opts.ps_mode == "ssp":
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
        self._maybe_draw()
        if self.directory is not None and s.version % self.config.checkpoint_every == 0:
            started = time.perf_counter()
            path, size = checkpoint.save(self.directory, s.version, self.params)
            self.emit("checkpoint_saved", rank=self.index, step=s.version, file=path.name,
                      bytes=size, duration_ms=round((time.perf_counter() - started) * 1e3, 3))
        if s.version >= self.budget:
            s.stopping = True

    def _maybe_draw(self) -> None:
        """The boundary at the run's step (ps_hooks.progress): one per version in sync and
        backup mode, one per `workers` versions in async and SSP mode."""
        step = self.state.version // (1 if self.needed > 1 else len(self.workers))
        if self.painter is None or step <= self.drawn_step:
            return
        self.drawn_step = step
        if self.runtime.boundary_due(self.ctx, step):
            self.painter.offer(step, self.params)

    def _serve_pulls(self) -> None:
        s = self.state
        slowest = min((s.clocks[w] for w in s.active), default=0)
        for worker, pull in list(s.pending.items()):
            if not s.stopping:
                if s.version < pull.min_version:
                    pull.held = WAITED_FOR_VERSION
                    continue
                ahead = s.clocks[worker] - slowest
                if self.opts.ps_mode == "ssp" and ahead > self.opts.staleness_bound:
                    pull.held = BLOCKED_BY_SSP
                    continue
            # The worker's clock on record: after a restart it resumes from there.
            reply = torch.tensor([s.version, int(s.stopping), pull.held, s.clocks[worker]])
            del s.pending[worker]
            try:
                self.comms.send(reply, worker, tag=HEADER_TAG, op="pull", traffic=False)
                # The reply belongs to the iteration the worker is about to compute.
                self.comms.send(self.params, worker, tag=PAYLOAD_TAG, op="pull",
                                step=s.clocks[worker] + 1)
            except RuntimeError:
                if self.config.recovery != "continue":
                    raise
                self._forget(worker)  # it died after asking; its LEFT notice is on the way
                continue
            if s.stopping:
                s.active.discard(worker)
