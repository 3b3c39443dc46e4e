"""Faults on real worker processes: killed, frozen, slowed, corrupted — detected and named."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.config import RunConfig
from engine.supervisor import RunSupervisor
from tests.helpers import alive, steps_by_rank, wait_all_dead, worker_pids


class Run:
    """A live run in this process, with its event log."""

    def __init__(self, **config: Any) -> None:
        self.log: list[dict[str, Any]] = []
        self._stepped = threading.Event()
        self._stepping: set[int] = set()
        run_config = RunConfig(**config)
        self._world = run_config.workers  # the ranks that report steps (not servers)
        self.sup = RunSupervisor(run_config, run_id="fault", on_events=self._on)
        self.sup.start()

    def _on(self, events: list[dict[str, Any]]) -> None:
        self.log.extend(events)
        # Every rank has reported a step (so the supervisor has seen each one start: a
        # rank's worker_started comes first in its own stream), one of them step 3.
        self._stepping |= {e["rank"] for e in events if e["type"] == "step"}
        if len(self._stepping) == self._world and any(
                e["type"] == "step" and e["step"] >= 3 for e in self.log[-len(events):]):
            self._stepped.set()

    def wait_steps(self) -> None:
        assert self._stepped.wait(30), "the run never reached step 3 on every rank"

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.log if e["type"] == kind]

    def finish(self, timeout: float = 30) -> dict[str, Any]:
        assert self.sup.wait(timeout), "the run hung"
        assert wait_all_dead(worker_pids(self.log)) == [], "a worker survived the run"
        return self.log[-1]


def test_a_killed_worker_is_reported_within_a_second_and_named() -> None:
    run = Run(workers=3, steps=5000, batch_size=8, pace=20.0)
    run.wait_steps()
    victim = worker_pids(run.log)[0]
    rank = next(e["rank"] for e in run.of("worker_started") if e["pid"] == victim)
    run.sup.inject("kill", rank)
    final = run.finish()
    assert final["status"] == "failed" and f"rank {rank}" in final["error"]
    assert "SIGKILL" in final["error"]
    [failed] = run.of("worker_failed")  # exactly one failure, the root cause
    assert failed["rank"] == rank and failed["pid"] == victim
    assert failed["detection_ms"] < 1000
    [fault] = run.of("fault")
    assert fault["action"] == "kill" and fault["rank"] == rank


def test_a_frozen_worker_is_detected_within_the_timeout_plus_2s() -> None:
    timeout_s = 4.0
    run = Run(workers=3, steps=5000, batch_size=8, pace=20.0, timeout_s=timeout_s)
    run.wait_steps()
    started = time.monotonic()
    run.sup.inject("freeze", 2)
    final = run.finish(timeout=timeout_s + 10)
    assert time.monotonic() - started < timeout_s + 2
    [failed] = run.of("worker_failed")
    assert failed["rank"] == 2 and failed["cause"]["code"] == "frozen"
    assert failed["detection_ms"] < (timeout_s + 2) * 1000
    assert final["status"] == "failed" and "rank 2" in final["error"]


def test_a_corrupt_gradient_is_caught_before_it_spreads() -> None:
    run = Run(workers=3, steps=12, batch_size=8, pace=10.0)
    run.wait_steps()
    run.sup.inject("corrupt", 1)
    final = run.finish()
    assert final["status"] == "finished", final["error"]
    [nan] = run.of("nan_detected")
    assert nan["ranks"] == [1] and nan["action"] == "skipped"
    by_rank = steps_by_rank(run.log)
    skipped = [e["step"] for e in by_rank[0] if e.get("skipped")]
    assert skipped == [nan["step"]]
    for step in range(12):  # every replica stayed finite and identical
        checksums = {by_rank[r][step]["param_checksum"] for r in range(3)}
        assert len(checksums) == 1 and all(isinstance(c, float) for c in checksums)


def test_let_it_spread_puts_the_nan_into_every_replica() -> None:
    run = Run(workers=3, steps=10, batch_size=8, pace=10.0, nan_policy="spread")
    run.wait_steps()
    run.sup.inject("corrupt", 0)
    run.finish()
    first, *later = run.of("nan_detected")
    assert first["ranks"] == [0] and first["action"] == "spread"
    # After one all-reduce every replica is NaN, so every rank's next gradient is too.
    assert later and all(e["ranks"] == [0, 1, 2] for e in later)
    last = {e["rank"]: e["param_checksum"] for e in run.of("step")}
    assert set(last.values()) == {"NaN"}  # one all-reduce reached every replica


def test_a_slowed_worker_reports_its_slow_down() -> None:
    run = Run(workers=2, steps=40, batch_size=8, emulated_compute_ms=5.0, pace=20.0)
    run.wait_steps()
    run.sup.inject("slow", 1, factor=4.0)
    run.finish()
    slowed = [e for e in run.of("step") if e["rank"] == 1 and e.get("slow_factor") == 4.0]
    assert slowed and all(e["emulated_ms"] >= 15 for e in slowed)
    assert not any(e.get("slow_factor") for e in run.of("step") if e["rank"] == 0)


def test_chaos_random_kills_each_recorded_once_and_nothing_left() -> None:
    rng = random.Random(7)
    for trial in range(10):
        workers = rng.choice([2, 3, 4])
        run = Run(workers=workers, steps=5000, batch_size=8, pace=rng.choice([None, 30.0]),
                  seed=trial)
        run.wait_steps()
        time.sleep(rng.random() * 0.2)
        rank = rng.randrange(workers)
        run.sup.inject("kill", rank)
        final = run.finish()
        failures = run.of("worker_failed")
        assert [f["rank"] for f in failures] == [rank], (trial, failures)
        assert final["status"] == "failed" and f"rank {rank}" in final["error"]
        with pytest.raises(RuntimeError):
            run.sup.inject("kill", (rank + 1) % workers)  # the run has ended


def test_fault_requests_are_validated(client: TestClient) -> None:
    run = client.post("/api/runs", json={"workers": 2, "steps": 5000, "pace": 10.0}).json()
    control = f"/api/runs/{run['id']}/control"
    token = {"X-Control-Token": run["control_token"]}
    deadline = time.monotonic() + 30
    while client.get(f"/api/runs/{run['id']}").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # 422: the body is not what its schema allows; 409: it is, but this run refuses it
    # (a rank it does not have, a fault its configuration does not support)
    for bad, needle, status in [({"action": "kill"}, "needs the rank", 422),
                                ({"action": "kill", "rank": 5}, "does not exist", 409),
                                ({"action": "kill", "rank": -1}, "rank", 422),
                                ({"action": "kill", "rank": "1"}, "rank", 422),
                                ({"action": "slow", "rank": 1}, "factor", 422),
                                ({"action": "slow", "rank": 1, "factor": 0.5}, "factor", 422),
                                ({"action": "pause", "rank": 1}, "does not take a rank", 422),
                                ({"action": "delay", "rank": 1}, "needs a link", 422),
                                ({"action": "drop", "src": 0, "dst": 1}, "hand-written", 409),
                                ({"action": "delay", "src": 0, "dst": 9, "ms": 5}, "dst", 409),
                                ({"action": "delay", "src": 0, "dst": 1}, "needs ms", 422),
                                ({"action": "kill", "rank": 0, "src": 1, "dst": 0},
                                 "does not take src/dst", 422),
                                ({"action": "melt", "rank": 1}, "action", 422)]:
        r = client.post(control, json=bad, headers=token)
        assert r.status_code == status, (bad, r.text)
        assert needle in r.json()["detail"], (bad, r.json())
    assert client.get(f"/api/runs/{run['id']}").json()["status"] == "running"
    ok = client.post(control, json={"action": "delay", "src": 0, "dst": 1, "ms": 5}, headers=token)
    assert ok.status_code == 200, ok.text
    pids = [w["pid"] for w in client.get(f"/api/runs/{run['id']}").json()["workers"]]
    r = client.post(control, json={"action": "kill", "rank": 1}, headers=token)
    assert r.status_code == 200
    deadline = time.monotonic() + 30
    while (state := client.get(f"/api/runs/{run['id']}").json())["status"] != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "rank 1" in state["error"]
    assert state["workers"][1]["status"] == "failed"
    r = client.post(control, json={"action": "kill", "rank": 0}, headers=token)
    assert r.status_code == 409
    assert wait_all_dead(pids) == [] and not any(alive(p) for p in pids)


def test_a_frozen_parameter_server_worker_is_named_too() -> None:
    run = Run(strategy="parameter_server", workers=3, steps=5000, batch_size=8, pace=20.0,
              timeout_s=3.0)
    run.wait_steps()
    run.sup.inject("freeze", 2)
    final = run.finish(timeout=15)
    [failed] = run.of("worker_failed")
    assert failed["rank"] == 2 and failed["cause"]["code"] == "frozen"
    assert final["status"] == "failed"


def test_a_delayed_link_slows_every_step_that_uses_it() -> None:
    run = Run(workers=3, steps=30, batch_size=8, options={"allreduce": "ring"}, detail=True,
              pace=20.0)
    run.wait_steps()
    run.sup.inject_link("delay", 0, 1, ms=40.0)
    final = run.finish()
    assert final["status"] == "finished", final["error"]
    [fault] = run.of("fault")
    assert (fault["action"], fault["src"], fault["dst"], fault["ms"]) == ("delay", 0, 1, 40.0)
    late = [e["comm_ms"] for e in run.of("step") if e["rank"] == 1 and e["step"] > 25]
    early = [e["comm_ms"] for e in run.of("step") if e["rank"] == 1 and e["step"] < 3]
    # Rank 0 sends to rank 1 four times per ring all-reduce of 3 ranks: ≥ 4 × 40 ms.
    assert min(late) > 4 * 40 * 0.9 > max(early)


def test_a_dropped_message_stalls_the_collective_and_names_the_link() -> None:
    run = Run(workers=3, steps=5000, batch_size=8, options={"allreduce": "ring"}, pace=20.0,
              timeout_s=3.0)
    run.wait_steps()
    run.sup.inject_link("drop", 2, 0)
    final = run.finish(timeout=20)
    assert final["status"] == "failed"
    [failed] = run.of("worker_failed")
    assert failed["rank"] == 0 and failed["cause"] == {"code": "link_drop", "src": 2, "dst": 0}


def test_a_dropped_message_is_recovered_by_a_restart() -> None:
    run = Run(workers=3, steps=30, batch_size=8, options={"allreduce": "tree"}, pace=20.0,
              timeout_s=2.0, checkpoint_every=5, recovery="restart")
    run.wait_steps()
    run.sup.inject_link("drop", 1, 0)
    final = run.finish(timeout=40)
    assert final["status"] == "finished", final["error"]
    assert len(run.of("recovery")) == 1


@pytest.mark.parametrize(("args", "message"), [
    (("drop", 0, 0), "different ranks"),
    (("drop", 0, 7), "ranks 0–2"),
    (("delay", 0, 1, -5.0), r"fault\.ms must be at least 0\.0 and at most 10000\.0"),
    (("delay", 0, 1), r"fault\.ms must be a number"),
    (("flood", 0, 1), "unknown link fault"),
])
def test_bad_link_faults_are_refused(args: tuple, message: str) -> None:
    run = Run(workers=3, steps=5000, batch_size=8, options={"allreduce": "ring"}, pace=20.0)
    run.wait_steps()
    with pytest.raises(ValueError, match=message):
        run.sup.inject_link(*args)
    run.sup.stop()
    run.finish()


def test_drop_needs_a_hand_written_all_reduce() -> None:
    run = Run(workers=2, steps=5000, batch_size=8, pace=20.0)
    run.wait_steps()
    with pytest.raises(ValueError, match="hand-written"):
        run.sup.inject_link("drop", 0, 1)
    run.sup.stop()
    run.finish()
