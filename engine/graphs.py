"""Communication graphs for decentralized training, and their mixing matrices.

In decentralized SGD (engine/strategies/decentralized.py) there is no server and no
all-reduce: worker i averages its model with its neighbours' only, with weights W[i][j].
For the replicas' *average* to move exactly as one SGD step on the averaged gradient
(Lian et al. 2017, the invariant the tests check), W must be

- symmetric (W[i][j] = W[j][i]): an undirected graph, each edge used both ways, and
- doubly stochastic (every row and every column sums to 1): averaging neither creates
  nor destroys "mass".

Metropolis–Hastings weights give both for any undirected graph (Xiao & Boyd, "Fast
linear iterations for distributed averaging", 2004):

    W[i][j] = 1 / (1 + max(deg i, deg j))   for each edge i–j,
    W[i][i] = 1 − Σ_j W[i][j].

On a ring every worker keeps 1/3 and takes 1/3 from each neighbour; on the complete
graph every weight is 1/n, the exact average.

The graphs (all undirected, no self-loops in the neighbour lists):

- ``ring``: i − 1 and i + 1 (mod n). Two neighbours whatever n: bytes per worker stay
  flat as workers are added.
- ``torus``: a rows × cols grid wrapped at both edges (rows the largest divisor of n not
  above √n); up to four neighbours.
- ``exponential``: i ± 2^k (mod n) for 2^k < n (Assran et al. 2019 use the directed
  i + 2^k; here both directions, so that W is symmetric); about 2·log2(n) neighbours.
- ``complete``: everyone; the mixing is the exact average (what an all-reduce gives).
"""

from __future__ import annotations

import math

import torch

GRAPHS = ("ring", "torus", "exponential", "complete")


def torus_shape(n: int) -> tuple[int, int]:
    """rows × cols = n with rows the largest divisor of n not above √n."""
    rows = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
    return rows, n // rows


def neighbours(graph: str, n: int) -> list[list[int]]:
    """Each worker's neighbours (sorted, without itself)."""
    if graph not in GRAPHS:
        raise ValueError(f"graph must be one of {', '.join(GRAPHS)}, not {graph!r}")
    out: list[set[int]] = [set() for _ in range(n)]
    for i in range(n):
        if graph == "ring":
            out[i] |= {(i - 1) % n, (i + 1) % n}
        elif graph == "torus":
            rows, cols = torus_shape(n)
            r, c = divmod(i, cols)
            out[i] |= {((r - 1) % rows) * cols + c, ((r + 1) % rows) * cols + c,
                       r * cols + (c - 1) % cols, r * cols + (c + 1) % cols}
        elif graph == "exponential":
            hop = 1
            while hop < n:
                out[i] |= {(i + hop) % n, (i - hop) % n}
                hop *= 2
        else:
            out[i] |= set(range(n))
        out[i].discard(i)  # small n: a "neighbour" that is oneself is no neighbour
    return [sorted(s) for s in out]


def mixing_matrix(graph: str, n: int) -> torch.Tensor:
    """W (float64, n × n): Metropolis–Hastings weights on the graph's edges."""
    near = neighbours(graph, n)
    w = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        for j in near[i]:
            w[i, j] = 1.0 / (1 + max(len(near[i]), len(near[j])))
        w[i, i] = 1.0 - w[i].sum()
    return w
