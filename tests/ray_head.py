"""A throw-away local Ray cluster (one head node) for tests and benches.

``ray start --head --block`` runs in a session of its own, with its temp dir in a fresh
short directory (Ray's unix socket paths must stay under ~107 bytes, pytest's tmp_path
is too long) and ports the OS picked. Stopping it: SIGTERM to every process of its
session (Ray's workers put themselves in process groups of their own, but not in sessions
of their own), then SIGKILL to what is left, by process id; nothing else on the machine
is touched. ``leftovers`` says what outlived it (a test asserts: nothing).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOP_WAIT_S = 5.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_members(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid and fields[0] != "Z":  # state, ppid, pgrp, session
                found.append(int(entry.name))
    return found


class RayHead:
    def __init__(self, num_cpus: int) -> None:
        self.temp_dir = tempfile.mkdtemp(prefix="dl-ray-", dir="/tmp")
        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        ray = str(Path(sys.executable).with_name("ray"))
        # The workers import this checkout's engine, whatever directory Ray starts them in.
        env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}
        self.log = open(Path(self.temp_dir) / "head.log", "w")  # noqa: SIM115 — closed in stop
        self.process = subprocess.Popen(
            [ray, "start", "--head", "--block", f"--port={port}", f"--num-cpus={num_cpus}",
             "--num-gpus=0", "--node-ip-address=127.0.0.1", f"--temp-dir={self.temp_dir}",
             "--include-dashboard=false", "--disable-usage-stats",
             f"--dashboard-agent-listen-port={_free_port()}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.leftovers: list[int] = []

    def wait_ready(self, timeout: float = 90.0) -> None:
        log = Path(self.temp_dir) / "head.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Ray runtime started" in log.read_text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"the Ray head did not start:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        sid = self.process.pid  # start_new_session: the leader's pid is the session id
        self._signal_all(sid, signal.SIGTERM)  # raylet, GCS, workers: a graceful end first
        deadline = time.monotonic() + STOP_WAIT_S
        while session_members(sid) and time.monotonic() < deadline:
            time.sleep(0.2)
        self._signal_all(sid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        time.sleep(0.5)
        self.leftovers = session_members(sid)
        self.log.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    @staticmethod
    def _signal_all(sid: int, signum: int) -> None:
        for pid in session_members(sid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


@contextlib.contextmanager
def local_ray_head(num_cpus: int = 4) -> Iterator[RayHead]:
    head = RayHead(num_cpus)
    try:
        head.wait_ready()
        yield head
    finally:
        head.stop()
