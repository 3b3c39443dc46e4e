"""``/ws/runs/{id}?after=<seq>``: every event after ``seq``, then live, in JSON arrays.

The events already there come as text messages (JSON arrays); live events come in ticks,
at most about 20 a second, each a binary message holding a JSON array deflated (raw
deflate, ``backend/hub.py``: compressed once for every viewer). After ``run_finished``
(or for a run that has ended) the server closes with 1000. A viewer that falls too far
behind is closed with 1013 and resumes with ``?after=``. Anything a client sends is read
and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from backend.deps import RUN_ID_PATTERN

router = APIRouter(tags=["stream"])

BACKLOG_CHUNK = 2000  # events per message when catching up
CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TRY_AGAIN = 1000, 1008, 1013


@router.websocket("/ws/runs/{run_id}")
async def stream_run(ws: WebSocket, run_id: str) -> None:
    manager = ws.app.state.manager
    await ws.accept()
    after = _parse_after(ws.query_params.get("after", "0"))
    if after is None:
        await ws.close(CLOSE_POLICY, "after must be a non-negative integer")
        return
    if not re.fullmatch(RUN_ID_PATTERN, run_id) or not await manager.exists(run_id):
        await ws.close(CLOSE_POLICY, f"no run with id {run_id[:40]}")
        return

    subscribed = manager.subscribe(run_id, after)
    if subscribed is None:  # an older run: from the store
        backlog, viewer = await asyncio.to_thread(manager.store.events_after, run_id, after), None
    else:
        backlog, viewer = subscribed
    ignore_input = asyncio.create_task(_drain_client(ws))
    try:
        for i in range(0, len(backlog), BACKLOG_CHUNK):
            await _send(ws, backlog[i : i + BACKLOG_CHUNK])
        if viewer is not None and not _ends(backlog):
            await _follow(ws, viewer, ignore_input)
            if viewer.overflowed:
                await ws.close(CLOSE_TRY_AGAIN, "viewer too slow; resume with ?after=")
                return
        await ws.close(CLOSE_NORMAL)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the viewer left
    finally:
        ignore_input.cancel()
        if viewer is not None:
            manager.hub.unsubscribe(viewer)


async def _follow(ws: WebSocket, viewer: Any, client_gone: asyncio.Task[None]) -> None:
    """Send the viewer everything past its cursor in the run's shared feed, one message
    per tick (the feed ticks at most ~20 times a second), until the run ends or the
    viewer leaves."""
    while True:
        more = asyncio.ensure_future(viewer.feed.wait_past(viewer.cursor))
        done, _ = await asyncio.wait({more, client_gone}, return_when=asyncio.FIRST_COMPLETED)
        if more not in done:
            more.cancel()
            return
        taken = viewer.feed.since(viewer.cursor)
        if taken is None:  # so far behind that the shared window has moved on
            viewer.overflowed = True
            return
        ticks, viewer.cursor, ended = taken
        for tick in ticks:
            await ws.send_bytes(tick)
        if ended:
            return


async def _send(ws: WebSocket, events: list[dict[str, Any]]) -> None:
    await ws.send_text(json.dumps(events, separators=(",", ":")))


def _ends(events: list[dict[str, Any]]) -> bool:
    return bool(events) and events[-1]["type"] == "run_finished"


def _parse_after(raw: str) -> int | None:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        return None
    return int(raw)


async def _drain_client(ws: WebSocket) -> None:
    """Read and ignore whatever the client sends; returns when it disconnects."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
