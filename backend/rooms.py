"""Classroom rooms: students follow the instructor's run.

An instructor (who has the server's instructor key) opens a room and gets a short code to
write on the board. The room points at one run (and optionally a lesson); students who
join with the code watch that run through the ordinary run stream, so they see exactly
what the instructor sees, paused and stepped with it. Switching the room to a new run
reaches every follower at once over ``/ws/rooms/{code}``. Rooms are kept in the store,
so a server restart does not scatter the class.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from backend.store import Store

# No 0/O, 1/I/L: a code read off a projector must not be ambiguous.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
CODE_PATTERN = rf"^[{CODE_ALPHABET}{CODE_ALPHABET.lower()}]{{{CODE_LENGTH}}}$"
FOLLOWER_QUEUE = 16


@dataclass
class Room:
    code: str
    run_id: str | None
    lesson: str | None
    created_at: float
    updated: float
    compare_id: str | None = None
    """The run the class sees beside ``run_id`` (a lesson's comparison, a baseline): its
    loss is the dashed line, its numbers part of the lesson's reveal."""

    def public(self) -> dict[str, Any]:
        return {"type": "room", "code": self.code, "run_id": self.run_id,
                "compare_id": self.compare_id, "lesson": self.lesson, "updated": self.updated}


class Rooms:
    """All rooms, with the queues of the students following each. Used on the event loop."""

    def __init__(self, store: Store, max_rooms: int) -> None:
        self.store = store
        self.max_rooms = max_rooms
        self.rooms: dict[str, Room] = {r["code"]: Room(**r) for r in store.load_rooms()}
        self.followers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    def open(self) -> Room:
        while len(self.rooms) >= self.max_rooms:  # drop the least recently used
            oldest = min(self.rooms.values(), key=lambda r: r.updated)
            self.close(oldest.code)
        code = self._new_code()
        now = time.time()
        room = Room(code=code, run_id=None, lesson=None, created_at=now, updated=now)
        self.rooms[code] = room
        self.store.save_room(asdict(room))
        return room

    def get(self, code: str) -> Room | None:
        return self.rooms.get(code.upper())

    def update(self, room: Room, **changes: str | None) -> Room:
        for key, value in changes.items():
            setattr(room, key, value)
        room.updated = time.time()
        self.store.save_room(asdict(room))
        for queue in self.followers.get(room.code, ()):
            _push(queue, room.public())
        return room

    def close(self, code: str) -> None:
        """End a room: its followers get a last message saying so, then their socket
        closes (also when the room is dropped to make space for a new one)."""
        room = self.rooms.pop(code, None)
        self.store.delete_room(code)
        last = {**(room.public() if room else {"type": "room", "code": code}), "closed": True}
        for queue in self.followers.pop(code, set()):
            _push(queue, last)

    def follow(self, room: Room) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(FOLLOWER_QUEUE)
        self.followers.setdefault(room.code, set()).add(queue)
        queue.put_nowait(room.public())
        return queue

    def unfollow(self, room: Room, queue: asyncio.Queue[dict[str, Any]]) -> None:
        followers = self.followers.get(room.code)
        if followers is not None:
            followers.discard(queue)
            if not followers:
                del self.followers[room.code]

    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self.rooms:
                return code


def _push(queue: asyncio.Queue[dict[str, Any]], state: dict[str, Any]) -> None:
    """Never blocks: a follower that does not read only needs the newest state."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(state)
