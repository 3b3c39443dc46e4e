from __future__ import annotations

import multiprocessing as mp
import time

from engine.worker import EventSender


def test_emitting_never_blocks_when_nobody_reads() -> None:
    """A stalled reader fills the pipe; emit must drop and count, never wait."""
    reader, writer = mp.Pipe(duplex=False)
    sender = EventSender(writer, t0=time.monotonic(), queue_size=16)
    payload = "x" * 20_000  # a few of these fill the OS pipe buffer
    started = time.monotonic()
    for i in range(2000):
        sender.emit("step", rank=0, step=i, blob=payload)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"emit blocked for {elapsed:.2f} s"
    assert sender.dropped > 0
    # What was queued still arrives, in order, once the reader catches up.
    received = []
    while reader.poll(0.5):
        received.extend(reader.recv())
    sender.close()  # before the reader goes: a broken pipe makes a worker exit
    steps = [e["step"] for e in received if e["type"] == "step"]  # not heartbeats
    assert steps == sorted(steps) and len(steps) + sender.dropped == 2000
    reader.close()
