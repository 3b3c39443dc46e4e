"""Each recovery policy on its own, against a stand-in supervisor (no processes), and the
strategy hooks the supervisor asks instead of comparing strategy names.

The real runs (processes, groups, checkpoints) are in test_checkpoint.py, test_elastic.py
and test_ps_recovery.py; these check each policy's decisions and bookkeeping directly —
and one real run: a failure while a worker is being added back.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from engine import checkpoint, recovery, updatelog
from engine.config import RunConfig
from engine.processes import WorkerHandle
from engine.recovery import continue_, elastic, restart, shrink
from engine.runreport import Outcome
from engine.strategies import ps_hooks
from engine.strategies.spec import RestartPoint, replicas_checkpoint
from tests.test_faults import Run

ROOT = Path(__file__).resolve().parent.parent


class _Process:
    def __init__(self) -> None:
        self.killed = False

    def kill(self) -> None:
        self.killed = True

    def join(self, timeout: float | None = None) -> None:
        pass


class _Pipe:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


class _Store:
    port = 4242


class FakeSupervisor:
    """What the policies use of a ``RunSupervisor``, recorded instead of done."""

    def __init__(self, config: RunConfig, roles: list[str] | None = None) -> None:
        self.config, self.spec = config, config.spec
        self.policy = recovery.policy_for(config.recovery)
        roles = roles or config.roles
        self.workers = [WorkerHandle(rank=r, process=_Process(), events=None,  # type: ignore[arg-type]
                                     control=_Pipe(), device="cpu", status="running",
                                     role=role, pid=1000 + r, last_step=7)
                        for r, role in enumerate(roles)]
        self.lock = threading.RLock()
        self.outcome = Outcome()
        self.failure: WorkerHandle | None = None
        self.restarts = self.generation = self.group_generation = self.regroup_retries = 0
        self.stop_requested = False
        self.store: Any = None
        self.old_stores: list[Any] = []
        self.checkpoint_dir: Path | None = None
        self.resume: dict[str, Any] | None = None
        self.events: list[dict[str, Any]] = []
        self.controls: list[dict[str, Any]] = []
        self.calls: list[str] = []

    def fail(self, rank: int) -> WorkerHandle:
        w = self.workers[rank]
        w.status = "failed"
        self.failure = w
        return w

    def emit(self, events: list[dict[str, Any]]) -> None:
        self.events += events

    def now(self) -> float:
        return 1.0

    def send_control(self, message: dict[str, Any]) -> None:
        self.controls.append(message)

    def teardown(self) -> None:
        self.calls.append("teardown")

    def spawn_generation(self) -> None:
        self.calls.append("spawn_generation")

    def add_worker(self, rank: int, regroup: dict[str, Any]) -> None:
        self.calls.append(f"add_worker {rank}")
        self.workers[rank].status = "starting"

    def active(self) -> list[WorkerHandle]:
        return [w for w in self.workers if w.status != "left"]


@pytest.fixture
def no_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new group's rendezvous, without a real TCPStore."""
    monkeypatch.setattr(elastic, "new_store", lambda world, timeout_s: _Store())


def test_policies_are_chosen_by_name_and_none_never_applies() -> None:
    assert set(recovery.POLICIES) == {"none", "restart", "shrink", "continue"}
    sup = FakeSupervisor(RunConfig(workers=3))
    sup.fail(1)
    assert sup.policy.name == "none" and not sup.policy.should_apply(sup)
    assert not sup.policy.retry_lost_group(sup, 100.0)


def test_restart_resumes_where_the_strategy_says(tmp_path: Path) -> None:
    sup = FakeSupervisor(RunConfig(workers=3, checkpoint_every=5, recovery="restart",
                                   max_restarts=1))
    assert not restart.should_apply(sup)  # nothing failed
    sup.fail(2)
    assert restart.should_apply(sup)
    sup.checkpoint_dir = tmp_path
    checkpoint.save(tmp_path, 5, torch.zeros(3))
    restart.apply(sup)
    assert sup.calls == ["teardown", "spawn_generation"]
    assert sup.failure is None and sup.restarts == sup.generation == 1
    assert sup.resume is not None and sup.resume["step"] == 5
    [event] = sup.events
    assert (event["type"], event["policy"], event["failed_rank"]) == ("recovery", "restart", 2)
    assert (event["from_step"], event["lost_steps"]) == (5, [6, 7])
    sup.fail(0)
    assert not restart.should_apply(sup), "max_restarts reached"


