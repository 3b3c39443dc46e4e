"""Workers are real, separate OS processes, and none outlives its run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from engine.config import RunConfig
from engine.runner import run_headless
from engine.supervisor import RunSupervisor
from tests.helpers import alive, wait_all_dead, worker_pids


def test_workers_are_distinct_processes_and_exit_after_the_run() -> None:
    events = run_headless(RunConfig(workers=4, steps=5, batch_size=8), timeout=60)
    pids = worker_pids(events)
    assert len(pids) == 4 and len(set(pids)) == 4
    assert os.getpid() not in pids
    assert events[-1]["status"] == "finished"
    assert wait_all_dead(pids) == []


def test_stop_ends_every_worker() -> None:
    log: list[dict] = []
    started = threading.Event()

    def on_events(events: list[dict]) -> None:
        log.extend(events)
        if any(e["type"] == "step" for e in events):
            started.set()

    sup = RunSupervisor(RunConfig(workers=3, steps=5000, batch_size=8, pace=20.0),
                        run_id="stoptest", on_events=on_events)
    sup.start()
    assert started.wait(30)
    sup.stop()
    assert sup.wait(30)
    final = log[-1]
    assert final["type"] == "run_finished" and final["status"] == "stopped"
    assert 0 < final["summary"]["steps_completed"] < 5000
    # Every rank stopped at the same step: the stop was agreed, not raced.
    last = {}
    for e in log:
        if e["type"] == "step":
            last[e["rank"]] = e["step"]
    assert len(set(last.values())) == 1
    assert wait_all_dead(worker_pids(log)) == []


def test_a_crashing_worker_fails_the_run_and_takes_the_others_down() -> None:
    log: list[dict] = []
    started = threading.Event()

    def on_events(events: list[dict]) -> None:
        log.extend(events)
        if sum(e["type"] == "worker_started" for e in log) == 3:
            started.set()

    sup = RunSupervisor(RunConfig(workers=3, steps=5000, batch_size=8, pace=20.0),
                        run_id="crashtest", on_events=on_events)
    sup.start()
    assert started.wait(30)
    victim = worker_pids(log)[1]
    os.kill(victim, signal.SIGKILL)
    assert sup.wait(30), "the supervisor must notice a dead worker"
    final = log[-1]
    assert final["status"] == "failed"
    rank = next(e["rank"] for e in log if e["type"] == "worker_started" and e["pid"] == victim)
    assert final["error"].startswith(f"rank {rank} (pid {victim})")
    assert "SIGKILL" in final["error"]
    assert wait_all_dead(worker_pids(log)) == []


def test_a_failed_start_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.spawning as spawning

    spawned: list[int] = []
    real_spawn = spawning._spawn

    def spawn_then_break(sup, rank, port):  # type: ignore[no-untyped-def]
        if rank == 2:
            raise OSError("simulated: cannot start rank 2")
        handle = real_spawn(sup, rank, port)
        spawned.append(handle.pid)
        return handle

    monkeypatch.setattr(spawning, "_spawn", spawn_then_break)
    log: list[dict] = []
    sup = RunSupervisor(RunConfig(workers=4, steps=10), run_id="failstart",
                        on_events=log.extend)
    with pytest.raises(OSError):
        sup.start()
    assert log[-1]["type"] == "run_finished" and log[-1]["status"] == "failed"
    assert "cannot start rank 2" in log[-1]["error"]
    assert len(spawned) == 2
    assert wait_all_dead(spawned) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_killing_the_server_kills_its_workers(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "serve", "--port", str(port),
         "--data-dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        run = httpx.post(f"{base}/api/runs", json={"workers": 3, "steps": 5000,
                                                   "pace": 10.0}).json()
        pids: list[int] = []
        while time.monotonic() < deadline and len(pids) < 3:
            pids = [w["pid"] for w in httpx.get(f"{base}/api/runs/{run['id']}").json()["workers"]]
            time.sleep(0.1)
        assert len(pids) == 3 and all(alive(p) for p in pids)
        assert server.pid not in pids
        os.kill(server.pid, signal.SIGKILL)  # no shutdown hooks run
        server.wait(10)
        assert wait_all_dead(pids, timeout=10) == [], "workers outlived a killed server"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
