"""One process, plain SGD: the reference every distributed strategy is checked against.

Nothing is communicated. Running ``data_parallel`` with N workers × batch b gives the same
parameters, step for step, as this strategy with batch N·b on the same seed: the sampler
is global (``engine/data.py``), so both train on the same samples at every step.
"""

from __future__ import annotations

from engine.memory import SavedActivations, memory_due, memory_of
from engine.strategies.base import (
    StepResult,
    Stopwatch,
    WorkerContext,
    grad_norm_of,
    local_gradients,
    sgd_update,
)
from engine.strategies.optimizers import make_optimizer
from engine.strategies.spec import StrategySpec


class SingleProcess:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self.params = list(ctx.model.parameters())
        self.optimizer = make_optimizer(ctx.config.optimizer, self.params, ctx.config.lr)

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        x, y = ctx.batch(step)
        saved = SavedActivations() if memory_due(step, ctx.config.steps) else None
        with Stopwatch() as compute:
            loss = local_gradients(ctx.model, x, y, saved)
            if self.optimizer is None:
                grad_norm = sgd_update(ctx.model, ctx.config.lr, self.params)
            else:
                grads = [p.grad for p in self.params]
                grad_norm = grad_norm_of(grads)
                self.optimizer.step(self.params, grads)
        return StepResult(loss=loss, grad_norm=grad_norm, compute_ms=compute.ms,
                          samples=len(y),
                          extra={"memory": memory_of(ctx.model, saved.peak, self.optimizer)}
                          if saved else None)



SPEC = StrategySpec(
    name="single",
    title={"en": "Single process (reference)", "zh": "单进程（参照）"},
    summary={"en": "One process trains alone: the reference distributed runs are checked "
                   "against.",
             "zh": "单个进程独自训练：分布式运行与之对照的基准。"},
    implementation=SingleProcess,
    workers=(1, 1),
    models=("mlp", "transformer"),
    optimizers=("sgd", "adam", "momentum"),
    views=("loss", "boundary", "timeline"),
)
