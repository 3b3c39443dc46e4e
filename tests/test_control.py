"""Controls are agreed by all ranks: no sequence of clicks may leave a rank alone."""

from __future__ import annotations

import threading
import time
from typing import Any

from engine.config import RunConfig
from engine.supervisor import RunSupervisor
from tests.helpers import wait_all_dead, worker_pids


class Recorder:
    def __init__(self) -> None:
        self.log: list[dict[str, Any]] = []
        self.first_step = threading.Event()

    def __call__(self, events: list[dict[str, Any]]) -> None:
        self.log.extend(events)
        if any(e["type"] == "step" for e in events):
            self.first_step.set()

    def last_steps(self) -> dict[int, int]:
        return {e["rank"]: e["step"] for e in self.log if e["type"] == "step"}


def test_rapid_resume_pause_bursts_never_split_the_ranks() -> None:
    """Each rank sees the same messages at different moments; a pause longer than the
    process-group timeout must still not fail the run."""
    rec = Recorder()
    sup = RunSupervisor(RunConfig(workers=3, steps=5000, batch_size=8, pace=20.0,
                                  timeout_s=2.0), run_id="burst", on_events=rec)
    sup.start()
    assert rec.first_step.wait(30)
    sup.control("pause")
    for _ in range(15):
        sup.control("resume")
        sup.control("pause")
        sup.control("step")
        time.sleep(0.03)
    time.sleep(3.5)  # paused for longer than timeout_s
    assert not sup.finished, rec.log[-1]
    steps = rec.last_steps()
    assert len(set(steps.values())) == 1, steps
    time.sleep(0.5)
    assert rec.last_steps() == steps, "a paused run must not advance"
    sup.control("stop")
    assert sup.wait(20)
    assert rec.log[-1]["status"] == "stopped", rec.log[-1]["error"]
    assert wait_all_dead(worker_pids(rec.log)) == []


def test_controls_sent_while_workers_are_starting_reach_every_rank() -> None:
    rec = Recorder()
    sup = RunSupervisor(RunConfig(workers=4, steps=5000, batch_size=8, pace=20.0),
                        run_id="early", on_events=rec)
    starter = threading.Thread(target=sup.start)
    starter.start()
    while not rec.log:  # run_started is out, workers are being spawned
        time.sleep(0.001)
    sup.control("pause")
    starter.join()
    time.sleep(1.5)
    assert not sup.finished
    assert rec.last_steps() == {}, "paused before step 1: no rank may train"
    types = [e["type"] for e in rec.log]
    assert types[0] == "run_started" and "control" in types
    sup.control("step")
    sup.control("step")
    deadline = time.monotonic() + 10
    while rec.last_steps() != {r: 2 for r in range(4)}:
        assert time.monotonic() < deadline, rec.last_steps()
        time.sleep(0.02)
    sup.control("stop")
    assert sup.wait(20)
    assert rec.log[-1]["status"] == "stopped"
    assert wait_all_dead(worker_pids(rec.log)) == []


def test_pace_is_respected_and_can_change_mid_run() -> None:
    rec = Recorder()
    sup = RunSupervisor(RunConfig(workers=2, steps=5000, batch_size=8, pace=5.0),
                        run_id="pace", on_events=rec)
    sup.start()
    assert rec.first_step.wait(30)
    time.sleep(2.0)
    slow = rec.last_steps()[0]
    sup.control("set_pace", 50.0)
    time.sleep(2.0)
    fast = rec.last_steps()[0] - slow
    sup.stop()
    assert sup.wait(20)
    assert slow <= 14, f"pace 5/s ran {slow} steps in ~2 s"
    assert fast > 2 * slow, (slow, fast)


def test_a_paused_parameter_server_run_outlives_the_process_group_timeout() -> None:
    """Servers and waiting workers sit in receives while the user pauses: no timeout."""
    rec = Recorder()
    sup = RunSupervisor(RunConfig(strategy="parameter_server", workers=3, steps=5000,
                                  batch_size=8, pace=10.0, timeout_s=2.0),
                        run_id="pspause", on_events=rec)
    sup.start()
    assert rec.first_step.wait(30)
    sup.control("pause")
    time.sleep(3.5)
    assert not sup.finished, rec.log[-1]
    before = rec.last_steps()
    sup.control("step")
    deadline = time.monotonic() + 10
    while rec.last_steps() == before:
        assert time.monotonic() < deadline, "single step did not happen"
        time.sleep(0.05)
    sup.control("stop")
    assert sup.wait(20)
    assert rec.log[-1]["status"] == "stopped", rec.log[-1]["error"]
    assert wait_all_dead(worker_pids(rec.log)) == []
