"""Local SGD (periodic averaging) and DiLoCo: talk every H steps instead of every step.

Local SGD (Stich, "Local SGD Converges Fast and Communicates Little", ICLR 2019; Lin et
al., "Don't Use Large Mini-Batches, Use Local SGD", ICLR 2020): every worker trains its
own replica on its own data with its own optimizer, and every H steps the replicas are
averaged with one all-reduce. H = 1 is synchronous data parallelism with SGD (averaging
the models after one step each is averaging the gradients; the tests check it); a larger
H sends 1/H of the bytes, at the price of replicas that drift apart between syncs.

DiLoCo (Douillard et al., "DiLoCo: Distributed Low-Communication Training of Language
Models", 2023) treats a round of H local steps as one big step of an *outer* optimizer:

    Δ = x_global − mean_i x_i            (the "outer gradient": how far the workers went)
    x_global ← Nesterov-momentum SGD step on Δ (outer lr, momentum)
    every worker starts the next round from x_global

The inner optimizer (SGD or Adam, the run's ``optimizer``) keeps its state across rounds on
each worker, as in the paper. With outer lr 1 and momentum 0 DiLoCo is plain averaging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from engine.collectives import all_reduce
from engine.memory import SavedActivations, memory_due, memory_of
from engine.options import choice, integer, number
from engine.strategies.base import (
    StepResult,
    Stopwatch,
    WorkerContext,
    flat_parameters,
    grad_norm_of,
    local_gradients,
)
from engine.strategies.data_split import (
    WorkerData,
    check_data_split,
    data_split_option,
    dirichlet_alpha_option,
)
from engine.strategies.optimizers import make_optimizer
from engine.strategies.spec import StrategySpec, parts_checkpoint


@dataclass(frozen=True, kw_only=True)
class LocalSgdOptions:
    sync_every: int = integer(
        8, 1, 1000, label={"en": "Average every H steps", "zh": "每 H 步平均一次"},
        help={"en": "Each worker takes H steps on its own, then the replicas are averaged "
                    "with one all-reduce. H = 1 is synchronous data parallelism.",
              "zh": "每个工作进程先独自走 H 步，然后用一次全归约对各副本求平均。"
                    "H = 1 即同步数据并行。"})
    outer: str = choice(
        "average", ("average", "nesterov"),
        label={"en": "At each sync", "zh": "每次同步时"},
        help={"en": "average: every worker takes the mean of the replicas (local SGD). "
                    "nesterov: DiLoCo — the mean change is an outer gradient, applied by "
                    "SGD with Nesterov momentum.",
              "zh": "average：每个工作进程取各副本的平均（本地 SGD）。nesterov：DiLoCo——"
                    "把平均变化量当作外层梯度，用带 Nesterov 动量的 SGD 更新。"},
        labels={"average": {"en": "Average (local SGD)", "zh": "求平均（本地 SGD）"},
                "nesterov": {"en": "Outer Nesterov step (DiLoCo)",
                             "zh": "外层 Nesterov 更新（DiLoCo）"}})
    outer_lr: float = number(
        0.7, 0.0, 10.0, low_open=True, label={"en": "Outer learning rate", "zh": "外层学习率"},
        help={"en": "DiLoCo's outer step size (the paper uses 0.7).",
              "zh": "DiLoCo 外层更新的步长（论文取 0.7）。"},
        shown_when={"outer": ("nesterov",)})
    outer_momentum: float = number(
        0.9, 0.0, 0.999, label={"en": "Outer momentum", "zh": "外层动量"},
        help={"en": "DiLoCo's Nesterov momentum (the paper uses 0.9).",
              "zh": "DiLoCo 的 Nesterov 动量（论文取 0.9）。"},
        shown_when={"outer": ("nesterov",)})
    data_split: str = data_split_option()
    dirichlet_alpha: float = dirichlet_alpha_option()


def nesterov_outer_step(x_global: torch.Tensor, delta: torch.Tensor, velocity: torch.Tensor,
                        lr: float, momentum: float) -> None:
    """One step of SGD with Nesterov momentum on the outer gradient ``delta``, in place
    (torch.optim.SGD(nesterov=True)'s update: v ← μv + Δ; x ← x − lr·(Δ + μv))."""
    velocity.mul_(momentum).add_(delta)
    x_global.sub_(delta + momentum * velocity, alpha=lr)


class LocalSgd:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self.opts = ctx.config.opts
        self.params = list(ctx.model.parameters())
        self.flat, self.grads = flat_parameters(self.params)
        ctx.comms.broadcast(self.flat, src=0)  # one starting point for every replica
        # the inner optimizer, each worker its own: SGD (None), momentum or Adam
        self.optimizer = make_optimizer(ctx.config.optimizer, [self.flat], ctx.config.lr)
        self.data = WorkerData(ctx)  # IID shares of one global batch, or skewed shards
        # DiLoCo's outer state: the model every worker started the round from, and the
        # outer momentum (the same on every worker: all of them apply the same outer step).
        self.x_global = self.flat.clone()
        self.velocity = torch.zeros_like(self.flat)

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        x, y = self.data.batch(step)
        saved = SavedActivations() if memory_due(step, ctx.config.steps) else None
        with Stopwatch() as compute:
            loss = local_gradients(ctx.model, x, y, saved)
            grad_norm = grad_norm_of([self.grads])
            if self.optimizer is None:  # the inner step, on this worker's replica only
                self.flat.sub_(self.grads, alpha=ctx.config.lr)
            else:
                self.optimizer.step([self.flat], [self.grads])
        synced = step % self.opts.sync_every == 0 or step == ctx.config.steps
        extra: dict[str, Any] = {"synced": synced}
        if synced:
            extra["drift"] = self._sync()
        if saved is not None:
            extra["memory"] = memory_of(ctx.model, saved.peak, self.optimizer)
        if ctx.topo.rank == 0:
            ctx.show_model(ctx.model, step)
        return StepResult(loss=loss, grad_norm=grad_norm, compute_ms=compute.ms,
                          samples=len(y), extra=extra)

    def _sync(self) -> float:
        """Average the replicas (one all-reduce) and start the next round from there;
        returns how far this worker's replica was from the mean (‖x_i − x̄‖)."""
        ctx = self.ctx
        mean = self.flat.clone()
        all_reduce(ctx.comms, mean, "builtin")
        mean /= ctx.topo.world_size
        drift = float(torch.linalg.vector_norm(self.flat - mean))
        if self.opts.outer == "average":
            self.flat.copy_(mean)
        else:
            delta = self.x_global - mean  # the outer gradient
            nesterov_outer_step(self.x_global, delta, self.velocity, self.opts.outer_lr,
                                self.opts.outer_momentum)
            self.flat.copy_(self.x_global)
        self.x_global.copy_(self.flat)
        return drift

    # ---- its checkpoint (each worker's replica is saved by the worker's loop)

    def optimizer_state(self) -> dict[str, Any]:
        """What a restart needs besides the replica: the inner optimizer's state (each
        worker its own) and DiLoCo's outer state (where the round began, the momentum)."""
        state: dict[str, Any] = {"x_global": self.x_global.clone(),
                                 "velocity": self.velocity.clone()}
        if self.optimizer is not None:
            state[self.ctx.config.optimizer] = self.optimizer.state_dict()
        return state

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        name = self.ctx.config.optimizer
        if "x_global" not in state or (self.optimizer is not None and name not in state):
            raise ValueError("the checkpoint holds no local SGD state (it was saved by "
                             "another strategy or optimizer)")
        if state["x_global"].shape != self.x_global.shape:
            raise ValueError("the checkpoint's model is not this run's")
        self.x_global.copy_(state["x_global"])
        self.velocity.copy_(state["velocity"])
        if self.optimizer is not None:
            self.optimizer.load_state_dict(state[name])


SPEC = StrategySpec(
    name="local_sgd",
    title={"en": "Local SGD / DiLoCo (average every H steps)",
           "zh": "本地 SGD / DiLoCo（每 H 步平均一次）"},
    summary={"en": "Each worker trains its own replica for H steps, then one all-reduce "
                   "averages them (or, DiLoCo, takes an outer Nesterov step on the mean "
                   "change): 1/H of data parallelism's bytes.",
             "zh": "每个工作进程独自训练 H 步，然后用一次全归约对各副本求平均（或者像 DiLoCo "
                   "那样，对平均变化量做一次外层 Nesterov 更新）：通信量只有数据并行的 1/H。"},
    implementation=LocalSgd,
    options=LocalSgdOptions,
    workers=(2, 8),
    models=("mlp", "transformer"),
    optimizers=("sgd", "momentum", "adam"),
    replicas=False,  # between syncs every worker's model is its own
    own_replicas=True,
    faults={"kill": None, "freeze": None, "slow": None},
    recoveries={"none": None, "restart": None},
    optimizer_state=True,  # the inner optimizer's and DiLoCo's outer state
    restart_state=parts_checkpoint,  # each worker reloads its own replica
    views=("timeline", "loss", "boundary", "sample"),
    check=check_data_split,
    references=("Stich, Local SGD Converges Fast and Communicates Little, ICLR 2019",
                "Lin et al., Don't Use Large Mini-Batches, Use Local SGD, ICLR 2020",
                "Douillard et al., DiLoCo: Distributed Low-Communication Training of "
                "Language Models, 2023"),
)
