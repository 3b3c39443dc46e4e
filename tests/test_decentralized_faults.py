"""Decentralized SGD when a worker dies (recovery "shrink"): the dead worker leaves a hole
in the graph, the survivors build the same kind of graph over themselves (the hole is
closed) and go on with their own replicas — nothing but the dead worker's replica is
lost. A worker added back (rejoin) takes the first member's replica and rejoins the graph.
Real processes, real gloo groups.
"""

from __future__ import annotations

from typing import Any

import torch

from engine.graphs import neighbours
from tests.test_faults import Run


def _graph_of(event: dict[str, Any]) -> dict[int, set[int]]:
    """Each member's neighbours, by worker id."""
    return {m: set(near) for m, near in zip(event["members"], event["neighbours"],
                                              strict=True)}


def _last_per_rank_and_step(log: list[dict[str, Any]]) -> dict[tuple[int, int], dict]:
    """A survivor may take the step the failure cut short again: keep its last report."""
    return {(e["rank"], e["step"]): e for e in log if e["type"] == "step"}


def test_a_killed_worker_leaves_a_hole_its_neighbours_close_and_a_rejoin_fills() -> None:
    lr = 0.2
    run = Run(strategy="decentralized", workers=5, steps=36, batch_size=8, lr=lr, seed=3,
              dataset="moons", pace=20.0, recovery="shrink",
              options={"graph": "ring", "data_split": "one_class"},
              faults=[{"after_step": 8, "action": "kill", "rank": 2},
                      {"after_step": 24, "action": "rejoin", "rank": 2}])
    final = run.finish(timeout=120)
    assert final["status"] == "finished", final
    assert final["summary"]["steps_completed"] == 36

    shrink, rejoin = run.of("recovery")
    assert (shrink["policy"], shrink["members"]) == ("shrink", [0, 1, 3, 4])
    assert (rejoin["policy"], rejoin["members"]) == ("rejoin", [0, 1, 3, 4, 2])

    # The graph, three times: all five on a ring; the four survivors on a ring of four
    # (worker 2's neighbours 1 and 3 are now each other's); the five again, worker 2 last
    # in the group and so between 4 and 0 on the new ring.
    whole, survivors, again = run.of("graph")
    assert _graph_of(whole) == {0: {1, 4}, 1: {0, 2}, 2: {1, 3}, 3: {2, 4}, 4: {0, 3}}
    assert _graph_of(survivors) == {0: {1, 4}, 1: {0, 3}, 3: {1, 4}, 4: {0, 3}}
    assert _graph_of(again) == {0: {1, 2}, 1: {0, 3}, 3: {1, 4}, 4: {2, 3}, 2: {0, 4}}
    for g in (whole, survivors, again):
        w = torch.tensor(g["weights"], dtype=torch.float64)
        torch.testing.assert_close(w, w.T)
        ones = torch.ones(len(g["members"]), dtype=torch.float64)
        torch.testing.assert_close(w.sum(dim=1), ones, atol=1e-5, rtol=0)  # 6 digits sent
        n = len(g["members"])
        assert [len(x) for x in g["neighbours"]] == [len(x) for x in neighbours("ring", n)]

    steps = _last_per_rank_and_step(run.log)
    # While worker 2 is away nobody sends to it: the survivors' steps have two peers
    # each, and the replicas' average follows Lian et al.'s invariant over the survivors
    # (the steps well inside that stretch, all four having taken both k − 1 and k in it).
    away = [1, 3, 4, 0]
    lo, hi = shrink["from_step"] + 3, rejoin["from_step"] - 1
    assert hi - lo >= 5, (lo, hi)
    assert not any((2, k) in steps for k in range(lo, hi + 1))
    for k in range(lo, hi + 1):
        now = [steps[(r, k)] for r in away]
        before = sum(steps[(r, k - 1)]["param_checksum"] for r in away) / 4
        after = sum(e["param_checksum"] for e in now) / 4
        grad = sum(e["grad_checksum"] for e in now) / 4
        assert abs(after - (before - lr * grad)) < 1e-4, k
        assert {e["peers"] for e in now} == {2}
    # Each survivor kept its own replica (they differ) and its own data (one class).
    last = {steps[(r, hi)]["param_checksum"] for r in away}
    assert len(last) == 4

    # Worker 2 came back as a new process and trained to the end with the others.
    starts = [e for e in run.of("worker_started") if e["rank"] == 2]
    assert len(starts) == 2 and starts[0]["pid"] != starts[1]["pid"]
    assert (2, 36) in steps and all((r, 36) in steps for r in range(5))
