"""Time from "Start" (POST /api/runs) to the first `step` event arriving over the WebSocket.

Starts a real server (`distlab serve`) on a free port, then for each worker count posts
runs one after another and times the first step event as a browser would receive it.
Usage: .venv/bin/python bench/start_latency.py [--workers 1 2 4] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx
from websockets.sync.client import connect


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_to_first_step(base: str, workers: int) -> float:
    strategy = "single" if workers == 1 else "data_parallel"
    started = time.monotonic()
    run = httpx.post(f"{base}/api/runs", json={"strategy": strategy, "workers": workers,
                                               "steps": 20}).json()
    ws_url = base.replace("http", "ws") + f"/ws/runs/{run['id']}?after=0"
    first = None
    with connect(ws_url) as ws:
        for message in ws:
            events = json.loads(message)
            if first is None and any(e["type"] == "step" for e in events):
                first = time.monotonic() - started
            if events[-1]["type"] == "run_finished":
                break
    assert first is not None
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port",
                                   str(port), "--data-dir", data],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(f"{base}/api/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            results = {w: [] for w in args.workers}
            for _ in range(args.rounds):
                for w in args.workers:
                    results[w].append(time_to_first_step(base, w))
            print(f"{'workers':>7} {'Start → first step event (median, s)':>38} {'max':>6}")
            for w, times in results.items():
                print(f"{w:>7} {statistics.median(times):>38.3f} {max(times):>6.3f}")
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
