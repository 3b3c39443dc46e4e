"""Distributed L-BFGS (engine/strategies/lbfgs.py): N workers, each with its share of the
full batch, end where torch.optim.LBFGS on the whole data set in one process ends.

- The same parameters after every step (one LBFGS iteration per step, no line search).
- The two-loop recursion with one pair is the exact BFGS inverse-Hessian update.
- Every worker keeps the same 2m history vectors: its optimizer state in the memory card.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from engine.config import RunConfig
from engine.data import dataset_for
from engine.model import flat_params, model_for
from engine.runner import run_headless
from engine.strategies.base import loss_of
from engine.strategies.lbfgs import two_loop
from tests.helpers import assert_gapless, steps_by_rank

BASE: dict[str, object] = dict(strategy="lbfgs", optimizer="lbfgs", steps=15, lr=0.5,
                               seed=3, dataset="moons", num_samples=512, batch_size=8)


def _torch_lbfgs(config: RunConfig) -> tuple[list[float], torch.Tensor]:
    """One process, the whole data set, torch's own LBFGS: loss per step, final model."""
    data = dataset_for(config)
    model = model_for(config, data.num_classes)
    opt = torch.optim.LBFGS(model.parameters(), lr=config.lr, max_iter=1,
                            history_size=config.opts.history, line_search_fn=None)
    losses = []

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = loss_of(model(data.x), data.y)
        loss.backward()
        return loss

    for _ in range(config.steps):
        losses.append(float(opt.step(closure).detach()))
    return losses, flat_params(model)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_n_workers_end_where_torch_lbfgs_on_the_full_batch_ends(workers: int) -> None:
    config = RunConfig(**BASE, workers=workers)  # type: ignore[arg-type]
    events = run_headless(config, timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    assert_gapless(events)
    losses, final = _torch_lbfgs(config)
    by_rank = steps_by_rank(events)
    for rank in range(workers):
        ours = [e["loss"] for e in by_rank[rank]]
        assert_close(torch.tensor(ours), torch.tensor(losses), rtol=1e-4, atol=1e-5)
        assert by_rank[rank][-1]["param_checksum"] == pytest.approx(
            float(final.sum(dtype=torch.float64)), rel=1e-4, abs=1e-4)
    assert losses[-1] < 0.5 * losses[0]  # it really trains
    assert min(e["history"] for e in by_rank[0][1:]) >= 1


def test_every_worker_holds_the_2m_history_vectors() -> None:
    # The memory card measures at step 1 and every 50th: at step 50 the history is full.
    config = RunConfig(**{**BASE, "steps": 50}, workers=2,  # type: ignore[arg-type]
                       options={"history": 4})
    events = run_headless(config, timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    num_params = next(e for e in events if e["type"] == "run_started")["num_params"]
    for rank, steps in steps_by_rank(events).items():
        assert steps[0]["memory"]["optimizer"] == 0, rank  # no pair yet
        assert steps[49]["history"] == 4
        assert steps[49]["memory"]["optimizer"] == 2 * 4 * num_params * 4  # 2m fp32 vectors


def test_the_two_loop_recursion_with_one_pair_is_the_bfgs_update() -> None:
    torch.manual_seed(0)
    n = 5
    s, y, g = torch.randn(n, dtype=torch.float64), torch.randn(n, dtype=torch.float64), \
        torch.randn(n, dtype=torch.float64)
    if float(y.dot(s)) < 0:
        y = -y
    h0 = float(y.dot(s) / y.dot(y))
    rho = 1 / float(y.dot(s))
    eye = torch.eye(n, dtype=torch.float64)
    h = (eye - rho * torch.outer(s, y)) @ (h0 * eye) @ (eye - rho * torch.outer(y, s)) \
        + rho * torch.outer(s, s)
    assert_close(two_loop(g, [s], [y], h0), -(h @ g))


def test_lbfgs_is_its_own_optimizer() -> None:
    with pytest.raises(ValueError, match="uses lbfgs"):
        RunConfig(**{**BASE, "optimizer": "sgd"}, workers=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="uses sgd"):
        RunConfig(strategy="data_parallel", workers=2, optimizer="lbfgs")
