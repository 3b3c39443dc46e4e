"""Elastic recovery (``recovery="shrink"``) and faults scheduled before the run.

When a worker dies, the survivors keep their processes and their parameters, form a
smaller process group and go on; later a worker can be added back and receives the
current parameters before its first step. Real processes, real gloo groups.
"""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

import pytest

from engine.config import RunConfig
from tests.helpers import alive, steps_by_rank, wait_all_dead, worker_pids
from tests.test_faults import Run


def _hashes_by_step(log: list[dict[str, Any]]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for e in log:
        if e["type"] == "step":
            out.setdefault(e["step"], set()).add(e["param_hash"])
    return out


def test_shrink_then_rejoin_keeps_every_replica_identical() -> None:
    run = Run(workers=4, steps=40, batch_size=8, pace=20.0, recovery="shrink",
              faults=[{"after_step": 10, "action": "kill", "rank": 2},
                      {"after_step": 25, "action": "rejoin", "rank": 2}])
    final = run.finish(timeout=90)
    assert final["status"] == "finished", final
    assert final["summary"]["steps_completed"] == 40

    [fault] = run.of("fault")
    assert (fault["action"], fault["rank"], fault["scheduled"]) == ("kill", 2, True)
    fault_step = 10
    [failed] = run.of("worker_failed")
    assert failed["rank"] == 2 and failed["cause"] == {"code": "signal", "signal": "SIGKILL"}
    shrink, rejoin = run.of("recovery")
    assert (shrink["policy"], shrink["members"]) == ("shrink", [0, 1, 3])
    assert (rejoin["policy"], rejoin["members"]) == ("rejoin", [0, 1, 3, 2])
    assert not alive(fault["pid"])

    by_rank = steps_by_rank(run.log)
    # No restart from a checkpoint: the survivors go on from where the new group's rank 0
    # (worker 0) was, which is every step exactly once for it. Another survivor differs
    # only at the step the failure cut short: it may take that step from worker 0, or
    # (if it finished it alone) do it once more.
    assert [e["step"] for e in by_rank[0]] == list(range(1, 41))
    at_failure = {fault_step, fault_step + 1}
    for rank in (1, 3):
        steps = [e["step"] for e in by_rank[rank]]
        assert steps[-1] == 40 and set(range(1, 41)) - set(steps) <= at_failure
        assert {s for s in steps if steps.count(s) > 1} <= at_failure
    # Rank 2 worked until it was killed, then again after rejoining, as a new process.
    # (It may die before reporting step 10: the kill fires when the first worker is done.)
    steps_2 = [e["step"] for e in by_rank[2]]
    first_back = next(s for a, s in itertools.pairwise(steps_2) if s != a + 1)
    before = steps_2[:steps_2.index(first_back)]
    assert before == list(range(1, len(before) + 1)) and len(before) >= 8
    assert first_back > 25
    assert steps_2[len(before):] == list(range(first_back, 41))
    starts = [e for e in run.of("worker_started") if e["rank"] == 2]
    assert len(starts) == 2 and starts[0]["pid"] != starts[1]["pid"]

    # Every replica that reports a step has the same parameters, before the failure,
    # while the group is smaller, and after the rejoin (so the newcomer received the
    # state before its first step).
    for step, hashes in _hashes_by_step(run.log).items():
        assert len(hashes) == 1, f"replicas differ at step {step}"


def test_a_frozen_worker_is_taken_out_and_the_rest_go_on() -> None:
    run = Run(workers=3, steps=30, batch_size=8, pace=20.0, recovery="shrink",
              timeout_s=3.0, faults=[{"after_step": 5, "action": "freeze", "rank": 1}])
    final = run.finish(timeout=90)
    assert final["status"] == "finished", final
    [failed] = run.of("worker_failed")
    assert failed["rank"] == 1 and failed["cause"]["code"] == "frozen"
    assert failed["detection_ms"] < (3.0 + 2.0) * 1e3
    [shrink] = run.of("recovery")
    assert shrink["members"] == [0, 2]
    by_rank = steps_by_rank(run.log)
    assert [e["step"] for e in by_rank[0]] == list(range(1, 31))
    assert by_rank[0][-1]["param_hash"] == by_rank[2][-1]["param_hash"]
    assert not alive(failed["pid"])  # a frozen rank is really killed, not left stopped


def test_a_kill_while_paused_shrinks_and_the_run_resumes() -> None:
    run = Run(workers=3, steps=30, batch_size=8, pace=20.0, recovery="shrink")
    run.wait_steps()
    run.sup.control("pause")
    time.sleep(0.3)
    run.sup.inject("kill", 0)  # the leader, even: rank 1 takes over the broadcast
    deadline = time.monotonic() + 20
    while not run.of("recovery"):
        assert time.monotonic() < deadline, "no recovery while paused"
        time.sleep(0.05)
    with pytest.raises(ValueError, match="has left the group"):
        run.sup.inject("kill", 0)
    with pytest.raises(ValueError, match="only a rank that has left"):
        run.sup.inject("rejoin", 1)
    run.sup.control("resume")
    run.sup.inject("rejoin", 0)
    final = run.finish(timeout=90)
    assert final["status"] == "finished", final
    for step, hashes in _hashes_by_step(run.log).items():
        assert len(hashes) == 1, f"replicas differ at step {step}"


def test_the_last_survivor_failing_fails_the_run() -> None:
    run = Run(workers=2, steps=400, batch_size=8, pace=20.0, recovery="shrink",
              faults=[{"after_step": 3, "action": "kill", "rank": 1},
                      {"after_step": 8, "action": "kill", "rank": 0}])
    final = run.finish(timeout=60)
    assert final["status"] == "failed" and "rank 0" in final["error"]
    assert [e["rank"] for e in run.of("worker_failed")] == [1, 0]
    assert wait_all_dead(worker_pids(run.log)) == []


def test_a_scheduled_fault_that_cannot_apply_is_reported() -> None:
    run = Run(workers=3, steps=20, batch_size=8, pace=20.0, recovery="shrink",
              faults=[{"after_step": 3, "action": "kill", "rank": 1},
                      {"after_step": 12, "action": "slow", "rank": 1, "factor": 3.0}])
    final = run.finish(timeout=60)
    assert final["status"] == "finished"
    refused = [e for e in run.of("fault") if e.get("not_applied")]
    assert len(refused) == 1 and refused[0]["scheduled"]
    assert "left the group" in refused[0]["not_applied"]


@pytest.mark.parametrize(("config", "message"), [
    ({"recovery": "shrink", "strategy": "parameter_server"},
     "recovery 'shrink': the parameter_server strategy does not support it"),
    ({"recovery": "shrink", "workers": 1}, "at least 2 workers"),
    ({"faults": [{"after_step": 2, "action": "rejoin", "rank": 1}],
      "recovery": "shrink"}, "only after a scheduled kill"),
    ({"faults": [{"after_step": 2, "action": "kill", "rank": 1},
                 {"after_step": 5, "action": "rejoin", "rank": 1}]}, "needs recovery 'shrink'"),
    ({"faults": [{"after_step": 2, "action": "kill", "rank": 7}]},
     r"faults\[0\]\.rank: rank 7 does not exist"),
    ({"faults": [{"after_step": 200, "action": "kill", "rank": 1}]}, "after_step"),
    ({"faults": [{"after_step": 2, "action": "slow", "rank": 1}]}, "takes exactly"),
    ({"faults": [{"after_step": 2, "action": "melt", "rank": 1}]}, "action must be one of"),
    ({"faults": [{"after_step": 2, "action": "drop", "src": 0, "dst": 1}]}, "hand-written"),
    ({"faults": [{"after_step": 2, "action": "kill", "rank": 1}] * 21}, "at most 20"),
])
def test_bad_schedules_and_recoveries_are_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunConfig(**{"workers": 4, "steps": 100, **config})


def test_schedules_through_the_api(client) -> None:  # type: ignore[no-untyped-def]
    bad = client.post("/api/runs", json={"workers": 2, "faults": [
        {"after_step": 2, "action": "kill", "rank": 1, "colour": "red"}]})
    assert bad.status_code == 422 and "faults" in bad.json()["detail"]
    bad = client.post("/api/runs", json={"workers": 2, "faults": [
        {"after_step": 2, "action": "kill", "rank": 5}]})
    assert bad.status_code == 422 and "rank" in bad.json()["detail"]
    ok = client.post("/api/runs", json={"workers": 3, "steps": 12, "pace": 20.0,
                                        "recovery": "shrink", "faults": [
                                            {"after_step": 4, "action": "kill", "rank": 2}]})
    assert ok.status_code == 201, ok.text
    run = ok.json()
    assert run["config"]["faults"] == [{"after_step": 4, "action": "kill", "rank": 2}]
    deadline = time.monotonic() + 60
    while (state := client.get(f"/api/runs/{run['id']}").json())["status"] not in (
            "finished", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state["status"] == "finished"
    assert [w["status"] for w in state["workers"]] == ["exited", "exited", "failed"]


# ------------------------------------------------ parameter server: keep going without it
@pytest.mark.parametrize("mode", ["async", "ssp"])
def test_the_parameter_server_keeps_going_without_a_dead_worker(mode: str) -> None:
    run = Run(strategy="parameter_server", workers=4, steps=30, batch_size=8, pace=20.0,
              options={"ps_mode": mode, "staleness_bound": 2}, recovery="continue",
              emulated_compute_ms=5.0,
              faults=[{"after_step": 5, "action": "kill", "rank": 2}])
    final = run.finish(timeout=90)
    assert final["status"] == "finished", final
    [failed] = run.of("worker_failed")
    [recovery] = run.of("recovery")
    assert failed["rank"] == 2 and recovery["policy"] == "continue"
    assert 2 not in recovery["members"]
    updates = run.of("ps_update")
    dead_pushes = sum(a["worker"] == 2 for u in updates for a in u["applied"])
    # Every gradient the dead worker pushed before it died (it may die between pushing
    # and reporting its step), and none after.
    reported = len(steps_by_rank(run.log)[2])
    assert reported <= dead_pushes <= reported + 1
    after = [u for u in updates if u["seq"] > recovery["seq"]]
    assert after, "no update after the failure"
    # The survivors finish their own iterations; the dead worker's share is not made up.
    assert final["summary"]["versions"] == 3 * 30 + dead_pushes
    if mode == "ssp":  # the bound now holds among the survivors, not against a dead clock
        assert all(a["clock_gap"] <= 2 for u in after for a in u["applied"])


def test_backup_mode_goes_on_while_enough_workers_remain() -> None:
    run = Run(strategy="parameter_server", workers=4, steps=200, batch_size=8, pace=20.0,
              options={"ps_mode": "backup", "backup_workers": 1}, recovery="continue",
              faults=[{"after_step": 4, "action": "kill", "rank": 1},
                      {"after_step": 40, "action": "kill", "rank": 3}])
    final = run.finish(timeout=90)
    # The first death leaves N = 3 workers for rounds of 3; the second leaves too few.
    assert [r["policy"] for r in run.of("recovery")] == ["continue"]
    assert final["status"] == "failed" and "rank 3" in final["error"]
    assert all(len(u["applied"]) == 3 for u in run.of("ps_update"))
    assert wait_all_dead(worker_pids(run.log)) == []


def test_continue_is_refused_where_it_cannot_work() -> None:
    with pytest.raises(ValueError, match="sync needs every worker"):
        RunConfig(strategy="parameter_server", options={"ps_mode": "sync"},
                  recovery="continue")
    with pytest.raises(ValueError,
                       match="recovery 'continue': the data_parallel strategy does not support"):
        RunConfig(strategy="data_parallel", recovery="continue")


def test_chaos_kills_and_rejoins_each_failure_recorded_once() -> None:
    """Ten random kills and rejoins on a small elastic run: it finishes, every kill is
    reported exactly once, nobody else is failed, replicas stay identical, nothing is left."""
    rng = random.Random(11)
    run = Run(workers=4, steps=300, batch_size=8, pace=25.0, recovery="shrink",
              timeout_s=5.0, max_restarts=20, seed=11)
    run.wait_steps()
    for _ in range(10):
        time.sleep(rng.random())
        workers = run.sup.workers
        left = [w.rank for w in workers if w.status == "left"]
        running = [w.rank for w in workers if w.status == "running"]
        try:
            if left and (rng.random() < 0.5 or len(running) <= 1):
                run.sup.inject("rejoin", rng.choice(left))
            elif len(running) > 1:
                run.sup.inject("kill", rng.choice(running))
        except ValueError:
            pass  # refused while the group is changing: fine, that is the contract
    final = run.finish(timeout=150)
    assert final["status"] == "finished", final
    killed = [e["pid"] for e in run.of("fault") if e["action"] == "kill"]
    failed = [e["pid"] for e in run.of("worker_failed")]
    assert len(killed) >= 3
    assert sorted(failed) == sorted(killed)  # each kill once, no healthy rank failed
    for step, hashes in _hashes_by_step(run.log).items():
        assert len(hashes) == 1, f"replicas differ at step {step}"


def test_kill_and_rejoin_through_the_api(client) -> None:  # type: ignore[no-untyped-def]
    run = client.post("/api/runs", json={"workers": 3, "steps": 60, "pace": 20.0,
                                         "recovery": "shrink"}).json()
    control = f"/api/runs/{run['id']}/control"
    token = {"X-Control-Token": run["control_token"]}

    def events(kind: str) -> list[dict[str, Any]]:
        log = client.get(f"/api/runs/{run['id']}/events", params={"limit": 10000}).json()
        return [e for e in log if e["type"] == kind]

    deadline = time.monotonic() + 60
    while client.get(f"/api/runs/{run['id']}").json()["step"] < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    r = client.post(control, json={"action": "kill", "rank": 1}, headers=token)
    assert r.status_code == 200
    while not events("recovery"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    r = client.post(control, json={"action": "rejoin", "rank": 0}, headers=token)
    assert r.status_code == 409 and "only a rank that has left" in r.json()["detail"]
    assert client.post(control, json={"action": "rejoin", "rank": 1}).status_code == 403
    while (r := client.post(control, json={"action": "rejoin", "rank": 1},
                            headers=token)).status_code == 409:
        assert "try again" in r.json()["detail"]
        time.sleep(0.2)
    assert r.status_code == 200, r.text
    while (state := client.get(f"/api/runs/{run['id']}").json())["status"] != "finished":
        assert state["status"] in ("running", "paused") and time.monotonic() < deadline
        time.sleep(0.1)
    assert [w["status"] for w in state["workers"]] == ["exited"] * 3  # rank 1 came back
    assert [e["policy"] for e in events("recovery")] == ["shrink", "rejoin"]
