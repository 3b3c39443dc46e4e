"""Local SGD and DiLoCo (engine/strategies/local_sgd.py) on real processes.

- H = 1 with plain averaging and SGD is synchronous data parallelism: the same model
  after every step.
- Between syncs the replicas differ; at every sync they are one model again.
- Bytes: nothing between syncs, one all-reduce of the model at each.
- DiLoCo's outer step is torch.optim.SGD with Nesterov momentum on the outer gradient;
  with outer lr 1 and no momentum it is plain averaging.
- A killed run restarts each worker from its own checkpoint (replica, inner Adam state,
  DiLoCo's outer state) and ends exactly where an unbroken run ends.
- Skewed (one class per worker) data pulls the replicas further apart between syncs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from engine import checkpoint
from engine.config import RunConfig
from engine.runner import run_headless
from engine.strategies.local_sgd import nesterov_outer_step
from engine.supervisor import RunSupervisor
from tests.helpers import assert_gapless, steps_by_rank

BASE: dict[str, object] = dict(batch_size=8, steps=12, lr=0.2, seed=9, dataset="moons")


def _run(strategy: str, workers: int, **kw: object) -> list[dict]:
    events = run_headless(RunConfig(strategy=strategy, workers=workers,  # type: ignore[arg-type]
                                    **(BASE | kw)), timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    assert_gapless(events)
    return events


def _checksums(events: list[dict]) -> dict[int, list[float]]:
    return {r: [e["param_checksum"] for e in steps]
            for r, steps in steps_by_rank(events).items()}


@pytest.mark.parametrize("workers", [2, 4])
def test_h_1_is_synchronous_data_parallelism(workers: int) -> None:
    dp = _checksums(_run("data_parallel", workers))[0]
    local = _checksums(_run("local_sgd", workers, options={"sync_every": 1}))
    for rank in range(workers):
        assert_close(torch.tensor(local[rank], dtype=torch.float64),
                     torch.tensor(dp, dtype=torch.float64), rtol=1e-5, atol=1e-5)


def test_replicas_drift_apart_between_syncs_and_meet_at_each_and_bytes_only_then() -> None:
    h, n = 4, 3
    events = _run("local_sgd", n, options={"sync_every": h})
    by_rank = steps_by_rank(events)
    num_params = next(e for e in events if e["type"] == "run_started")["num_params"]
    for k in range(BASE["steps"]):  # type: ignore[arg-type]
        step = k + 1
        sums = {round(by_rank[r][k]["param_checksum"], 5) for r in range(n)}
        sent = {by_rank[r][k]["bytes_sent"] for r in range(n)}
        if step % h == 0:
            assert len(sums) == 1, step  # one model again
            assert all(by_rank[r][k]["synced"] for r in range(n))
            # one ring all-reduce of the fp32 model: 2(n − 1)/n of it, per worker
            assert all(abs(s - 2 * (n - 1) / n * 4 * num_params) <= 8 * n for s in sent)
            assert all(by_rank[r][k]["drift"] > 0 for r in range(n))
        else:
            assert len(sums) == n, step  # every worker its own replica
            assert sent == {0}


def test_diloco_outer_step_is_sgd_with_nesterov_momentum() -> None:
    torch.manual_seed(0)
    x = torch.randn(10)
    ours, velocity = x.clone(), torch.zeros(10)
    theirs = torch.nn.Parameter(x.clone())
    sgd = torch.optim.SGD([theirs], lr=0.7, momentum=0.9, nesterov=True)
    for _ in range(5):
        delta = torch.randn(10)
        nesterov_outer_step(ours, delta, velocity, lr=0.7, momentum=0.9)
        theirs.grad = delta.clone()
        sgd.step()
        assert_close(ours, theirs.detach())


def test_diloco_with_outer_lr_1_and_no_momentum_is_plain_averaging() -> None:
    avg = _checksums(_run("local_sgd", 2, options={"sync_every": 3}))
    diloco = _checksums(_run("local_sgd", 2, options={
        "sync_every": 3, "outer": "nesterov", "outer_lr": 1.0, "outer_momentum": 0.0}))
    assert_close(torch.tensor(diloco[0], dtype=torch.float64),
                 torch.tensor(avg[0], dtype=torch.float64), rtol=1e-5, atol=1e-5)
    # with DiLoCo's own settings the outer step really differs from averaging
    real = _checksums(_run("local_sgd", 2, options={"sync_every": 3, "outer": "nesterov"}))
    assert abs(real[0][-1] - avg[0][-1]) > 1e-3


def _final_models(workdir: Path, n: int, steps: int) -> list[torch.Tensor]:
    step, files, refused = checkpoint.load_latest_parts(workdir, n)
    assert step == steps and refused == []
    return [checkpoint.load(workdir / files[str(r)]["file"], files[str(r)]["sha256"],
                            step).params for r in range(n)]


def test_a_killed_diloco_run_restarts_each_worker_from_its_own_checkpoint(
        tmp_path: Path) -> None:
    """Recovery 'restart': each worker saved its replica, its Adam state and DiLoCo's outer
    state (checkpoints in the middle of a round); after a kill every worker goes back to
    the newest step all of them saved, and the run ends exactly where an unbroken one does."""
    def run(workdir: Path, **kw: object) -> list[dict]:
        config = RunConfig(**{**BASE, "steps": 18}, strategy="local_sgd", workers=3,  # type: ignore[arg-type]
                           optimizer="adam", checkpoint_every=3,
                           options={"sync_every": 4, "outer": "nesterov"}, **kw)
        log: list[dict] = []
        sup = RunSupervisor(config, run_id=workdir.name, on_events=log.extend, workdir=workdir)
        sup.start()
        assert sup.wait(120)
        assert log[-1]["status"] == "finished", log[-1]["error"]
        return log

    unbroken, killed = tmp_path / "unbroken", tmp_path / "killed"
    run(unbroken)
    log = run(killed, recovery="restart", pace=20.0,
              faults=[{"after_step": 10, "action": "kill", "rank": 1}])
    [recovery] = [e for e in log if e["type"] == "recovery"]
    assert recovery["failed_rank"] == 1 and recovery["from_step"] % 3 == 0
    assert recovery["from_step"] % 4 != 0  # restarted inside a round: the outer state mattered
    ours = _final_models(killed / "checkpoints", 3, 18)
    ref = _final_models(unbroken / "checkpoints", 3, 18)
    for r in range(3):
        assert_close(ours[r], ref[r], rtol=0, atol=0)


def test_skewed_data_pulls_the_replicas_further_apart_between_syncs() -> None:
    """One class per worker: each replica is pulled towards its own class for H steps, so
    at each sync it is further from the mean than with IID shares of one global batch;
    and every worker's batches hold its class only (the run's own loss says so: a
    one-class batch is easy, its loss falls below the IID run's)."""
    def mean_drift(split: str) -> float:
        events = _run("local_sgd", 2, steps=16, options={"sync_every": 8, "data_split": split})
        drifts = [e["drift"] for e in events if e["type"] == "step" and e.get("synced")]
        assert len(drifts) == 4  # 2 workers × syncs at steps 8 and 16
        return sum(drifts) / len(drifts)
    assert mean_drift("one_class") > 1.5 * mean_drift("iid")


def test_local_sgd_takes_momentum_and_refuses_a_split_it_cannot_make() -> None:
    _run("local_sgd", 2, steps=4, optimizer="momentum", options={"sync_every": 2})
    with pytest.raises(ValueError, match="only the points data sets have classes"):
        RunConfig(**{**BASE, "dataset": "text-en"}, strategy="local_sgd",  # type: ignore[arg-type]
                  model="transformer", workers=2, options={"data_split": "one_class"})
