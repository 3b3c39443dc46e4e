"""Pipeline parallelism (engine/strategies/pipeline.py) on real stage processes.

- The schedules are what their papers define (GPipe; 1F1B = PipeDream-Flush).
- A run's events hold each stage's cells in its schedule's order, on one clock, so the
  grid can be redrawn exactly: a micro-batch's forward on a stage starts after it ended
  on the stage before, its backward after it ended on the stage after.
- p stages × m micro-batches end every step where one process ends on the whole batch,
  and a pipeline that loses the gradients on their way back is caught by that check.
- Interleaved 1F1B (v chunks per process) is Megatron-LM's schedule: it cannot deadlock,
  its bubble is (p − 1)/(v·m + p − 1), and it ends where one process and 1F1B end.
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
from engine.strategies.pipeline import stage_pieces
from engine.strategies.pipeline_schedules import (
    SCHEDULES,
    bubble_formula,
    gpipe,
    interleaved_1f1b,
    measured_bubble,
    one_f_one_b,
    ops_of,
    peak_in_flight,
)
from tests.helpers import assert_gapless, steps_by_rank

ROOT = Path(__file__).resolve().parent.parent


def _config(strategy: str, workers: int, **kw: object) -> RunConfig:
    base: dict[str, object] = dict(
        strategy=strategy, workers=workers, model="transformer", dataset="text-en",
        steps=6, batch_size=8, lr=1.0, seed=3, context=16, d_model=32, layers=4, heads=4)
    return RunConfig(**(base | kw))  # type: ignore[arg-type]


# --- the schedules, as defined -------------------------------------------------------

def test_gpipe_runs_every_forward_then_every_backward() -> None:
    assert gpipe(4, 3, 2) == [("F", 0), ("F", 1), ("F", 2), ("B", 0), ("B", 1), ("B", 2)]


def test_1f1b_warms_up_then_alternates_then_drains() -> None:
    # p = 4, m = 6: stage 0 warms up with p − 1 = 3 forwards, the last stage with none.
    assert one_f_one_b(4, 6, 0) == [("F", 0), ("F", 1), ("F", 2), ("F", 3), ("B", 0),
                                    ("F", 4), ("B", 1), ("F", 5), ("B", 2), ("B", 3),
                                    ("B", 4), ("B", 5)]
    assert one_f_one_b(4, 6, 3) == [op for i in range(6) for op in (("F", i), ("B", i))]
    # Fewer micro-batches than stages: the warm-up is cut short.
    assert one_f_one_b(4, 2, 0) == [("F", 0), ("F", 1), ("B", 0), ("B", 1)]


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("p", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("m", [1, 2, 4, 8])
def test_every_schedule_is_complete_and_causal(name: str, p: int, m: int) -> None:
    for s in range(p):
        ops = SCHEDULES[name](p, m, s)
        assert sorted(ops) == sorted([("F", i) for i in range(m)] + [("B", i) for i in range(m)])
        assert all(ops.index(("F", i)) < ops.index(("B", i)) for i in range(m))
        # Activations held: GPipe all m, 1F1B at most p − s (Narayanan et al. 2021, §2.2).
        assert peak_in_flight(ops) == (m if name == "gpipe" else min(p - s, m))


def test_interleaved_1f1b_goes_round_the_processes_v_times() -> None:
    # p = 2, v = 2, m = 4: the model in 4 chunks, chunk c·p + s on process s. Micro-
    # batches 0, 1 through chunk 0, the same through chunk 1, then micro-batches 2, 3.
    # The last process warms up with (v − 1)·p = 2 forwards, the first with 2 more.
    assert interleaved_1f1b(2, 4, 1, 2) == [
        ("F", 0, 0), ("F", 1, 0), ("F", 0, 1), ("B", 0, 1), ("F", 1, 1), ("B", 1, 1),
        ("F", 2, 0), ("B", 0, 0), ("F", 3, 0), ("B", 1, 0), ("F", 2, 1), ("B", 2, 1),
        ("F", 3, 1), ("B", 3, 1), ("B", 2, 0), ("B", 3, 0)]
    assert interleaved_1f1b(2, 4, 0, 2)[:5] == [("F", 0, 0), ("F", 1, 0), ("F", 0, 1),
                                                ("F", 1, 1), ("F", 2, 0)]
    # GPipe and 1F1B are the same lists with chunk 0.
    assert ops_of("1f1b", 4, 6, 0) == [(k, i, 0) for k, i in one_f_one_b(4, 6, 0)]


def _simulate(p: int, v: int, schedules: list[list[tuple[str, int, int]]]
              ) -> float | None:
    """Run the processes' schedules as the stages do: a pass waits for what it receives
    (blocking), sends never wait. F takes 1, B 2. The bubble, or None on a deadlock."""
    done: dict[tuple[str, int, int], float] = {}
    pos, clock = [0] * p, [0.0] * p
    moved = True
    while moved:
        moved = False
        for s in range(p):
            while pos[s] < len(schedules[s]):
                kind, i, c = schedules[s][pos[s]]
                vs = c * p + s  # the virtual stage
                need = (("F", i, vs - 1) if vs > 0 else None) if kind == "F" else (
                    ("B", i, vs + 1) if vs < v * p - 1 else ("F", i, vs))
                if need is not None and need not in done:
                    break  # blocked on a receive
                clock[s] = max(clock[s], done[need] if need else 0) + (1 if kind == "F" else 2)
                done[kind, i, vs] = clock[s]
                pos[s] += 1
                moved = True
    if any(pos[s] < len(schedules[s]) for s in range(p)):
        return None
    busy = sum(1 if op[0] == "F" else 2 for ops in schedules for op in ops)
    return 1 - busy / (max(clock) * p)


@pytest.mark.parametrize("p", [2, 3, 4, 8])
@pytest.mark.parametrize("v", [2, 3, 4])
@pytest.mark.parametrize("rounds", [1, 2, 3])
def test_interleaved_1f1b_is_complete_causal_deadlock_free_and_meets_its_formula(
        p: int, v: int, rounds: int) -> None:
    m = rounds * p
    schedules = [interleaved_1f1b(p, m, s, v) for s in range(p)]
    for ops in schedules:
        every = [(k, i, c) for k in "FB" for i in range(m) for c in range(v)]
        assert sorted(ops) == sorted(every)
        assert all(ops.index(("F", i, c)) < ops.index(("B", i, c))
                   for i in range(m) for c in range(v))
    # Blocking receives, posted sends: it never deadlocks, and with F and B of fixed
    # sizes its idle time is exactly (p − 1)/(v·m + p − 1) (Narayanan et al. 2021, §2.2.2).
    assert _simulate(p, v, schedules) == pytest.approx(bubble_formula(p, m, v))
    assert _simulate(p, 1, [ops_of("1f1b", p, m, s) for s in range(p)]) == pytest.approx(
        bubble_formula(p, m))


def test_the_bubble_formula() -> None:
    assert bubble_formula(4, 4, 2) == pytest.approx(3 / 11)
    assert bubble_formula(2, 4, 2) == pytest.approx(1 / 9)
    assert bubble_formula(4, 4) == pytest.approx(3 / 7)
    assert bubble_formula(2, 8) == pytest.approx(1 / 9)
    assert bubble_formula(1, 4) == 0
    # Measured from cells: two stages, each busy 1 s of a 3 s span.
    assert measured_bubble([[["F", 0, 0, 1]], [["F", 0, 2, 3]]]) == pytest.approx(2 / 3)


def test_the_bubble_is_measured_as_the_page_measures_it() -> None:
    """One fixture, checked here and by tests/js/pipeline.test.mjs (strategies/pipeline/)."""
    fixture = json.loads((ROOT / "tests" / "js" / "fixtures" / "pipeline-steps.json")
                         .read_text())
    assert measured_bubble(fixture["cells"]) == pytest.approx(fixture["bubble"])


def test_stages_hold_every_piece_once_in_order() -> None:
    for layers in (2, 4, 7):
        for p in range(1, layers + 1):
            pieces = [i for s in range(p) for i in stage_pieces(layers, p, s)]
            assert pieces == list(range(layers + 2))
            assert all(len(stage_pieces(layers, p, s)) >= 1 for s in range(p))


# --- real runs -------------------------------------------------------------------------

def _step_rows(events: list[dict]) -> tuple[list[float], list[float]]:
    """Per step: the loss, and the checksum of the whole model (the stages' sum)."""
    by_rank = steps_by_rank(events)
    steps = len(next(iter(by_rank.values())))
    losses = [by_rank[0][k]["loss"] for k in range(steps)]
    sums = [sum(by_rank[r][k]["param_checksum"] for r in by_rank) for k in range(steps)]
    return losses, sums


@pytest.fixture(scope="module")
def reference() -> tuple[list[float], list[float]]:
    events = run_headless(_config("single", 1), timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    return _step_rows(events)


@pytest.mark.parametrize(("schedule", "stages", "micro"), [
    ("gpipe", 2, 4), ("1f1b", 4, 4), ("1f1b", 2, 8), ("gpipe", 4, 2)])
def test_pipeline_ends_every_step_where_one_process_does(
        reference: tuple[list[float], list[float]], schedule: str, stages: int,
        micro: int) -> None:
    config = _config("pipeline", stages, options={"schedule": schedule,
                                                  "micro_batches": micro})
    events = run_headless(config, timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    assert_gapless(events)
    losses, sums = _step_rows(events)
    ref_losses, ref_sums = reference
    # Same arithmetic, summed in another order (micro-batches): float32 rounding only.
    assert_close(torch.tensor(losses), torch.tensor(ref_losses), rtol=1e-4, atol=1e-5)
    assert_close(torch.tensor(sums, dtype=torch.float64),
                 torch.tensor(ref_sums, dtype=torch.float64), rtol=1e-5, atol=1e-4)

    by_rank = steps_by_rank(events)
    assert sorted(by_rank) == list(range(stages))
    for step in range(config.steps):
        cells = {r: by_rank[r][step]["schedule"] for r in by_rank}
        for s in range(stages):
            # The events hold the schedule, in its order.
            assert [(c[0], c[1]) for c in cells[s]] == SCHEDULES[schedule](stages, micro, s)
            assert by_rank[s][step]["in_flight_peak"] == peak_in_flight(
                SCHEDULES[schedule](stages, micro, s))
            assert all(c[2] <= c[3] for c in cells[s])
        for i in range(micro):  # one clock: data flows forward, gradients back
            for s in range(stages - 1):
                f_here, f_next = (next(c for c in cells[r] if c[:2] == ["F", i])
                                  for r in (s, s + 1))
                b_here, b_next = (next(c for c in cells[r] if c[:2] == ["B", i])
                                  for r in (s, s + 1))
                assert f_next[2] >= f_here[3] and b_here[2] >= b_next[3]
    # Activations really travel: each stage sends m activations (or gradients) a step.
    act = next(e for e in events if e["type"] == "step" and e["rank"] == 0)
    rows = config.batch_size // micro
    assert act["bytes_sent"] == micro * rows * config.context * config.d_model * 4
    stage_events = [e for e in events if e["type"] == "pipeline_stage"]
    assert sorted(e["stage"] for e in stage_events) == list(range(stages))


def _last_checksums(events: list[dict]) -> torch.Tensor:
    return torch.tensor(_step_rows(events)[1], dtype=torch.float64)


@pytest.mark.parametrize(("stages", "layers"), [(2, 4), (4, 8)])
def test_interleaved_ends_where_one_process_and_1f1b_end(stages: int, layers: int) -> None:
    v, m = 2, 4
    runs = {name: run_headless(_config(strategy, workers, steps=4, layers=layers, options=opts),
                               timeout=120)
            for name, strategy, workers, opts in [
                ("single", "single", 1, {}),
                ("1f1b", "pipeline", stages, {"schedule": "1f1b", "micro_batches": m}),
                ("interleaved", "pipeline", stages, {"schedule": "interleaved",
                                                     "micro_batches": m,
                                                     "virtual_stages": v})]}
    for name, events in runs.items():
        assert events[-1]["status"] == "finished", (name, events[-1]["error"])
    events = runs["interleaved"]
    assert_gapless(events)
    sums = _last_checksums(events)
    assert_close(sums, _last_checksums(runs["single"]), rtol=1e-5, atol=1e-4)
    assert_close(sums, _last_checksums(runs["1f1b"]), rtol=1e-5, atol=1e-4)
    losses = torch.tensor(_step_rows(events)[0])
    assert_close(losses, torch.tensor(_step_rows(runs["single"])[0]), rtol=1e-4, atol=1e-5)

    by_rank = steps_by_rank(events)
    for s in range(stages):
        expected = interleaved_1f1b(stages, m, s, v)
        for row in by_rank[s]:
            # Each cell names its chunk; the events hold the schedule, in its order, and
            # the activations held at most (micro-batch × chunk) are the schedule's.
            assert [(c[0], c[1], c[4]) for c in row["schedule"]] == expected
            assert row["in_flight_peak"] == peak_in_flight(expected)
            assert row["chunks"] == v and row["activation_bytes_peak"] > 0
    # Stage 0 holds the most: its warm-up is (p − 1)·2 + (v − 1)·p forwards.
    assert by_rank[0][0]["in_flight_peak"] == min(2 * (stages - 1) + stages + 1, m * v)
    # Each process holds v chunks, chunk c the model's piece c·p + s of v·p.
    chunks = {e["stage"]: e["chunks"] for e in events if e["type"] == "pipeline_stage"}
    assert [piece for c in range(v) for s in range(stages) for piece in chunks[s][c]] == list(
        range(layers + 2))
    # Messages of the same size, one each way across each of the v·p − 1 cuts of the
    # model per micro-batch (1F1B: p − 1 cuts): about v times as many.
    rows = 8 // m
    for name, cuts in (("1f1b", stages - 1), ("interleaved", v * stages - 1)):
        first_step = [e for e in runs[name] if e["type"] == "step" and e["step"] == 1]
        assert sum(e["bytes_sent"] for e in first_step) == 2 * cuts * m * rows * 16 * 32 * 4


def test_1f1b_holds_fewer_activations_than_gpipe() -> None:
    peaks = {}
    for schedule in ("gpipe", "1f1b"):
        events = run_headless(_config("pipeline", 2, steps=2, options={
            "schedule": schedule, "micro_batches": 8}), timeout=120)
        assert events[-1]["status"] == "finished", events[-1]["error"]
        first = next(e for e in events if e["type"] == "step" and e["rank"] == 0)
        peaks[schedule] = (first["in_flight_peak"], first["activation_bytes_peak"])
    assert peaks["gpipe"][0] == 8 and peaks["1f1b"][0] == 2
    # Measured from the tensors autograd saved: about m/p times more for GPipe.
    assert peaks["gpipe"][1] > 2.5 * peaks["1f1b"][1]


def test_the_reference_catches_gradients_lost_on_the_way_back(
        reference: tuple[list[float], list[float]], tmp_path: Path) -> None:
    # Registered in the subprocess only (DISTLAB_STRATEGIES), so the config is a dict here.
    config = _config("pipeline", 2, options={"schedule": "1f1b", "micro_batches": 4}
                     ).to_dict() | {"strategy": "broken_pipeline"}
    out = tmp_path / "events.json"
    script = ("import json, sys; from engine.config import RunConfig; "
              "from engine.runner import run_headless\n"
              "if __name__ == '__main__':\n"
              f"    ev = run_headless(RunConfig.from_dict(json.loads(sys.argv[1])), timeout=120)\n"
              f"    open({str(out)!r}, 'w').write(json.dumps(ev))\n")
    env = os.environ | {"DISTLAB_STRATEGIES": "tests.strategies.broken_pipeline"}
    subprocess.run([sys.executable, "-c", script, json.dumps(config)], cwd=ROOT,
                   env=env, check=True, timeout=180)
    events = json.loads(out.read_text())
    assert events[-1]["status"] == "finished"  # nothing crashed: only the numbers tell
    losses, sums = _step_rows(events)
    assert losses[0] == pytest.approx(reference[0][0], rel=1e-4)  # same start
    with pytest.raises(AssertionError):
        assert_close(torch.tensor(sums, dtype=torch.float64),
                     torch.tensor(reference[1], dtype=torch.float64), rtol=1e-5, atol=1e-4)


def test_pipeline_writes_text_that_changes() -> None:
    events = run_headless(_config("pipeline", 2, steps=20, dataset="text-zh", lr=1.0,
                                  options={"micro_batches": 2}), timeout=120)
    samples = [e for e in events if e["type"] == "sample"]
    assert samples[0]["step"] == 1 and samples[-1]["step"] == 20
    assert all(e["rank"] == 1 and len(e["text"]) == 40 for e in samples)
    assert len({e["text"] for e in samples}) > 1


@pytest.mark.parametrize(("fields", "needle"), [
    ({"model": "mlp", "dataset": "spirals"}, "pipeline strategy trains transformer"),
    ({"layers": 2, "workers": 4}, "at least as many transformer blocks"),
    ({"options": {"micro_batches": 3}}, "must divide batch_size"),
    ({"dataset": "spirals"}, "learns from text"),
    ({"heads": 3}, "must divide d_model"),
    ({"workers": 4, "layers": 8, "options": {"schedule": "interleaved", "micro_batches": 2}},
     "m must be a multiple of p"),
    ({"options": {"schedule": "interleaved", "virtual_stages": 4}},
     "needs at least as many transformer blocks"),
    ({"layers": 6, "options": {"schedule": "interleaved"}}, "must divide into v·p = 2 × 2"),
    ({"options": {"schedule": "interleaved", "virtual_stages": 1}},
     "virtual_stages must be"),
])
def test_bad_pipeline_configs_say_why(fields: dict, needle: str) -> None:
    base = _config("pipeline", 2).to_dict() | fields
    with pytest.raises(ValueError, match=needle):
        RunConfig.from_dict(base)


@pytest.mark.parametrize("strategy", ["pipeline", "tensor_parallel", "interleaved"])
def test_a_killed_process_restarts_every_part_from_its_checkpoint(strategy: str) -> None:
    """Each process saves its own part (a stage, a slice, interleaved: its v chunks);
    after a kill every process loads its part of the newest step all of them saved, and
    the run ends where an unbroken one ends."""
    extra = ({"options": {"micro_batches": 2}} if strategy == "pipeline" else
             {"options": {"micro_batches": 2, "schedule": "interleaved"}}
             if strategy == "interleaved" else {})
    strategy = "pipeline" if strategy == "interleaved" else strategy
    unbroken = run_headless(_config(strategy, 2, steps=16, **extra), timeout=120)
    broken = run_headless(_config(
        strategy, 2, steps=16, checkpoint_every=5, recovery="restart",
        faults=[{"after_step": 12, "action": "kill", "rank": 1}], **extra), timeout=180)
    assert broken[-1]["status"] == "finished", broken[-1]["error"]
    [recovery] = [e for e in broken if e["type"] == "recovery"]
    assert recovery["policy"] == "restart" and recovery["from_step"] == 10
    saved = {(e["rank"], e["step"]) for e in broken if e["type"] == "checkpoint_saved"}
    assert {(0, 10), (1, 10)} <= saved
    last = {e["rank"]: e for e in broken if e["type"] == "step" and e["step"] == 16}
    ref = {e["rank"]: e for e in unbroken if e["type"] == "step" and e["step"] == 16}
    for rank in (0, 1):  # the same steps redone on the same data: the same parameters
        assert last[rank]["param_checksum"] == pytest.approx(ref[rank]["param_checksum"],
                                                             rel=1e-9, abs=1e-9)


def test_the_api_refuses_a_bad_interleaved_run_with_the_reason(client: object) -> None:
    body = _config("pipeline", 4, layers=8).to_dict() | {
        "options": {"schedule": "interleaved", "micro_batches": 2}}
    bad = client.post("/api/runs", json=body)  # type: ignore[attr-defined]
    assert bad.status_code == 422, bad.text
    assert "m must be a multiple of p" in bad.json()["detail"]
