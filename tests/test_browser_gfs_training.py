"""Training through GFS in real Chromium (issue 19, sharding for training): 3 trainers, 3
chunkservers (r = 2) and a master; 200 samples do not divide by 3, so one is padded; a
planned fault corrupts a chunk on chunkserver 5. The run reaches "finished"; the store
card shows the reads grid — one row per worker, as many cells as the sampler dealt it,
local and remote reads as the events say, the padded repeat outlined — the locality and
the epoch's check; the loss chart stays. In Chinese too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, post_run, set_view, wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/gfs_train")


def test_the_reads_grid_shows_who_read_what_from_where(page: Page, server: str) -> None:
    body = {"strategy": "gfs_train", "workers": 3, "steps": 10, "pace": 6.0,
            "num_samples": 200, "batch_size": 16,
            "faults": [{"after_step": 2, "action": "corrupt", "rank": 5}],
            "options": {"replicas": 2, "chunk_samples": 32, "read_ms": 1, "tail": "pad"}}
    run_id = post_run(server, body)
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    wait_status(page, "finished", 120_000)
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    samplers = [e for e in events if e["type"] == "gfs_sampler"]
    assert len(samplers) == 2  # 67 a worker, 16 a batch: 5 steps an epoch
    (epoch1,) = [e for e in events if e["type"] == "gfs_train_epoch" and e["epoch"] == 1]
    assert epoch1["exactly_once"] and epoch1["padded"] == 1

    page.wait_for_function(
        "(() => { const g = document.querySelector('[data-testid=gfs-reads-grid]');"
        " return g && g.dataset.epoch === '2'"
        " && !document.querySelector('[data-testid=gfs-reads-grid] .gfs-cell.unread')"
        " && document.querySelector('[data-testid=gfs-reads] [data-fact=check]'); })()",
        timeout=30_000)
    assert page.is_visible("[data-testid=gfs-card]") and page.is_visible(".card-chart")
    last = samplers[-1]
    reads = [e for e in events if e["type"] == "gfs_batch" and e["status"] == "ok"
             and e["epoch"] == 2]
    grid = page.locator("[data-testid=gfs-reads-grid]")
    for w, dealt in enumerate(last["assignment"]):
        row = grid.locator(f".gfs-reads-row[data-worker='{w}']")
        assert row.locator(".gfs-cell").count() == len(dealt)
        local = sum(len(e["samples"]) for e in reads if e["worker"] == w and e["local"])
        assert row.locator(".gfs-cell.local").count() == local
        assert row.locator(".gfs-cell.remote").count() == len(dealt) - local
    (padded,) = [s for w in last["padded"] for s in w]
    assert grid.locator(".gfs-cell.padded").count() == 1
    assert grid.locator(".gfs-cell.padded").get_attribute("data-sample") == str(padded)
    facts = page.locator("[data-testid=gfs-reads]")
    assert "data locality" in facts.locator("[data-fact=locality]").inner_text()
    assert "1 padded with repeats" in facts.locator("[data-fact=tail]").inner_text()
    assert facts.locator("[data-fact=check]").get_attribute("data-correct") == "true"
    if any(e["type"] == "gfs_batch" and e["status"] == "corrupt" for e in events):
        assert "checksum wrong" in facts.locator("[data-fact=corrupt]").inner_text()
    # "What you are looking at" explains the sampler and the reads, not the ring alone
    assert page.text_content('[data-article="title"]') == "Training through GFS in four moves"
    assert "DistributedSampler" in page.text_content('[data-article="body"]')
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "gfs-train-en.png"), full_page=True)

    set_view(page, "zh", False)
    page.wait_for_function(
        "document.querySelector('[data-testid=gfs-reads] [data-fact=tail]')"
        ".textContent.includes('填充')")
    assert "数据局部性" in facts.locator("[data-fact=locality]").inner_text()
    assert page.text_content('[data-article="title"]') == "经 GFS 读取数据训练的四个动作"
    page.screenshot(path=str(SHOTS / "gfs-train-zh.png"), full_page=True)
    set_view(page, "en", False)
