"""One run, several hosts: workers started by two real ``torchrun`` agents on this machine
(node ranks 0 and 1, two processes each), joining a run created through the API.

Each agent plays a host (``DISTLAB_HOST_NAME`` names it). The agents meet in the run's own
TCPStore (c10d rendezvous); every worker proves the run's join token before it joins the
process group. Checked: the run trains exactly like the one-process reference with the
replicas in sync, its events name both hosts, a wrong token is refused without disturbing
the run, a killed remote worker and a lost host end the run with the right cause, and no
process outlives any of it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from torch.testing import assert_close

from engine.config import RunConfig
from tests.helpers import steps_by_rank, wait_all_dead, worker_pids
from tests.test_api import wait_for_status
from tests.test_equivalence import reference_run

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = Path(sys.executable).with_name("torchrun")
START_S = 180  # two agents and four workers starting on a loaded 2-core machine
RUN = {"strategy": "data_parallel", "launcher": "torchrun", "nnodes": 2, "workers": 4,
       "batch_size": 16, "lr": 0.5, "seed": 5, "dataset": "spirals"}

pytestmark = pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun is not installed")


@pytest.fixture(autouse=True)
def _reachable_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISTLAB_PUBLIC_HOST", "127.0.0.1")  # the "hosts" are this machine


@pytest.fixture
def agents() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for agent in started:  # whatever the test did: no agent outlives it
        if agent.poll() is None:
            os.killpg(agent.pid, signal.SIGKILL)
        agent.wait(30)


def start_agent(agents: list[subprocess.Popen[str]], argv: list[str],
                host: str) -> subprocess.Popen[str]:
    """One host: the printed command, run as it is (torchrun from this environment)."""
    assert argv[0] == "torchrun"
    agent = subprocess.Popen(
        [str(TORCHRUN), *argv[1:]], cwd=ROOT, text=True, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DISTLAB_HOST_NAME": host})
    agents.append(agent)
    return agent


def create(client: TestClient, **changes: Any) -> tuple[str, dict[str, str], list[str]]:
    r = client.post("/api/runs", json={**RUN, **changes})
    assert r.status_code == 201, r.text
    run_id, token = r.json()["id"], {"X-Control-Token": r.json()["control_token"]}
    hosts = client.get(f"/api/runs/{run_id}/hosts", headers=token)
    assert hosts.status_code == 200, hosts.text
    return run_id, token, hosts.json()["argv"]


def events_of(client: TestClient, run_id: str) -> list[dict[str, Any]]:
    return client.get(f"/api/runs/{run_id}/events", params={"limit": 10000}).json()


def wait_for_step(client: TestClient, run_id: str, step: int) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if client.get(f"/api/runs/{run_id}").json()["step"] >= step:
            return
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} never reached step {step}")


def join_with(argv: list[str], token: str) -> subprocess.CompletedProcess[str]:
    """A worker as torchrun would start it, but holding ``token``."""
    server = argv[argv.index("--server") + 1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RANK": "0", "WORLD_SIZE": "4",
           "LOCAL_RANK": "0", "GROUP_RANK": "0"}
    return subprocess.run([sys.executable, "-m", "engine.join", "--server", server,
                           "--token", token], env=env, capture_output=True, text=True,
                          timeout=60)


def test_two_hosts_train_one_run_in_sync_and_a_wrong_token_is_refused(
        client: TestClient, agents: list[subprocess.Popen[str]]) -> None:
    run_id, _, argv = create(client, steps=25)
    # The command holds the join token: a viewer without the control token gets none.
    assert client.get(f"/api/runs/{run_id}/hosts").status_code == 403
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "starting"
    # A stranger without the token is refused before it learns anything of the run…
    refused = join_with(argv, "0" * 32)
    assert refused.returncode == 3
    assert "refused" in refused.stderr and "token" in refused.stderr
    # …and the run still waits for its hosts, then trains undisturbed.
    for host in ("host-a", "host-b"):
        start_agent(agents, argv, host)
    done = wait_for_status(client, run_id, {"finished", "failed", "stopped"}, START_S)
    assert done["status"] == "finished", done["error"]
    for agent in agents:
        assert agent.wait(60) == 0

    events = events_of(client, run_id)
    [waiting] = [e for e in events if e["type"] == "hosts_waiting"]
    assert (waiting["nnodes"], waiting["nproc_per_node"]) == (2, 2)
    [knock] = [e for e in events if e["type"] == "join_refused"]
    assert knock["reason"] == "wrong join token"
    [joined] = [e for e in events if e["type"] == "hosts_joined"]
    assert joined["backend"] == "gloo"
    hosts = {h["node"]: h for h in joined["hosts"]}
    assert sorted(hosts) == [0, 1]
    assert {h["host"] for h in hosts.values()} == {"host-a", "host-b"}
    assert sorted(hosts[0]["ranks"] + hosts[1]["ranks"]) == [0, 1, 2, 3]
    started = {e["rank"]: e for e in events if e["type"] == "worker_started"}
    for node, host in hosts.items():
        for rank in host["ranks"]:
            assert (started[rank]["node"], started[rank]["host"]) == (node, host["host"])
    assert {w["host"] for w in done["workers"]} == {"host-a", "host-b"}

    # The same training as one process on the concatenated batches (engine/equivalence),
    # and every replica bitwise the same at every step.
    config = RunConfig.from_dict(done["config"])
    # The network model's nodes are the real hosts: torchrun numbers each host's processes
    # one after another, node_size of them.
    assert config.node_size == 2
    for node, host in hosts.items():
        assert sorted(host["ranks"]) == [node * 2, node * 2 + 1]
    _, reference = reference_run(config, 4)
    by_rank = steps_by_rank(events)
    assert sorted(by_rank) == [0, 1, 2, 3]
    for steps in by_rank.values():
        assert_close(torch.tensor([e["param_checksum"] for e in steps], dtype=torch.float64),
                     torch.tensor(reference, dtype=torch.float64), rtol=1e-5, atol=1e-5)
    for step in range(config.steps):
        assert len({by_rank[r][step]["param_hash"] for r in range(4)}) == 1
    assert wait_all_dead(worker_pids(events)) == []


def test_a_lost_host_ends_the_run_with_host_lost_and_leaves_no_process(
        client: TestClient, agents: list[subprocess.Popen[str]]) -> None:
    run_id, token, argv = create(client, steps=2000, pace=20)
    start_agent(agents, argv, "host-a")
    lost = start_agent(agents, argv, "host-b")
    wait_for_step(client, run_id, 3)
    # Freezing a process on another host is refused, with the reason.
    r = client.post(f"/api/runs/{run_id}/control", headers=token,
                    json={"action": "freeze", "rank": 1})
    assert r.status_code == 409 and "other hosts" in r.json()["detail"]
    os.kill(lost.pid, signal.SIGKILL)  # the agent of host-b dies
    done = wait_for_status(client, run_id, {"finished", "failed", "stopped"}, START_S)
    assert done["status"] == "failed"
    events = events_of(client, run_id)
    final = events[-1]
    assert final["type"] == "run_finished"
    assert final["cause"] == {"code": "host_lost", "host": "host-b"}
    failed = {e["rank"] for e in events if e["type"] == "worker_failed"}
    [joined] = [e for e in events if e["type"] == "hosts_joined"]
    # its ranks are the ones named (those whose last word came in before the judgement)
    assert failed and failed <= set(next(h["ranks"] for h in joined["hosts"]
                                         if h["host"] == "host-b"))
    assert agents[0].wait(60) != 0  # the surviving host's agent ends too: its workers did
    assert wait_all_dead(worker_pids(events), timeout=30) == []


def test_a_remote_worker_can_be_killed(client: TestClient,
                                       agents: list[subprocess.Popen[str]]) -> None:
    run_id, token, argv = create(client, steps=2000, pace=20)
    for host in ("host-a", "host-b"):
        start_agent(agents, argv, host)
    wait_for_step(client, run_id, 3)
    r = client.post(f"/api/runs/{run_id}/control", headers=token,
                    json={"action": "kill", "rank": 3})
    assert r.status_code == 200, r.text
    done = wait_for_status(client, run_id, {"finished", "failed", "stopped"}, START_S)
    assert done["status"] == "failed"
    events = events_of(client, run_id)
    [fault] = [e for e in events if e["type"] == "fault"]
    killed = next(e for e in events if e["type"] == "worker_failed")
    assert killed["rank"] == 3 and killed["cause"] == {"code": "signal", "signal": "SIGKILL"}
    assert killed["pid"] == fault["pid"]
    for agent in agents:
        agent.wait(60)
    assert wait_all_dead(worker_pids(events), timeout=30) == []


def test_a_run_that_waits_for_hosts_can_be_stopped(client: TestClient) -> None:
    run_id, token, argv = create(client, steps=20)
    r = client.post(f"/api/runs/{run_id}/control", headers=token, json={"action": "stop"})
    assert r.status_code == 200, r.text
    done = wait_for_status(client, run_id, {"finished", "failed", "stopped"}, 30)
    assert done["status"] == "stopped"
    # Too late: the join is refused with the reason, not left hanging.
    late = join_with(argv, argv[argv.index("--token") + 1])
    assert late.returncode == 3


def test_the_cli_prints_the_command_and_waits_for_the_hosts(
        agents: list[subprocess.Popen[str]], tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    cli = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "run", "data-parallel-4", "--steps", "10",
         "--set", "launcher=torchrun", "--set", "nnodes=2", "--out", str(log)],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert cli.stdout is not None
        line = cli.stdout.readline().split()  # the command, on its own line
        assert line[:3] == ["torchrun", "--nnodes", "2"]
        for host in ("host-a", "host-b"):
            start_agent(agents, line, host)
        out, err = cli.communicate(timeout=START_S)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 0, err
    assert out.startswith("finished: 10 steps")
    events = [json.loads(x) for x in log.read_text().splitlines()]
    assert any(e["type"] == "hosts_joined" for e in events)


@pytest.mark.parametrize(("changes", "field"), [
    ({"nnodes": 3}, "nnodes"),  # 4 processes do not split over 3 hosts
    ({"launcher": "local", "nnodes": 2}, "nnodes"),
    ({"recovery": "restart", "checkpoint_every": 5}, "recovery"),
    ({"faults": [{"after_step": 2, "action": "freeze", "rank": 1}]}, "faults[0]"),
    ({"node_size": 1}, "node_size"),  # its nodes are its 2 hosts of 2 processes
])
def test_settings_a_torchrun_run_cannot_have_are_refused_by_name(
        client: TestClient, changes: dict[str, Any], field: str) -> None:
    r = client.post("/api/runs", json={**RUN, "steps": 20, **changes})
    assert r.status_code == 422
    assert field in json.dumps(r.json())
