"""Many runs on a Ray cluster (issue 20): with DISTLAB_RAY_ADDRESS set, each run is one
actor and one placement group on the cluster, running the same engine code. A local Ray
head (4 CPUs) stands in for the cluster: two 2-worker runs hold it at once, a third waits
in the server's queue ("Ray cluster is full") and starts when one is stopped; two short
runs end with the same parameters, step for step, as the same configs run locally."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from torch.testing import assert_close

from backend.main import create_app
from backend.settings import Settings
from engine.config import RunConfig
from engine.runner import run_headless
from tests.helpers import assert_gapless, steps_by_rank, wait_all_dead, worker_pids
from tests.ray_head import local_ray_head
from tests.test_api import wait_for_status

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                        "ignore::FutureWarning")

SMALL = {"strategy": "data_parallel", "workers": 2, "steps": 12, "batch_size": 16,
         "lr": 0.5, "dataset": "moons"}
CONFIGS = [{**SMALL, "seed": 7}, {**SMALL, "seed": 11, "lr": 0.3}]
LONG = {"strategy": "data_parallel", "workers": 2, "steps": 5000, "pace": 10.0}


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'distlab[cluster]' "
                                      "(make install-dev does) to test runs on a Ray cluster")
    with local_ray_head(num_cpus=4) as head:
        yield head.address
    assert head.leftovers == [], f"Ray processes outlived the head: {head.leftovers}"


def _control(client: TestClient, run: dict[str, Any], action: str) -> None:
    r = client.post(f"/api/runs/{run['id']}/control", json={"action": action},
                    headers={"X-Control-Token": run["control_token"]})
    assert r.status_code == 200, r.text


def _trajectory(events: list[dict[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Each rank's loss and parameter checksum at every step, as tensors."""
    by_rank = steps_by_rank(events)
    losses = [[e["loss"] for e in by_rank[r]] for r in sorted(by_rank)]
    checksums = [[e["param_checksum"] for e in by_rank[r]] for r in sorted(by_rank)]
    return (torch.tensor(losses, dtype=torch.float64),
            torch.tensor(checksums, dtype=torch.float64))


