"""``/api/rooms`` and ``/ws/rooms/{code}``: follow-the-instructor rooms.

Opening a room and pointing it at a run need the instructor key; reading and following a
room need only its code. Followers get the room's state as one JSON object on connect and
again on every change; the run itself they watch on ``/ws/runs/{id}``. When the room is
closed, a last message has ``"closed": true`` and the socket closes with 4404.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field

from backend.deps import RUN_ID_PATTERN, Instructor, Manager
from backend.errors import refusals
from backend.lessons import LESSON_ID, lessons
from backend.rooms import CODE_PATTERN, Room, Rooms

router = APIRouter(tags=["rooms"])

RoomCode = Annotated[str, Path(pattern=CODE_PATTERN, description="6 letters or digits")]
CLOSE_NO_ROOM = 4404


class RoomUpdate(BaseModel):
    """What the room shows; a field left out stays as it is, null clears it."""

    model_config = ConfigDict(extra="forbid", strict=True)
    run_id: str | None = Field(None, pattern=RUN_ID_PATTERN)
    compare_id: str | None = Field(
        None, pattern=RUN_ID_PATTERN,
        description="the run shown beside run_id (its comparison); a new run_id without "
                    "it clears it")
    lesson: str | None = Field(None, pattern=LESSON_ID, max_length=60)


class RoomPublic(BaseModel):
    """What a room shows; followers get the same object on ``/ws/rooms/{code}``."""

    type: Literal["room"]
    code: str
    run_id: str | None
    compare_id: str | None
    lesson: str | None
    updated: float


def _rooms(request: Request) -> Rooms:
    return request.app.state.rooms


def _room(request: Request, code: str) -> Room:
    room = _rooms(request).get(code)
    if room is None:
        raise HTTPException(status_code=404, detail=f"no room {code.upper()}: check the code "
                            "on the board (rooms end when the instructor closes them)")
    return room


@router.post("/api/rooms", status_code=201, response_model=RoomPublic,
             responses=refusals(403, 422))
async def open_room(request: Request, _: Instructor) -> dict[str, Any]:
    return _rooms(request).open().public()


@router.get("/api/rooms/{code}", response_model=RoomPublic, responses=refusals(404, 422))
async def get_room(request: Request, code: RoomCode) -> dict[str, Any]:
    return _room(request, code).public()


@router.put("/api/rooms/{code}", response_model=RoomPublic,
            responses=refusals(400, 403, 404, 413, 422))
async def update_room(request: Request, code: RoomCode, body: RoomUpdate, manager: Manager,
                      _: Instructor) -> dict[str, Any]:
    room = _room(request, code)
    changes = body.model_dump(include=body.model_fields_set)
    for field in ("run_id", "compare_id"):
        if changes.get(field) is not None and not await manager.exists(changes[field]):
            raise HTTPException(status_code=404, detail=f"no run with id {changes[field]}")
    if "run_id" in changes and "compare_id" not in changes:
        changes["compare_id"] = None  # a comparison belongs to the run it was shown with
    if changes.get("lesson") is not None and changes["lesson"] not in lessons():
        raise HTTPException(status_code=404, detail=f"no lesson {changes['lesson']!r}")
    return _rooms(request).update(room, **changes).public()


@router.delete("/api/rooms/{code}", status_code=204, responses=refusals(403, 404, 422))
async def close_room(request: Request, code: RoomCode, _: Instructor) -> None:
    room = _room(request, code)
    _rooms(request).update(room, run_id=None, compare_id=None, lesson=None)  # followers see it end
    _rooms(request).close(room.code)


@router.websocket("/ws/rooms/{code}")
async def follow_room(ws: WebSocket, code: str) -> None:
    await ws.accept()
    rooms: Rooms = ws.app.state.rooms
    room = rooms.get(code) if re.fullmatch(CODE_PATTERN, code) else None
    if room is None:
        await ws.close(CLOSE_NO_ROOM, f"no room {code[:12].upper()}")
        return
    queue = rooms.follow(room)
    client_gone = asyncio.create_task(_wait_disconnect(ws))
    try:
        while True:
            get = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({get, client_gone},
                                         return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                return
            state = get.result()
            await ws.send_json(state)
            if state.get("closed"):
                await ws.close(CLOSE_NO_ROOM, "the room was closed")
                return
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        client_gone.cancel()
        rooms.unfollow(room, queue)


async def _wait_disconnect(ws: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            if (await ws.receive())["type"] == "websocket.disconnect":
                return
