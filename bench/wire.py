"""Bytes a viewer receives per second: one viewer follows a paced run over the real
WebSocket (server as a subprocess), and the bytes of every message are counted, by event
type. Defaults: 4 workers at pace 20 with every view on (per-message events, a network
model) — what a lecture hall's laptops each download.

    .venv/bin/python -m bench.wire [--workers 4] [--pace 20] [--no-detail]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time

import websockets

from backend.hub import deflate
from bench.fanout import _events, _free_port, _http, start_server


async def follow(base: str, run_id: str) -> tuple[float, int, int, collections.Counter]:
    """Wall seconds, bytes received, the bytes the live ticks would have been as plain JSON
    arrays (deflated the same way: the baseline, side by side), and JSON bytes by type."""
    by_type: collections.Counter = collections.Counter()
    total = plain = 0
    first = last = None
    async with websockets.connect(f"{base.replace('http', 'ws', 1)}/ws/runs/{run_id}"
                                  "?after=0", max_size=None, compression=None) as ws:
        async for message in ws:
            now = time.perf_counter()
            first = first or now
            last = now
            size = len(message) if isinstance(message, bytes) else len(message.encode())
            total += size
            events = _events(message)
            plain += (len(deflate(json.dumps(events, separators=(",", ":"))))
                      if isinstance(message, bytes) else size)
            for event in events:
                by_type[event["type"]] += len(json.dumps(event, separators=(",", ":")))
    return (last - first) if first and last else 0.0, total, plain, by_type


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pace", type=float, default=20.0)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--no-detail", action="store_true")
    args = parser.parse_args()
    with start_server(_free_port()) as base:
        body = {"workers": args.workers, "steps": args.steps, "pace": args.pace,
                "detail": not args.no_detail, "network": "10gbe",
                "options": {"allreduce": "ring"}}
        run = _http(base, "POST", "/api/runs", body)
        seconds, total, plain, by_type = asyncio.run(follow(base, run["id"]))
    # A loaded machine may not keep the pace: bytes per step × pace is what a viewer gets
    # at the true pace (the bytes per step do not depend on how fast the machine is).
    per_step, plain_per_step = total / args.steps, plain / args.steps
    print(f"{args.workers} workers, pace {args.pace}, detail {not args.no_detail}, "
          f"{args.steps} steps in {seconds:.1f} s")
    print(f"  received: {per_step:.0f} B/step = {per_step * args.pace / 1024:.1f} KiB/s at "
          f"pace {args.pace} ({total / seconds / 1024:.1f} KiB/s over the wall time)")
    print(f"  the same ticks as plain JSON arrays: {plain_per_step:.0f} B/step = "
          f"{plain_per_step * args.pace / 1024:.1f} KiB/s (packed/plain "
          f"{total / plain:.2f})")
    print("  by event type (their JSON before compression, per step):")
    for kind, size in by_type.most_common():
        print(f"  {kind:>16}: {size / args.steps:8.0f} B")

if __name__ == "__main__":
    main()
