"""The α–β (Hockney) closed forms of all-reduce: the one place they are written down.

Every message of N bytes over a link costs α + N/β: α is the latency (the time of an empty
message: software stack, NIC, switch) and N/β the time the bytes take on the wire at
bandwidth β. For an all-reduce of N bytes over n ranks, with the single-port assumption
of the textbook analyses (a rank takes one message in and sends one out at a time):

    ring   2(n−1)·α + 2(n−1)/n·N/β
           reduce-scatter then all-gather, n−1 rounds each; every round moves one chunk
           of N/n bytes per rank. 2(n−1) latencies, but only 2(n−1)/n·N bytes per rank,
           which is bandwidth-optimal (never more than 2N, however large n).
    tree   2⌈log2 n⌉·(α + N/β)
           binomial reduce to rank 0, then a binomial broadcast back: ⌈log2 n⌉ rounds
           each way, every round carries the whole gradient. Few latencies, many bytes.
    naive  2(n−1)·(α + N/β)
           everyone sends to rank 0, which sums and sends the result back; its single
           port takes the n−1 messages in, then sends n−1 out, one after the other.

The ring beats the tree above the size where the two are equal,
α·((n−1) − ⌈log2 n⌉) = N/β·(⌈log2 n⌉ − (n−1)/n); for n ≤ 3 the ring never loses.

Units are the ones the run form uses: α in microseconds, β in gigabits per second
(10⁹ bit/s), N in bytes, results in milliseconds. These are exactly the times the modelled
clock of engine/comms.py adds up for engine/collectives.py (see tests/test_network.py).

The browser draws the same curves (frontend/static/js/netmodel.js). Python owns the
formulas: ``python -m engine.costmodel --golden > tests/golden/alphabeta.json`` writes a
table of cases that tests/test_costmodel.py and tests/js/alphabeta-golden.test.mjs both
check, so the two implementations cannot drift apart.

References: R. Hockney, "The communication challenge for MPP", Parallel Computing 1994
(the α–β model); R. Thakur, R. Rabenseifner & W. Gropp, "Optimization of collective
communication operations in MPICH", IJHPCA 2005 (α–β costs of the binomial tree and of
reduce-scatter + all-gather); P. Patarasuk & X. Yuan, "Bandwidth optimal all-reduce
algorithms for clusters of workstations", JPDC 2009 (the ring).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

ALGORITHMS = ("ring", "tree", "naive")


def ceil_log2(n: int) -> int:
    """⌈log2 n⌉ for n ≥ 1, exact (no floating-point log): the binomial tree's depth."""
    return (n - 1).bit_length() if n > 1 else 0


def link_ms(latency_us: float, bandwidth_gbps: float, num_bytes: float) -> float:
    """One message: α + N/β."""
    return latency_us / 1e3 + num_bytes * 8 / (bandwidth_gbps * 1e9) * 1e3


def ring_ms(n: int, num_bytes: float, latency_us: float, bandwidth_gbps: float) -> float:
    """Ring all-reduce: 2(n−1)·α + 2(n−1)/n·N/β."""
    if n <= 1:
        return 0.0
    return 2 * (n - 1) * latency_us / 1e3 + (
        2 * (n - 1) / n * num_bytes * 8 / (bandwidth_gbps * 1e9) * 1e3)


def tree_ms(n: int, num_bytes: float, latency_us: float, bandwidth_gbps: float) -> float:
    """Binomial-tree all-reduce (reduce + broadcast): 2⌈log2 n⌉·(α + N/β)."""
    if n <= 1:
        return 0.0
    return 2 * ceil_log2(n) * link_ms(latency_us, bandwidth_gbps, num_bytes)


def naive_ms(n: int, num_bytes: float, latency_us: float, bandwidth_gbps: float) -> float:
    """Naive all-reduce through rank 0's single port: 2(n−1)·(α + N/β)."""
    if n <= 1:
        return 0.0
    return 2 * (n - 1) * link_ms(latency_us, bandwidth_gbps, num_bytes)


