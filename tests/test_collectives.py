"""Hand-written all-reduces equal the process group's own, and move the textbook bytes."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.distributed as dist
from torch.testing import assert_close

from engine.collectives import all_reduce
from engine.comms import Comms
from tests.dist_harness import run_in_group

ALGORITHMS = ["ring", "tree", "naive"]


def _compare(comms: Comms, algorithm: str, numel: int) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(1000 + comms.topo.rank)
    x = torch.randn(numel, generator=gen, dtype=torch.float64)
    expected = x.clone()
    dist.all_reduce(expected)
    messages: list[dict[str, Any]] = []
    comms._emit_comm = lambda **m: messages.append(m)
    comms.take_stats()
    all_reduce(comms, x, algorithm)
    stats = comms.take_stats()
    return {"got": x, "expected": expected, "sent": stats.bytes_sent,
            "recv": stats.bytes_recv, "messages": messages}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(("world", "numel"), [(2, 7), (3, 10), (4, 1001), (5, 3), (8, 37)])
def test_hand_written_all_reduce_equals_the_process_group(algorithm: str, world: int,
                                                          numel: int) -> None:
    results = run_in_group(_compare, world, algorithm, numel)
    for r in results:
        assert_close(r["got"], r["expected"])
    # Every message is reported once, by its sender, and adds up to the bytes counted.
    for rank, r in enumerate(results):
        assert all(m["src"] == rank for m in r["messages"])
        assert sum(m["bytes"] for m in r["messages"]) == r["sent"]
    assert sum(r["sent"] for r in results) == sum(r["recv"] for r in results)


@pytest.mark.parametrize("world", [2, 4, 8])
def test_bytes_match_the_formulas(world: int) -> None:
    numel = 8 * 96  # divisible by every world size here
    size = numel * 8  # float64 bytes: N
    ring = run_in_group(_compare, world, "ring", numel)
    for r in ring:
        assert r["sent"] == r["recv"] == 2 * (world - 1) * size // world
        assert len(r["messages"]) == 2 * (world - 1)
    naive = run_in_group(_compare, world, "naive", numel)
    assert naive[0]["sent"] == naive[0]["recv"] == (world - 1) * size
    for r in naive[1:]:
        assert r["sent"] == r["recv"] == size
    tree = run_in_group(_compare, world, "tree", numel)
    rounds = (world - 1).bit_length()
    assert tree[0]["sent"] == rounds * size  # the root serves one child per round


def test_ring_messages_only_travel_to_the_right_neighbour() -> None:
    results = run_in_group(_compare, 4, "ring", 40)
    for rank, r in enumerate(results):
        assert {m["dst"] for m in r["messages"]} == {(rank + 1) % 4}
        assert [m["op"] for m in r["messages"]] == ["reduce_scatter"] * 3 + ["all_gather"] * 3
        # Reduce-scatter step s sends chunk (rank − s) mod n; all-gather step s sends the
        # finished chunk (rank − s + 1) mod n.
        assert [m["chunk"] for m in r["messages"]] == (
            [(rank - s) % 4 for s in range(3)] + [(rank - s + 1) % 4 for s in range(3)])
