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

References: Li et al., "PyTorch Distributed: Experiences on Accelerating Data Parallel
Training", VLDB 2020; Goyal et al., "Accurate, Large Minibatch SGD", 2017.
"""

from __future__ import annotations

import torch

from engine.collectives import all_reduce
from engine.strategies.base import (
    StepResult,
    Stopwatch,
    WorkerContext,
    local_gradients,
    sgd_update,
)


class DataParallelNaive:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        # Replicas must start identical. They are built from the same seed already, but
        # real systems do not rely on that: rank 0's weights are broadcast to everyone.
        flat = torch.cat([p.detach().reshape(-1) for p in ctx.model.parameters()])
        ctx.comms.broadcast(flat, src=0)
        _unflatten_into(flat, [p.data for p in ctx.model.parameters()])

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        x, y = ctx.batch(step)
        with Stopwatch() as compute:
            loss = local_gradients(ctx.model, x, y)
            grads = [p.grad for p in ctx.model.parameters()]
            flat = torch.cat([g.reshape(-1) for g in grads])
        # Timed and counted by comms, not compute; config.allreduce picks the algorithm.
        all_reduce(ctx.comms, flat, ctx.config.allreduce)
        with compute:
            flat /= ctx.topo.world_size  # sum of means → mean over the global batch
            _unflatten_into(flat, grads)
            grad_norm = sgd_update(ctx.model, ctx.config.lr)
        return StepResult(loss=loss, grad_norm=grad_norm, compute_ms=compute.ms,
                          samples=len(y))


def _unflatten_into(flat: torch.Tensor, tensors: list[torch.Tensor]) -> None:
    offset = 0
    for t in tensors:
        t.copy_(flat[offset : offset + t.numel()].view_as(t))
        offset += t.numel()


if __name__ == "__main__":
    from engine.demo import run_demo

    run_demo("data_parallel", workers=2)