_BY_NAME: dict[str, Callable[[int, float, float, float], float]] = {
    "ring": ring_ms, "tree": tree_ms, "naive": naive_ms,
}


def all_reduce_ms(algorithm: str, n: int, num_bytes: float, latency_us: float,
                  bandwidth_gbps: float) -> float:
    """Modelled time of one all-reduce of N bytes over n ranks, by algorithm name."""
    return _BY_NAME[algorithm](n, num_bytes, latency_us, bandwidth_gbps)


def ring_tree_crossover_bytes(n: int, latency_us: float, bandwidth_gbps: float) -> float | None:
    """Message size above which the ring beats the tree, or None when one of them wins at
    every size (n ≤ 3: the ring never loses)."""
    depth = ceil_log2(n)
    # ring = tree  ⇔  α·((n−1) − L) = N/β·(L − (n−1)/n), L = ⌈log2 n⌉; α in s, 1/β in s/byte
    num = (n - 1 - depth) * (latency_us / 1e6)
    den = (depth - (n - 1) / n) * (8 / (bandwidth_gbps * 1e9))
    if not (num > 0 and den > 0):
        return None
    return num / den


# ---------------------------------------------------------------- every collective

# The α–β cost of each collective of the playground (engine/mpi_collectives.py), for a
# vector of N bytes (the whole vector: a block is N/n) on n ranks, as
# (latency terms, share of N on the critical path, formula): time = a·α + b·N·β, with
# β here the time per byte. Thakur, Rabenseifner & Gropp 2005, section 3 (single port,
# the reduction's own arithmetic left out); the all-reduces are those above.
COLLECTIVE_COSTS: dict[tuple[str, str], tuple[Callable[[int], float],
                                              Callable[[int], float], str]] = {
    ("broadcast", "binomial"): (ceil_log2, ceil_log2, "⌈log₂n⌉·(α + N·β)"),
    ("broadcast", "linear"): (lambda n: n - 1, lambda n: n - 1, "(n−1)·(α + N·β)"),
    ("scatter", "linear"): (lambda n: n - 1, lambda n: (n - 1) / n, "(n−1)·α + (n−1)/n·N·β"),
    ("gather", "linear"): (lambda n: n - 1, lambda n: (n - 1) / n, "(n−1)·α + (n−1)/n·N·β"),
    ("reduce", "binomial"): (ceil_log2, ceil_log2, "⌈log₂n⌉·(α + N·β)"),
    ("reduce", "linear"): (lambda n: n - 1, lambda n: n - 1, "(n−1)·(α + N·β)"),
    ("all_gather", "ring"): (lambda n: n - 1, lambda n: (n - 1) / n, "(n−1)·α + (n−1)/n·N·β"),
    ("reduce_scatter", "ring"): (lambda n: n - 1, lambda n: (n - 1) / n,
                                 "(n−1)·α + (n−1)/n·N·β"),
    ("all_reduce", "ring"): (lambda n: 2 * (n - 1), lambda n: 2 * (n - 1) / n,
                             "2(n−1)·α + 2(n−1)/n·N·β"),
    ("all_reduce", "rs_ag"): (lambda n: 2 * (n - 1), lambda n: 2 * (n - 1) / n,
                              "2(n−1)·α + 2(n−1)/n·N·β"),
    ("all_reduce", "tree"): (lambda n: 2 * ceil_log2(n), lambda n: 2 * ceil_log2(n),
                             "2⌈log₂n⌉·(α + N·β)"),
    ("all_reduce", "naive"): (lambda n: 2 * (n - 1), lambda n: 2 * (n - 1),
                              "2(n−1)·(α + N·β)"),
    ("all_to_all", "pairwise"): (lambda n: n - 1, lambda n: (n - 1) / n,
                                 "(n−1)·α + (n−1)/n·N·β"),
    ("barrier", "dissemination"): (ceil_log2, lambda n: 0, "⌈log₂n⌉·α"),
}


