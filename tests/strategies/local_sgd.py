"""Local SGD (periodic averaging): each worker trains alone, and every k steps the
replicas are averaged with one all-reduce of the parameters.

Between averages the replicas drift apart (their checksums differ); right after one they
are equal again. With k = 1 this is synchronous data parallelism, up to where the average
is taken. Reference: Stich, "Local SGD converges fast and communicates little", ICLR 2019.

This strategy lives in the tests on purpose: registered with
``DISTLAB_STRATEGIES=tests.strategies.local_sgd``, it must appear in the API, the form
and the engine without any change to DistLab's own files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.model import flat_params, load_flat
from engine.options import integer
from engine.strategies.base import (
    StepResult,
    Stopwatch,
    WorkerContext,
    local_gradients,
    sgd_update,
)
from engine.strategies.spec import StrategySpec


@dataclass(frozen=True, kw_only=True)
class LocalSgdOptions:
    average_every: int = integer(
        4, 1, 100, label={"en": "Average every k steps", "zh": "每 k 步平均一次"},
        help={"en": "Steps each worker takes alone between two averages of the replicas.",
              "zh": "两次副本平均之间，每个工作进程独自训练的步数。"})


class LocalSgd:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx, self.every = ctx, ctx.config.opts.average_every
        self._average()  # start from rank 0's weights, like every replica-based strategy

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        x, y = ctx.batch(step)
        with Stopwatch() as compute:
            loss = local_gradients(ctx.model, x, y)
            grad_norm = sgd_update(ctx.model, ctx.config.lr)
        averaged = step % self.every == 0
        if averaged:
            self._average()
            if ctx.topo.is_leader:
                ctx.emit("replicas_averaged", rank=None, step=step, workers=ctx.topo.world_size)
        return StepResult(loss=loss, grad_norm=grad_norm, compute_ms=compute.ms,
                          samples=len(y), extra={"averaged": averaged})

    def _average(self) -> None:
        params = [p.data for p in self.ctx.model.parameters()]
        flat = flat_params(self.ctx.model)
        self.ctx.comms.all_reduce_sum(flat)  # timed and counted like any collective
        load_flat(params, flat / self.ctx.topo.world_size)


def _check(config: Any) -> None:
    if config.opts.average_every > config.steps:
        raise ValueError(f"options.average_every ({config.opts.average_every}) is more than "
                         f"the run's {config.steps} steps: the replicas would never meet")


SPEC = StrategySpec(
    name="periodic_averaging",  # DistLab has its own local_sgd: a plugin needs a name of its own
    title={"en": "Local SGD (periodic averaging)", "zh": "本地 SGD（周期平均）"},
    summary={"en": "Each worker trains alone; every k steps the replicas are averaged.",
             "zh": "每个工作进程独自训练；每 k 步对各副本取一次平均。"},
    implementation=LocalSgd,
    options=LocalSgdOptions,
    workers=(2, 8),
    faults={"kill": None},
    views=("topology", "timeline", "loss", "boundary"),
    events={"replicas_averaged": {"workers": "int: replicas averaged"}},
    check=_check,
    references=("Stich, Local SGD converges fast and communicates little, ICLR 2019",),
)
