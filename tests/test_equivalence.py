"""Data parallelism must compute exactly what one process computes on the global batch.

The sampler is global (engine/data.py): each step's global batch is dealt out among the
workers, so ``single`` with batch W·b and ``data_parallel`` with W × b train on the same
samples — and, being the same SGD, end every step with the same parameters.
"""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient
from torch.testing import assert_close

from engine.config import RunConfig
from engine.data import batch_indices, make_dataset
from engine.model import build_model, param_checksum
from engine.runner import run_headless
from tests.helpers import assert_gapless, steps_by_rank
from tests.test_api import wait_for_status


def reference_run(config: RunConfig, world: int) -> tuple[list[list[float]], list[float]]:
    """One process, plain SGD on the concatenation of what ``world`` ranks would see.

    Returns, per step, each rank's loss on its own batch (before the update) and the
    parameter checksum after the update.
    """
    model = build_model(config.model, config.hidden, config.seed)
    data = make_dataset(config.dataset, config.num_samples, config.seed)
    losses, checksums = [], []
    for step in range(1, config.steps + 1):
        idx = [batch_indices(config.num_samples, step, config.batch_size, config.seed, r,
                             world) for r in range(world)]
        with torch.no_grad():
            losses.append([float(F.cross_entropy(model(data.x[i]), data.y[i])) for i in idx])
        every = torch.cat(idx)
        model.zero_grad()
        F.cross_entropy(model(data.x[every]), data.y[every]).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= config.lr * p.grad
        checksums.append(param_checksum(model))
    return losses, checksums


def _check_against_reference(config: RunConfig, world: int) -> None:
    events = run_headless(config, timeout=120)
    assert events[-1]["type"] == "run_finished"
    assert events[-1]["status"] == "finished", events[-1]["error"]
    assert_gapless(events)
    by_rank = steps_by_rank(events)
    assert sorted(by_rank) == list(range(world))
    ref_losses, ref_checksums = reference_run(config, world)
    for rank, steps in by_rank.items():
        assert [e["step"] for e in steps] == list(range(1, config.steps + 1))
        assert_close(torch.tensor([e["loss"] for e in steps], dtype=torch.float64),
                     torch.tensor([row[rank] for row in ref_losses], dtype=torch.float64),
                     rtol=1e-4, atol=1e-5)
        assert_close(torch.tensor([e["param_checksum"] for e in steps], dtype=torch.float64),
                     torch.tensor(ref_checksums, dtype=torch.float64), rtol=1e-5, atol=1e-5)
    # In synchronous data parallelism every replica is bitwise identical at every step.
    for step in range(config.steps):
        assert len({by_rank[r][step]["param_checksum"] for r in range(world)}) == 1
        assert len({by_rank[r][step]["param_hash"] for r in range(world)}) == 1


def test_single_matches_reference() -> None:
    config = RunConfig(strategy="single", workers=1, steps=15, batch_size=16, lr=0.5)
    _check_against_reference(config, world=1)


@pytest.mark.parametrize("world", [2, 4])
def test_data_parallel_equals_single_process_on_concatenated_batch(world: int) -> None:
    config = RunConfig(strategy="data_parallel", workers=world, steps=15, batch_size=16,
                       lr=0.5, seed=7, dataset="moons")
    _check_against_reference(config, world)


@pytest.mark.parametrize("algorithm", ["ring", "tree", "naive"])
def test_hand_written_all_reduce_trains_exactly_like_the_reference(algorithm: str) -> None:
    config = RunConfig(strategy="data_parallel", workers=3, steps=10, batch_size=16,
                       lr=0.5, seed=2, options={"allreduce": algorithm})
    _check_against_reference(config, 3)


def test_reference_would_catch_a_wrong_average() -> None:
    """The comparison above can fail: doubling the lr (as if grads were summed) differs."""
    config = RunConfig(strategy="data_parallel", workers=2, steps=5, batch_size=16, lr=0.5)
    _, right = reference_run(config, 2)
    _, wrong = reference_run(RunConfig(**{**config.to_dict(), "lr": 1.0}), 2)
    with pytest.raises(AssertionError):
        assert_close(torch.tensor(wrong), torch.tensor(right), rtol=1e-5, atol=1e-5)


def test_identical_seeds_give_identical_runs() -> None:
    config = RunConfig(strategy="data_parallel", workers=2, steps=8, batch_size=8, seed=3)

    def hashes(cfg: RunConfig) -> dict[tuple[int, int], str]:
        return {(e["rank"], e["step"]): e["param_hash"]
                for e in run_headless(cfg, timeout=60) if e["type"] == "step"}

    first = hashes(config)
    assert len(first) == 16
    assert hashes(config) == first
    assert hashes(RunConfig(**{**config.to_dict(), "seed": 4})) != first


def _checksums_through_the_api(client: TestClient, body: dict) -> dict[int, list[float]]:
    """Start a run with ``POST /api/runs``, wait, and read its exported event log:
    every rank's parameter checksum after each step."""
    r = client.post("/api/runs", json=body)
    assert r.status_code == 201, r.text
    done = wait_for_status(client, r.json()["id"], {"finished", "failed"})
    assert done["status"] == "finished", done["error"]
    log = client.get(f"/api/runs/{done['id']}/export", params={"format": "jsonl"}).text
    by_rank: dict[int, list[float]] = {}
    for event in map(json.loads, log.splitlines()):
        if event["type"] == "step":
            by_rank.setdefault(event["rank"], []).append(event["param_checksum"])
    return by_rank


def test_single_process_and_data_parallel_agree_through_the_api(client: TestClient) -> None:
    """What a student sees in the compare view: one process with batch 64 and four workers
    with 16 each, same seed, draw the same curve — same parameters after every step."""
    common = {"steps": 40, "lr": 0.5, "seed": 11, "dataset": "spirals", "pace": None}
    single = _checksums_through_the_api(
        client, {**common, "strategy": "single", "workers": 1, "batch_size": 64})
    parallel = _checksums_through_the_api(
        client, {**common, "strategy": "data_parallel", "workers": 4, "batch_size": 16})
    assert len(single[0]) == 40 and sorted(parallel) == [0, 1, 2, 3]
    reference = torch.tensor(single[0], dtype=torch.float64)
    for rank, checksums in parallel.items():
        got = torch.tensor(checksums, dtype=torch.float64)
        relative = ((got - reference).abs() / reference.abs().clamp_min(1e-12)).max()
        assert relative < 1e-4, (rank, float(relative))
    # …and the comparison can fail: a different seed is a different run.
    other = _checksums_through_the_api(
        client, {**common, "seed": 12, "strategy": "single", "workers": 1, "batch_size": 64})
    assert other[0] != single[0]
