"""Synchronous data parallelism (synchronous SGD with all-reduce).

Every rank holds a full replica of the model and its own shard of the data. One step:

1. each rank computes the gradient of the mean loss on its own batch;
2. the gradients are summed over all ranks with an all-reduce and divided by N, so every
   rank now holds the gradient of the mean loss over the *global* batch;
3. every rank applies the same SGD update, so the replicas stay identical.

That is why N workers with batch b each compute exactly what one process would compute on
the concatenated batch of N·b samples (checked in tests/test_equivalence.py).

``DataParallelNaive`` packs all gradients into one flat buffer and all-reduces it once
after the whole backward pass. Real systems (PyTorch DDP) split the buffer into buckets and
start each bucket's all-reduce while backward is still running, to overlap communication
with compute; the naive version exists because it shows the algorithm without that
optimisation in the way.

With ``compression`` set, step 2 changes: each rank encodes its gradient (QSGD, top-k,
…; see engine/compression.py), the encoded gradients are all-gathered, and every rank
decodes and averages all of them — still the same update on every rank.

References: Li et al., "PyTorch Distributed: Experiences on Accelerating Data Parallel
Training", VLDB 2020; Goyal et al., "Accurate, Large Minibatch SGD", 2017.
"""

from __future__ import annotations

from typing import Any

import torch

from engine.collectives import all_reduce
from engine.compression import CompressedAveraging, PowerSgdAveraging, make_compressor
from engine.model import load_flat, num_params
from engine.strategies.base import (
    StepResult,
    Stopwatch,
    WorkerContext,
    emulate_work,
    local_gradients,
    sgd_update,
)


class DataParallelNaive:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        config = ctx.config
        self.compressed = None
        if config.compression == "powersgd":
            self.compressed = PowerSgdAveraging(
                [p.shape for p in ctx.model.parameters()], rank=config.powersgd_rank,
                seed=config.seed, algorithm=config.allreduce)
        elif config.compression is not None:
            compressor = make_compressor(config.compression, levels=config.qsgd_levels,
                                         fraction=config.compress_fraction)
            self.compressed = CompressedAveraging(
                compressor, numel=num_params(ctx.model), error_feedback=config.error_feedback,
                seed=config.seed, rank=ctx.topo.rank)
        # Replicas must start identical. They are built from the same seed already, but
        # real systems do not rely on that: rank 0's weights are broadcast to everyone.
        flat = torch.cat([p.detach().reshape(-1) for p in ctx.model.parameters()])
        ctx.comms.broadcast(flat, src=0)
        load_flat([p.data for p in ctx.model.parameters()], flat)

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        x, y = ctx.batch(step)
        with Stopwatch() as compute:
            loss = local_gradients(ctx.model, x, y)
            grads = [p.grad for p in ctx.model.parameters()]
            flat = torch.cat([g.reshape(-1) for g in grads])
            if ctx.control.take_corruption():  # a "corrupt" fault aimed at this rank
                flat.fill_(float("nan"))
        emulated_ms, _ = emulate_work(ctx.config, ctx.data_rank, step, compute.ms,
                                      ctx.control.slow_factor)
        extra: dict[str, Any] = {"emulated_ms": round(emulated_ms, 4)} if emulated_ms else {}
        if ctx.control.slow_factor > 1:
            extra["slow_factor"] = ctx.control.slow_factor
        local_ok = bool(torch.isfinite(flat).all())
        if self.compressed is None:
            # Timed and counted by comms, not compute; config.allreduce picks the algorithm.
            all_reduce(ctx.comms, flat, ctx.config.allreduce)
            flat /= ctx.topo.world_size  # sum of means → mean over the global batch
        else:
            flat, metrics = self.compressed.average(ctx.comms, flat, step)
            extra.update(metrics)
        # One NaN anywhere makes the averaged gradient NaN on every rank alike, so every
        # rank takes the same decision here — before the NaN reaches any parameter.
        if not torch.isfinite(flat).all():
            extra.update(self._on_nan(step, local_ok))
            if ctx.config.nan_policy == "skip":
                return StepResult(loss=loss, grad_norm=float("nan"), compute_ms=compute.ms,
                                  samples=len(y), extra=extra)
        with compute:
            load_flat(grads, flat)
            grad_norm = sgd_update(ctx.model, ctx.config.lr)
        return StepResult(loss=loss, grad_norm=grad_norm, compute_ms=compute.ms,
                          samples=len(y), extra=extra)

    def _on_nan(self, step: int, local_ok: bool) -> dict[str, Any]:
        """Name the ranks whose own gradient was not finite (a rare, extra collective)."""
        ctx = self.ctx
        bad = torch.zeros(ctx.topo.world_size, dtype=torch.int32, device=ctx.topo.device)
        bad[ctx.topo.rank] = int(not local_ok)
        ctx.comms.agree_max(bad)
        ranks = [ctx.topo.id_of(r) for r, flag in enumerate(bad.tolist()) if flag]
        action = "skipped" if ctx.config.nan_policy == "skip" else "spread"
        if ctx.topo.is_leader:
            ctx.emit("nan_detected", rank=None, step=step, ranks=ranks, action=action)
        return {"skipped": action == "skipped"}


if __name__ == "__main__":
    from engine.demo import run_demo

    run_demo("data_parallel", workers=2)
