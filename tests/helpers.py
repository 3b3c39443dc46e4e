"""Shared test helpers (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def alive(pid: int) -> bool:
    """True if ``pid`` is a running (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def wait_all_dead(pids: list[int], timeout: float = 10.0) -> list[int]:
    """Wait until none of ``pids`` runs; return those still alive after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def worker_pids(events: list[dict[str, Any]]) -> list[int]:
    return [e["pid"] for e in events if e["type"] == "worker_started"]


def steps_by_rank(events: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for e in events:
        if e["type"] == "step":
            out.setdefault(e["rank"], []).append(e)
    return out


def assert_gapless(events: list[dict[str, Any]], start: int = 1) -> None:
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(start, start + len(seqs))), seqs[:20]


def not_me(pid: int) -> bool:
    return pid != os.getpid()


def receive_events(ws: Any) -> list[dict[str, Any]]:
    """One message of ``/ws/runs/{id}``: a JSON array, as text (the backlog) or deflated
    bytes (live ticks, packed in columns: backend/hub.py)."""
    from backend.hub import decode_tick

    message = ws.receive()
    if message.get("type") == "websocket.close":
        from starlette.websockets import WebSocketDisconnect

        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    if message.get("bytes") is not None:
        return decode_tick(message["bytes"])
    return json.loads(message["text"])
