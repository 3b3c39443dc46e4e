"""The graphs of the BSP strategy, how they are split over the workers, and the
one-process computations its results are checked against.

Every process builds the same graph from the run's seed (nothing is sent to set it up):

- ``power_law``: preferential attachment (Barabási & Albert, Science 1999). Vertices
  arrive one at a time; each new vertex v ≥ 2 links to 2 distinct older vertices, picked
  with probability proportional to their degree so far. Edges point from the new vertex
  to the old ones (a new web page cites established ones), so the old vertices collect
  the in-links and the rank — and vertices 0 and 1 have no out-links (dangling).
- ``random``: Erdős–Rényi G(n, M) (Erdős & Rényi 1959): M = degree·n (4n by default)
  distinct directed edges u → v (u ≠ v) drawn uniformly; in-degrees are all alike, a few
  vertices dangle (and below about one edge per vertex the graph falls apart into many
  components: something for connected components to find).

PageRank (Page, Brin, Motwani & Winograd 1999), by power iteration, N vertices, damping d:

    r_0(v) = 1/N
    r_{k+1}(v) = (1 − d)/N + d · ( Σ_{u → v} r_k(u)/outdeg(u)  +  D_k/N )

where D_k is the rank held by the dangling vertices (no out-links): a random surfer on a
dead end jumps to any vertex, so their rank is spread evenly over all N. The ranks then
sum to 1 at every step.

Connected components (of the graph with its edges taken both ways) by label propagation:
every vertex starts with its own id as label and takes, each step, the smallest label
among its own and its neighbours'. After as many steps as the longest shortest path, each
vertex holds the smallest id of its component — the labelling a union-find computes.
"""

from __future__ import annotations

import random

import torch

GRAPHS = ("power_law", "random")
PARTITIONS = ("hash", "range")
ALGORITHMS = ("pagerank", "connected_components")
ATTACH = 2  # out-links of each new vertex (power_law)
AVG_DEGREE = 4.0  # edges per vertex (random), by default


def make_graph(kind: str, n: int, seed: int,
               degree: float = AVG_DEGREE) -> tuple[torch.Tensor, torch.Tensor]:
    """(src, dst): the directed edges, int64, sorted by (src, dst), no duplicates or loops
    (``degree``: the random graph's edges per vertex)."""
    rng = random.Random(seed * 1_000_003 + n)
    edges: set[tuple[int, int]] = set()
    if kind == "power_law":
        ends: list[int] = []  # each vertex once per edge it touches: degree-weighted draw
        for v in range(n):
            if v < ATTACH:
                ends.append(v)  # so the first vertices can be drawn at all
                continue
            targets: set[int] = set()
            while len(targets) < min(ATTACH, v):
                targets.add(rng.choice(ends))
            for t in targets:
                edges.add((v, t))
                ends += (v, t)
    elif kind == "random":
        want = min(round(degree * n), n * (n - 1))
        while len(edges) < want:
            u, v = rng.randrange(n), rng.randrange(n)
            if u != v:
                edges.add((u, v))
    else:
        raise ValueError(f"graph '{kind}': choose {' or '.join(GRAPHS)}")
    pairs = torch.tensor(sorted(edges), dtype=torch.int64).reshape(-1, 2)
    return pairs[:, 0].contiguous(), pairs[:, 1].contiguous()


def undirected(src: torch.Tensor, dst: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every edge both ways (connected components ignore direction), without duplicates."""
    both = torch.unique(torch.stack([torch.cat([src, dst]), torch.cat([dst, src])], 1), dim=0)
    return both[:, 0].contiguous(), both[:, 1].contiguous()


def owner_of(vertices: torch.Tensor, n: int, workers: int, partition: str) -> torch.Tensor:
    """Which worker holds each vertex: ``hash`` v mod W (neighbours scatter over all
    workers), ``range`` contiguous blocks of ⌈N/W⌉ (vertex ids close together stay
    together; with power_law the old hubs all land on worker 0)."""
    if partition == "hash":
        return vertices % workers
    if partition == "range":
        return vertices // -(-n // workers)
    raise ValueError(f"partition '{partition}': choose {' or '.join(PARTITIONS)}")


def message_counts(src: torch.Tensor, dst: torch.Tensor, owner: torch.Tensor, workers: int,
                   combiner: bool) -> torch.Tensor:
    """[i, j]: vertex messages worker i sends worker j in one superstep: one per edge whose
    source i holds and whose destination j holds — or, with the combiner, one per distinct
    destination vertex (all messages to one vertex folded into one before sending)."""
    counts = torch.zeros(workers, workers, dtype=torch.int64)
    wi, wj = owner[src], owner[dst]
    if combiner:
        pairs = torch.unique(torch.stack([wi, dst], 1), dim=0)
        wi, wj = pairs[:, 0], owner[pairs[:, 1]]
    counts.index_put_((wi, wj), torch.ones_like(wi), accumulate=True)
    return counts


def pagerank(src: torch.Tensor, dst: torch.Tensor, n: int, damping: float,
             steps: int) -> tuple[torch.Tensor, list[float]]:
    """One-process power iteration (float64): the ranks after ``steps`` steps, and the
    L1 change ‖r_{k+1} − r_k‖₁ of every step."""
    out_degree = torch.bincount(src, minlength=n).to(torch.float64)
    dangling = out_degree == 0
    r = torch.full((n,), 1.0 / n, dtype=torch.float64)
    changes = []
    for _ in range(steps):
        share = r[src] / out_degree[src]
        incoming = torch.zeros(n, dtype=torch.float64).index_add_(0, dst, share)
        new = (1 - damping) / n + damping * (incoming + r[dangling].sum() / n)
        changes.append(float((new - r).abs().sum()))
        r = new
    return r, changes


def propagate_labels(src: torch.Tensor, dst: torch.Tensor, n: int,
                     steps: int) -> tuple[torch.Tensor, list[int]]:
    """One-process label propagation on the undirected graph: the labels after ``steps``
    steps, and how many vertices changed label at each."""
    us, ud = undirected(src, dst)
    label = torch.arange(n, dtype=torch.int64)
    changed = []
    for _ in range(steps):
        new = label.clone().scatter_reduce_(0, ud, label[us], reduce="amin")
        changed.append(int((new != label).sum()))
        label = new
    return label, changed


def components(src: torch.Tensor, dst: torch.Tensor, n: int) -> torch.Tensor:
    """Union-find: each vertex labelled with the smallest vertex id of its component."""
    parent = list(range(n))

    def root(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for u, v in zip(src.tolist(), dst.tolist(), strict=True):
        a, b = root(u), root(v)
        if a != b:
            parent[max(a, b)] = min(a, b)  # the smaller id stays the root
    return torch.tensor([root(v) for v in range(n)], dtype=torch.int64)
