"""Two levels (issue 18, chapter 2's layered architecture): processes grouped into nodes
(``node_size``), a network that is fast inside a node and slow between nodes
(``two_level``), and the hierarchical all-reduce that sums inside each node first and
sends only the node leaders' ring across the node boundary.

- The hierarchical all-reduce sums exactly, for even and uneven nodes, one node, and one
  process per node.
- Data parallelism with it ends where the built-in all-reduce ends.
- Across the node boundary it sends 2·N in all (two nodes' leaders, a ring of two), where
  the flat ring sends more; on the two-level network its modelled time is shorter.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from engine.collectives import all_reduce
from engine.comms import Comms
from engine.config import RunConfig
from engine.network import build_network
from engine.runner import run_headless
from tests.dist_harness import run_in_group
from tests.helpers import steps_by_rank


def _hierarchical(comms: Comms, node_size: int, numel: int) -> list[float]:
    comms.topo = dataclasses.replace(comms.topo, node_size=node_size)
    x = torch.arange(numel, dtype=torch.float32) * (comms.topo.rank + 1)
    all_reduce(comms, x, "hierarchical")
    return x.tolist()


@pytest.mark.parametrize(("world", "node_size"), [(4, 2), (5, 2), (3, 1), (3, 8)])
def test_the_hierarchical_all_reduce_sums(world: int, node_size: int) -> None:
    numel = 11  # not a multiple of the number of nodes
    want = (torch.arange(numel, dtype=torch.float32) * sum(range(1, world + 1))).tolist()
    for got in run_in_group(_hierarchical, world, node_size, numel):
        assert got == want


def _run(allreduce: str, **kw: Any) -> list[dict[str, Any]]:
    events = run_headless(RunConfig(strategy="data_parallel", workers=kw.pop("workers", 4),
                                    steps=4, batch_size=8, dataset="moons", seed=2,
                                    options={"allreduce": allreduce}, **kw), timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    return events


def test_data_parallelism_with_it_ends_where_the_builtin_all_reduce_ends() -> None:
    ours = steps_by_rank(_run("hierarchical", node_size=2))
    ref = steps_by_rank(_run("builtin"))
    for r in range(4):
        torch.testing.assert_close(torch.tensor([e["param_checksum"] for e in ours[r]]),
                                   torch.tensor([e["param_checksum"] for e in ref[r]]),
                                   rtol=1e-6, atol=1e-6)


def test_fewer_bytes_cross_the_node_boundary_and_the_two_level_step_is_shorter() -> None:
    crossing, modelled = {}, {}
    for allreduce in ("ring", "hierarchical"):
        events = _run(allreduce, workers=8, node_size=4, network="two_level", detail=True)
        model = next(e for e in events if e["type"] == "run_started")["num_params"] * 4
        messages = [e for e in events if e["type"] == "comm" and e["step"] == 3]
        crossing[allreduce] = sum(m["bytes"] for m in messages if m["src"] // 4 != m["dst"] // 4)
        modelled[allreduce] = max(e["comm_modelled_ms"] for e in events
                                  if e["type"] == "step" and e["step"] == 3)
    assert crossing["hierarchical"] == 2 * model  # each leader N: half out, half back
    assert crossing["ring"] > 3 * model  # ranks 3 and 7 each send 14 chunks of N/8
    assert modelled["hierarchical"] < modelled["ring"]


def test_the_network_and_the_algorithm_need_nodes() -> None:
    with pytest.raises(ValueError, match=r"two_level.*needs node_size"):
        RunConfig(strategy="data_parallel", workers=4, network="two_level")
    with pytest.raises(ValueError, match="'hierarchical' sums inside each node"):
        RunConfig(strategy="data_parallel", workers=4, options={"allreduce": "hierarchical"})
    net = build_network("two_level", world_size=4, nodes=[0, 0, 1, 1])
    assert net.link(0, 1).bandwidth_gbps == 200.0 and net.link(1, 2).bandwidth_gbps == 10.0


def _across_per_step(strategy: str, workers: int, options: dict[str, Any]) -> tuple[int, int]:
    """(bytes across the node boundary in step 2, summed over the processes; model bytes)"""
    events = run_headless(RunConfig(strategy=strategy, workers=workers, steps=3, batch_size=8,
                                    dataset="moons", seed=2, node_size=4, options=options),
                          timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    model = next(e for e in events if e["type"] == "run_started")["num_params"] * 4
    return sum(e["bytes_across_nodes"] for e in events
               if e["type"] == "step" and e["step"] == 2), model


def test_three_architectures_send_what_they_should_across_the_nodes() -> None:
    """Chapter 2 on 8 processes in 2 nodes of 4: centralized (a parameter server on node
    0: the 4 workers on node 1 push a gradient and pull the model across), layered (the
    hierarchical all-reduce: the two leaders' ring), peer-to-peer (gossip on a ring: the
    edges 3–4 and 7–0 carry one model each way)."""
    ps, n = _across_per_step("parameter_server", 7, {"servers": 1, "ps_mode": "sync"})
    assert ps == 8 * n
    layered, n = _across_per_step("data_parallel", 8, {"allreduce": "hierarchical"})
    assert layered == 2 * n
    gossip, n = _across_per_step("decentralized", 8, {"graph": "ring"})
    assert gossip == 4 * n
