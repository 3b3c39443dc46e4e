"""Decentralized SGD (engine/strategies/decentralized.py, engine/graphs.py) on real
processes, against a one-process simulation of the same algorithm.

- Every graph's mixing matrix is symmetric and doubly stochastic; the complete graph's
  is the exact average.
- Each worker's final model is what Lian et al.'s Algorithm 1 gives when simulated in one
  process on the same batches (each worker's share of each global batch).
- The replicas' average follows the paper's invariant at every step,
  x̄_{k+1} = x̄_k − γ·mean_i ∇F_i(x_{k,i}), checked from the real replicas' checksums
  (sums of their parameters) and their own gradients' sums.
- The consensus distance each step is the one of the real replicas (the simulation's),
  and it is not zero on a ring: the replicas really differ.
- Bytes per worker per step: one model per neighbour — flat on a ring as workers are
  added.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from engine import checkpoint
from engine.config import RunConfig
from engine.data import batch_indices, dataset_for, shard_batch_indices, skewed_shards
from engine.graphs import GRAPHS, mixing_matrix, neighbours, torus_shape
from engine.model import flat_params, load_flat, model_for
from engine.network import PRESETS, ring_all_reduce_ms
from engine.runner import run_headless
from engine.strategies.base import loss_of
from engine.strategies.decentralized import consensus_distance
from engine.supervisor import RunSupervisor
from tests.helpers import assert_gapless, steps_by_rank

BASE: dict[str, object] = dict(strategy="decentralized", batch_size=8, steps=12, lr=0.2,
                               seed=5, dataset="moons")


@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 8])
def test_every_mixing_matrix_is_symmetric_and_doubly_stochastic(graph: str, n: int) -> None:
    w = mixing_matrix(graph, n)
    assert_close(w, w.T)
    ones = torch.ones(n, dtype=torch.float64)
    assert_close(w.sum(dim=0), ones)
    assert_close(w.sum(dim=1), ones)
    assert (w >= 0).all()
    near = neighbours(graph, n)
    for i in range(n):  # weights only on the graph's edges (and the diagonal)
        off = {j for j in range(n) if j != i and w[i, j] > 0}
        assert off == set(near[i])
        assert all(i in near[j] for j in near[i])  # undirected


def test_the_graphs_have_the_neighbours_they_promise() -> None:
    assert neighbours("ring", 6)[0] == [1, 5]
    assert torus_shape(8) == (2, 4) and torus_shape(9) == (3, 3)
    assert neighbours("torus", 9)[4] == [1, 3, 5, 7]
    assert neighbours("exponential", 8)[0] == [1, 2, 4, 6, 7]
    assert_close(mixing_matrix("complete", 4), torch.full((4, 4), 0.25, dtype=torch.float64))
    assert_close(mixing_matrix("ring", 5)[0, [0, 1, 4]],
                 torch.full((3,), 1 / 3, dtype=torch.float64))


def _simulate(config: RunConfig) -> tuple[list[torch.Tensor], list[float]]:
    """Algorithm 1 of Lian et al. in one process: every worker's final model, and the
    consensus distance after each step."""
    n = config.workers
    data = dataset_for(config)
    shards = None if config.opts.data_split == "iid" else skewed_shards(
        data.y, n, config.seed, config.opts.data_split, config.opts.dirichlet_alpha,
        config.batch_size)
    model = model_for(config, data.num_classes)
    x = [flat_params(model).clone() for _ in range(n)]
    w = mixing_matrix(config.opts.graph, n).to(torch.float32)
    consensus = []
    for step in range(1, config.steps + 1):
        grads = []
        for i in range(n):
            load_flat([p.data for p in model.parameters()], x[i])
            model.zero_grad()
            idx = (batch_indices(config.num_samples, step, config.batch_size, config.seed, i, n)
                   if shards is None else
                   shard_batch_indices(shards[i], step, config.batch_size, config.seed, i))
            loss = loss_of(model(data.x[idx]), data.y[idx])
            loss.backward()
            grads.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
        x = [sum(w[i, j] * x[j] for j in range(n)) - config.lr * grads[i] for i in range(n)]
        consensus.append(consensus_distance(torch.stack(x).to(torch.float64)))
    return x, consensus


def _final_models(workdir: Path, n: int, steps: int) -> list[torch.Tensor]:
    step, files, refused = checkpoint.load_latest_parts(workdir, n)
    assert step == steps and refused == []
    return [checkpoint.load(workdir / files[str(r)]["file"], files[str(r)]["sha256"],
                            step).params for r in range(n)]


@pytest.mark.parametrize(("graph", "n", "split"), [
    ("ring", 4, "iid"), ("torus", 4, "iid"), ("complete", 3, "iid"),
    ("ring", 4, "dirichlet"), ("exponential", 3, "one_class")])
def test_each_worker_ends_where_lian_et_al_algorithm_1_ends(graph: str, n: int, split: str,
                                                            tmp_path: Path) -> None:
    config = RunConfig(**BASE, workers=n,  # type: ignore[arg-type]
                       options={"graph": graph, "data_split": split},
                       checkpoint_every=BASE["steps"])
    log: list[dict] = []
    sup = RunSupervisor(config, run_id=tmp_path.name, on_events=log.extend, workdir=tmp_path)
    sup.start()
    assert sup.wait(120)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    assert_gapless(log)
    expected, consensus = _simulate(config)
    real = _final_models(tmp_path / "checkpoints", n, config.steps)
    for r in range(n):
        assert_close(real[r], expected[r], rtol=1e-5, atol=1e-6)

    by_rank = steps_by_rank(log)
    measured = [by_rank[0][k]["consensus"] for k in range(config.steps)]
    assert_close(torch.tensor(measured), torch.tensor(consensus), rtol=1e-3, atol=1e-9)
    assert min(measured) > 0  # the replicas really differ (also on the complete graph)

    # The invariant, from the real replicas: the sum of the parameters (a linear function
    # of the model) of the average moves by −γ times the average gradient's sum.
    for k in range(1, config.steps):
        before = sum(by_rank[r][k - 1]["param_checksum"] for r in range(n)) / n
        after = sum(by_rank[r][k]["param_checksum"] for r in range(n)) / n
        step = sum(by_rank[r][k]["grad_checksum"] for r in range(n)) / n
        assert after == pytest.approx(before - config.lr * step, abs=1e-4)


def test_bytes_per_worker_stay_flat_on_a_ring_as_workers_are_added() -> None:
    sent = {}
    for n in (4, 8):
        events = run_headless(RunConfig(**{**BASE, "steps": 3}, workers=n,  # type: ignore[arg-type]
                                        options={"graph": "ring"}), timeout=120)
        assert events[-1]["status"] == "finished", events[-1]["error"]
        steps = [e for e in events if e["type"] == "step"]
        sent[n] = {e["bytes_sent"] for e in steps}
        assert all(e["peers"] == 2 for e in steps)
    assert sent[4] == sent[8] and len(sent[4]) == 1  # two models a step, whatever n


def test_on_a_network_model_gossip_costs_two_messages_a_step_whatever_n() -> None:
    """Single port (engine/network.py): a worker's two models leave one after the other
    and the two it receives arrive one after the other — 2 to 3 transfers a step, on 4
    workers as on 8, where the ring all-reduce's modelled time grows with n."""
    link = PRESETS["1gbe"]
    modelled: dict[int, set[float]] = {}
    allreduce: dict[int, float] = {}
    for n in (4, 8):
        events = run_headless(RunConfig(**{**BASE, "steps": 2}, workers=n,  # type: ignore[arg-type]
                                        options={"graph": "ring"}, network="1gbe"),
                              timeout=120)
        assert events[-1]["status"] == "finished", events[-1]["error"]
        steps = [e for e in events if e["type"] == "step"]
        transfer = link.transfer_ms(steps[0]["bytes_sent"] // 2)  # one model, α + N/β
        modelled[n] = {round(e["comm_modelled_ms"] / transfer, 6) for e in steps}
        assert modelled[n] <= {2.0, 3.0}, modelled[n]
        allreduce[n] = ring_all_reduce_ms(n, steps[0]["bytes_sent"] // 2, link)
    assert modelled[4] == modelled[8]
    assert allreduce[8] > allreduce[4]


def test_a_skewed_split_gives_each_worker_its_own_classes() -> None:
    labels = torch.arange(1024) % 2  # the points data sets: two classes, alternating
    one = skewed_shards(labels, 4, seed=1, split="one_class", min_size=8)
    assert [set(labels[s].tolist()) for s in one] == [{0}, {1}, {0}, {1}]
    everything = torch.cat(one).sort().values
    assert torch.equal(everything, torch.arange(1024))  # every sample, once
    skewed = skewed_shards(labels, 4, seed=1, split="dirichlet", alpha=0.1, min_size=8)
    assert torch.equal(torch.cat(skewed).sort().values, torch.arange(1024))
    share_of_0 = [float((labels[s] == 0).float().mean()) for s in skewed]
    assert max(share_of_0) - min(share_of_0) > 0.5  # α = 0.1: far from IID
    near_iid = skewed_shards(labels, 4, seed=1, split="dirichlet", alpha=100.0, min_size=8)
    assert all(abs(float((labels[s] == 0).float().mean()) - 0.5) < 0.15 for s in near_iid)
    again = skewed_shards(labels, 4, seed=1, split="dirichlet", alpha=0.1, min_size=8)
    assert all(torch.equal(a, b) for a, b in zip(skewed, again, strict=True))  # seeded
    batch = shard_batch_indices(one[1], step=3, batch_size=8, seed=1, rank=1)
    assert len(batch) == 8 and set(labels[batch].tolist()) == {1}


def test_what_it_cannot_do_is_refused() -> None:
    with pytest.raises(ValueError, match="uses sgd"):
        RunConfig(**BASE, workers=4, optimizer="adam")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"options\.graph must be one of"):
        RunConfig(**BASE, workers=4, options={"graph": "star"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only the points data sets have classes"):
        RunConfig(**{**BASE, "dataset": "text-en"}, model="transformer",  # type: ignore[arg-type]
                  workers=2, options={"data_split": "one_class"})
    with pytest.raises(ValueError, match="fewer than 64 samples"):  # 3 workers, 2 classes
        RunConfig(**{**BASE, "num_samples": 192, "batch_size": 64},  # type: ignore[arg-type]
                  workers=3, options={"data_split": "one_class"})


def test_a_killed_worker_restarts_every_replica_from_its_own_checkpoint(tmp_path: Path) -> None:
    """Recovery 'restart': every worker saved its own replica (they differ); after a kill
    all of them go back to the newest step every worker saved, and the run ends with
    exactly the replicas of an unbroken run."""
    def run(workdir: Path, **kw: object) -> list[dict]:
        config = RunConfig(**{**BASE, "steps": 16}, workers=3,  # type: ignore[arg-type]
                           options={"graph": "ring"}, checkpoint_every=4, **kw)
        log: list[dict] = []
        sup = RunSupervisor(config, run_id=workdir.name, on_events=log.extend, workdir=workdir)
        sup.start()
        assert sup.wait(120)
        assert log[-1]["status"] == "finished", log[-1]["error"]
        return log

    unbroken, killed = tmp_path / "unbroken", tmp_path / "killed"
    run(unbroken)
    log = run(killed, recovery="restart", pace=20.0,
              faults=[{"after_step": 6, "action": "kill", "rank": 1}])
    [recovery] = [e for e in log if e["type"] == "recovery"]
    assert recovery["failed_rank"] == 1
    ours = _final_models(killed / "checkpoints", 3, 16)
    ref = _final_models(unbroken / "checkpoints", 3, 16)
    for r in range(3):
        assert_close(ours[r], ref[r], rtol=0, atol=0)
    assert not torch.equal(ours[0], ours[1])  # replicas of their own, restored each


def test_the_run_summary_carries_the_consensus_of_the_step_events() -> None:
    events = run_headless(RunConfig(**{**BASE, "steps": 4}, workers=4,  # type: ignore[arg-type]
                                    options={"graph": "ring", "data_split": "one_class"}),
                          timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    by_step = {e["step"]: e["consensus"] for e in events if e["type"] == "step"}
    got = events[-1]["summary"]["consensus"]
    assert got["steps"] == 4 and got["last"] == by_step[4]
    assert got["mean"] == pytest.approx(sum(by_step.values()) / 4)
    # no consensus in the summary of a run whose steps carry none
    plain = run_headless(RunConfig(**{**BASE, "steps": 2, "strategy": "data_parallel"},  # type: ignore[arg-type]
                                   workers=2), timeout=120)
    assert "consensus" not in plain[-1]["summary"]
