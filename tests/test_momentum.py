"""SGD with momentum (engine/strategies/optimizers.py Momentum), one of 表9's optimizers:
N data-parallel workers end every step where one process with torch.optim.SGD(momentum)
on the global batch ends (the replicas keep the same velocity), and single does too."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from engine.config import RunConfig
from engine.data import batch_indices, dataset_for
from engine.model import model_for
from engine.runner import run_headless
from engine.strategies.base import loss_of
from tests.helpers import steps_by_rank

BASE: dict[str, object] = dict(steps=10, lr=0.1, seed=2, dataset="moons",
                               optimizer="momentum")


def _torch_reference(config: RunConfig, global_batch: int) -> list[float]:
    data = dataset_for(config)
    model = model_for(config, data.num_classes)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)
    sums = []
    for step in range(1, config.steps + 1):
        idx = batch_indices(config.num_samples, step, global_batch, config.seed)
        opt.zero_grad()
        loss_of(model(data.x[idx]), data.y[idx]).backward()
        opt.step()
        sums.append(float(sum(p.detach().double().sum() for p in model.parameters())))
    return sums


@pytest.mark.parametrize(("strategy", "workers"), [("single", 1), ("data_parallel", 2),
                                                   ("data_parallel", 4)])
def test_momentum_is_torch_sgd_with_momentum_on_the_global_batch(strategy: str,
                                                                 workers: int) -> None:
    config = RunConfig(strategy=strategy, workers=workers,  # type: ignore[arg-type]
                       batch_size=32 // workers, **BASE)
    events = run_headless(config, timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    expected = torch.tensor(_torch_reference(config, 32), dtype=torch.float64)
    for rank, steps in steps_by_rank(events).items():
        ours = torch.tensor([e["param_checksum"] for e in steps], dtype=torch.float64)
        assert_close(ours, expected, rtol=1e-5, atol=1e-5), rank
    memory = [e["memory"] for e in events if e["type"] == "step" and "memory" in e]
    assert memory and memory[0]["optimizer"] == memory[0]["params"]  # one velocity each
