"""ZeRO stages 1–3 (engine/strategies/zero.py) on real processes, with Adam.

- Every stage ends every step where plain data parallelism with Adam ends, and that is
  where one process with Adam on the global batch ends.
- What a worker holds, measured, is what the paper's accounting says for its stage:
  with Ψ parameters of 4 bytes and N workers, parameters 4Ψ (stage 3: 4Ψ/N), gradients
  4Ψ (stages 2, 3: 4Ψ/N), Adam's m and v 8Ψ/N.
- The bytes: stage 1 all-reduces and all-gathers, stage 2 reduce-scatters and
  all-gathers (an all-reduce's worth), stage 3 all-gathers the parameters once a step —
  exactly the bytes of tests/js/fixtures/zero-bytes.json, on which the page's bytes card
  checks its formula per stage (tests/js/zero.test.mjs).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from engine.config import RunConfig
from engine.runner import run_headless
from tests.helpers import assert_gapless, steps_by_rank

BYTES = json.loads((Path(__file__).parent / "js" / "fixtures" / "zero-bytes.json").read_text())
BASE: dict[str, object] = dict(steps=8, lr=0.01, seed=4, optimizer="adam", dataset="moons")


def _run(strategy: str, workers: int, batch: int, **kw: object) -> list[dict]:
    events = run_headless(RunConfig(strategy=strategy, workers=workers, batch_size=batch,
                                    **(BASE | kw)), timeout=120)  # type: ignore[arg-type]
    assert events[-1]["status"] == "finished", events[-1]["error"]
    assert_gapless(events)
    return events


def _whole_model(events: list[dict], sharded: bool) -> list[float]:
    """Per step, the whole model's checksum: any replica's, or the sum of the shards."""
    by_rank = steps_by_rank(events)
    steps = len(by_rank[0])
    if sharded:
        return [sum(by_rank[r][k]["param_checksum"] for r in by_rank) for k in range(steps)]
    for k in range(steps):  # replicas: every worker holds the same model
        assert len({by_rank[r][k]["param_checksum"] for r in by_rank}) == 1
    return [by_rank[0][k]["param_checksum"] for k in range(steps)]


@pytest.fixture(scope="module")
def adam_dp() -> dict[int, list[float]]:
    return {n: _whole_model(_run("data_parallel", n, 32 // n), sharded=False) for n in (2, 4)}


def test_data_parallel_adam_is_one_process_adam_on_the_global_batch(
        adam_dp: dict[int, list[float]]) -> None:
    single = _whole_model(_run("single", 1, 32), sharded=False)
    for n in (2, 4):
        assert_close(torch.tensor(adam_dp[n], dtype=torch.float64),
                     torch.tensor(single, dtype=torch.float64), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("workers", [2, 4])
@pytest.mark.parametrize("stage", ["1", "2", "3"])
def test_every_zero_stage_ends_where_data_parallel_adam_ends(
        adam_dp: dict[int, list[float]], stage: str, workers: int) -> None:
    events = _run("zero", workers, 32 // workers, options={"stage": stage})
    ours = _whole_model(events, sharded=stage == "3")
    # The ring sums in another order than the built-in all-reduce: float32 rounding only.
    assert_close(torch.tensor(ours, dtype=torch.float64),
                 torch.tensor(adam_dp[workers], dtype=torch.float64), rtol=1e-5, atol=1e-5)

    first = {e["rank"]: e for e in events if e["type"] == "step" and e["step"] == 1}
    num_params = next(e for e in events if e["type"] == "run_started")["num_params"]
    psi, n = 4 * num_params, workers  # bytes of one full copy, workers
    shard = [len(t) * 4 for t in torch.zeros(num_params).tensor_split(n)]
    for r, e in first.items():
        m = e["memory"]
        assert m["params"] == (shard[r] if stage == "3" else psi)
        assert m["grads"] == (psi if stage == "1" else shard[r])
        assert m["optimizer"] == 2 * shard[r]  # Adam's m and v for its shard only
        assert m["gathered_params"] == (psi if stage == "3" else 0)
        # Ring collectives: an all-reduce sends 2(n-1)/n of the vector, a reduce-scatter
        # or an all-gather (n-1)/n (to the byte, chunks of unequal size aside).
        ring = (n - 1) * psi / n
        expected = {"1": 3 * ring, "2": 2 * ring, "3": 2 * ring}[stage]
        assert e["bytes_sent"] == pytest.approx(expected, abs=4 * n)
    # Every step, the bytes the page's formula for the stage is checked against.
    [case] = [c for c in BYTES["cases"] if c["stage"] == stage and c["workers"] == workers]
    assert num_params == BYTES["num_params"]
    for e in (e for e in events if e["type"] == "step"):
        assert (e["bytes_sent"], e["bytes_recv"]) == (case["bytes_sent"][e["rank"]],
                                                      case["bytes_recv"][e["rank"]])


def test_zero_needs_adam() -> None:
    with pytest.raises(ValueError, match="the zero strategy uses adam"):
        RunConfig(strategy="zero", workers=2, optimizer="sgd")
    with pytest.raises(ValueError, match="uses sgd"):
        RunConfig(strategy="pipeline", workers=2, model="transformer", dataset="text-en",
                  optimizer="adam")


def _boundaries(events: list[dict]) -> dict[int, torch.Tensor]:
    """Each step's decision boundary, decoded (P(class 1) × 255 per cell)."""
    out = {}
    for e in events:
        if e["type"] == "boundary":
            d8 = torch.frombuffer(bytearray(base64.b64decode(e["grid"]["d8"])),
                                  dtype=torch.uint8).to(torch.int16)
            out[e["step"]] = d8.reshape(e["grid"]["ny"], e["grid"]["nx"]).cumsum(1) % 256
    return out


def test_the_model_shown_is_one_model_not_a_mix_of_old_and_new_shards() -> None:
    """Stage 3 holds only its shard after the update: the page is shown the whole model
    it gathered and used in the step (every shard from before the step's update, the
    model data parallelism had one step earlier), never the own new shard beside the
    others' old ones."""
    kw = dict(boundary_every=1, lr=0.05)
    dp = _boundaries(_run("data_parallel", 2, 16, **kw))
    stage3 = _boundaries(_run("zero", 2, 16, options={"stage": "3"}, **kw))
    steps = BASE["steps"]
    assert set(stage3) == set(dp) == set(range(1, steps + 1))
    for step in range(2, steps + 1):
        assert_close(stage3[step], dp[step - 1], rtol=0, atol=1)
