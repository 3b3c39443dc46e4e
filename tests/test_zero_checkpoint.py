"""ZeRO's sharded checkpoints and restart after a kill (engine/strategies/zero.py).

- Each process saves its own part: the parameters it holds (the whole model in stages 1
  and 2, its shard in stage 3) and Adam's m, v and t for its shard only — never the whole
  optimizer state.
- A run whose worker is killed restarts every process from the newest step all of them
  saved, and ends with exactly the parameters and Adam state of an unbroken run.
- A set of shards missing one rank's file is never used: the restart falls back to the
  previous complete set, or to the start.
- The event stream tells the failure and the recovery once each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch.testing import assert_close

from engine import checkpoint
from engine.config import RunConfig
from engine.strategies.optimizers import Adam
from engine.supervisor import RunSupervisor
from tests.helpers import assert_gapless, wait_all_dead, worker_pids

STEPS, EVERY, KILL_AFTER = 24, 4, 8
# The killed run goes at a human pace: at full speed these tiny steps take milliseconds,
# and the run could end before the kill (sent once a worker reports step KILL_AFTER)
# lands. At 20 steps/s the kill has STEPS - KILL_AFTER steps (0.8 s) to arrive; the pace
# changes when steps run, not what they compute.
PACE = 20.0
BASE: dict[str, Any] = dict(strategy="zero", workers=2, batch_size=16, steps=STEPS, lr=0.01,
                            seed=4, optimizer="adam", dataset="moons", checkpoint_every=EVERY)


def _run(workdir: Path, **kw: Any) -> list[dict[str, Any]]:
    """A headless run that keeps its checkpoints in ``workdir`` (to compare them after)."""
    log: list[dict[str, Any]] = []
    sup = RunSupervisor(RunConfig(**(BASE | kw)), run_id=workdir.name, on_events=log.extend,
                        workdir=workdir)
    sup.start()
    try:
        assert sup.wait(180), "the run did not end"
    finally:
        if not sup.finished:
            sup.kill()
            sup.wait(10)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    assert_gapless(log)
    assert wait_all_dead(worker_pids(log)) == []  # no process outlives its run
    return log


def _final_parts(workdir: Path) -> dict[int, checkpoint.Checkpoint]:
    """Every rank's checkpoint of the last step (``EVERY`` divides ``STEPS``)."""
    step, files, refused = checkpoint.load_latest_parts(workdir / "checkpoints", 2)
    assert step == STEPS and refused == []
    return {int(r): checkpoint.load(workdir / "checkpoints" / f["file"], f["sha256"], step)
            for r, f in files.items()}


@pytest.fixture(scope="module", params=["1", "2", "3"])
def killed_and_unbroken(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                        ) -> tuple[str, Path, list[dict], Path]:
    stage = request.param
    unbroken = tmp_path_factory.mktemp(f"zero{stage}-unbroken")
    _run(unbroken, options={"stage": stage})
    killed = tmp_path_factory.mktemp(f"zero{stage}-killed")
    log = _run(killed, options={"stage": stage}, recovery="restart", pace=PACE,
               faults=[{"after_step": KILL_AFTER, "action": "kill", "rank": 1}])
    return stage, unbroken, log, killed


def test_a_killed_zero_run_restarts_and_ends_exactly_where_an_unbroken_one_ends(
        killed_and_unbroken: tuple[str, Path, list[dict], Path]) -> None:
    _stage, unbroken, _log, killed = killed_and_unbroken
    ours, ref = _final_parts(killed), _final_parts(unbroken)
    for rank in (0, 1):
        # Tolerance zero: synchronous training on the same seed does the same float
        # operations in the same order on the same data, and the restart resumed Adam
        # with the m, v and t it had — so the result is bitwise the unbroken run's.
        # (Restarting Adam from m = v = 0 and t = 0 instead changes every element.)
        assert_close(ours[rank].params, ref[rank].params, rtol=0, atol=0)
        for name in ("exp_avg", "exp_avg_sq"):
            assert_close(ours[rank].optimizer[name], ref[rank].optimizer[name],
                         rtol=0, atol=0)
        assert ours[rank].optimizer["step"] == ref[rank].optimizer["step"] == STEPS


def test_each_process_saves_its_own_shard_only(
        killed_and_unbroken: tuple[str, Path, list[dict], Path]) -> None:
    stage, unbroken, _log, _killed = killed_and_unbroken
    parts = _final_parts(unbroken)
    whole = parts[0].params.numel() if stage != "3" else sum(
        p.params.numel() for p in parts.values())
    shards = [len(s) for s in torch.zeros(whole).tensor_split(2)]
    for rank, part in parts.items():
        assert part.path.parent.name == checkpoint.part_folder(rank)
        # Stage 1 and 2 hold the whole model between steps, stage 3 its shard.
        assert part.params.numel() == (shards[rank] if stage == "3" else whole)
        [m], [v] = part.optimizer["exp_avg"], part.optimizer["exp_avg_sq"]
        assert m.numel() == v.numel() == shards[rank]  # Adam's state: its shard alone
    if stage == "3":  # the shards put together are the whole model, each piece once
        assert parts[0].params.numel() + parts[1].params.numel() == whole


