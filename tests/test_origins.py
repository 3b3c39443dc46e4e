"""The Origin allow-list of a hosted class (DISTLAB_ALLOWED_ORIGINS, backend/origins.py):
a page on another site cannot open a WebSocket here or start or control a run; the listed
origins and the server's own page can; without the list, everything passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from backend.main import create_app
from backend.origins import parse_origins
from backend.settings import Settings

CLASS = "https://lab.example.edu"
EVIL = "https://evil.example.com"
RUN = {"strategy": "single", "workers": 1, "steps": 3, "pace": None}


def _client(tmp_path: Path, origins: str | None) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path, allowed_origins=origins)))


def test_a_foreign_origin_is_refused_when_the_list_is_set(tmp_path: Path) -> None:
    with _client(tmp_path, f"{CLASS}, http://localhost:9000/") as client:
        r = client.post("/api/runs", json=RUN, headers={"Origin": EVIL})
        assert r.status_code == 403 and "DISTLAB_ALLOWED_ORIGINS" in r.json()["detail"]
        assert client.get("/api/runs", headers={"Origin": EVIL}).status_code == 200  # reads
        for origin in (CLASS, "http://testserver", None):  # listed, our own page, no browser
            headers = {"Origin": origin} if origin else {}
            assert client.post("/api/runs", json=RUN, headers=headers).status_code == 201
        run_id = client.get("/api/runs").json()[0]["id"]
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(
                f"/ws/runs/{run_id}?after=0", headers={"Origin": EVIL}) as ws:
            ws.receive_json()
        assert refused.value.code in (1006, 4403)
        with client.websocket_connect(f"/ws/runs/{run_id}?after=0",
                                      headers={"Origin": CLASS}) as ws:
            assert ws.receive_json() is not None


def test_without_the_list_everything_passes(tmp_path: Path) -> None:
    with _client(tmp_path, None) as client:
        assert client.post("/api/runs", json=RUN, headers={"Origin": EVIL}).status_code == 201


def test_a_bad_origin_in_the_list_is_a_clear_error() -> None:
    assert parse_origins(" https://A.edu/ ,http://b:8000") == {"https://a.edu", "http://b:8000"}
    with pytest.raises(ValueError, match="not an origin"):
        parse_origins("lab.example.edu")
