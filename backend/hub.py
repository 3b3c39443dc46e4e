"""WebSocket fan-out of run events.

Limits, stated plainly: one server process, in memory. Each viewer gets its own bounded
queue, drained by its own sender task. Publishing never waits: a viewer whose queue is
full has stopped keeping up and is dropped (its socket is closed with code 1013), so one
slow laptop can never slow the run or the other viewers; it reconnects with
``?after=<last seq>`` and gets exactly what it missed. A hosted deployment that needs more
than one process would put a broker (e.g. Redis pub/sub) behind this same interface.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

Batch = list[dict[str, Any]]


@dataclass(eq=False)
class Viewer:
    run_id: str
    queue: asyncio.Queue[Batch]
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)


class Hub:
    def __init__(self, queue_batches: int) -> None:
        self._queue_batches = queue_batches
        self._viewers: dict[str, set[Viewer]] = defaultdict(set)

    def subscribe(self, run_id: str) -> Viewer:
        viewer = Viewer(run_id, asyncio.Queue(self._queue_batches))
        self._viewers[run_id].add(viewer)
        return viewer

    def unsubscribe(self, viewer: Viewer) -> None:
        viewers = self._viewers.get(viewer.run_id)
        if viewers is not None:
            viewers.discard(viewer)
            if not viewers:
                del self._viewers[viewer.run_id]

    def publish(self, run_id: str, events: Batch) -> None:
        for viewer in list(self._viewers.get(run_id, ())):
            try:
                viewer.queue.put_nowait(events)
            except asyncio.QueueFull:
                viewer.overflowed.set()
                self.unsubscribe(viewer)

    def viewer_count(self, run_id: str) -> int:
        return len(self._viewers.get(run_id, ()))
