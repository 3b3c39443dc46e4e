"""On a full disk new runs are refused (507, cause disk_full), a live run whose events the
store cannot write ends with cause store_failed, and every stored run stays readable.
The disk is a real one: an 8 MB tmpfs the test mounts (root only; skipped otherwise)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.settings import Settings
from tests.test_api import wait_for_status

MB = 1024 * 1024
SMALL = {"strategy": "data_parallel", "workers": 2, "steps": 4, "batch_size": 8}


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave_bytes: int) -> Path:
    """A file that takes all but ``leave_bytes`` of the disk."""
    filler = disk / "filler"
    with open(filler, "wb") as f, contextlib.suppress(OSError):
        while (free := shutil.disk_usage(disk).free) > leave_bytes:
            f.write(b"\0" * min(free - leave_bytes, MB))
            f.flush()
            os.fsync(f.fileno())
    return filler


def _stored_run(client: TestClient) -> tuple[str, list[dict]]:
    created = client.post("/api/runs", json=SMALL)
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    wait_for_status(client, run_id, {"finished"})
    manager = client.app.state.manager
    deadline = time.monotonic() + 60
    while run_id in manager.runs and time.monotonic() < deadline:  # in the store, packed
        time.sleep(0.05)
    return run_id, client.get(f"/api/runs/{run_id}/events").json()


def _readable(client: TestClient, run_id: str, events: list[dict]) -> None:
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "finished"
    assert client.get(f"/api/runs/{run_id}/events").json() == events
    export = client.get(f"/api/runs/{run_id}/export", params={"format": "csv"})
    assert export.status_code == 200 and export.text.count("\n") > 4
    assert run_id in {r["id"] for r in client.get("/api/runs").json()}


def test_below_the_free_space_limit_new_runs_are_refused_and_stored_ones_read(
        disk: Path) -> None:
    settings = Settings(data_dir=disk / "data", min_free_mb=2)
    with TestClient(create_app(settings)) as client:
        run_id, events = _stored_run(client)
        filler = _fill(disk, leave_bytes=1 * MB)
        refused = client.post("/api/runs", json=SMALL)
        assert refused.status_code == 507, refused.text
        body = refused.json()
        assert body["cause"]["code"] == "disk_full" and body["cause"]["free_mb"] <= 1.0
        assert "disk is full" in body["detail"]
        assert client.post(f"/api/runs/{run_id}/fork").status_code == 507
        _readable(client, run_id, events)

        filler.unlink()  # space again: runs start again
        again = client.post("/api/runs", json=SMALL)
        assert again.status_code == 201, again.text
        wait_for_status(client, again.json()["id"], {"finished"})


def test_a_live_run_the_store_cannot_write_ends_with_store_failed(disk: Path) -> None:
    settings = Settings(data_dir=disk / "data")  # no limit: the write itself fails
    with TestClient(create_app(settings)) as client:
        run_id, events = _stored_run(client)
        filler = _fill(disk, leave_bytes=48 * 1024)
        # per-message events, many steps: far more than 48 kB
        big = {**SMALL, "workers": 4, "steps": 5000, "detail": True}
        created = client.post("/api/runs", json=big)
        assert created.status_code == 201, created.text
        ended = wait_for_status(client, created.json()["id"], {"failed", "finished"},
                                timeout=120)
        assert ended["status"] == "failed"
        assert "could not save this run's events" in ended["error"]
        failed = [e for e in client.get(f"/api/runs/{ended['id']}/events",
                                        params={"limit": 10_000}).json()
                  if e["type"] == "run_finished"]
        assert failed and failed[-1]["cause"]["code"] == "store_failed"

        refused = client.post("/api/runs", json=SMALL)
        assert refused.status_code == 507 and refused.json()["cause"]["code"] == "disk_full"
        _readable(client, run_id, events)

        filler.unlink()
        again = client.post("/api/runs", json=SMALL)
        assert again.status_code == 201, again.text
        wait_for_status(client, again.json()["id"], {"finished"})