def collective_cost(collective: str, algorithm: str, n: int, num_bytes: float
                    ) -> dict[str, float | str]:
    """The α–β cost of one collective: its formula, the number of latencies, the bytes on
    the critical path, and (with ``ms``) the time on a network of α µs and β Gbit/s."""
    alpha_terms, share, formula = COLLECTIVE_COSTS[(collective, algorithm)]
    return {"formula": formula, "alpha_terms": alpha_terms(n) if n > 1 else 0,
            "beta_bytes": share(n) * num_bytes if n > 1 else 0.0}


def collective_ms(collective: str, algorithm: str, n: int, num_bytes: float,
                  latency_us: float, bandwidth_gbps: float) -> float:
    """Modelled time of one collective (milliseconds, the units of ``ring_ms``)."""
    cost = collective_cost(collective, algorithm, n, num_bytes)
    return float(cost["alpha_terms"]) * latency_us / 1e3 + (
        float(cost["beta_bytes"]) * 8 / (bandwidth_gbps * 1e9) * 1e3)


# ---------------------------------------------------------------- golden table

# The cases both implementations must agree on. Networks are written out (not taken from
# engine.network.PRESETS) so that retuning a preset does not silently change the table.
GOLDEN_WORLD_SIZES = (2, 3, 4, 8, 16)
# 1 KB … 1 GB by decades, plus the lab's gradient (4,872 B) and 1 MiB (not divisible by 3)
GOLDEN_SIZES = (1_000, 4_872, 10_000, 100_000, 1_000_000, 2**20, 10_000_000, 100_000_000,
                1_000_000_000)
GOLDEN_NETWORKS = (
    (50.0, 1.0),    # 1 GbE (kernel TCP)
    (20.0, 10.0),   # 10 GbE
    (2.0, 100.0),   # 100 Gb/s InfiniBand (RDMA)
    (7.5, 25.0),    # custom, with a fractional α
)


def golden_table() -> dict:
    cases = [
        {"algorithm": algorithm, "n": n, "bytes": num_bytes, "latency_us": alpha,
         "bandwidth_gbps": beta, "ms": all_reduce_ms(algorithm, n, num_bytes, alpha, beta)}
        for alpha, beta in GOLDEN_NETWORKS
        for n in GOLDEN_WORLD_SIZES
        for num_bytes in GOLDEN_SIZES
        for algorithm in ALGORITHMS
    ]
    crossover = [
        {"n": n, "latency_us": alpha, "bandwidth_gbps": beta,
         "bytes": ring_tree_crossover_bytes(n, alpha, beta)}
        for alpha, beta in GOLDEN_NETWORKS
        for n in GOLDEN_WORLD_SIZES
    ]
    return {
        "about": "alpha-beta all-reduce times (ms) from engine/costmodel.py; regenerate "
                 "with `python -m engine.costmodel --golden > tests/golden/alphabeta.json`. "
                 "Units: latency_us microseconds, bandwidth_gbps 1e9 bit/s, bytes B.",
        "cases": cases,
        "crossover": crossover,
    }


def golden_json() -> str:
    """The golden file's exact text: one case per line, so a diff shows what moved."""
    table = golden_table()
    lines = ["{", f'  "about": {json.dumps(table["about"])},']
    for key in ("cases", "crossover"):
        rows = [json.dumps(row) for row in table[key]]
        lines.append(f'  "{key}": [')
        lines.extend(f"    {row}," for row in rows[:-1])
        lines.append(f"    {rows[-1]}")
        lines.append("  ]," if key == "cases" else "  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.costmodel",
                                     description="The α–β closed forms of all-reduce.")
    parser.add_argument("--golden", action="store_true",
                        help="print the golden table (tests/golden/alphabeta.json)")
    args = parser.parse_args(argv)
    if not args.golden:
        parser.print_help()
        return 2
    sys.stdout.write(golden_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
