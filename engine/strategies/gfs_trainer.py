"""A trainer of a run that reads its data through GFS (gfs_train.py): synchronous data
parallelism whose batches come from the store.

Each step the trainer takes its batch from the epoch's sampler (gfs_sampler.py), reads
those samples through the store (option ``source`` "store": it asks the master, the
master says which chunkserver sends which samples, the bytes arrive — gfs_train_store.py)
or takes them from its own copy of the data set (``source`` "memory": the same sampler,
no store; the reference the tests compare the store's run with), computes its gradient,
and all-reduces the gradients with the other trainers only (a process group of the
trainers: the master and the chunkservers take no part). Every trainer then takes the
same SGD step, as in engine/strategies/data_parallel.py.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.distributed as dist

from engine.comms import Group
from engine.strategies.base import (
    WorkerContext,
    local_gradients,
    sgd_update,
    step_phases,
)
from engine.strategies.gfs_chunks import decode
from engine.strategies.gfs_sampler import plan_epoch, steps_per_epoch
from engine.strategies.gfs_train_store import SAMPLES, TELL
from engine.strategies.mr_protocol import MASTER, REPORT, recv_obj, send_obj


class Trainer:
    def __init__(self, ctx: WorkerContext, runtime: Any, group: Group) -> None:
        self.ctx, self.runtime, self.group = ctx, runtime, group
        self.config, self.opts = ctx.config, ctx.config.opts
        self.me = ctx.topo.rank
        self.index = group.ranks.index(self.me)  # among the trainers, from 0
        self.workers = len(group.ranks)
        self.n = len(ctx.data.x)
        self.per_epoch = steps_per_epoch(self.n, self.workers, self.config.batch_size,
                                         self.opts.tail)
        self.params = list(ctx.model.parameters())

    def _ask(self, **fields: Any) -> None:
        send_obj(self.ctx.comms, {"ask": fields.pop("ask"), **fields}, MASTER, tag=REPORT,
                 op="report")

    def run(self) -> None:
        trained: list[int] = []  # this epoch's samples, for the master's check
        step = 0
        while step < self.config.steps and self._go_on():
            step += 1
            epoch, pos = divmod(step - 1, self.per_epoch)
            t_start = self.runtime.now()
            plan = plan_epoch(self.n, self.workers, self.config.seed, epoch, self.opts.tail)
            samples, padded = plan.batch(self.index, pos, self.config.batch_size)
            started = time.perf_counter()
            x, y = self._read(samples, padded, epoch, step)
            read_ms = (time.perf_counter() - started) * 1e3
            trained += samples
            started = time.perf_counter()
            loss = local_gradients(self.ctx.model, x, y)
            compute_ms = (time.perf_counter() - started) * 1e3
            grads = torch.cat([p.grad.reshape(-1) for p in self.params])
            started = time.perf_counter()
            self.ctx.comms.all_reduce_sum(grads, group=self.group)
            grads /= self.workers  # sum of the trainers' means → mean over the global batch
            comm_ms = (time.perf_counter() - started) * 1e3
            offset = 0
            for p in self.params:
                p.grad.copy_(grads[offset:offset + p.numel()].view_as(p))
                offset += p.numel()
            grad_norm = sgd_update(self.ctx.model, self.config.lr, self.params)
            self._emit_step(step, loss, grad_norm, len(samples), t_start,
                            read_ms, compute_ms, comm_ms)
            if self.index == 0:
                self.runtime.maybe_emit_boundary(self.ctx, step)
            if pos == self.per_epoch - 1 or step == self.config.steps:
                self._ask(ask="epoch_done", epoch=epoch, step=step, samples=trained,
                          complete=pos == self.per_epoch - 1)
                trained = []
        self._ask(ask="done")

    def _go_on(self) -> bool:
        """Whether every trainer goes on (a stop reaches them at different moments: they
        agree, or one would wait in an all-reduce for a trainer that stopped)."""
        stop = torch.tensor([0 if self.runtime.gate.wait_for_next_step() else 1])
        dist.all_reduce(stop, op=dist.ReduceOp.MAX, group=self.group.pg)
        return not bool(stop.item())

    def _read(self, samples: list[int], padded: list[bool], epoch: int,
              step: int) -> tuple[torch.Tensor, torch.Tensor]:
        data = self.ctx.data
        if self.opts.source == "memory":
            idx = torch.tensor(samples, dtype=torch.int64)
            return data.x[idx], data.y[idx]
        self._ask(ask="want", samples=samples, padded=padded, epoch=epoch, step=step)
        got: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        while True:
            tell = recv_obj(self.ctx.comms, MASTER, tag=TELL)
            if tell.get("served"):
                break
            if "lost" in tell:
                raise RuntimeError(f"GFS: chunk {tell['lost']} is lost: no good copy left")
            for read in tell["reads"]:  # in the order the master sent the commands
                try:
                    payload = recv_obj(self.ctx.comms, read["from"], tag=SAMPLES,
                                       traffic=True)
                except RuntimeError:  # the chunkserver died (a kill): the master hears it
                    # from us and has us read these samples from another replica
                    send_obj(self.ctx.comms, {"rid": read["rid"], "lost": [read["from"]]},
                             MASTER, tag=REPORT, op="report")
                    continue
                if payload is None:  # the replica's checksums failed: the master has
                    continue  # us read these samples from another one next round
                xs, ys = decode(payload, data.x, data.y, len(read["samples"]))
                for k, s in enumerate(read["samples"]):
                    got[s] = (xs[k], ys[k])
                # the answer the master waits for (no "ask": it is not a new request)
                send_obj(self.ctx.comms, {"rid": read["rid"], "bytes": len(payload)}, MASTER,
                         tag=REPORT, op="report")
        missing = [s for s in samples if s not in got]
        assert not missing, f"the store never served samples {missing}"
        return (torch.stack([got[s][0] for s in samples]),
                torch.stack([got[s][1] for s in samples]))

    def _emit_step(self, step: int, loss: float, grad_norm: float, samples: int,
                   t_start: float, read_ms: float, compute_ms: float, comm_ms: float) -> None:
        stats = self.ctx.comms.take_stats()
        flat = torch.cat([p.detach().reshape(-1) for p in self.params])
        self.runtime.emit(
            "step", rank=self.me, step=step, loss=round(loss, 6),
            grad_norm=round(grad_norm, 6), compute_ms=round(compute_ms, 4),
            comm_ms=round(comm_ms, 4), wait_ms=0.0, read_ms=round(read_ms, 4),
            comm_modelled_ms=None, bytes_sent=stats.bytes_sent, bytes_recv=stats.bytes_recv,
            param_checksum=float(flat.double().sum()), param_hash="", lr=self.config.lr,
            samples=samples, t_start=round(t_start, 6), events_dropped=self.runtime.dropped(),
            phases=step_phases(("read", read_ms), ("compute", compute_ms),
                               ("comm", comm_ms)))
