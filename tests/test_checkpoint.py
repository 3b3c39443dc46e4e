"""Checkpoints: atomic, verified, never unpickled blindly — and a restart loses nothing."""

from __future__ import annotations

import pickle
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from engine import checkpoint
from engine.config import RunConfig
from engine.runner import run_headless
from engine.supervisor import RunSupervisor
from tests.helpers import wait_all_dead, worker_pids


def test_latest_is_the_newest_good_checkpoint(tmp_path: Path) -> None:
    for step in (10, 20, 30):
        checkpoint.save(tmp_path, step, torch.full((5,), float(step)))
    ckpt, refused = checkpoint.load_latest(tmp_path)
    assert ckpt is not None and ckpt.step == 30 and refused == []
    assert torch.equal(ckpt.params, torch.full((5,), 30.0))
    assert len(list(tmp_path.glob("step-*.pt"))) == checkpoint.KEEP


@pytest.mark.parametrize("damage", ["truncate", "tamper", "delete"])
def test_a_damaged_checkpoint_is_refused_and_the_previous_one_used(tmp_path: Path,
                                                                   damage: str) -> None:
    checkpoint.save(tmp_path, 10, torch.ones(100))
    newest, _ = checkpoint.save(tmp_path, 20, torch.full((100,), 2.0))
    raw = newest.read_bytes()
    if damage == "truncate":
        newest.write_bytes(raw[: len(raw) // 2])
    elif damage == "tamper":
        newest.write_bytes(raw[:-20] + bytes(20))
    else:
        newest.unlink()
    ckpt, refused = checkpoint.load_latest(tmp_path)
    assert ckpt is not None and ckpt.step == 10
    assert len(refused) == 1 and "step-000020.pt" in refused[0]


def test_a_crash_while_writing_never_breaks_latest(tmp_path: Path) -> None:
    checkpoint.save(tmp_path, 10, torch.ones(10))
    # A kill mid-write leaves only a temporary file behind; "latest" is untouched.
    (tmp_path / ".step-000020.pt.123.tmp").write_bytes(b"half a checkpo")
    ckpt, refused = checkpoint.load_latest(tmp_path)
    assert ckpt is not None and ckpt.step == 10 and refused == []


def test_loading_never_unpickles_arbitrary_objects(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (print, ("pwned",))

    path = tmp_path / "step-000005.pt"
    path.write_bytes(pickle.dumps({"step": 5, "params": Evil()}))
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(checkpoint.CheckpointError, match="not a DistLab checkpoint"):
        checkpoint.load(path, digest, 5)


class _Run:
    def __init__(self, config: RunConfig, at_step: int) -> None:
        self.log: list[dict[str, Any]] = []
        self.reached = threading.Event()
        self.at_step = at_step
        self.sup = RunSupervisor(config, run_id="restart", on_events=self._on)
        self.sup.start()

    def _on(self, events: list[dict[str, Any]]) -> None:
        self.log.extend(events)
        if any(e["type"] == "step" and e["step"] >= self.at_step for e in events):
            self.reached.set()


def _final_hashes(log: list[dict[str, Any]], steps: int) -> dict[int, str]:
    return {e["rank"]: e["param_hash"] for e in log
            if e["type"] == "step" and e["step"] == steps}


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "momentum"])
def test_restart_from_checkpoint_ends_bitwise_where_an_unbroken_run_ends(optimizer: str) -> None:
    # With Adam, bitwise only because the checkpoint carries m, v and t as well: restarted
    # from m = v = 0 and t = 0, Adam would take different steps after the restart.
    base = {"workers": 3, "steps": 40, "batch_size": 8, "seed": 11, "checkpoint_every": 10,
            "recovery": "restart", "optimizer": optimizer}
    reference = _final_hashes(run_headless(RunConfig(**base), timeout=60), 40)
    run = _Run(RunConfig(**base, pace=25.0), at_step=15)
    assert run.reached.wait(30)
    run.sup.inject("kill", 2)
    assert run.sup.wait(60)
    final = run.log[-1]
    assert final["status"] == "finished", final["error"]
    [recovery] = [e for e in run.log if e["type"] == "recovery"]
    assert recovery["failed_rank"] == 2 and recovery["from_step"] % 10 == 0
    assert recovery["lost_steps"][0] == recovery["from_step"] + 1
    assert _final_hashes(run.log, 40) == reference  # bitwise: nothing lost, nothing extra
    saved = [e for e in run.log if e["type"] == "checkpoint_saved"]
    assert saved and all(e["duration_ms"] > 0 and e["bytes"] > 0 for e in saved)
    assert wait_all_dead(worker_pids(run.log)) == []


def test_chaos_kills_with_restart_each_failure_recorded_once() -> None:
    """Ten kills of random ranks at random moments of a healthy run: each is reported once
    (one worker_failed naming the killed process, however many peers' collectives broke
    with it) and recovered once, and nothing is left running.

    Each kill waits for the previous recovery: two kills inside one detection window are
    one failure with two root causes and one restart — right, but not what this counts."""
    rng = random.Random(3)
    # long enough never to end by itself before the tenth kill (it is stopped after it)
    config = RunConfig(workers=3, steps=4000, batch_size=8, checkpoint_every=5,
                       recovery="restart", max_restarts=20, pace=40.0)
    run = _Run(config, at_step=3)
    assert run.reached.wait(30)

    def count(kind: str) -> int:
        return sum(e["type"] == kind for e in run.log)

    killed: list[int] = []
    while len(killed) < 10 and not run.sup.finished:
        time.sleep(0.05 + rng.random() * 0.3)
        try:
            run.sup.inject("kill", rng.randrange(3))
        except ValueError:
            continue  # that rank is restarting right now: not running
        # the process the kill was sent to, as the fault event names it (its worker_started
        # may not have reached the log yet when a restart was quick to recover)
        killed.append([e for e in run.log if e["type"] == "fault"][-1]["pid"])
        deadline = time.monotonic() + 60  # generous: a restart spawns three processes
        while count("recovery") < len(killed):
            assert time.monotonic() < deadline, f"kill {len(killed)} was not recovered"
            time.sleep(0.05)
    run.sup.stop()
    assert run.sup.wait(60)
    failures = [e for e in run.log if e["type"] == "worker_failed"]
    assert len(killed) == 10 and count("recovery") == 10
    assert [e["pid"] for e in failures] == killed  # each kill reported once, as the kill
    assert run.log[-1]["status"] in ("stopped", "finished"), run.log[-1]["error"]
    assert wait_all_dead(worker_pids(run.log)) == []


def _wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_restart_takes_its_processes_from_the_warm_pool_and_leaves_none_behind() -> None:
    """A run that restarts from checkpoints keeps one spare process per rank; a restart
    makes them its workers (no process start-up), a new pool follows, and when the run
    ends every spare is gone — used or not."""
    config = RunConfig(workers=3, steps=4000, batch_size=8, checkpoint_every=5,
                       recovery="restart", pace=40.0)
    run = _Run(config, at_step=3)
    assert run.reached.wait(30)
    _wait_for(lambda: len(run.sup.pool.spares) == 3)
    pool = [s.process.pid for s in run.sup.pool.spares]
    run.sup.inject("kill", 1)
    _wait_for(lambda: sum(e["type"] == "recovery" for e in run.log) == 1)
    _wait_for(lambda: len(worker_pids(run.log)) == 6)
    assert sorted(worker_pids(run.log)[3:]) == sorted(pool)  # the new generation = the pool
    _wait_for(lambda: len(run.sup.pool.spares) == 3)  # and the next pool is ready
    unused = [s.process.pid for s in run.sup.pool.spares]
    assert not set(unused) & set(pool)
    run.sup.stop()
    assert run.sup.wait(60)
    assert run.log[-1]["status"] == "stopped", run.log[-1]["error"]
    assert run.sup.pool.spares == []
    assert wait_all_dead(worker_pids(run.log) + unused) == []


def test_runs_that_do_not_restart_keep_no_spares() -> None:
    run = _Run(RunConfig(workers=2, steps=30, pace=40.0), at_step=3)
    assert run.reached.wait(30)
    assert run.sup.wait(60)
    assert run.sup.pool.spares == [] and run.sup.pool.filling is False


def test_recovery_needs_checkpoints() -> None:
    with pytest.raises(ValueError, match="needs checkpoints"):
        RunConfig(workers=2, recovery="restart")
