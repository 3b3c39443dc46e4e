"""3-D parallelism (engine/strategies/three_d.py) on real processes in real groups.

- The mesh puts tensor innermost, then pipeline, then data (Megatron-LM's layout), and
  every rank's three groups are the ranks that differ from it along one axis.
- dp × pp × tp processes end every step where one process ends on the whole batch, and
  a run that forgets the data-group all-reduce is caught by that check.
- dp × pp × tp must be the number of workers: said clearly, before any process starts.
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
from engine.strategies.pipeline_schedules import SCHEDULES
from engine.strategies.three_d import KINDS, Mesh
from tests.helpers import assert_gapless, steps_by_rank

ROOT = Path(__file__).resolve().parent.parent
# Tiny and short: 8 processes share 2 cores. Global batch 8 = dp 2 × micro 2 × 2 rows.
STEPS = 3


def _config(strategy: str, workers: int, **kw: object) -> RunConfig:
    base: dict[str, object] = dict(
        strategy=strategy, workers=workers, model="transformer", dataset="text-en",
        steps=STEPS, batch_size=8, lr=1.0, seed=3, context=8, d_model=16, layers=2,
        heads=2)
    return RunConfig(**(base | kw))  # type: ignore[arg-type]


def _three_d(dp: int, pp: int, tp: int, **kw: object) -> RunConfig:
    options = {"dp": dp, "pp": pp, "tp": tp, "micro_batches": 2} | kw.pop("options", {})
    return _config(kw.pop("strategy", "three_d"), dp * pp * tp, options=options, **kw)


# --- the mesh, as laid out ---------------------------------------------------------

def test_ranks_are_laid_out_tensor_innermost_then_pipeline_then_data() -> None:
    mesh = Mesh(2, 2, 2)
    assert [mesh.coords(r) for r in range(8)] == [
        (0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)]
    assert all(mesh.rank_of(*mesh.coords(r)) == r for r in range(8))
    assert mesh.groups("tensor") == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert mesh.groups("pipeline") == [[0, 2], [1, 3], [4, 6], [5, 7]]
    assert mesh.groups("data") == [[0, 4], [1, 5], [2, 6], [3, 7]]


@pytest.mark.parametrize(("dp", "pp", "tp"), [(2, 2, 2), (1, 4, 2), (2, 1, 3), (4, 2, 1)])
def test_every_rank_is_in_one_group_of_each_kind(dp: int, pp: int, tp: int) -> None:
    mesh = Mesh(dp, pp, tp)
    for kind, size in zip(KINDS, (dp, pp, tp), strict=True):
        groups = mesh.groups(kind)
        assert sorted(r for g in groups for r in g) == list(range(mesh.size))
        assert all(len(g) == size for g in groups)
    for r in range(mesh.size):  # the three groups of a rank meet in that rank only
        sets = [set(mesh.group_of(k, r)) for k in KINDS]
        assert sets[0] & sets[1] == sets[1] & sets[2] == sets[0] & sets[2] == {r}


# --- the options, checked before anything starts ------------------------------------

def test_a_mesh_that_does_not_hold_every_worker_is_refused() -> None:
    with pytest.raises(ValueError, match=r"dp × pp × tp = 2 × 2 × 1 = 4, but workers is 8"):
        _config("three_d", 8, options={"dp": 2, "pp": 2, "tp": 1})
    with pytest.raises(ValueError, match=r"dp × pp × tp = 2 × 2 × 2 = 8, but workers is 4"):
        _config("three_d", 4)  # the defaults are 2 × 2 × 2


def test_interleaving_is_the_pipeline_strategys_only() -> None:
    """three_d reuses the pipeline's stages with one chunk each: the interleaved schedule
    and its chunks per process are refused, with the schedules it does run."""
    with pytest.raises(ValueError, match=r"options\.schedule must be one of gpipe, 1f1b"):
        _config("three_d", 8, options={"schedule": "interleaved"})
    with pytest.raises(ValueError, match=r"options\.virtual_stages: unknown setting"):
        _config("three_d", 8, options={"virtual_stages": 2})


def test_the_api_refuses_a_wrong_mesh_with_the_reason(client: object) -> None:
    body = {"strategy": "three_d", "workers": 4, "model": "transformer",
            "dataset": "text-en", "options": {"dp": 2, "pp": 1, "tp": 1}}
    response = client.post("/api/runs", json=body)  # type: ignore[attr-defined]
    assert response.status_code == 422
    assert "dp × pp × tp = 2 × 1 × 1 = 2, but workers is 4" in response.text


# --- real runs ---------------------------------------------------------------------

def _whole_model(events: list[dict]) -> tuple[list[float], list[float]]:
    """Per step: the loss, and the whole model's checksum as replica d = 0 holds it —
    each stage's replicated parameters once (from its t = 0 process) plus every slice."""
    by_rank = steps_by_rank(events)
    losses, sums = [], []
    for k in range(STEPS):
        rows = [by_rank[r][k] for r in sorted(by_rank)]
        losses.append(rows[0]["loss"])
        replica = [row for row in rows if row["coords"][0] == 0]
        sums.append(sum(row["param_checksum"] - row["shard_checksum"]
                        for row in replica if row["coords"][2] == 0)
                    + sum(row["shard_checksum"] for row in replica))
    return losses, sums


