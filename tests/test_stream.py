"""WebSocket streaming: resume with ?after= gets every later event exactly once, in order."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from backend.main import create_app
from backend.settings import Settings
from tests.helpers import assert_gapless, receive_events


def read_until_closed(ws: Any) -> tuple[list[dict[str, Any]], int]:
    events: list[dict[str, Any]] = []
    while True:
        try:
            message = receive_events(ws)
        except WebSocketDisconnect as exc:
            return events, exc.code
        assert isinstance(message, list) and message, "each message is a non-empty array"
        events.extend(message)


def test_viewer_joining_mid_run_gets_every_later_event_once(client: TestClient) -> None:
    run = client.post("/api/runs", json={"workers": 3, "steps": 60, "batch_size": 8,
                                         "pace": 30.0, "detail": True}).json()
    with client.websocket_connect(f"/ws/runs/{run['id']}?after=0") as ws:
        first = receive_events(ws)
        while not any(e["type"] == "step" for e in first):
            first += receive_events(ws)
    cut = first[-1]["seq"]
    assert client.get(f"/api/runs/{run['id']}").json()["status"] in ("running", "starting")
    with client.websocket_connect(f"/ws/runs/{run['id']}?after={cut}") as ws:
        rest, code = read_until_closed(ws)
    assert code == 1000
    assert rest[0]["seq"] == cut + 1
    assert_gapless(rest, start=cut + 1)
    assert rest[-1]["type"] == "run_finished" and rest[-1]["status"] == "finished"
    stored = client.get(f"/api/runs/{run['id']}/events", params={"limit": 10000}).json()
    assert first[: len(first)] == stored[:cut]
    assert rest == stored[cut:]


def test_two_viewers_see_the_same_log(client: TestClient) -> None:
    run = client.post("/api/runs", json={"workers": 2, "steps": 20, "batch_size": 8,
                                         "pace": 40.0}).json()
    with client.websocket_connect(f"/ws/runs/{run['id']}") as a, \
            client.websocket_connect(f"/ws/runs/{run['id']}?after=0") as b:
        log_a, _ = read_until_closed(a)
        log_b, _ = read_until_closed(b)
    assert log_a == log_b
    assert_gapless(log_a)


def test_messages_from_clients_are_ignored(client: TestClient) -> None:
    run = client.post("/api/runs", json={"workers": 2, "steps": 15, "batch_size": 8,
                                         "pace": 30.0}).json()
    with client.websocket_connect(f"/ws/runs/{run['id']}?after=0") as ws:
        ws.send_text("not json at all")
        ws.send_text(json.dumps({"action": "stop"}))  # controls go through HTTP, not here
        ws.send_bytes(b"\x00\xff" * 100)
        ws.send_text(json.dumps([{"type": "run_finished", "seq": 1}]))
        events, code = read_until_closed(ws)
    assert code == 1000
    assert events[-1]["status"] == "finished"
    assert sum(e["type"] == "step" for e in events) == 30


@pytest.mark.parametrize("path", ["/ws/runs/0123456789ab", "/ws/runs/nope",
                                  "/ws/runs/0123456789ab?after=-3",
                                  "/ws/runs/0123456789ab?after=abc",
                                  "/ws/runs/0123456789ab?after=²"])
def test_bad_stream_requests_are_closed_with_a_reason(client: TestClient, path: str) -> None:
    with client.websocket_connect(path) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 1008
    assert closed.value.reason


def test_a_viewer_that_does_not_read_is_dropped_not_waited_for(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, feed_window_batches=2)
    with TestClient(create_app(settings)) as client:
        run = client.post("/api/runs", json={"workers": 2, "steps": 300,
                                             "batch_size": 8}).json()
        with client.websocket_connect(f"/ws/runs/{run['id']}?after=0") as slow:
            deadline = time.monotonic() + 60
            while client.get(f"/api/runs/{run['id']}").json()["status"] != "finished":
                assert time.monotonic() < deadline, "a stalled viewer held the run back"
                time.sleep(0.1)
            received, code = read_until_closed(slow)
        # It was either dropped (1013, resume with ?after=) or got everything in order.
        assert code in (1000, 1013)
        assert_gapless(received)
        last = received[-1]["seq"] if received else 0
        with client.websocket_connect(f"/ws/runs/{run['id']}?after={last}") as again:
            rest, code = read_until_closed(again)
        assert code == 1000
        assert_gapless(received + rest)
        assert (received + rest)[-1]["type"] == "run_finished"


def test_the_feed_encodes_once_and_drops_only_a_viewer_the_window_passed() -> None:
    from backend.hub import Hub, inflate

    # Publishing is synchronous and never waits; interval 0: every publish is a tick.
    hub = Hub(window_batches=3, interval=0)
    slow, fast, late = hub.subscribe("r"), hub.subscribe("r"), None
    sent: list[dict] = []
    for seq in range(1, 6):
        hub.publish("r", [{"seq": seq, "type": "step"}])
        if seq == 4:
            late = hub.subscribe("r")
        taken = fast.feed.since(fast.cursor)
        assert taken is not None
        ticks, fast.cursor, ended = taken
        sent += [e for tick in ticks for e in json.loads(inflate(tick))]
        assert not ended
    assert [e["seq"] for e in sent] == [1, 2, 3, 4, 5]  # the fast viewer got everything
    assert slow.feed.since(slow.cursor) is None  # 5 ticks behind a window of 3
    assert late is not None
    late_ticks, _, _ = late.feed.since(late.cursor)
    assert late_ticks == fast.feed.since(4)[0]  # the very same bytes, encoded once
    hub.publish("r", [{"seq": 6, "type": "run_finished"}])
    ticks, _, ended = fast.feed.since(fast.cursor)
    assert [json.loads(inflate(t)) for t in ticks] == [[{"seq": 6, "type": "run_finished"}]]
    assert ended
    for viewer in (slow, fast, late):
        hub.unsubscribe(viewer)
    assert hub.viewer_count("r") == 0
    hub.publish("r", [{"seq": 7}])  # nobody watches: nothing is kept or encoded
    assert hub.subscribe("r").cursor == 0
