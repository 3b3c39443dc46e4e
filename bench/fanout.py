"""A lecture hall following one run: N viewers (and a few that never read) on one server.

Starts ``distlab serve`` as a subprocess, opens a room, connects N followers to the room
and to the run it points at (a 2-worker data-parallel run at pace 20), plus ``--stalled``
viewers that never read. Reports, for the room's switch to the run and for every event
batch, how long after the *first* viewer each viewer got it (p50 / p99 / max), how many
viewers were closed, and the server's memory (RSS) before and at the end. Clients and
server share this machine, so read the numbers as an upper bound.

    .venv/bin/python bench/fanout.py --viewers 500 --stalled 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import websockets

from backend.hub import decode_tick

KEY = "bench-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(base: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(f"{base}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json",
                                          "X-Instructor-Key": KEY})
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"{}")


def _events(message: str | bytes) -> list[dict]:
    """A /ws/runs message: JSON text (backlog) or a raw-deflated, packed JSON tick (live)."""
    return decode_tick(message) if isinstance(message, bytes) else json.loads(message)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _follower(ws_base: str, code: str, got_room: list[float],
                    arrivals: dict[int, float], closes: list[int],
                    backlog: set[int]) -> None:
    """Follow the room until it names a run, then the run until it ends."""
    async with websockets.connect(f"{ws_base}/ws/rooms/{code}", max_size=None) as room:
        while True:
            state = json.loads(await room.recv())
            if state.get("run_id"):
                got_room.append(time.perf_counter())
                run_id = state["run_id"]
                break
    received: list[tuple[float, str | bytes]] = []
    async with websockets.connect(f"{ws_base}/ws/runs/{run_id}?after=0",
                                  max_size=None) as ws:
        try:
            async for message in ws:
                received.append((time.perf_counter(), message))
        except websockets.ConnectionClosed:
            pass
        closes.append(ws.close_code or 0)
    # Decoded once the run is over: 500 clients share this one process (and the box's
    # cores with the server), and decoding as messages come would time the clients'
    # backlog, not the server's delivery.
    for now, message in received:
        for event in _events(message):
            arrivals[event["seq"]] = now
            if isinstance(message, str):  # the backlog a viewer catches up on
                backlog.add(event["seq"])


async def _stalled(ws_base: str, run_id: str, hold: asyncio.Event) -> None:
    async with websockets.connect(f"{ws_base}/ws/runs/{run_id}?after=0", max_queue=1,
                                  max_size=None):
        await hold.wait()  # never reads: its TCP window fills and stays full


def _lags(arrivals: list[dict[int, float]]) -> list[float]:
    first: dict[int, float] = {}
    for got in arrivals:
        for seq, t in got.items():
            first[seq] = min(t, first.get(seq, t))
    return [(t - first[seq]) * 1e3 for got in arrivals for seq, t in got.items()]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def bench(base: str, pid: int, viewers: int, stalled: int, steps: int) -> None:
    ws_base = base.replace("http", "ws", 1)
    code = _http(base, "POST", "/api/rooms")["code"]
    got_room: list[float] = []
    arrivals = [dict() for _ in range(viewers)]
    closes: list[int] = []
    backlog: set[int] = set()  # events some viewer got in its catch-up, not live
    tasks = [asyncio.create_task(_follower(ws_base, code, got_room, arrivals[i], closes,
                                           backlog))
             for i in range(viewers)]
    await asyncio.sleep(2 + viewers / 200)  # everyone connected to the room
    rss_before = _rss_mib(pid)
    run = _http(base, "POST", "/api/runs", {"workers": 2, "steps": steps, "pace": 20.0})
    hold = asyncio.Event()
    stall = [asyncio.create_task(_stalled(ws_base, run["id"], hold)) for _ in range(stalled)]
    switched = time.perf_counter()
    _http(base, "PUT", f"/api/rooms/{code}", {"run_id": run["id"]})
    rss_peak = rss_before
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0.5)
        rss_peak = max(rss_peak, _rss_mib(pid))
    hold.set()
    await asyncio.gather(*stall, return_exceptions=True)
    lags = _lags(arrivals)
    live = _lags([{q: t for q, t in got.items() if q not in backlog} for got in arrivals])
    room_ms = [(t - switched) * 1e3 for t in got_room]
    complete = sum(1 for got in arrivals if len(got) == max(len(g) for g in arrivals))
    print(f"viewers {viewers} (+{stalled} stalled), run of {steps} steps at pace 20")
    print(f"room switch reached every follower: p50 {_pct(room_ms, .5):.0f} ms, "
          f"p99 {_pct(room_ms, .99):.0f} ms, max {max(room_ms):.0f} ms")
    print(f"event delivery behind the first viewer: p50 {_pct(lags, .5):.1f} ms, "
          f"p99 {_pct(lags, .99):.1f} ms, max {max(lags):.1f} ms")
    print(f"  of the events every viewer got live (after its catch-up, {len(live)} "
          f"deliveries): p50 {_pct(live, .5):.1f} ms, p99 {_pct(live, .99):.1f} ms, "
          f"max {max(live, default=float('nan')):.1f} ms")
    print(f"viewers with every event: {complete}/{viewers}; close codes "
          f"{dict((c, closes.count(c)) for c in set(closes))}")
    print(f"server RSS: {rss_before:.0f} MiB before the run, peak {rss_peak:.0f} MiB")


@contextlib.contextmanager
def start_server(port: int) -> Iterator[str]:
    """``distlab serve`` as a subprocess with its own data directory; yields its URL."""
    data = tempfile.mkdtemp(prefix="distlab-bench-")
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", str(port),
                             "--data-dir", data],
                            env={**os.environ, "DISTLAB_INSTRUCTOR_KEY": KEY},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _http(base, "GET", "/api/health")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--stalled", type=int, default=2)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    port = _free_port()
    with start_server(port) as base:
        pid = _server_pid(port)
        asyncio.run(bench(base, pid, args.viewers, args.stalled, args.steps))


def _server_pid(port: int) -> int:
    """The pid listening on ``port`` (the server, for its memory)."""
    target = f"{port:04X}"
    inodes = {line.split()[9] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
              if line.split()[1].endswith(":" + target) and line.split()[3] == "0A"}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if fd.readlink().name.strip("socket:[]") in inodes:
                    return int(proc.name)
        except OSError:
            continue
    raise RuntimeError("no server process found")


if __name__ == "__main__":
    main()