def test_two_runs_at_once_on_ray_match_local_runs_and_a_third_waits(
        ray_address: str, tmp_path: Path) -> None:
    # max_active_runs=1: on a cluster the cluster's room limits runs, not the server's
    settings = Settings(data_dir=tmp_path, ray_address=ray_address, max_active_runs=1)
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/health").json()["runs_on"] == ray_address
        # two long runs hold the cluster's 4 CPUs, both live at once
        first, second = (client.post("/api/runs", json=LONG).json() for _ in range(2))
        for run in (first, second):
            assert run["status"] != "queued", run
            wait_for_status(client, run["id"], {"running"}, timeout=120)
        assert {r["status"] for r in client.get("/api/runs").json()} == {"running"}
        # a third waits in the visible queue, and starts by itself once there is room
        third = client.post("/api/runs", json=LONG)
        assert third.status_code == 201, third.text
        third = third.json()
        assert third["status"] == "queued" and third["queue_position"] == 1
        assert third["waiting_for"].startswith("Ray cluster is full"), third
        assert third["waiting_reason"]["code"] in ("cluster_full", "cluster_retry"), third
        _control(client, first, "stop")
        assert wait_for_status(client, first["id"], {"stopped", "failed"},
                               timeout=120)["status"] == "stopped"
        wait_for_status(client, third["id"], {"running"}, timeout=120)
        _control(client, third, "pause")
        wait_for_status(client, third["id"], {"paused"})
        _control(client, third, "stop")
        assert wait_for_status(client, third["id"], {"stopped", "failed"},
                               timeout=120)["status"] == "stopped"
        # a fault reaches the run's real worker process on the node: SIGKILL of rank 1
        r = client.post(f"/api/runs/{second['id']}/control", json={"action": "kill", "rank": 1},
                        headers={"X-Control-Token": second["control_token"]})
        assert r.status_code == 200, r.text
        killed = wait_for_status(client, second["id"], {"stopped", "failed"}, timeout=120)
        assert killed["status"] == "failed" and "rank 1" in killed["error"], killed
        assert "SIGKILL" in killed["error"], killed
        r = client.post(f"/api/runs/{second['id']}/control", json={"action": "pause"},
                        headers={"X-Control-Token": second["control_token"]})
        assert r.status_code == 409  # an ended run takes no controls

        # two short runs side by side, to compare with the same configs run locally
        runs = [client.post("/api/runs", json=c).json() for c in CONFIGS]
        ended = [wait_for_status(client, r["id"], {"finished", "failed", "stopped"},
                                 timeout=120) for r in runs]
        assert [r["status"] for r in ended] == ["finished", "finished"], ended
        on_ray = [client.get(f"/api/runs/{r['id']}/events").json() for r in runs]
        held = [client.get(f"/api/runs/{r['id']}/events").json()
                for r in (first, second, third)]

    for events in [*on_ray, *held]:
        assert_gapless(events)
        assert events[0]["type"] == "run_started" and events[-1]["type"] == "run_finished"
    # the workers ran on this machine (the Ray node) and are gone
    assert wait_all_dead([p for ev in [*on_ray, *held] for p in worker_pids(ev)],
                         timeout=30) == []

    for config, events in zip(CONFIGS, on_ray, strict=True):
        local = run_headless(RunConfig(**config), timeout=120)
        assert local[-1]["status"] == "finished", local[-1]["error"]
        ray_losses, ray_params = _trajectory(events)
        local_losses, local_params = _trajectory(local)
        assert ray_params.shape == (2, config["steps"])
        assert_close(ray_params, local_params, rtol=1e-6, atol=1e-6)
        assert_close(ray_losses, local_losses, rtol=1e-6, atol=1e-6)
        final = {e["param_hash"] for e in events if e["type"] == "step"
                 and e["step"] == config["steps"]}
        assert final == {e["param_hash"] for e in local if e["type"] == "step"
                         and e["step"] == config["steps"]}  # bitwise, both replicas


def test_without_an_address_runs_are_local(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        assert client.get("/api/health").json()["runs_on"] == "local"


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_a_lost_actor_fails_its_run_and_shutdown_interrupts_the_rest(
        ray_address: str, tmp_path: Path) -> None:
    """SIGKILL of the actor hosting a run (its node's process, as when a node dies): the run
    fails with host_lost and its workers die with it. A run still live when the server
    goes down is interrupted; nothing of either is left running."""
    settings = Settings(data_dir=tmp_path, ray_address=ray_address)
    with TestClient(create_app(settings)) as client:
        doomed, survivor = (client.post("/api/runs", json=LONG).json() for _ in range(2))
        for run in (doomed, survivor):
            wait_for_status(client, run["id"], {"running"}, timeout=120)
        events = client.get(f"/api/runs/{doomed['id']}/events").json()
        pids = worker_pids(events)
        forkserver = {_parent(p) for p in pids}
        assert len(forkserver) == 1  # the actor's forkserver started them
        actor = _parent(forkserver.pop())
        os.kill(actor, signal.SIGKILL)
        ended = wait_for_status(client, doomed["id"], {"failed", "stopped", "finished"},
                                timeout=120)
        assert ended["status"] == "failed" and "its agent went away" in ended["error"], ended
        assert wait_all_dead(pids, timeout=30) == []
        last = client.get(f"/api/runs/{doomed['id']}/events").json()
        assert_gapless(last)
        assert last[-1]["cause"]["code"] == "host_lost"
        kept = worker_pids(client.get(f"/api/runs/{survivor['id']}/events").json())
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/api/runs/{survivor['id']}").json()["status"] == "interrupted"
    assert wait_all_dead(kept, timeout=30) == []
