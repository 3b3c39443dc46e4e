"""Bytes a viewer receives per second: one viewer follows a paced run over the real
WebSocket (server as a subprocess), and the bytes of every message are counted, by event
type. Defaults: 4 workers at pace 20 with every view on (per-message events, a network
model) — what a lecture hall's laptops each download.

    .venv/bin/python bench/wire.py [--workers 4] [--pace 20] [--no-detail]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time

import websockets

from bench.fanout import _events, _free_port, _http, start_server


async def follow(base: str, run_id: str) -> tuple[float, int, collections.Counter]:
    by_type: collections.Counter = collections.Counter()
    total = 0
    first = last = None
    async with websockets.connect(f"{base.replace('http', 'ws', 1)}/ws/runs/{run_id}"
                                  "?after=0", max_size=None, compression=None) as ws:
        async for message in ws:
            now = time.perf_counter()
            first = first or now
            last = now
            total += len(message) if isinstance(message, bytes) else len(message.encode())
            for event in _events(message):
                by_type[event["type"]] += len(json.dumps(event, separators=(",", ":")))
    return (last - first) if first and last else 0.0, total, by_type


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
        seconds, total, by_type = asyncio.run(follow(base, run["id"]))
    print(f"{args.workers} workers, pace {args.pace}, detail {not args.no_detail}: "
          f"{total / seconds / 1024:.1f} KiB/s over {seconds:.1f} s")
    print("  by event type (their JSON before compression):")
    for kind, size in by_type.most_common():
        print(f"  {kind:>16}: {size / seconds / 1024:7.1f} KiB/s")


if __name__ == "__main__":
    main()
