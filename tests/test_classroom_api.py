"""Classroom API: control tokens, forks, rooms (follow the instructor) and exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from backend.main import create_app
from backend.rooms import CODE_ALPHABET
from backend.settings import Settings
from engine.cli import main as cli
from engine.events import DEFAULT_PHASES, phases_of
from tests.test_api import wait_for_status

KEY = "the-instructors-key"
INSTRUCTOR = {"X-Instructor-Key": KEY}


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path, instructor_key=KEY))) as c:
        yield c


def _paced_run(client: TestClient) -> dict:
    run = client.post("/api/runs", json={"workers": 2, "steps": 5000, "pace": 10.0}).json()
    wait_for_status(client, run["id"], {"running"})
    return run


# ------------------------------------------------------------------ control tokens
def test_only_the_starter_or_the_instructor_controls_a_run(classroom: TestClient) -> None:
    client = classroom
    run = _paced_run(client)
    control = f"/api/runs/{run['id']}/control"
    assert len(run["control_token"]) >= 20
    # the token is given once, never listed or shown to others
    assert "control_token" not in client.get(f"/api/runs/{run['id']}").json()
    assert all("control_token" not in r for r in client.get("/api/runs").json())

    for headers in ({}, {"X-Control-Token": "guess"}, {"X-Instructor-Key": "wrong"},
                    {"X-Control-Token": run["control_token"][:-1]}):
        r = client.post(control, json={"action": "kill", "rank": 1}, headers=headers)
        assert r.status_code == 403, (headers, r.text)
        assert "fork" in r.json()["detail"]
    assert client.get(f"/api/runs/{run['id']}").json()["status"] == "running"  # unaffected

    # another run's token does not work either
    other = client.post("/api/runs", json={"workers": 1, "strategy": "single",
                                           "steps": 5000, "pace": 10.0}).json()
    r = client.post(control, json={"action": "pause"},
                    headers={"X-Control-Token": other["control_token"]})
    assert r.status_code == 403
    assert client.post(control, json={"action": "pause"},
                       headers={"X-Control-Token": run["control_token"]}).status_code == 200
    assert client.post(f"/api/runs/{other['id']}/control", json={"action": "stop"},
                       headers=INSTRUCTOR).status_code == 200
    assert client.post(control, json={"action": "stop"},
                       headers=INSTRUCTOR).status_code == 200
    assert wait_for_status(client, run["id"], {"stopped"})["status"] == "stopped"
    assert wait_for_status(client, other["id"], {"stopped"})["status"] == "stopped"


def test_fork_starts_the_same_config_as_a_new_controllable_run(classroom: TestClient) -> None:
    client = classroom
    body = {"strategy": "parameter_server", "workers": 3, "steps": 8,
            "options": {"ps_mode": "async"}, "lr": 0.2, "seed": 7}
    original = client.post("/api/runs", json=body).json()
    wait_for_status(client, original["id"], {"finished"})
    fork = client.post(f"/api/runs/{original['id']}/fork")
    assert fork.status_code == 201, fork.text
    fork = fork.json()
    assert fork["id"] != original["id"] and fork["control_token"] != original["control_token"]
    assert fork["config"] == original["config"]
    assert client.post(f"/api/runs/{fork['id']}/control", json={"action": "stop"},
                       headers={"X-Control-Token": fork["control_token"]}).status_code in (
        200, 409)  # 409 if its 8 steps were already done
    wait_for_status(client, fork["id"], {"finished", "stopped"})
    assert client.post("/api/runs/0123456789ab/fork").status_code == 404
    assert client.post("/api/runs/nothex/fork").status_code == 422


# -------------------------------------------------------------------------- rooms
def test_rooms_need_the_instructor_key(classroom: TestClient) -> None:
    client = classroom
    for headers in ({}, {"X-Instructor-Key": "nope"}):
        r = client.post("/api/rooms", headers=headers)
        assert r.status_code == 403 and "instructor key" in r.json()["detail"]
    room = client.post("/api/rooms", headers=INSTRUCTOR)
    assert room.status_code == 201
    room = room.json()
    assert len(room["code"]) == 6 and set(room["code"]) <= set(CODE_ALPHABET)
    assert room["run_id"] is None
    code = room["code"]
    # students read it with the code, in any case; only the instructor changes it
    assert client.get(f"/api/rooms/{code.lower()}").json()["code"] == code
    assert client.put(f"/api/rooms/{code}", json={"run_id": None}).status_code == 403
    for bad, status in [({"run_id": "0123456789ab"}, 404), ({"run_id": "x"}, 422),
                        ({"lesson": "no-such-lesson"}, 404), ({"colour": "red"}, 422),
                        ({"run_id": 5}, 422)]:
        r = client.put(f"/api/rooms/{code}", json=bad, headers=INSTRUCTOR)
        assert r.status_code == status, (bad, r.text)
        assert r.json()["detail"]
    for missing in ("ABCDEF", "abc", "0OOOOO"):
        r = client.get(f"/api/rooms/{missing}")
        assert r.status_code in (404, 422) and r.json()["detail"]


def test_followers_see_the_room_switch_runs(classroom: TestClient) -> None:
    client = classroom
    code = client.post("/api/rooms", headers=INSTRUCTOR).json()["code"]
    first = client.post("/api/runs", json={"workers": 1, "strategy": "single",
                                           "steps": 3}).json()
    second = client.post("/api/runs", json={"workers": 1, "strategy": "single",
                                            "steps": 3}).json()
    with client.websocket_connect(f"/ws/rooms/{code}") as a, \
            client.websocket_connect(f"/ws/rooms/{code.lower()}") as b:
        assert a.receive_json()["run_id"] is None and b.receive_json()["run_id"] is None
        r = client.put(f"/api/rooms/{code}", json={"run_id": first["id"],
                                                    "lesson": "stragglers"},
                       headers=INSTRUCTOR)
        assert r.status_code == 200 and r.json()["run_id"] == first["id"]
        for ws in (a, b):
            state = ws.receive_json()
            assert (state["run_id"], state["lesson"]) == (first["id"], "stragglers")
        client.put(f"/api/rooms/{code}", json={"run_id": second["id"]}, headers=INSTRUCTOR)
        for ws in (a, b):
            state = ws.receive_json()
            # only the given field changed
            assert (state["run_id"], state["lesson"]) == (second["id"], "stragglers")
        # closing the room tells every follower, then closes their sockets
        assert client.delete(f"/api/rooms/{code}", headers=INSTRUCTOR).status_code == 204
        for ws in (a, b):
            assert ws.receive_json()["run_id"] is None
            assert ws.receive_json()["closed"] is True
            with pytest.raises(WebSocketDisconnect) as gone:
                ws.receive_json()
            assert gone.value.code == 4404
    assert client.app.state.rooms.followers == {}  # nothing kept for a closed room
    with pytest.raises(WebSocketDisconnect) as closed, \
            client.websocket_connect("/ws/rooms/ZZZZZZ") as ws:
        ws.receive_json()
    assert closed.value.code == 4404
    for run in (first, second):
        wait_for_status(client, run["id"], {"finished"})


def test_a_room_shows_its_runs_comparison_and_forgets_it_with_a_new_run(
        classroom: TestClient) -> None:
    client = classroom
    code = client.post("/api/rooms", headers=INSTRUCTOR).json()["code"]
    runs = [client.post("/api/runs", json={"workers": 1, "strategy": "single",
                                           "steps": 2}).json()["id"] for _ in range(3)]
    with client.websocket_connect(f"/ws/rooms/{code}") as ws:
        assert ws.receive_json()["compare_id"] is None
        r = client.put(f"/api/rooms/{code}", json={"run_id": runs[0], "compare_id": runs[1]},
                       headers=INSTRUCTOR)
        assert r.status_code == 200 and r.json()["compare_id"] == runs[1]
        assert (ws.receive_json()["compare_id"]) == runs[1]
        # the comparison alone can follow later (a lesson starts it after its run)
        client.put(f"/api/rooms/{code}", json={"compare_id": runs[2]}, headers=INSTRUCTOR)
        state = ws.receive_json()
        assert (state["run_id"], state["compare_id"]) == (runs[0], runs[2])
        # an unknown run is refused and changes nothing; so is a malformed id
        bad = client.put(f"/api/rooms/{code}", json={"compare_id": "0123456789ab"},
                         headers=INSTRUCTOR)
        assert bad.status_code == 404 and "0123456789ab" in bad.json()["detail"]
        assert client.put(f"/api/rooms/{code}", json={"compare_id": "x; drop"},
                          headers=INSTRUCTOR).status_code == 422
        assert client.get(f"/api/rooms/{code}").json()["compare_id"] == runs[2]
        # a new run without a comparison: the old comparison is not shown beside it
        client.put(f"/api/rooms/{code}", json={"run_id": runs[1]}, headers=INSTRUCTOR)
        state = ws.receive_json()
        assert (state["run_id"], state["compare_id"]) == (runs[1], None)
    for run in runs:
        wait_for_status(client, run, {"finished"})


def test_rooms_survive_a_server_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, instructor_key=KEY)
    with TestClient(create_app(settings)) as client:
        run = client.post("/api/runs", json={"workers": 1, "strategy": "single",
                                             "steps": 2}).json()
        code = client.post("/api/rooms", headers=INSTRUCTOR).json()["code"]
        client.put(f"/api/rooms/{code}", json={"run_id": run["id"], "compare_id": run["id"]},
                   headers=INSTRUCTOR)
        wait_for_status(client, run["id"], {"finished"})
    with TestClient(create_app(settings)) as client:
        room = client.get(f"/api/rooms/{code}").json()
        assert room["run_id"] == run["id"] and room["compare_id"] == run["id"]
        assert client.delete(f"/api/rooms/{code}").status_code == 403
        assert client.delete(f"/api/rooms/{code}", headers=INSTRUCTOR).status_code == 204
        assert client.get(f"/api/rooms/{code}").status_code == 404


# ------------------------------------------------------------------------- export
def test_exports_match_the_recorded_events(classroom: TestClient, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    client = classroom
    run = client.post("/api/runs", json={"workers": 2, "steps": 6, "detail": True,
                                         "options": {"allreduce": "ring"}}).json()
    wait_for_status(client, run["id"], {"finished"})
    events = client.get(f"/api/runs/{run['id']}/events", params={"limit": 10000}).json()
    steps = [e for e in events if e["type"] == "step"]
    assert len(steps) == 12

    r = client.get(f"/api/runs/{run['id']}/export", params={"format": "jsonl"})
    assert r.status_code == 200
    assert f'filename="distlab-{run["id"]}.jsonl"' in r.headers["content-disposition"]
    assert [json.loads(line) for line in r.text.splitlines()] == events

    r = client.get(f"/api/runs/{run['id']}/export", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 12
    assert [(int(x["step"]), int(x["rank"])) for x in rows] == sorted(
        (e["step"], e["rank"]) for e in steps)
    by_key = {(e["step"], e["rank"]): e for e in steps}
    for row in rows:
        e = by_key[(int(row["step"]), int(row["rank"]))]
        assert float(row["loss"]) == pytest.approx(e["loss"])
        assert int(row["bytes_sent"]) == e["bytes_sent"]
        assert row["param_hash"] == e["param_hash"]

    r = client.get(f"/api/runs/{run['id']}/export", params={"format": "perfetto"})
    assert r.headers["content-disposition"].endswith('.trace.json"')
    trace = r.json()["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in trace
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names[0] == "rank 0 (worker)" and names[1] == "rank 1 (worker)"
    assert "rank 0 messages" in names.values()
    for e in trace:  # valid Chrome trace events
        assert e["ph"] in ("M", "X", "i") and e["pid"] == 1
        if e["ph"] == "X":
            assert e["ts"] >= 0 and e["dur"] >= 0 and isinstance(e["name"], str)
    for step in steps:  # every phase is a slice with the measured duration, on its rank
        phases = phases_of(step)
        # A data-parallel step's phases are its own timings in order: the engine leaves
        # them out of the event, and the export draws them from those timings.
        assert "phases" not in step
        assert phases == [(name, step[key]) for name, key in DEFAULT_PHASES
                          if step.get(key, 0) > 0]
        assert {name for name, _ in phases} >= {"compute", "comm"}
        for name, ms in phases:
            match = [e for e in trace if e["ph"] == "X" and e["tid"] == step["rank"]
                     and e["name"] == name and e["args"].get("step") == step["step"]]
            assert len(match) == 1 and match[0]["dur"] == pytest.approx(ms * 1e3, abs=0.01)
    comms = [e for e in events if e["type"] == "comm"]
    messages = [e for e in trace if e.get("cat") == "message"]
    assert len(messages) == len(comms) > 0
    assert sorted(m["dur"] for m in messages) == pytest.approx(
        sorted(c["duration_ms"] * 1e3 for c in comms), abs=0.01)

    # the command line exports the same bytes from the store
    out = tmp_path / "run.trace.json"
    data_dir = str(client.app.state.settings.data_dir)
    client.app.state.manager.store.flush()
    assert cli(["export", run["id"], "--format", "perfetto", "--data-dir", data_dir,
                "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == r.json()
    assert cli(["export", run["id"], "--format", "csv", "--data-dir", data_dir]) == 0
    assert capsys.readouterr().out == client.get(
        f"/api/runs/{run['id']}/export", params={"format": "csv"}).text
    assert cli(["export", "0123456789ab", "--data-dir", data_dir]) == 2
    assert "no run with id" in capsys.readouterr().err
    assert cli(["export", run["id"], "--data-dir", str(tmp_path / "none")]) == 2
    assert "no DistLab store" in capsys.readouterr().err

    assert client.get(f"/api/runs/{run['id']}/export",
                      params={"format": "xml"}).status_code == 422
    assert client.get("/api/runs/0123456789ab/export").status_code == 404


def test_rooms_from_a_data_directory_older_than_comparisons_still_load(tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "distlab.sqlite3") as db:  # the schema before compare_id
        db.execute("CREATE TABLE rooms (code TEXT PRIMARY KEY, run_id TEXT, lesson TEXT, "
                   "created_at REAL NOT NULL, updated REAL NOT NULL)")
        db.execute("INSERT INTO rooms VALUES ('ABCDEF', NULL, 'stragglers', 1.0, 2.0)")
    with TestClient(create_app(Settings(data_dir=tmp_path, instructor_key=KEY))) as client:
        room = client.get("/api/rooms/ABCDEF").json()
        assert (room["lesson"], room["compare_id"]) == ("stragglers", None)
