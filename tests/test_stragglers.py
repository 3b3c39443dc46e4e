"""A k× straggler is k times slower at any pace (issue 13, item 3): at a human pace a step
lasts 1/pace, so that is what the straggler is slowed relative to — not the millisecond
the tiny model computes in, which left a 5× straggler invisible at 8 steps/s."""

from __future__ import annotations

import pytest

from engine.config import RunConfig
from engine.runner import run_headless


def _steps(config: RunConfig) -> list[dict]:
    return [e for e in run_headless(config, timeout=120) if e["type"] == "step"]


@pytest.mark.parametrize("strategy,options", [("data_parallel", {}),
                                              ("parameter_server", {"ps_mode": "sync"})])
def test_a_straggler_at_a_human_pace_is_slowed_by_its_factor_of_the_step(
        strategy: str, options: dict) -> None:
    pace, factor = 20.0, 3.0  # a step lasts 50 ms; the straggler's, 150 ms
    steps = _steps(RunConfig(strategy=strategy, options=options, workers=2, steps=5,
                             batch_size=8, pace=pace, straggler="one",
                             straggler_factor=factor, straggler_rank=1))
    ranks = sorted({e["rank"] for e in steps})
    slow_rank = ranks[-1]  # the second worker (after the server, for a parameter server)
    slow = [e for e in steps if e["rank"] == slow_rank]
    fast = [e for e in steps if e["rank"] != slow_rank]
    assert len(slow) == 5 and all(e["slowed"] is True for e in slow)
    # it slept (factor − 1) × the paced step, at least
    assert all(e["emulated_ms"] >= (factor - 1) * 1e3 / pace for e in slow), slow
    assert not any(e.get("slowed") for e in fast)
    assert all(e.get("emulated_ms", 0) < 1 for e in fast)


def test_at_full_speed_the_straggler_is_slowed_by_its_factor_of_the_work() -> None:
    steps = _steps(RunConfig(strategy="data_parallel", workers=2, steps=4, batch_size=8,
                             pace=None, emulated_compute_ms=10.0, straggler="one",
                             straggler_factor=3.0, straggler_rank=0))
    slow = [e["emulated_ms"] for e in steps if e["rank"] == 0]
    fast = [e["emulated_ms"] for e in steps if e["rank"] == 1]
    # 10 ms of emulated work, plus 2 × (compute + 10 ms): no pace to stretch it
    assert all(30 <= ms < 60 for ms in slow), slow
    assert all(ms == 10 for ms in fast), fast