@pytest.mark.usefixtures("no_store")
def test_shrink_takes_the_failed_out_and_regroups_the_survivors() -> None:
    sup = FakeSupervisor(RunConfig(workers=3, recovery="shrink"))
    gone = sup.fail(1)
    assert shrink.should_apply(sup)
    shrink.apply(sup)
    assert gone.status == "left" and gone.process.killed
    assert sup.failure is None and sup.restarts == 1 and sup.group_generation == 1
    for w in (sup.workers[0], sup.workers[2]):
        assert w.control.sent == [{"type": "regroup", "generation": 1, "members": [0, 2],
                                   "store_port": 4242}]
    [event] = sup.events
    assert (event["policy"], event["members"], event["lost_steps"]) == ("shrink", [0, 2], None)
    # then it rejoins, at a step boundary
    shrink.rejoin(sup, 1)
    assert sup.calls == ["add_worker 1"]
    assert sup.controls[-1]["action"] == "regroup" and sup.controls[-1]["members"] == [0, 2, 1]
    assert sup.events[-1]["policy"] == "rejoin"


@pytest.mark.usefixtures("no_store")
def test_a_worker_being_added_back_comes_last_in_an_out_of_band_regroup() -> None:
    """Group rank 0 broadcasts its parameters and step: never a newcomer's."""
    sup = FakeSupervisor(RunConfig(workers=3, recovery="shrink"))
    sup.workers[0].status, sup.workers[0].joining = "starting", True  # rank 0 rejoins
    sup.fail(2)
    members = elastic.regroup_now(sup)
    assert [w.rank for w in members] == [1, 0]


def test_a_failure_while_a_worker_rejoins_keeps_the_run_where_it_was() -> None:
    run = Run(workers=3, steps=400, batch_size=8, pace=20.0, recovery="shrink", timeout_s=5.0)
    run.wait_steps()
    run.sup.inject("kill", 0)
    deadline = time.monotonic() + 60

    def stepped_after_recovery() -> bool:
        recoveries = run.of("recovery")
        return bool(recoveries) and any(e["seq"] > recoveries[-1]["seq"]
                                        for e in run.of("step"))

    while not stepped_after_recovery():  # the smaller group has formed and goes on
        assert time.monotonic() < deadline, "no shrink"
        time.sleep(0.02)
    run.sup.inject("rejoin", 0)
    run.sup.inject("kill", 2)  # while rank 0's new process is still joining
    while len(run.of("recovery")) < 3:
        assert time.monotonic() < deadline, [e["policy"] for e in run.of("recovery")]
        time.sleep(0.02)
    while max(e["step"] for e in run.of("step") if e["rank"] == 0) < 30:
        assert time.monotonic() < deadline, "the group did not go on"
        time.sleep(0.05)
    run.sup.stop()
    run.finish(timeout=60)
    assert run.of("recovery")[-1]["members"] == [1, 0]
    steps = [e["step"] for e in run.of("step") if e["rank"] == 1]
    assert steps == list(range(1, len(steps) + 1)), "the run went back to an earlier step"
    by_step: dict[int, set[str]] = {}
    for e in run.of("step"):
        by_step.setdefault(e["step"], set()).add(e["param_hash"])
    assert all(len(h) == 1 for h in by_step.values()), "replicas differ"


@pytest.mark.usefixtures("no_store")
def test_rejoin_is_refused_while_the_group_changes_or_for_a_running_rank() -> None:
    sup = FakeSupervisor(RunConfig(workers=3, recovery="shrink"))
    with pytest.raises(ValueError, match="only a rank that has left"):
        shrink.rejoin(sup, 1)
    sup.fail(1)
    with pytest.raises(elastic.RecoveryInProgress):
        shrink.rejoin(sup, 1)
    other = FakeSupervisor(RunConfig(workers=3))
    with pytest.raises(ValueError, match="needs recovery 'shrink'"):
        shrink.rejoin(other, 1)