def test_the_failure_and_the_recovery_are_told_once(
        killed_and_unbroken: tuple[str, Path, list[dict], Path]) -> None:
    _stage, _unbroken, log, _killed = killed_and_unbroken
    faults = [e for e in log if e["type"] == "fault"]
    failed = [e for e in log if e["type"] == "worker_failed"]
    [recovery] = [e for e in log if e["type"] == "recovery"]
    assert len(faults) == 1 and faults[0]["action"] == "kill"
    assert len(failed) == 1 and failed[0]["rank"] == 1
    assert recovery["policy"] == "restart" and recovery["failed_rank"] == 1
    # Where it resumed, whatever the timing of the kill (it is sent once a worker has
    # finished step KILL_AFTER; the victim may do a step or two more before it dies, and
    # what it had not yet sent of its events dies with it): a step with a checkpoint, and
    # never older than a set of shards the events show complete before the recovery.
    before = log[:log.index(recovery)]
    saved: dict[int, set[int]] = {}
    for e in before:
        if e["type"] == "checkpoint_saved":
            saved.setdefault(e["step"], set()).add(e["rank"])
    complete = [step for step, ranks in saved.items() if ranks == {0, 1}]
    assert recovery["from_step"] % EVERY == 0
    assert recovery["from_step"] >= max(complete, default=0)
    # And from shards, not from the start: a worker that finished step KILL_AFTER had
    # every peer in step KILL_AFTER's collectives, after each had saved step EVERY.
    assert recovery["from_step"] >= EVERY
    reported = max(e["step"] for e in before if e["type"] == "step")
    if reported > recovery["from_step"]:  # the steps done since the checkpoint are redone
        assert recovery["lost_steps"][0] == recovery["from_step"] + 1
    # After the recovery every rank goes on from the step after it, to the end, once.
    after = [e for e in log[log.index(recovery):] if e["type"] == "step"]
    for rank in (0, 1):
        steps = [e["step"] for e in after if e["rank"] == rank]
        assert steps == list(range(recovery["from_step"] + 1, STEPS + 1))


# ---- which set of shards a restart uses

def _save_parts(directory: Path, step: int, ranks: tuple[int, ...] = (0, 1)) -> None:
    for rank in ranks:
        adam = Adam([torch.zeros(3)], lr=0.1)
        adam.t = step
        checkpoint.save(directory / checkpoint.part_folder(rank), step,
                        torch.full((3,), float(step)), adam.state_dict())


def _restart_point(directory: Path) -> Any:
    config = RunConfig(**(BASE | {"recovery": "restart"}))
    return config.spec.restart_state(config, directory, STEPS)


@pytest.mark.parametrize("how", ["file deleted", "never saved"])
def test_a_set_missing_one_ranks_shard_is_not_used(tmp_path: Path, how: str) -> None:
    _save_parts(tmp_path, 4)
    _save_parts(tmp_path, 8)
    if how == "file deleted":  # rank 1's file is gone, though its manifest names it
        (tmp_path / checkpoint.part_folder(1) / "step-000008.pt").unlink()
    else:  # rank 1 died before it saved step 12; rank 0 has it
        _save_parts(tmp_path, 12, ranks=(0,))
    complete = 4 if how == "file deleted" else 8  # the newest set every rank saved
    point = _restart_point(tmp_path)
    assert point.from_step == complete and point.resume is not None
    assert point.resume["step"] == complete
    assert set(point.resume["ranks"]) == {"0", "1"}  # one step, every rank's own file
    for rank, part in point.resume["ranks"].items():
        assert part["file"] == f"{checkpoint.part_folder(int(rank))}/step-{complete:06d}.pt"
    [why] = point.refused
    assert ("step-000008.pt: cannot be read" if how == "file deleted"
            else "step 12: not saved by every process") in why


def test_without_a_complete_set_the_restart_is_from_the_start(tmp_path: Path) -> None:
    _save_parts(tmp_path, 4, ranks=(0,))
    point = _restart_point(tmp_path)
    assert point.from_step == 0 and point.resume is None
    assert point.refused == ["step 4: not saved by every process"]


def test_adam_state_that_does_not_fit_the_shard_is_refused() -> None:
    adam = Adam([torch.zeros(3)], lr=0.1)
    other = Adam([torch.zeros(4)], lr=0.1).state_dict()
    with pytest.raises(ValueError, match=r"exp_avg is \[\(4,\)\], these parameters need "
                                         r"\[\(3,\)\]"):
        adam.load_state_dict(other)
    with pytest.raises(ValueError, match="step must be a count"):
        adam.load_state_dict(adam.state_dict() | {"step": -1})
