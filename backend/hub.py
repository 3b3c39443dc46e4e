"""WebSocket fan-out of run events: one shared feed per run, encoded once.

Each live run that has viewers has a *feed*: the run's recent events, gathered into ticks
(at most ~20 a second), each tick packed in columns (backend/tickpack.py), encoded to JSON
and deflated once. A viewer is only a
cursor into its run's feed; its sender task sends every tick past its cursor as one
binary message — the very bytes every other viewer gets — so a lecture hall of viewers
costs one encoding and one compression per tick, not a queue, a copy, a ``json.dumps``
and a compression per viewer. (The backlog a viewer first catches up on is JSON text.)

Publishing never waits. A viewer that stops reading only lets its cursor fall behind; the
feed keeps a bounded window of ticks (``window`` of them, shared by all its viewers), and
a viewer the window has passed has fallen too far behind: its socket is closed with 1013
and it resumes with ``?after=<last seq>`` from the run's full log. One slow laptop never
slows the run or the other viewers, and memory does not grow with the number of viewers.

Limits, stated plainly: one server process, in memory. A hosted deployment that needs more
than one process would put a broker (e.g. Redis pub/sub) behind this same interface.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any

from backend import tickpack

Batch = list[dict[str, Any]]


class RunFeed:
    """One run's recent events in ticks: each tick's events JSON-encoded once, for all of
    its viewers.

    Events are collected and flushed as one tick at most every ``interval`` seconds (at
    once after a quiet spell, and at once for the run's end), and every waiting viewer is
    woken by the same tick. A viewer that keeps up therefore sends, at the same moment as
    all the others, the very same bytes.
    """

    def __init__(self, window: int, interval: float) -> None:
        self._window = window
        self._interval = interval
        self._ticks: deque[bytes] = deque()  # each tick's events: packed JSON, deflated
        self.start = 0  # absolute index of the oldest tick still kept
        self.final: int | None = None  # index of the tick with run_finished
        self._pending: Batch = []
        self._flush_at: asyncio.TimerHandle | None = None
        self._last_flush = float("-inf")
        self._changed: asyncio.Event | None = None
        self.viewers = 0

    @property
    def end(self) -> int:
        """Absolute index of the next tick to come."""
        return self.start + len(self._ticks)

    def append(self, events: Batch) -> None:
        if not events:
            return
        self._pending.extend(events)
        loop = _running_loop()
        if loop is None or not self._interval or events[-1].get("type") == "run_finished":
            self._flush()  # no loop or no pacing asked for, or the end: nothing to wait for
            return
        if self._flush_at is None:
            delay = max(0.0, self._last_flush + self._interval - loop.time())
            self._flush_at = loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        if not self._pending:
            return
        if self._pending[-1].get("type") == "run_finished":
            self.final = self.end
        packed = tickpack.pack(self._pending)
        self._ticks.append(deflate(json.dumps(packed, separators=(",", ":"))))
        self._pending = []
        loop = _running_loop()
        self._last_flush = loop.time() if loop is not None else 0.0
        if len(self._ticks) > self._window:
            self._ticks.popleft()
            self.start += 1
        if self._changed is not None:  # wake every waiting viewer at once
            self._changed.set()
            self._changed = None

    async def wait_past(self, cursor: int) -> None:
        """Return once there is a tick at or after ``cursor``."""
        while cursor >= self.end:
            if self._changed is None:
                self._changed = asyncio.Event()
            await self._changed.wait()

    def since(self, cursor: int) -> tuple[list[bytes], int, bool] | None:
        """The ticks from ``cursor`` on (one binary message each), the new cursor, and
        whether the run has ended in them; ``None`` when the window has passed ``cursor``."""
        if cursor < self.start:
            return None
        ticks = list(itertools.islice(self._ticks, cursor - self.start, None))
        ended = self.final is not None and self.final < self.end
        return ticks, self.end, ended


def deflate(text: str) -> bytes:
    """A tick as it goes on the wire: the JSON text, raw-deflated once for every viewer
    (the browser inflates it with ``DecompressionStream("deflate-raw")`` and unpacks it:
    core/wire.js). Per-connection
    permessage-deflate would compress the same bytes once per viewer instead."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(text.encode()) + packer.flush()


def inflate(data: bytes) -> str:
    """The inverse of ``deflate`` (for Python clients and tests)."""
    return zlib.decompress(data, -15).decode()


def decode_tick(data: bytes) -> Batch:
    """A live tick's events, as a Python client reads them off the wire."""
    return tickpack.unpack(json.loads(inflate(data)))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@dataclass(eq=False)
class Viewer:
    run_id: str
    feed: RunFeed
    cursor: int  # the next batch this viewer has not been sent
    overflowed: bool = False  # the window passed it: close with 1013, resume with ?after=


class Hub:
    def __init__(self, window_batches: int, interval: float = 0.05) -> None:
        self._window = window_batches
        self._interval = interval  # ~20 messages per second per viewer at most
        self._feeds: dict[str, RunFeed] = {}

    def subscribe(self, run_id: str) -> Viewer:
        """A viewer of everything published from now on."""
        feed = self._feeds.get(run_id)
        if feed is None:
            feed = self._feeds[run_id] = RunFeed(self._window, self._interval)
        feed.viewers += 1
        return Viewer(run_id, feed, feed.end)

    def unsubscribe(self, viewer: Viewer) -> None:
        feed = self._feeds.get(viewer.run_id)
        if feed is not viewer.feed:
            return
        feed.viewers -= 1
        if feed.viewers <= 0:
            del self._feeds[viewer.run_id]  # nobody watches: keep nothing

    def publish(self, run_id: str, events: Batch) -> None:
        feed = self._feeds.get(run_id)
        if feed is not None:  # without viewers there is nothing to encode
            feed.append(events)

    def viewer_count(self, run_id: str) -> int:
        feed = self._feeds.get(run_id)
        return 0 if feed is None else feed.viewers
