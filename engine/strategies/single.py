"""One process, plain SGD: the reference every distributed strategy is checked against.

Nothing is communicated. Running ``data_parallel`` with N workers must give the same
parameters, step for step, as this strategy on the N workers' batches concatenated.
"""

from __future__ import annotations

from engine.strategies.base import (
    StepResult,
    Stopwatch,
    WorkerContext,
    local_gradients,
    sgd_update,
)


class SingleProcess:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        x, y = ctx.batch(step)
        with Stopwatch() as compute:
            loss = local_gradients(ctx.model, x, y)
            grad_norm = sgd_update(ctx.model, ctx.config.lr)
        return StepResult(loss=loss, grad_norm=grad_norm, compute_ms=compute.ms,
                          samples=len(y))


if __name__ == "__main__":
    from engine.demo import run_demo

    run_demo("single", workers=1)
