"""The calculator's formulas (engine/calculator.py) against the numbers their papers give,
and against what the lab measures on its small runs."""

from __future__ import annotations

import pytest

from engine.calculator import MODELS, Setup, activations, bubble, model_states, per_gpu


def _gb(states: dict[str, float]) -> float:
    return sum(states.values()) / 1e9


def test_zero_paper_figure_1() -> None:
    """Rajbhandari et al. 2020, Fig. 1: Ψ = 7.5B, N_d = 64, K = 12 — model states per
    device 120 GB (baseline), 31.4 GB (P_os), 16.6 GB (P_os+g), 1.88 GB (P_os+g+p)."""
    base = dict(params=7.5e9, layers=1, hidden=1, heads=1, data=64)
    expected = {0: 120, 1: 31.4, 2: 16.6, 3: 1.88}
    for stage, gb in expected.items():
        assert _gb(model_states(Setup(**base, zero=stage))) == pytest.approx(gb, abs=0.05)


def test_zero_paper_gpt2_needs_24_gb() -> None:
    """ZeRO §3.1: a 1.5B-parameter GPT-2 needs at least 24 GB for its model states with
    mixed-precision Adam (16 bytes a parameter)."""
    assert _gb(model_states(Setup(params=1.5e9, layers=48, hidden=1600, heads=25))) == 24


def test_activations_follow_korthikanti_et_al() -> None:
    """Korthikanti et al. 2022, Eq. 2 and Table 2: sbh(34 + 5as/h) per layer without
    parallelism, sbh(10 + 24/t + 5as/(ht)) with tensor parallelism t, 2sbh with full
    recomputation."""
    g = MODELS["gpt3-175b"]
    s = Setup(params=g["params"], layers=1, hidden=int(g["hidden"]), heads=int(g["heads"]),
              seq=2048, micro_batch=1)
    sbh = 2048 * 12288
    assert activations(s) == pytest.approx(sbh * (34 + 5 * 96 * 2048 / 12288))
    t8 = Setup(**{**s.__dict__, "tensor": 8})
    assert activations(t8) == pytest.approx(sbh * (10 + 24 / 8 + 5 * 96 * 2048 / (12288 * 8)))
    assert activations(Setup(**{**s.__dict__, "recompute": True})) == 2 * sbh


def test_the_bubble_and_a_fit_check() -> None:
    assert bubble(Setup(params=1, layers=4, hidden=1, heads=1, pipeline=4,
                        micro_batches=4)) == pytest.approx(3 / 7)
    # GPT-3 175B does not fit one 80 GB GPU; split 8-way tensor × 8-way pipeline × ZeRO-1
    # over 16-way data parallelism with recomputation, it does.
    g = MODELS["gpt3-175b"]
    one = per_gpu(Setup(params=g["params"], layers=96, hidden=12288, heads=96))
    assert one["total"] / 2**30 > 80
    split = per_gpu(Setup(params=g["params"], layers=96, hidden=12288, heads=96, data=16,
                          pipeline=8, tensor=8, zero=1, recompute=True))
    assert split["total"] / 2**30 < 80


def test_fp32_states_are_what_the_lab_measures() -> None:
    """The small runs keep everything in fp32 (engine/memory.py; bench/zero_memory.py):
    4 + 4 + 8 bytes per parameter, sharded as the stage says."""
    psi = 206_885  # the lab's default transformer
    for stage, expected in {0: 16 * psi, 1: 8 * psi + 8 * psi / 4, 2: 4 * psi + 12 * psi / 4,
                            3: 16 * psi / 4}.items():
        states = model_states(Setup(params=psi, layers=4, hidden=64, heads=4, data=4,
                                    zero=stage, mixed=False))
        assert sum(states.values()) == pytest.approx(expected)


def test_the_pages_golden_file_is_what_the_engine_computes() -> None:
    """tests/golden/calculator.json is what views/calculatorcore.js is checked against."""
    import json
    from pathlib import Path

    golden = json.loads((Path(__file__).parent / "golden" / "calculator.json").read_text())
    for case in golden["cases"]:
        assert per_gpu(Setup(**case["setup"])) == pytest.approx(case["expected"])
