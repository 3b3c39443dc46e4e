"""An ended run's events are packed into compressed segments, and reading the run (replay,
a page at a time, export, the WebSocket backlog) gives exactly what it gave unpacked."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend import eventpack
from backend.main import create_app
from backend.settings import Settings
from backend.store import Store
from engine.config import RunConfig
from engine.export import export
from engine.runner import run_headless
from tests.test_api import wait_for_status

CONFIG = RunConfig(strategy="data_parallel", workers=2, steps=12, batch_size=8, detail=True)


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return run_headless(CONFIG, run_id="0123456789ab", timeout=120)


def _stored(path: Path, events: list[dict]) -> Store:
    store = Store(path)
    store.create_run(events[0]["run_id"], CONFIG.to_dict(), "running", "s-1")
    store.append_events(events[0]["run_id"], events)
    store.update_run(events[0]["run_id"], status="finished", step=CONFIG.steps)
    store.flush()
    return store


def _rows(store: Store, table: str, run_id: str) -> int:
    with store._connect() as db:
        return db.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id = ?",
                          (run_id,)).fetchone()[0]


def test_a_packed_run_reads_back_identical_events_in_any_page(
        tmp_path: Path, events: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eventpack, "SEGMENT_EVENTS", 7)  # many segments, odd boundaries
    store = _stored(tmp_path / "data", events)
    run_id = events[0]["run_id"]
    plain = store.events_after(run_id, 0)
    assert plain == events
    before, after = store.pack_run(run_id)
    assert _rows(store, "events", run_id) == 0
    assert _rows(store, "event_segments", run_id) == -(-len(events) // 7)
    assert after * 2 < before, (before, after)  # ~4× even in segments of 7 events
    assert store.events_after(run_id, 0) == plain
    n = len(events)
    for after_seq, limit in [(0, 1), (6, 1), (7, 7), (5, 20), (n - 1, 1000), (n, 10),
                             (3, None)]:
        want = [e for e in plain if e["seq"] > after_seq]
        want = want if limit is None else want[:limit]
        assert store.events_after(run_id, after_seq, limit) == want, (after_seq, limit)
    store.close()


def test_replay_export_and_fork_of_a_packed_run_work_as_before(
        tmp_path: Path, events: list[dict]) -> None:
    run_id = events[0]["run_id"]
    _stored(tmp_path / "data", events).close()
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as client:
        store = client.app.state.manager.store
        deadline = time.monotonic() + 60  # the server packs what it finds at start, aside
        while _rows(store, "events", run_id) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _rows(store, "events", run_id) == 0 and _rows(store, "event_segments", run_id)

        got = client.get(f"/api/runs/{run_id}/events", params={"limit": 10_000}).json()
        assert got == events
        page = client.get(f"/api/runs/{run_id}/events", params={"after": 5, "limit": 3}).json()
        assert [e["seq"] for e in page] == [6, 7, 8]
        for fmt in ("jsonl", "csv", "perfetto"):
            body = client.get(f"/api/runs/{run_id}/export", params={"format": fmt})
            assert body.status_code == 200
            assert body.text == export(events, fmt), fmt
        with client.websocket_connect(f"/ws/runs/{run_id}?after=0") as ws:
            replayed = json.loads(ws.receive_text())
        assert replayed == events
        forked = client.post(f"/api/runs/{run_id}/fork")
        assert forked.status_code == 201, forked.text
        done = wait_for_status(client, forked.json()["id"], {"finished", "failed"})
        assert done["status"] == "finished", done["error"]


def test_a_run_is_packed_when_it_ends(client: TestClient) -> None:
    created = client.post("/api/runs", json={"strategy": "data_parallel", "workers": 2,
                                             "steps": 5, "batch_size": 8})
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    wait_for_status(client, run_id, {"finished"})
    manager = client.app.state.manager
    deadline = time.monotonic() + 60
    while run_id in manager.runs and time.monotonic() < deadline:  # retired once packed
        time.sleep(0.05)
    assert _rows(manager.store, "events", run_id) == 0
    got = client.get(f"/api/runs/{run_id}/events").json()
    assert [e["seq"] for e in got] == list(range(1, len(got) + 1))
    assert got[0]["type"] == "run_started" and got[-1]["type"] == "run_finished"
