"""The α–β closed forms (engine/costmodel.py) and their golden table.

tests/golden/alphabeta.json is generated from engine/costmodel.py and read by both this
file and tests/js/alphabeta-golden.test.mjs: Python owns the formulas, the browser's
netmodel.js must reproduce them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import costmodel
from engine.network import PRESETS, Link, ring_all_reduce_ms

GOLDEN = Path(__file__).parent / "golden" / "alphabeta.json"
REGENERATE = "python -m engine.costmodel --golden > tests/golden/alphabeta.json"


def _golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_golden_file_is_up_to_date() -> None:
    assert GOLDEN.read_text(encoding="utf-8") == costmodel.golden_json(), (
        f"engine/costmodel.py changed: run `{REGENERATE}` and check netmodel.js still agrees"
    )


def test_the_command_line_prints_the_golden_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert costmodel.main(["--golden"]) == 0
    assert capsys.readouterr().out == costmodel.golden_json()


def test_the_table_covers_sizes_world_sizes_and_networks() -> None:
    cases = _golden()["cases"]
    assert {c["algorithm"] for c in cases} == set(costmodel.ALGORITHMS)
    assert {c["n"] for c in cases} == {2, 3, 4, 8, 16}
    sizes = {c["bytes"] for c in cases}
    assert min(sizes) == 1_000 and max(sizes) == 1_000_000_000 and len(sizes) >= 7
    assert len({(c["latency_us"], c["bandwidth_gbps"]) for c in cases}) >= 3
    assert sum(c["bytes"] is not None for c in _golden()["crossover"]) >= 6


def test_the_formulas_reproduce_the_golden_table() -> None:
    for c in _golden()["cases"]:
        ms = costmodel.all_reduce_ms(c["algorithm"], c["n"], c["bytes"], c["latency_us"],
                                     c["bandwidth_gbps"])
        assert ms == pytest.approx(c["ms"], rel=1e-12), c


def test_the_formulas_by_hand() -> None:
    # 10 GbE (α = 20 µs, β = 10 Gb/s), the lab's 4,872-byte gradient, 4 ranks
    hop = 0.02 + 4872 * 8 / 10e9 * 1e3  # α + N/β in ms
    assert costmodel.link_ms(20, 10, 4872) == pytest.approx(hop)
    assert costmodel.ring_ms(4, 4872, 20, 10) == pytest.approx(6 * 0.02 + 1.5 * 4872 * 8 / 1e7)
    assert costmodel.tree_ms(4, 4872, 20, 10) == pytest.approx(4 * hop)
    assert costmodel.tree_ms(5, 4872, 20, 10) == pytest.approx(6 * hop)  # ⌈log2 5⌉ = 3
    assert costmodel.naive_ms(4, 4872, 20, 10) == pytest.approx(6 * hop)
    assert [costmodel.ceil_log2(n) for n in (1, 2, 3, 4, 5, 8, 9, 64)] == [0, 1, 2, 2, 3, 3, 4, 6]
    for algorithm in costmodel.ALGORITHMS:  # one rank: nothing to reduce
        assert costmodel.all_reduce_ms(algorithm, 1, 4872, 20, 10) == 0.0


def test_the_engine_charges_the_same_ring_and_hop() -> None:
    # engine.network (the modelled clock's Link and the builtin all-reduce's charge) must
    # be the costmodel's formulas, not a second copy of them
    for c in _golden()["cases"]:
        link = Link(c["latency_us"], c["bandwidth_gbps"])
        if c["algorithm"] == "ring":
            assert ring_all_reduce_ms(c["n"], c["bytes"], link) == pytest.approx(c["ms"],
                                                                                  rel=1e-12)
        if c["algorithm"] == "naive":
            hops = 2 * (c["n"] - 1)
            assert hops * link.transfer_ms(c["bytes"]) == pytest.approx(c["ms"], rel=1e-12)
    for link in PRESETS.values():
        assert link.transfer_ms(1000) == costmodel.link_ms(link.latency_us,
                                                           link.bandwidth_gbps, 1000)


def test_ring_and_tree_meet_at_the_crossover() -> None:
    for c in _golden()["crossover"]:
        n, alpha, beta, size = c["n"], c["latency_us"], c["bandwidth_gbps"], c["bytes"]
        assert costmodel.ring_tree_crossover_bytes(n, alpha, beta) == size
        if n <= 3:  # the ring never loses (equal latency terms, fewer bytes)
            assert size is None
            assert costmodel.ring_ms(n, 1000, alpha, beta) <= costmodel.tree_ms(
                n, 1000, alpha, beta)
            continue
        assert size is not None
        assert costmodel.ring_ms(n, size, alpha, beta) == pytest.approx(
            costmodel.tree_ms(n, size, alpha, beta), rel=1e-9)
        # latency-bound below it (the tree wins), bandwidth-bound above it (the ring wins)
        assert costmodel.tree_ms(n, size / 10, alpha, beta) < costmodel.ring_ms(
            n, size / 10, alpha, beta)
        assert costmodel.ring_ms(n, size * 10, alpha, beta) < costmodel.tree_ms(
            n, size * 10, alpha, beta)