@pytest.fixture(scope="module")
def reference() -> tuple[list[float], list[float]]:
    events = run_headless(_config("single", 1), timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    by_rank = steps_by_rank(events)
    return ([row["loss"] for row in by_rank[0]], [row["param_checksum"] for row in by_rank[0]])


def _assert_matches(sums: list[float], losses: list[float],
                    reference: tuple[list[float], list[float]]) -> None:
    # Same arithmetic, summed in other orders (micro-batches, slices, replicas): float32
    # rounding only — the tolerances of tests/test_pipeline.py.
    assert_close(torch.tensor(losses), torch.tensor(reference[0]), rtol=1e-4, atol=1e-5)
    assert_close(torch.tensor(sums, dtype=torch.float64),
                 torch.tensor(reference[1], dtype=torch.float64), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(("dp", "pp", "tp", "schedule"), [
    (2, 2, 2, "1f1b"), (2, 2, 1, "gpipe"), (1, 2, 2, "gpipe"), (2, 1, 2, "1f1b")])
def test_3d_ends_every_step_where_one_process_does(
        reference: tuple[list[float], list[float]], dp: int, pp: int, tp: int,
        schedule: str) -> None:
    config = _three_d(dp, pp, tp, options={"schedule": schedule})
    events = run_headless(config, timeout=300)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    assert_gapless(events)
    losses, sums = _whole_model(events)
    _assert_matches(sums, losses, reference)

    mesh = Mesh(dp, pp, tp)
    [announced] = [e for e in events if e["type"] == "mesh"]
    assert announced["ranks"] == mesh.describe()
    # The model writes through the mesh; one process (replica 0, slice 0, last stage) says so.
    samples = [e for e in events if e["type"] == "sample"]
    assert [e["step"] for e in samples] == list(range(1, STEPS + 1))
    assert {e["rank"] for e in samples} == {mesh.rank_of(0, pp - 1, 0)}
    assert all(e["text"] for e in samples)
    by_rank = steps_by_rank(events)
    for r, rows in by_rank.items():
        d, p, t = mesh.coords(r)
        for k, row in enumerate(rows):
            assert row["coords"] == [d, p, t]
            # The replicas stay equal: same slice of the same stage, same parameters.
            twin = by_rank[mesh.rank_of(0, p, t)][k]
            assert row["param_checksum"] == pytest.approx(twin["param_checksum"], abs=1e-6)
            assert [(c[0], c[1]) for c in row["schedule"]] == SCHEDULES[schedule](pp, 2, p)
            # Traffic goes where the mesh says: every kind of group that has peers
            # carries bytes, none that has none.
            sent = row["sent_by_group"]
            assert (sent["data"] > 0) == (dp > 1)
            assert (sent["tensor"] > 0) == (tp > 1)
            assert (sent["pipeline"] > 0) == (pp > 1)
            assert sum(sent.values()) == row["bytes_sent"]


def test_every_message_names_the_group_it_went_over() -> None:
    """Detail mode: each comm event says which kind of group carried it, and its
    destination is in the sender's group of that kind."""
    events = run_headless(_three_d(2, 2, 2, steps=1, detail=True), timeout=300)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    mesh = Mesh(2, 2, 2)
    kind_of_op = {"activation": "pipeline", "gradient": "pipeline", "tp_forward": "tensor",
                  "tp_backward": "tensor", "dp_all_reduce": "data"}
    comms = [e for e in events if e["type"] == "comm"]
    assert {e["group"] for e in comms} == set(KINDS)
    for e in comms:
        assert e["group"] == kind_of_op[e["op"]], e
        assert e["dst"] in mesh.group_of(e["group"], e["src"]) and e["dst"] != e["src"], e


def test_the_reference_catches_a_missing_data_all_reduce(
        reference: tuple[list[float], list[float]], tmp_path: Path) -> None:
    """The replicas each step on their own half of the batch: the run finishes and its
    loss goes down, but the model is not the one-process model."""
    # Registered in the subprocess only (DISTLAB_STRATEGIES), so the config is a dict here.
    config = _three_d(2, 1, 2, options={"schedule": "gpipe"}).to_dict() | {
        "strategy": "broken_three_d"}
    out = tmp_path / "events.json"
    script = ("import json, sys; from engine.config import RunConfig; "
              "from engine.runner import run_headless\n"
              "if __name__ == '__main__':\n"
              "    ev = run_headless(RunConfig.from_dict(json.loads(sys.argv[1])), timeout=300)\n"
              f"    open({str(out)!r}, 'w').write(json.dumps(ev))\n")
    env = os.environ | {"DISTLAB_STRATEGIES": "tests.strategies.broken_three_d"}
    subprocess.run([sys.executable, "-c", script, json.dumps(config)], cwd=ROOT, env=env,
                   check=True, timeout=360)
    events = json.loads(out.read_text())
    assert events[-1]["status"] == "finished"  # nothing crashed: only the numbers tell
    losses, sums = _whole_model(events)
    assert losses[0] == pytest.approx(reference[0][0], rel=1e-4)  # same start
    assert all(e["sent_by_group"]["data"] == 0 for e in events if e["type"] == "step")
    with pytest.raises(AssertionError):
        _assert_matches(sums, losses, reference)


def test_a_killed_process_restarts_every_part_from_its_checkpoint() -> None:
    """Each process saves its own part (a slice of a stage of a replica); after a kill
    every process loads its part of the newest step all of them saved, the groups are
    made afresh, and the run ends where an unbroken one ends."""
    unbroken = run_headless(_three_d(2, 1, 2, steps=8), timeout=300)
    broken = run_headless(_three_d(
        2, 1, 2, steps=8, checkpoint_every=3, recovery="restart",
        faults=[{"after_step": 7, "action": "kill", "rank": 3}]), timeout=300)
    assert broken[-1]["status"] == "finished", broken[-1]["error"]
    [recovery] = [e for e in broken if e["type"] == "recovery"]
    assert recovery["policy"] == "restart" and recovery["from_step"] == 6
    last = {e["rank"]: e for e in broken if e["type"] == "step" and e["step"] == 8}
    ref = {e["rank"]: e for e in unbroken if e["type"] == "step" and e["step"] == 8}
    assert sorted(last) == [0, 1, 2, 3]
    for rank in last:  # the same steps redone on the same data: the same parameters
        assert last[rank]["param_checksum"] == pytest.approx(ref[rank]["param_checksum"],
                                                             rel=1e-9, abs=1e-9)