@pytest.mark.usefixtures("no_store")
def test_a_broken_group_is_formed_again_a_few_times_before_blame() -> None:
    sup = FakeSupervisor(RunConfig(workers=3, recovery="shrink"))
    assert not shrink.retry_lost_group(sup, 0.5)  # give it a moment first
    for _ in range(shrink.REGROUP_RETRIES):
        assert shrink.retry_lost_group(sup, 2.0)
    assert not shrink.retry_lost_group(sup, 2.0)
    assert sup.group_generation == shrink.REGROUP_RETRIES


def test_continue_goes_on_while_the_strategy_has_enough_workers() -> None:
    config = RunConfig(strategy="parameter_server", workers=4, recovery="continue",
                       options={"ps_mode": "backup", "backup_workers": 1})
    sup = FakeSupervisor(config)  # ranks: server 0, workers 1..4; rounds need 3
    sup.fail(2)
    assert continue_.should_apply(sup)
    continue_.apply(sup)
    assert sup.controls == [{"action": "worker_left", "rank": 2}]
    assert sup.events[-1]["policy"] == "continue" and sup.events[-1]["members"] == [0, 1, 3, 4]
    sup.fail(3)
    assert not continue_.should_apply(sup), "two workers cannot fill a round of three"
    server = FakeSupervisor(RunConfig(strategy="parameter_server", workers=3,
                                      recovery="continue", options={"ps_mode": "async"}))
    server.fail(0)
    assert not continue_.should_apply(server), "a dead server is not left behind"


def test_the_parameter_server_answers_the_supervisor_through_its_hooks(tmp_path: Path) -> None:
    spec = RunConfig(strategy="parameter_server").spec
    assert spec.version_of({"type": "ps_update", "rank": 0, "version": 7}) == 7
    assert spec.version_of({"type": "ps_update", "rank": 1, "version": 7}) is None
    sync = RunConfig(strategy="parameter_server", workers=3, steps=10,
                     options={"ps_mode": "sync", "servers": 2})
    asynchronous = RunConfig(strategy="parameter_server", workers=3, steps=10,
                             options={"ps_mode": "async"})
    assert spec.reached_end(sync, 0, 10) and not spec.reached_end(sync, 10, 9)
    assert spec.reached_end(asynchronous, 0, 30) and not spec.reached_end(asynchronous, 10, 29)
    assert spec.min_workers(asynchronous) == 1
    # progress in the steps asked for: sync, the furthest worker's (a straggler among
    # backup workers does fewer); async, versions / workers, whoever computed them
    assert spec.steps_done(sync, [4, 7, 6], 7) == 7
    assert spec.steps_done(asynchronous, [9, 2, 8], 19) == 6
    # a restart: every server rebuilds from its own log, up to the version all of them hold
    for server, versions in ((0, 4), (1, 3)):
        log = updatelog.UpdateLog(tmp_path / f"server{server}" / "updates.log")
        for v in range(1, versions + 1):
            log.append(v, [{"worker": 2, "step": v}], torch.zeros(2))
        log.close()
    point = spec.restart_state(sync, tmp_path, 9)
    assert point == RestartPoint({"ps": True, "until": 3}, from_step=9, redo_until=0)
    assert spec.restart_state(asynchronous, tmp_path, 9).resume == {"ps": True, "until": None}
    assert ps_hooks.restart_state is spec.restart_state


def test_lock_step_defaults(tmp_path: Path) -> None:
    config = RunConfig(workers=2, steps=10)
    spec = config.spec
    assert spec.progress == "slowest" and spec.version_of is None
    assert spec.reached_end(config, 10, 0) and not spec.reached_end(config, 9, 0)
    assert spec.min_workers(config) == 1
    assert spec.restart_state is replicas_checkpoint
    assert replicas_checkpoint(config, tmp_path, 4) == RestartPoint(None, 0, 4, [])


def test_the_supervisor_and_its_rooms_never_ask_for_a_strategy_by_name() -> None:
    rooms = [ROOT / "engine" / name for name in (
        "supervisor.py", "processes.py", "detection.py", "faultinject.py", "runreport.py",
        "causes.py")] + sorted((ROOT / "engine" / "recovery").glob("*.py"))
    for path in rooms:
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\.strategy\s*(==|!=|\bin\b|\bnot in\b)", source), path.name
        assert "parameter_server" not in source and "ps_mode" not in source, path.name
