"""Distributed L-BFGS on full-batch gradients (course chapter 9, 表9).

L-BFGS (Liu & Nocedal, "On the limited memory BFGS method for large scale optimization",
1989; Nocedal & Wright, "Numerical Optimization", Algorithm 7.4) steps along −H·g, where
H approximates the inverse Hessian from the last m pairs

    s_k = x_{k+1} − x_k  (how the parameters moved),
    y_k = g_{k+1} − g_k  (how the gradient changed).

It needs a gradient that does not jump from batch to batch, so every step uses the
*whole* data set: worker i computes the gradient on its 1/n of the samples, one
all-reduce sums them into the full gradient, and every worker runs the same two-loop
recursion on the same numbers — the replicas stay identical, and each holds the 2m
history vectors (the optimizer state; ZeRO would shard it).

The update is ``torch.optim.LBFGS``'s with one iteration per step and no line search
(the same first-step scaling, curvature check ``y·s > 1e-10`` and initial scaling
H₀ = (y·s)/(y·y)); the tests check that N workers end where torch's LBFGS on the full
batch in one process ends.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch

from engine.collectives import all_reduce
from engine.memory import SavedActivations, memory_due, memory_of
from engine.options import integer
from engine.strategies.base import (
    StepResult,
    Stopwatch,
    WorkerContext,
    flat_parameters,
    loss_of,
)
from engine.strategies.spec import StrategySpec


@dataclass(frozen=True, kw_only=True)
class LbfgsOptions:
    history: int = integer(
        10, 1, 100, label={"en": "History m", "zh": "历史长度 m"},
        help={"en": "How many (s, y) pairs approximate the inverse Hessian: 2m vectors the "
                    "size of the model on every worker.",
              "zh": "用多少对 (s, y) 近似 Hessian 的逆：每个工作进程上要存 2m 个"
                    "与模型同样大小的向量。"})


def two_loop(grad: torch.Tensor, s_list: list[torch.Tensor], y_list: list[torch.Tensor],
             h0: float) -> torch.Tensor:
    """The direction −H·g from the stored pairs (Nocedal & Wright, Algorithm 7.4)."""
    rho = [1.0 / float(y.dot(s)) for s, y in zip(s_list, y_list, strict=True)]
    alpha = [0.0] * len(s_list)
    q = grad.neg()
    for i in reversed(range(len(s_list))):  # newest pair first
        alpha[i] = float(s_list[i].dot(q)) * rho[i]
        q.add_(y_list[i], alpha=-alpha[i])
    r = q * h0
    for i in range(len(s_list)):  # oldest pair first
        beta = float(y_list[i].dot(r)) * rho[i]
        r.add_(s_list[i], alpha=alpha[i] - beta)
    return r


class Lbfgs:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        n, rank = ctx.topo.world_size, ctx.topo.rank
        self.params = list(ctx.model.parameters())
        self.flat, self.grads = flat_parameters(self.params)
        ctx.comms.broadcast(self.flat, src=0)
        self.mine = torch.arange(rank, len(ctx.data.y), n)  # this worker's share of all
        self.s: list[torch.Tensor] = []
        self.y: list[torch.Tensor] = []
        self.h0 = 1.0
        self.prev_grad: torch.Tensor | None = None
        self.prev_step: torch.Tensor | None = None  # s of the last update

    def train_step(self, step: int) -> StepResult:
        ctx, total = self.ctx, len(self.ctx.data.y)
        saved = SavedActivations() if memory_due(step, ctx.config.steps) else None
        with Stopwatch() as compute:
            # The full-batch mean loss = Σ over the shares of (share's loss sum) / total.
            ctx.model.zero_grad(set_to_none=False)
            x, y = ctx.data.x[self.mine], ctx.data.y[self.mine]
            with saved.hooks() if saved is not None else contextlib.nullcontext():
                loss = loss_of(ctx.model(x), y) * (len(self.mine) / total)
            loss.backward()
        summed = torch.cat([self.grads, loss.detach().reshape(1)])
        all_reduce(ctx.comms, summed, "builtin")  # the full gradient, and the full loss
        grad, full_loss = summed[:-1], float(summed[-1])
        with compute:
            # As torch.optim.LBFGS: no step at a stationary point (every |g| ≤ 1e-7), nor
            # along a direction that does not go down (g·d > −1e-9).
            if float(grad.abs().max()) > 1e-7:
                direction, lr = self._direction(grad)
                self.prev_step = direction * lr
                if float(grad.dot(direction)) <= -1e-9:
                    self.flat.add_(self.prev_step)
        extra: dict[str, Any] = {"history": len(self.s)}
        if saved is not None:
            extra["memory"] = memory_of(ctx.model, saved.peak, None) | {
                "optimizer": sum(t.numel() * t.element_size() for t in (*self.s, *self.y))}
        if ctx.topo.rank == 0:
            ctx.show_model(ctx.model, step)
        return StepResult(loss=full_loss, grad_norm=float(grad.norm()),
                          compute_ms=compute.ms, samples=len(self.mine), extra=extra)

    def _direction(self, grad: torch.Tensor) -> tuple[torch.Tensor, float]:
        """torch.optim.LBFGS's direction and step size for one iteration."""
        lr, history = self.ctx.config.lr, self.ctx.config.opts.history
        if self.prev_grad is None:  # the first step: steepest descent, scaled
            self.prev_grad = grad.clone()
            return grad.neg(), min(1.0, 1.0 / float(grad.abs().sum())) * lr
        y, s = grad - self.prev_grad, self.prev_step
        assert s is not None
        ys = float(y.dot(s))
        if ys > 1e-10:  # keep the pair only where the curvature is positive
            if len(self.s) == history:
                self.s.pop(0)
                self.y.pop(0)
            self.s.append(s)
            self.y.append(y)
            self.h0 = ys / float(y.dot(y))
        self.prev_grad = grad.clone()
        return two_loop(grad, self.s, self.y, self.h0), lr


SPEC = StrategySpec(
    name="lbfgs",
    title={"en": "Distributed L-BFGS (full batch)", "zh": "分布式 L-BFGS（全批量）"},
    summary={"en": "Every step uses all the data: each worker's share of the gradient is "
                   "summed by an all-reduce, and every worker takes the same L-BFGS step "
                   "from its history of m (s, y) pairs.",
             "zh": "每一步都用全部数据：各工作进程算出自己那份梯度，用全归约求和，"
                   "然后每个工作进程根据 m 对 (s, y) 的历史做同样的 L-BFGS 更新。"},
    implementation=Lbfgs,
    options=LbfgsOptions,
    workers=(1, 8),
    models=("mlp",),
    optimizers=("lbfgs",),
    faults={"kill": None, "freeze": None, "slow": None},
    recoveries={"none": None},
    views=("timeline", "loss", "boundary"),
    references=("Liu & Nocedal, On the Limited Memory BFGS Method for Large Scale "
                "Optimization, Mathematical Programming 1989",
                "Nocedal & Wright, Numerical Optimization, 2006, Algorithm 7.4"),
)
