"""Real bytes, modelled time: the α–β clock behaves like the textbook formulas."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from engine.collectives import all_reduce
from engine.comms import Comms
from engine.config import RunConfig
from engine.network import Link, build_network, ring_all_reduce_ms
from engine.runner import run_headless
from tests.dist_harness import run_in_group

LINK = Link(latency_us=20.0, bandwidth_gbps=10.0)


def _modelled(comms: Comms, algorithm: str, numel: int, network: Any) -> dict[str, Any]:
    comms.network = network
    comms.take_stats()
    x = torch.ones(numel)
    messages: list[dict[str, Any]] = []
    comms._emit_comm = lambda **m: messages.append(m)
    all_reduce(comms, x, algorithm)
    assert torch.all(x == comms.topo.world_size)
    return {"modelled_ms": comms.take_stats().modelled_ms, "messages": messages}


@pytest.mark.parametrize("world", [2, 4, 8])
@pytest.mark.parametrize("numel", [8 * 1000, 8 * 250_000])
def test_ring_matches_the_alpha_beta_formula(world: int, numel: int) -> None:
    network = build_network("10gbe", world_size=world)
    results = run_in_group(_modelled, world, "ring", numel, network)
    expected = ring_all_reduce_ms(world, numel * 4, LINK)
    for r in results:
        assert r["modelled_ms"] == pytest.approx(expected, rel=0.05)
        assert all(m["modelled_ms"] > 0 for m in r["messages"])


def test_tree_and_naive_costs() -> None:
    world, numel = 4, 100_000
    network = build_network("10gbe", world_size=world)
    hop = LINK.transfer_ms(numel * 4)
    tree = run_in_group(_modelled, world, "tree", numel, network)
    # 2 rounds up, 2 rounds down, but the root serves its two children one after another.
    assert max(r["modelled_ms"] for r in tree) == pytest.approx(4 * hop, rel=0.05)
    naive = run_in_group(_modelled, world, "naive", numel, network)
    # The root's single port takes n-1 messages in, then sends n-1 out.
    assert max(r["modelled_ms"] for r in naive) == pytest.approx(2 * (world - 1) * hop,
                                                                  rel=0.05)


def test_one_slow_link_slows_the_whole_ring() -> None:
    world, numel = 4, 100_000
    fast = run_in_group(_modelled, world, "ring", numel, build_network("10gbe",
                                                                       world_size=world))
    slow = run_in_group(_modelled, world, "ring", numel, build_network("slow_link",
                                                                       world_size=world))
    # Every step of the ring waits for the slowest hop: about 10× the bandwidth term.
    assert min(r["modelled_ms"] for r in slow) > 5 * max(r["modelled_ms"] for r in fast)


def test_modelled_time_reaches_the_step_events() -> None:
    log = run_headless(RunConfig(workers=3, steps=4, batch_size=8, options={"allreduce": "ring"},
                                 network="1gbe", detail=True), timeout=60)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    assert log[0]["network"]["name"] == "1gbe"
    steps = [e for e in log if e["type"] == "step"]
    comms = [e for e in log if e["type"] == "comm" and e["step"]]
    num_bytes = log[0]["num_params"] * 4
    expected = ring_all_reduce_ms(3, num_bytes, Link(50.0, 1.0))
    for e in steps:
        # Chunks of a size not divisible by 3 differ by one float: within 5 %.
        assert e["comm_modelled_ms"] == pytest.approx(expected, rel=0.05)
    assert all("modelled_ms" in e for e in comms)
    plain = run_headless(RunConfig(workers=2, steps=2, batch_size=8), timeout=60)
    assert all(e["comm_modelled_ms"] is None for e in plain if e["type"] == "step")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"network": "custom", "latency_us": 5.0, "bandwidth_gbps": -1.0}, "bandwidth"),
    ({"network": "custom", "latency_us": math.nan, "bandwidth_gbps": 1.0}, "finite"),
    ({"network": "10gbe", "links": [{"src": 0, "dst": 9, "latency_us": 1.0,
                                     "bandwidth_gbps": 1.0}]}, "links[0].dst"),
    ({"network": "10gbe", "links": [{"src": 1, "dst": 1, "latency_us": 1.0,
                                     "bandwidth_gbps": 1.0}]}, "different ranks"),
])
def test_bad_network_knobs_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        RunConfig(workers=4, **kwargs)
