"""The HTTP contract: runs, controls, events, schema, and a readable 4xx for bad input."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.settings import Settings
from engine.events import EVENT_TYPES, all_event_types
from tests.helpers import assert_gapless, wait_all_dead


def wait_for_status(client: TestClient, run_id: str, statuses: set[str],
                    timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {statuses}: {run}")


def test_health_scenarios_and_schema(client: TestClient) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    scenarios = client.get("/api/scenarios").json()
    assert {"data-parallel-4", "single-reference"} <= {s["name"] for s in scenarios}
    for s in scenarios:
        assert s["title"]["en"] and s["title"]["zh"] and s["description"]["zh"]
        # one step, so no fault a scenario schedules after it (they would be refused);
        # beyond the server's limit the rest wait in its queue (201, status queued)
        assert client.post("/api/runs", json={**s["config"], "steps": 1, "faults": []}
                           ).status_code in (201, 429)
    schema = client.get("/api/schema/events").json()
    assert set(schema["types"]) == set(all_event_types()) > set(EVENT_TYPES)
    assert schema["version"] >= 1


def test_a_run_end_to_end(client: TestClient) -> None:
    r = client.post("/api/runs", json={"strategy": "data_parallel", "workers": 2,
                                       "steps": 12, "batch_size": 8, "detail": True})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["status"] == "starting" and run["config"]["workers"] == 2
    done = wait_for_status(client, run["id"], {"finished", "failed"})
    assert done["status"] == "finished", done["error"]
    assert done["step"] == 12
    assert [w["rank"] for w in done["workers"]] == [0, 1]
    events = client.get(f"/api/runs/{run['id']}/events", params={"limit": 10000}).json()
    assert_gapless(events)
    types = {e["type"] for e in events}
    assert {"run_started", "worker_started", "step", "comm", "boundary",
            "run_finished"} <= types
    assert types <= set(all_event_types())
    page = client.get(f"/api/runs/{run['id']}/events", params={"after": 5, "limit": 3}).json()
    assert [e["seq"] for e in page] == [6, 7, 8]
    assert run["id"] in [r["id"] for r in client.get("/api/runs").json()]
    assert wait_all_dead([w["pid"] for w in done["workers"]]) == []


def test_pause_step_resume_and_stop(client: TestClient) -> None:
    run = client.post("/api/runs", json={"workers": 2, "steps": 2000, "batch_size": 8,
                                         "pace": 20.0}).json()
    wait_for_status(client, run["id"], {"running"})
    control = f"/api/runs/{run['id']}/control"
    token = {"X-Control-Token": run["control_token"]}
    assert client.post(control, json={"action": "pause"}, headers=token).json()["ok"]
    time.sleep(0.5)
    paused_at = client.get(f"/api/runs/{run['id']}").json()["step"]
    time.sleep(0.5)
    assert client.get(f"/api/runs/{run['id']}").json()["step"] == paused_at
    assert client.get(f"/api/runs/{run['id']}").json()["status"] == "paused"
    client.post(control, json={"action": "step"}, headers=token)
    deadline = time.monotonic() + 10
    while client.get(f"/api/runs/{run['id']}").json()["step"] != paused_at + 1:
        assert time.monotonic() < deadline, "single step did not happen"
        time.sleep(0.05)
    time.sleep(0.3)
    assert client.get(f"/api/runs/{run['id']}").json()["step"] == paused_at + 1
    r = client.post(control, json={"action": "set_pace", "pace": None}, headers=token)
    assert r.status_code == 200
    client.post(control, json={"action": "resume"}, headers=token)
    deadline = time.monotonic() + 10
    while client.get(f"/api/runs/{run['id']}").json()["step"] < paused_at + 20:
        assert time.monotonic() < deadline, "resume did not resume"
        time.sleep(0.05)
    client.post(control, json={"action": "stop"}, headers=token)
    final = wait_for_status(client, run["id"], {"stopped", "finished", "failed"})
    assert final["status"] == "stopped"
    assert client.post(control, json={"action": "pause"}, headers=token).status_code == 409


BAD_RUNS: list[tuple[Any, str]] = [
    ({"workers": 0}, "workers"),
    ({"workers": 9}, "workers"),
    ({"workers": "4"}, "workers"),
    ({"workers": 2.5}, "workers"),
    ({"lr": -0.1}, "lr"),
    ({"lr": 0}, "lr"),
    ({"lr": 1e9}, "lr"),
    ({"steps": -5}, "steps"),
    ({"steps": 10**9}, "steps"),
    ({"batch_size": 0}, "batch_size"),
    ({"strategy": "gossip"}, "strategy"),
    ({"dataset": "imagenet"}, "dataset"),
    ({"backend": "mpi"}, "backend"),
    ({"pace": 0}, "pace"),
    ({"pace": -1}, "pace"),
    ({"seed": -1}, "seed"),
    ({"detail": "yes"}, "detail"),
    ({"rm_rf": True}, "rm_rf"),
    ({"strategy": "single", "workers": 4}, "single"),
    ({"workers": 8, "batch_size": 512}, "num_samples"),
    ({"options": {"allreduce": "butterfly"}}, "options.allreduce"),
    ({"strategy": "parameter_server", "options": {"servers": 9}}, "options.servers"),
    ({"strategy": "parameter_server", "options": {"compression": "qsgd"}},
     "options.compression"),
    ({"options": [1, 2]}, "options"),
    ({"network": "wifi"}, "network"),
    ({"network": "custom"}, "latency_us"),
    ({"network": "custom", "latency_us": 5, "bandwidth_gbps": -1}, "bandwidth_gbps"),
    ({"network": "10gbe", "latency_us": 5}, "only used with network 'custom'"),
    ({"workers": 2, "network": "10gbe",
      "links": [{"src": 0, "dst": 5, "latency_us": 1, "bandwidth_gbps": 1}]}, "dst"),
    ({"network": "10gbe", "links": [{"src": 0, "dst": 1}]}, "links"),
    ([1, 2, 3], "Input should be"),
    ("just a string", "Input should be"),
]


@pytest.mark.parametrize(("body", "mentions"), BAD_RUNS)
def test_bad_run_configs_get_a_readable_422(client: TestClient, body: Any,
                                            mentions: str) -> None:
    r = client.post("/api/runs", json=body)
    assert r.status_code == 422, r.text
    assert mentions in r.json()["detail"]


@pytest.mark.parametrize("raw", [b'{"lr": NaN}', b'{"lr": Infinity}', b'{"lr": -Infinity}',
                                 b"{not json", b""])
def test_non_finite_and_broken_json_is_refused(client: TestClient, raw: bytes) -> None:
    r = client.post("/api/runs", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]


def test_hostile_requests_do_not_hurt_the_server(client: TestClient) -> None:
    huge = b'{"lr": 0.1, "pad": "' + b"x" * 200_000 + b'"}'
    assert client.post("/api/runs", content=huge,
                       headers={"content-type": "application/json"}).status_code == 413
    assert client.get("/api/runs/../../etc/passwd").status_code == 404
    assert client.get("/api/runs/not-a-run-id").status_code == 422
    assert client.get("/api/runs/0123456789ab").status_code == 404
    assert client.get("/api/runs/0123456789ab/events").status_code == 404
    assert client.get("/api/runs/0123456789ab/events?after=-1").status_code == 422
    assert client.get("/api/runs/0123456789ab/events?after=99999999999999999999"
                      ).status_code == 422

    def chunks():  # no Content-Length: the limit must count what arrives
        for _ in range(40):
            yield b" " * 4096
        yield b'{"workers": 2}'

    assert client.post("/api/runs", content=chunks(),
                       headers={"content-type": "application/json"}).status_code == 413
    assert client.post("/api/runs/0123456789ab/control",
                       json={"action": "stop"}).status_code == 404
    run = client.post("/api/runs", json={"workers": 1, "strategy": "single",
                                         "steps": 3}).json()
    control = f"/api/runs/{run['id']}/control"
    token = {"X-Control-Token": run["control_token"]}
    for bad in [{"action": "explode"}, {"action": "pause", "extra": 1},
                {"action": "set_pace"}, {"action": "set_pace", "pace": 1e6},
                {"action": "set_pace", "pace": "fast"}, {}]:
        r = client.post(control, json=bad, headers=token)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["detail"]
    wait_for_status(client, run["id"], {"finished"})
    assert client.get("/api/health").json()["status"] == "ok"


def test_too_many_live_runs_get_429_when_the_queue_is_full(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, max_active_runs=1, max_queued_runs=0)
    with TestClient(create_app(settings)) as client:
        first = client.post("/api/runs", json={"workers": 2, "steps": 5000, "pace": 5.0})
        assert first.status_code == 201
        second = client.post("/api/runs", json={"workers": 2, "steps": 5})
        assert second.status_code == 429
        assert "live" in second.json()["detail"]
        client.post(f"/api/runs/{first.json()['id']}/control", json={"action": "stop"},
                    headers={"X-Control-Token": first.json()["control_token"]})
        wait_for_status(client, first.json()["id"], {"stopped", "finished"})
        assert client.post("/api/runs", json={"workers": 2, "steps": 5}).status_code == 201


def test_runs_survive_a_restart_and_live_ones_become_interrupted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        done = client.post("/api/runs", json={"workers": 2, "steps": 6}).json()
        wait_for_status(client, done["id"], {"finished"})
        live = client.post("/api/runs", json={"workers": 2, "steps": 5000,
                                              "pace": 5.0}).json()
        wait_for_status(client, live["id"], {"running"})
        before = client.get(f"/api/runs/{done['id']}/events",
                            params={"limit": 10000}).json()
        pids = [w["pid"] for w in client.get(f"/api/runs/{live['id']}").json()["workers"]]
    assert wait_all_dead(pids) == []  # shutting the server down ended the live run
    with TestClient(create_app(settings)) as client:
        again = client.get(f"/api/runs/{done['id']}").json()
        assert again["status"] == "finished" and again["step"] == 6
        after = client.get(f"/api/runs/{done['id']}/events",
                           params={"limit": 10000}).json()
        assert after == before
        assert client.get(f"/api/runs/{live['id']}").json()["status"] == "interrupted"
        with client.websocket_connect(f"/ws/runs/{done['id']}?after=0") as ws:
            replay = ws.receive_json()
        assert replay == before


def test_parameter_server_run_through_the_api(client: TestClient) -> None:
    r = client.post("/api/runs", json={"strategy": "parameter_server", "workers": 3,
                                       "options": {"servers": 2, "ps_mode": "async"},
                                       "steps": 5, "batch_size": 8})
    assert r.status_code == 201, r.text
    done = wait_for_status(client, r.json()["id"], {"finished", "failed"})
    assert done["status"] == "finished", done["error"]
    assert [w["role"] for w in done["workers"]] == ["server"] * 2 + ["worker"] * 3
    # Async: 3 workers × 5 steps = 15 updates per server; a fast worker may do a 6th step.
    assert done["summary"]["versions"] == 15 and done["step"] >= 5
    events = client.get(f"/api/runs/{done['id']}/events", params={"limit": 10000}).json()
    assert events[0]["num_servers"] == 2 and events[0]["world_size"] == 5
    assert sum(e["type"] == "ps_update" for e in events) == 2 * 5 * 3
    bad = client.post("/api/runs", json={"strategy": "parameter_server",
                                         "options": {"ps_mode": "backup"}})
    assert bad.status_code == 422 and "options.backup_workers" in bad.json()["detail"]
