"""Memory by kind (engine/memory.py), measured on real runs of the tiny transformer:
what each process holds, as the step events report it on step 1 (and the last step, not
the ones between)."""

from __future__ import annotations

import pytest

from engine.config import RunConfig
from engine.runner import run_headless

BASE: dict[str, object] = dict(model="transformer", dataset="text-en", steps=3, lr=0.5,
                               context=16, d_model=32, layers=2, heads=4, seed=2)


def _memory(strategy: str, workers: int, batch: int, **kw: object) -> dict[int, dict]:
    events = run_headless(RunConfig(strategy=strategy, workers=workers, batch_size=batch,
                                    **BASE, **kw), timeout=120)  # type: ignore[arg-type]
    assert events[-1]["status"] == "finished", events[-1]["error"]
    first = {e["rank"]: e["memory"] for e in events if e["type"] == "step" and e["step"] == 1}
    assert all("memory" not in e for e in events if e["type"] == "step" and e["step"] == 2)
    assert all("memory" in e for e in events if e["type"] == "step" and e["step"] == 3)
    return first


def test_each_strategy_holds_what_it_should() -> None:
    one = _memory("single", 1, 16)[0]
    started = run_headless(RunConfig(strategy="single", workers=1, batch_size=16, **BASE),
                           timeout=120)  # type: ignore[arg-type]
    num_params = next(e for e in started if e["type"] == "run_started")["num_params"]
    assert one["params"] == one["grads"] == 4 * num_params and one["optimizer"] == 0
    assert one["activations"] > 0

    # Data parallelism: a full replica each, activations for its quarter of the batch.
    dp = _memory("data_parallel", 2, 8)
    assert all(m["params"] == one["params"] for m in dp.values())
    assert all(m["activations"] == pytest.approx(one["activations"] / 2, rel=0.15)
               for m in dp.values())

    # A pipeline: the stages' parameters add up to the model, no more.
    pp = _memory("pipeline", 2, 16, options={"micro_batches": 2})
    assert sum(m["params"] for m in pp.values()) == one["params"]

    # Tensor parallelism: each holds its slices plus the replicated parts, less than all.
    tp = _memory("tensor_parallel", 2, 16)
    assert all(one["params"] / 2 < m["params"] < one["params"] for m in tp.values())
