"""A network model: real bytes, modelled time.

On one machine every "network" is loopback, so measured communication time says little
about a real cluster. The bytes always move for real; in addition, each message can be
charged to a modelled link with latency α and bandwidth β (the α–β or Hockney model):
sending N bytes over a link takes α + N/β.

Ranks keep a modelled clock per step. A message leaves at its sender's clock and is
delivered when the receiver is free to take it (one message in and one out at a time per
rank: the "single-port" assumption of the textbook analyses):

    receive_done = max(receiver_clock, sender_departure) + α + N/β

With that, a ring all-reduce over n ranks costs exactly 2(n-1)·(α + N/(n·β)), a binomial
tree 2⌈log2 n⌉·(α + N/β), and the naive scheme is throttled by the root's single port:
2(n-1)·(α + N/β). The closed forms live in engine/costmodel.py, the one owner the browser's
netmodel.js is checked against (tests/golden/alphabeta.json).

References: Hockney, "The communication challenge for MPP", Parallel Computing 1994;
Thakur, Rabenseifner & Gropp, IJHPCA 2005 (α–β costs of MPI collectives).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine import costmodel


@dataclass(frozen=True, slots=True)
class Link:
    latency_us: float
    """α: time for an empty message, microseconds."""
    bandwidth_gbps: float
    """β: gigabits per second."""

    def transfer_ms(self, num_bytes: int) -> float:
        """α + N/β, in milliseconds."""
        return costmodel.link_ms(self.latency_us, self.bandwidth_gbps, num_bytes)


# Typical figures, rounded: kernel TCP over Ethernet, RDMA over InfiniBand.
PRESETS: dict[str, Link] = {
    "1gbe": Link(latency_us=50.0, bandwidth_gbps=1.0),
    "10gbe": Link(latency_us=20.0, bandwidth_gbps=10.0),
    "100g_ib": Link(latency_us=2.0, bandwidth_gbps=100.0),
}
# "One slow link": a 10 GbE cluster where the cable from rank 0 to rank 1 is 10× slower.
SLOW_LINK_FACTOR = 10.0
# "Two levels": nodes of ``node_size`` processes; inside a node a fast interconnect (as
# NVLink or a shared-memory bus: 2 µs, 200 Gb/s), between nodes 10 GbE — the node boundary
# is where the bytes cost (a hierarchical all-reduce sends fewer of them across it).
INSIDE_NODE = Link(latency_us=2.0, bandwidth_gbps=200.0)
BETWEEN_NODES = PRESETS["10gbe"]
NETWORKS = (*PRESETS, "slow_link", "two_level", "custom")


@dataclass(frozen=True, slots=True)
class NetworkModel:
    name: str
    default: Link
    links: dict[tuple[int, int], Link] = field(default_factory=dict)
    nodes: tuple[int, ...] = ()
    """The node of every rank (``two_level``): links between nodes are ``between``."""
    between: Link | None = None

    def link(self, src: int, dst: int) -> Link:
        if (src, dst) in self.links:
            return self.links[(src, dst)]
        if self.between is not None and self.nodes and self.nodes[src] != self.nodes[dst]:
            return self.between
        return self.default

    def describe(self) -> dict[str, Any]:
        """For ``run_started``: what the modelled clock assumes."""
        return {
            "name": self.name,
            "latency_us": self.default.latency_us,
            "bandwidth_gbps": self.default.bandwidth_gbps,
            "links": [{"src": s, "dst": d, "latency_us": link.latency_us,
                       "bandwidth_gbps": link.bandwidth_gbps}
                      for (s, d), link in sorted(self.links.items())],
            **({"between_nodes": {"latency_us": self.between.latency_us,
                                  "bandwidth_gbps": self.between.bandwidth_gbps},
                "nodes": list(self.nodes)} if self.between is not None else {}),
        }


def build_network(name: str | None, *, world_size: int, latency_us: float | None = None,
                  bandwidth_gbps: float | None = None,
                  links: list[dict[str, Any]] | None = None,
                  nodes: list[int] | None = None) -> NetworkModel | None:
    """The model a run asked for, or ``None`` (measured wall time only). ``nodes``: the
    node of every rank, for ``two_level``."""
    if name is None:
        return None
    if name == "two_level":
        return NetworkModel(name=name, default=INSIDE_NODE, links=_overrides(links),
                            nodes=tuple(nodes or [0] * world_size), between=BETWEEN_NODES)
    if name == "custom":
        default = Link(latency_us=latency_us, bandwidth_gbps=bandwidth_gbps)  # type: ignore[arg-type]
    elif name == "slow_link":
        default = PRESETS["10gbe"]
    else:
        default = PRESETS[name]
    overrides = {}
    if name == "slow_link" and world_size > 1:
        overrides[(0, 1)] = Link(default.latency_us,
                                 default.bandwidth_gbps / SLOW_LINK_FACTOR)
    overrides |= _overrides(links)
    return NetworkModel(name=name, default=default, links=overrides)


def _overrides(links: list[dict[str, Any]] | None) -> dict[tuple[int, int], Link]:
    return {(spec["src"], spec["dst"]): Link(spec["latency_us"], spec["bandwidth_gbps"])
            for spec in links or []}


def ring_all_reduce_ms(world_size: int, num_bytes: int, link: Link) -> float:
    """The textbook cost 2(n-1)·α + 2(n-1)/n·N/β over one link type (costmodel.ring_ms)."""
    return costmodel.ring_ms(world_size, num_bytes, link.latency_us, link.bandwidth_gbps)
