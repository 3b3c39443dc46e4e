"""Tensor parallelism (engine/strategies/tensor_parallel.py) on real processes.

- t processes, each with its slices of every block, end every step where one process
  ends on the same batch: the same loss everywhere, and the whole model (the replicated
  parameters plus every process's slices) equal to the one-process model.
- Four all-reduces per block per step — attention and MLP, forward and backward — each
  of the activations' size; the events say which, and a ring all-reduce's bytes.
- Without the backward all-reduce the run still finishes, but the reference catches it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from engine.config import RunConfig
from engine.runner import run_headless
from tests.helpers import assert_gapless, steps_by_rank

ROOT = Path(__file__).resolve().parent.parent
BASE: dict[str, object] = dict(model="transformer", dataset="text-en", steps=5, batch_size=8,
                               lr=1.0, seed=5, context=16, d_model=32, layers=2, heads=4)


def _whole_model(events: list[dict]) -> tuple[list[float], list[float]]:
    """Per step: the loss, and the checksum of the whole model — one process's replicated
    parameters plus every process's slices."""
    by_rank = steps_by_rank(events)
    losses, sums = [], []
    for k in range(len(by_rank[0])):
        rows = [by_rank[r][k] for r in sorted(by_rank)]
        assert len({row["loss"] for row in rows}) == 1  # one batch, one loss everywhere
        losses.append(rows[0]["loss"])
        replicated = rows[0]["param_checksum"] - rows[0]["shard_checksum"]
        sums.append(replicated + sum(row["shard_checksum"] for row in rows))
    return losses, sums


@pytest.fixture(scope="module")
def reference() -> tuple[list[float], list[float]]:
    events = run_headless(RunConfig(strategy="single", workers=1, **BASE), timeout=120)  # type: ignore[arg-type]
    assert events[-1]["status"] == "finished", events[-1]["error"]
    by_rank = steps_by_rank(events)
    return [e["loss"] for e in by_rank[0]], [e["param_checksum"] for e in by_rank[0]]


@pytest.mark.parametrize("t", [2, 4])
def test_tensor_parallel_ends_every_step_where_one_process_does(
        reference: tuple[list[float], list[float]], t: int) -> None:
    config = RunConfig(strategy="tensor_parallel", workers=t, detail=True, **BASE)  # type: ignore[arg-type]
    events = run_headless(config, timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    assert_gapless(events)
    losses, sums = _whole_model(events)
    assert_close(torch.tensor(losses), torch.tensor(reference[0]), rtol=1e-4, atol=1e-5)
    assert_close(torch.tensor(sums, dtype=torch.float64),
                 torch.tensor(reference[1], dtype=torch.float64), rtol=1e-5, atol=1e-4)

    first = next(e for e in events if e["type"] == "step" and e["rank"] == 1)
    # Per block: attention and MLP all-reduce in the forward pass, then in the backward.
    done = [(b, part, way) for b, part, way, *_ in first["tp_allreduces"]]
    assert sorted(done) == sorted((b, part, way) for b in (1, 2)
                                  for part in ("attention", "mlp")
                                  for way in ("forward", "backward"))
    assert done[:4] == [(1, "attention", "forward"), (1, "mlp", "forward"),
                        (2, "attention", "forward"), (2, "mlp", "forward")]
    activation = BASE["batch_size"] * BASE["context"] * BASE["d_model"] * 4  # type: ignore[operator]
    assert {r[3] for r in first["tp_allreduces"]} == {activation}
    # A ring all-reduce: each process sends 2(t − 1)/t of the tensor.
    assert first["bytes_sent"] == 8 * (2 * (t - 1) * activation // t)
    ops = {e["op"] for e in events if e["type"] == "comm"}
    assert ops == {"tp_forward", "tp_backward"}


def test_the_reference_catches_a_missing_backward_all_reduce(
        reference: tuple[list[float], list[float]], tmp_path: Path) -> None:
    config = RunConfig(strategy="tensor_parallel", workers=2, **BASE).to_dict() | {  # type: ignore[arg-type]
        "strategy": "broken_tensor_parallel"}
    out = tmp_path / "events.json"
    script = ("import json, sys; from engine.config import RunConfig; "
              "from engine.runner import run_headless\n"
              "if __name__ == '__main__':\n"
              "    ev = run_headless(RunConfig.from_dict(json.loads(sys.argv[1])), timeout=120)\n"
              f"    open({str(out)!r}, 'w').write(json.dumps(ev))\n")
    env = os.environ | {"DISTLAB_STRATEGIES": "tests.strategies.broken_tensor_parallel"}
    subprocess.run([sys.executable, "-c", script, json.dumps(config)], cwd=ROOT, env=env,
                   check=True, timeout=180)
    events = json.loads(out.read_text())
    assert events[-1]["status"] == "finished"
    by_rank = steps_by_rank(events)
    assert by_rank[0][0]["loss"] == pytest.approx(reference[0][0], rel=1e-4)  # same start
    whole = [by_rank[0][k]["param_checksum"] - by_rank[0][k]["shard_checksum"]
             + sum(by_rank[r][k]["shard_checksum"] for r in by_rank)
             for k in range(len(by_rank[0]))]
    with pytest.raises(AssertionError):
        assert_close(torch.tensor(whole, dtype=torch.float64),
                     torch.tensor(reference[1], dtype=torch.float64), rtol=1e-5, atol=1e-4)


def test_heads_must_divide_among_the_processes() -> None:
    with pytest.raises(ValueError, match="share the 4 attention heads evenly"):
        RunConfig(strategy="tensor_parallel", workers=3, **BASE)  # type: ignore[arg-type]
