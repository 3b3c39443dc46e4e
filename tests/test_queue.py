"""A hosted class that is fair (issue 20): at most k live runs per student — the anonymous
id the page sends as X-Student-Id — and beyond the server's or the student's limit a run
waits in a visible queue (status "queued", its position, why it waits) instead of a 429.
It starts by itself when a place frees up; stopping it while queued cancels it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.settings import Settings
from tests.test_api import wait_for_status

LONG = {"strategy": "single", "workers": 1, "steps": 5000, "pace": 10.0}
ALICE = {"X-Student-Id": "alice-0001"}
BOB = {"X-Student-Id": "bob-000002"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, max_runs_per_student=1, max_active_runs=3)
    with TestClient(create_app(settings)) as c:
        yield c


def _stop(client: TestClient, run: dict) -> None:
    r = client.post(f"/api/runs/{run['id']}/control", json={"action": "stop"},
                    headers={"X-Control-Token": run["control_token"]})
    assert r.status_code == 200, r.text


def test_a_student_at_their_limit_is_queued_and_another_starts_at_once(
        client: TestClient) -> None:
    first = client.post("/api/runs", json=LONG, headers=ALICE).json()
    assert first["status"] != "queued"
    second = client.post("/api/runs", json=LONG, headers=ALICE)
    assert second.status_code == 201
    second = second.json()
    assert second["status"] == "queued" and second["queue_position"] == 1
    assert "per student" in second["waiting_for"]
    # the page words it in its own language from the code and its numbers
    assert second["waiting_reason"] == {"code": "student_runs", "args": {"mine": 1, "max": 1}}
    bob = client.post("/api/runs", json=LONG, headers=BOB).json()
    assert bob["status"] != "queued"  # another student: at once
    # a queued run takes no controls but stop
    r = client.post(f"/api/runs/{second['id']}/control", json={"action": "pause"},
                    headers={"X-Control-Token": second["control_token"]})
    assert r.status_code == 409 and "queued" in r.json()["detail"]
    # Alice's first run ends: her queued one starts by itself
    _stop(client, first)
    wait_for_status(client, second["id"], {"running"})
    _stop(client, second)
    _stop(client, bob)
    wait_for_status(client, bob["id"], {"stopped", "finished"})


def test_the_server_limit_queues_in_order_and_stop_cancels_a_queued_run(
        tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_active_runs=1, max_runs_per_student=0)
    with TestClient(create_app(settings)) as client:
        running = client.post("/api/runs", json=LONG).json()
        a = client.post("/api/runs", json=LONG).json()
        b = client.post("/api/runs", json=LONG).json()
        assert (a["status"], a["queue_position"]) == ("queued", 1)
        assert (b["status"], b["queue_position"]) == ("queued", 2)
        assert "at most 1 at once" in a["waiting_for"]
        assert a["waiting_reason"] == {"code": "server_runs", "args": {"live": 1, "max": 1}}
        _stop(client, a)  # cancelled while queued: it never starts, b moves up
        a_now = client.get(f"/api/runs/{a['id']}").json()
        assert a_now["status"] == "stopped" and "never started" in a_now["error"]
        assert client.get(f"/api/runs/{b['id']}").json()["queue_position"] == 1
        events = client.get(f"/api/runs/{a['id']}/events").json()
        assert [e["type"] for e in events] == ["run_finished"]
        _stop(client, running)
        wait_for_status(client, b["id"], {"running"})
        _stop(client, b)
        wait_for_status(client, b["id"], {"stopped", "finished"})


def test_a_student_id_must_look_like_one(client: TestClient) -> None:
    r = client.post("/api/runs", json=LONG, headers={"X-Student-Id": "x y"})
    assert r.status_code == 422


def test_a_server_going_down_starts_no_queued_run(tmp_path: Path) -> None:
    """Shutting down ends the live run, and a queued run is not let in as it ends: the
    queued ones are recorded as interrupted (a restarted server lists them so)."""
    settings = Settings(data_dir=tmp_path, max_active_runs=1)
    with TestClient(create_app(settings)) as client:
        client.post("/api/runs", json=LONG)
        queued = [client.post("/api/runs", json=LONG).json()["id"] for _ in range(3)]
    with TestClient(create_app(settings)) as client:
        for run_id in queued:
            run = client.get(f"/api/runs/{run_id}").json()
            assert run["status"] == "interrupted", run
            assert client.get(f"/api/runs/{run_id}/events").json() == []  # never started
