"""Runs saved by the previous version (config schema 1: strategy options at the top level,
step events without their phases) still open, replay, export and fork."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from backend.main import create_app
from backend.settings import Settings
from backend.store import Store
from engine.config import RunConfig
from engine.runner import run_headless
from tests.test_api import wait_for_status

RUN = "0123456789ab"  # run ids are 12 hex digits
OLD_FLAT = {"servers": 1, "ps_mode": "sync", "backup_workers": 0, "staleness_bound": 2,
            "extra": {}}


def _as_saved_by_version_1(config: RunConfig) -> tuple[dict, list[dict]]:
    """A real run's config and events, turned back into what version 1 stored."""
    events = run_headless(config, timeout=60)
    flat = {k: v for k, v in config.to_dict().items() if k != "options"}
    flat |= config.options | OLD_FLAT
    for event in events:
        event.pop("phases", None)
        if event["type"] == "run_started":
            event["config"], event["schema_version"] = flat, 1
    return flat, events


def test_a_run_saved_before_options_moved_still_opens_replays_exports_and_forks(
        tmp_path: Path) -> None:
    config = RunConfig(strategy="data_parallel", workers=2, steps=4, batch_size=8,
                       options={"allreduce": "ring"})
    flat, events = _as_saved_by_version_1(config)
    assert "options" not in flat and flat["allreduce"] == "ring"
    store = Store(tmp_path / "data")
    store.create_run(RUN, flat, "running")
    store.append_events(RUN, events)
    store.update_run(RUN, status="finished", step=4)
    store.flush()
    store.close()

    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as client:
        got = client.get(f"/api/runs/{RUN}")
        assert got.status_code == 200, got.text
        run = got.json()
        assert run["status"] == "finished"
        assert run["config"]["options"] == config.options  # allreduce ring, and the rest
        assert "allreduce" not in run["config"] and "ps_mode" not in run["config"]
        # replay (what the page reads) and export give today's shape
        log = client.get(f"/api/runs/{RUN}/export", params={"format": "jsonl"}).text
        started = json.loads(log.splitlines()[0])
        assert started["type"] == "run_started"
        assert started["config"]["options"] == config.options
        trace = client.get(f"/api/runs/{RUN}/export", params={"format": "perfetto"}).json()
        slices = {e["name"] for e in trace["traceEvents"] if e["ph"] == "X"}
        assert {"compute", "comm"} <= slices  # phases rebuilt for steps without them
        forked = client.post(f"/api/runs/{RUN}/fork")
        assert forked.status_code == 201, forked.text
        done = wait_for_status(client, forked.json()["id"], {"finished", "failed"})
        assert done["status"] == "finished", done["error"]
        assert done["config"] == RunConfig.from_dict(flat).to_dict()
