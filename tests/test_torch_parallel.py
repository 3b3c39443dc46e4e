"""The readable version and the one people use (options.implementation): PyTorch's own
pipeline (engine/strategies/pipeline_torch.py: torch.distributed.pipelining) and tensor
parallelism (engine/strategies/tensor_parallel_torch.py: DTensor) on real processes.

- On the same seed each ends every step where our readable implementation and the
  one-process reference end (the tolerances of tests/test_pipeline.py and
  tests/test_tensor_parallel.py: float32 rounding only).
- They report what the page draws from ours: the pipeline's cells in the schedule's
  order on one clock, the bytes of the activations it sent; tensor parallelism's four
  all-reduces per block, by block, part and direction, with a ring all-reduce's bytes.
- What the library cannot do is refused with the reason (1F1B with fewer micro-batches
  than stages, a network model).
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.testing import assert_close

from engine.config import RunConfig
from engine.runner import run_headless
from engine.strategies import registry
from engine.strategies.pipeline_schedules import SCHEDULES, ops_of, peak_in_flight
from tests.helpers import assert_gapless, steps_by_rank

PIPELINE: dict[str, Any] = dict(
    model="transformer", dataset="text-en", steps=6, batch_size=8, lr=1.0, seed=3,
    context=16, d_model=32, layers=4, heads=4)  # as tests/test_pipeline.py
TP: dict[str, Any] = dict(
    model="transformer", dataset="text-en", steps=5, batch_size=8, lr=1.0, seed=5,
    context=16, d_model=32, layers=2, heads=4)  # as tests/test_tensor_parallel.py


def _run(config: RunConfig) -> list[dict]:
    events = run_headless(config, timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    assert_gapless(events)
    return events


def _close(got: tuple[list[float], list[float]], want: tuple[list[float], list[float]]
           ) -> None:
    """Losses and whole-model checksums, step by step: the same arithmetic summed in
    another order, so float32 rounding only."""
    assert_close(torch.tensor(got[0]), torch.tensor(want[0]), rtol=1e-4, atol=1e-5)
    assert_close(torch.tensor(got[1], dtype=torch.float64),
                 torch.tensor(want[1], dtype=torch.float64), rtol=1e-5, atol=1e-4)


# --- pipeline --------------------------------------------------------------------------

def _stages(events: list[dict]) -> tuple[list[float], list[float]]:
    """Per step: the loss, and the checksum of the whole model (the stages' sum)."""
    by_rank = steps_by_rank(events)
    steps = len(by_rank[0])
    return ([by_rank[0][k]["loss"] for k in range(steps)],
            [sum(by_rank[r][k]["param_checksum"] for r in by_rank) for k in range(steps)])


@pytest.fixture(scope="module")
def pipeline_reference() -> tuple[list[float], list[float]]:
    return _stages(_run(RunConfig(strategy="single", workers=1, **PIPELINE)))


@pytest.mark.parametrize("schedule", ["gpipe", "1f1b"])
def test_torch_pipelining_ends_every_step_where_ours_and_one_process_do(
        pipeline_reference: tuple[list[float], list[float]], schedule: str) -> None:
    stages, micro = 2, 4
    runs = {impl: _run(RunConfig(strategy="pipeline", workers=stages, detail=True, options={
                "schedule": schedule, "micro_batches": micro, "implementation": impl},
                **PIPELINE))
            for impl in ("ours", "torch")}
    torch_rows = _stages(runs["torch"])
    _close(torch_rows, pipeline_reference)
    _close(torch_rows, _stages(runs["ours"]))

    # The events the page draws: the library ran the passes in our schedule's order
    # (its 1F1B warms up with one more forward and starts with a backward: the same
    # list), on one clock, activations forward and gradients back.
    by_rank = steps_by_rank(runs["torch"])
    for step in range(PIPELINE["steps"]):
        cells = {s: by_rank[s][step]["schedule"] for s in range(stages)}
        for s in range(stages):
            expected = SCHEDULES[schedule](stages, micro, s)
            assert [(c[0], c[1]) for c in cells[s]] == expected
            assert by_rank[s][step]["in_flight_peak"] == peak_in_flight(expected)
            assert all(c[2] <= c[3] for c in cells[s])
        for i in range(micro):
            f0, f1 = (next(c for c in cells[s] if c[:2] == ["F", i]) for s in (0, 1))
            b0, b1 = (next(c for c in cells[s] if c[:2] == ["B", i]) for s in (0, 1))
            assert f1[2] >= f0[3] and b0[2] >= b1[3]
    # Its sends, counted from the tensors it handed to the process group: as ours.
    rows = PIPELINE["batch_size"] // micro
    for impl in ("ours", "torch"):
        first = next(e for e in runs[impl] if e["type"] == "step" and e["rank"] == 0)
        assert first["bytes_sent"] == micro * rows * PIPELINE["context"] * PIPELINE["d_model"] * 4
        assert first["activation_bytes_peak"] > 0
    messages = [e for e in runs["torch"] if e["type"] == "comm" and e.get("step") == 1]
    assert sorted((e["src"], e["op"], e["chunk"]) for e in messages) == sorted(
        [(0, "activation", i) for i in range(micro)] + [(1, "gradient", i) for i in range(micro)])


@pytest.mark.parametrize(("stages", "layers"), [(2, 4), (4, 8)])
def test_torch_interleaved_1f1b_runs_our_schedule_and_ends_where_ours_does(
        stages: int, layers: int) -> None:
    """torch's ScheduleInterleaved1F1B, with our chunks as its PipelineStages (chunk c of
    process s is stage c·p + s of v·p): the same order of passes as ours (Megatron-LM's),
    the same parameters as ours and as one process."""
    v, micro = 2, 4
    base = PIPELINE | {"layers": layers, "steps": 3}
    runs = {impl: _run(RunConfig(strategy="pipeline", workers=stages, options={
                "schedule": "interleaved", "micro_batches": micro, "virtual_stages": v,
                "implementation": impl}, **base))
            for impl in ("ours", "torch")}
    single = _stages(_run(RunConfig(strategy="single", workers=1, **base)))
    _close(_stages(runs["torch"]), single)
    _close(_stages(runs["torch"]), _stages(runs["ours"]))
    by_rank = steps_by_rank(runs["torch"])
    for s in range(stages):
        expected = ops_of("interleaved", stages, micro, s, v)
        for row in by_rank[s]:
            assert [(c[0], c[1], c[4]) for c in row["schedule"]] == expected
            assert row["in_flight_peak"] == peak_in_flight(expected)


# --- tensor parallelism ----------------------------------------------------------------

def _whole_model(events: list[dict]) -> tuple[list[float], list[float]]:
    """Per step: the loss, and the whole model's checksum — one process's replicated
    parameters plus every process's slices (as tests/test_tensor_parallel.py)."""
    by_rank = steps_by_rank(events)
    losses, sums = [], []
    for k in range(len(by_rank[0])):
        rows = [by_rank[r][k] for r in sorted(by_rank)]
        assert len({row["loss"] for row in rows}) == 1
        losses.append(rows[0]["loss"])
        replicated = rows[0]["param_checksum"] - rows[0]["shard_checksum"]
        sums.append(replicated + sum(row["shard_checksum"] for row in rows))
    return losses, sums


def test_dtensor_tensor_parallel_ends_every_step_where_ours_and_one_process_do() -> None:
    t = 2
    reference = _run(RunConfig(strategy="single", workers=1, **TP))
    ref_rows = ([e["loss"] for e in steps_by_rank(reference)[0]],
                [e["param_checksum"] for e in steps_by_rank(reference)[0]])
    runs = {impl: _run(RunConfig(strategy="tensor_parallel", workers=t, detail=True,
                                 options={"implementation": impl}, **TP))
            for impl in ("ours", "torch")}
    torch_rows = _whole_model(runs["torch"])
    _close(torch_rows, ref_rows)
    _close(torch_rows, _whole_model(runs["ours"]))

    # The same all-reduces as ours: attention and MLP, forward then backward, per block,
    # each of the activations' size, counted as a ring all-reduce.
    layers = TP["layers"]
    activation = TP["batch_size"] * TP["context"] * TP["d_model"] * 4
    for impl in ("ours", "torch"):
        first = next(e for e in runs[impl] if e["type"] == "step" and e["rank"] == 1)
        done = [(b, part, way) for b, part, way, *_ in first["tp_allreduces"]]
        assert sorted(done) == sorted((b, part, way) for b in range(1, layers + 1)
                                      for part in ("attention", "mlp")
                                      for way in ("forward", "backward")), impl
        assert done[:4] == [(1, "attention", "forward"), (1, "mlp", "forward"),
                            (2, "attention", "forward"), (2, "mlp", "forward")], impl
        assert {r[3] for r in first["tp_allreduces"]} == {activation}
        assert all(r[4] <= r[5] for r in first["tp_allreduces"])
        assert first["bytes_sent"] == 4 * layers * (2 * (t - 1) * activation // t)
        assert {e["op"] for e in runs[impl] if e["type"] == "comm"} == {
            "tp_forward", "tp_backward"}
        assert first["memory"]["activations"] > 0
    # Both write (every process computes its slices of the writing).
    texts = {impl: [e["text"] for e in runs[impl] if e["type"] == "sample"]
             for impl in runs}
    assert texts["torch"] and texts["torch"] == texts["ours"]


# --- the option ------------------------------------------------------------------------

@pytest.mark.parametrize("strategy", ["pipeline", "tensor_parallel"])
def test_the_implementation_option_is_declared_and_validated(strategy: str) -> None:
    base = PIPELINE if strategy == "pipeline" else TP
    described = {o["name"]: o for o in registry.get(strategy).describe()["options"]}
    option = described["implementation"]
    assert option["default"] == "ours"
    assert [c["value"] for c in option["choices"]] == ["ours", "torch"]
    assert option["label"]["zh"] and option["help"]["zh"]
    assert RunConfig(strategy=strategy, workers=2, **base).opts.implementation == "ours"
    chosen = RunConfig(strategy=strategy, workers=2, options={"implementation": "torch"},
                       **base)
    assert chosen.opts.implementation == "torch"
    with pytest.raises(ValueError, match=r"options\.implementation must be one of ours, torch"):
        RunConfig(strategy=strategy, workers=2, options={"implementation": "jax"}, **base)
    # The library sends its own messages: a network model could not delay them.
    with pytest.raises(ValueError, match="outside DistLab's network model"):
        RunConfig(strategy=strategy, workers=2, network="10gbe",
                  options={"implementation": "torch"}, **base)
    RunConfig(strategy=strategy, workers=2, network="10gbe", **base)  # ours can


def test_torch_1f1b_needs_as_many_micro_batches_as_stages() -> None:
    options = {"implementation": "torch", "schedule": "1f1b", "micro_batches": 2}
    with pytest.raises(ValueError, match="Schedule1F1B needs at least as many micro-batches"):
        RunConfig(strategy="pipeline", workers=4, options=options, **PIPELINE)
    RunConfig(strategy="pipeline", workers=4, options=options | {"implementation": "ours"},
              **PIPELINE)  # ours shortens the warm-up
    RunConfig(strategy="pipeline", workers=4, options=options | {"schedule": "gpipe"},
              **PIPELINE)


@pytest.mark.parametrize("strategy", ["pipeline", "tensor_parallel"])
def test_a_killed_library_process_restarts_its_part_from_its_checkpoint(strategy: str
                                                                         ) -> None:
    """Each process saves the part it holds (a stage; the replicated parameters and the
    local tensors of its DTensor slices), loads it after a kill, and the run ends where
    an unbroken one ends (as tests/test_pipeline.py checks ours)."""
    options = {"implementation": "torch"} | (
        {"micro_batches": 2} if strategy == "pipeline" else {})
    base = PIPELINE | {"steps": 16}
    unbroken = _run(RunConfig(strategy=strategy, workers=2, options=options, **base))
    broken = run_headless(RunConfig(
        strategy=strategy, workers=2, options=options, checkpoint_every=5,
        recovery="restart", faults=[{"after_step": 12, "action": "kill", "rank": 1}],
        **base), timeout=180)
    assert broken[-1]["status"] == "finished", broken[-1]["error"]
    [recovery] = [e for e in broken if e["type"] == "recovery"]
    assert recovery["from_step"] == 10
    last = {e["rank"]: e for e in broken if e["type"] == "step" and e["step"] == 16}
    ref = {e["rank"]: e for e in unbroken if e["type"] == "step" and e["step"] == 16}
    for rank in (0, 1):
        assert last[rank]["param_checksum"] == pytest.approx(ref[rank]["param_checksum"],
                                                             rel=1e-9, abs=1e-9)
