"""GFS in real Chromium (issue 19): the data set stored on 4 chunkservers with r = 3; a
planned fault corrupts a chunk file on chunkserver 1 and another kills chunkserver 3
(recovery "continue"), while the chunkservers read the data set, each its share, locally
where they can; the run reaches "finished". The store card draws the chunkservers
as columns — the dead one greyed, the copies the master made marked — as many as the
events say, says every sample was read exactly once, and that every chunk has 3 copies
again. In Chinese too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, post_run, set_view, wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/gfs")


def test_a_killed_chunkserver_is_re_replicated_and_drawn(page: Page, server: str) -> None:
    body = {"strategy": "gfs", "workers": 4, "steps": 5, "pace": 4.0, "num_samples": 512,
            "recovery": "continue",
            "faults": [{"after_step": 1, "action": "corrupt", "rank": 1},
                       {"after_step": 2, "action": "kill", "rank": 3}],
            "options": {"replicas": 3, "chunk_samples": 32, "read_ms": 5,
                        "reader": "chunkservers"}}
    run_id = post_run(server, body)
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    wait_status(page, "finished", 120_000)
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    epochs = [e for e in events if e["type"] == "gfs_epoch"]
    assert len(epochs) == 5 and all(e["exactly_once"] and e["equal"] for e in epochs)
    copies = [e for e in events if e["type"] == "gfs_rereplicate"]
    assert copies
    # "What you are looking at" explains the store, not the ring all-reduce
    assert page.text_content('[data-article="title"]') == "A small GFS in four moves"
    assert "heartbeat" in page.text_content('[data-article="body"]')
    last_map = [e for e in events if e["type"] == "gfs_map"][-1]
    assert last_map["dead"] == [3] and last_map["under"] == []

    page.wait_for_function(
        "document.querySelector('[data-testid=gfs-facts] [data-fact=check]') !== null"
        " && document.querySelector('[data-testid=gfs-store]').dataset.dead === '3'",
        timeout=30_000)
    assert page.is_visible("[data-testid=gfs-card]")
    assert not page.is_visible(".card-chart")  # nothing trained: no loss chart
    columns = page.locator("[data-testid=gfs-column]")
    assert columns.count() == 4
    dead = page.locator("[data-testid=gfs-column][data-dead=true]")
    assert dead.count() == 1 and dead.get_attribute("data-server") == "3"
    # every live column holds what the master's last map says; the copies are marked
    for s in (1, 2, 4):
        col = page.locator(f"[data-testid=gfs-column][data-server='{s}']")
        held = sum(s in h for h in last_map["chunks"])
        assert col.locator("[data-testid=gfs-chunk]").count() == held
    marked = page.locator("[data-testid=gfs-chunk][data-copy=true]")
    assert marked.count() == len(last_map["copies"]) > 0
    facts = page.locator("[data-testid=gfs-facts]")
    assert facts.locator("[data-fact=check]").get_attribute("data-correct") == "true"
    last = epochs[-1]
    assert (f"data locality: {last['local']} chunks read from the reader's own disk"
            in facts.locator("[data-fact=locality]").inner_text())
    assert "exactly once" in facts.locator("[data-fact=check]").inner_text()
    assert "every chunk has 3 copies" in facts.locator("[data-fact=replicas]").inner_text()
    assert "re-replicated" in facts.locator("[data-fact=rereplicated]").inner_text()
    corrupted = facts.locator("[data-fact=corrupted]")
    assert corrupted.count() == 1 and "a good copy replaced it" in corrupted.inner_text()
    # a store run trains nothing: its end says no "final loss"
    end = page.inner_text("[data-testid=narration]")
    assert end.startswith("finished:") and "loss" not in end, end
    # the fault log says what a corrupt fault does to a chunkserver (the strategy's own
    # words from its spec), not a training worker's NaN gradient
    log = page.inner_text("[data-testid=fault-log]")
    assert "a byte of one of its chunk files on disk flips" in log and "NaN" not in log, log
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "gfs-en.png"))

    set_view(page, "zh", False)
    page.wait_for_function(
        "document.querySelector('.card-gfs h2').textContent === '存储：每个块服务器上的块'")
    assert "恰好读取一次" in facts.locator("[data-fact=check]").inner_text()
    page.screenshot(path=str(SHOTS / "gfs-zh.png"))
    set_view(page, "en", False)


def test_the_form_offers_the_store_s_options_and_no_training(page: Page, server: str) -> None:
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "gfs")
    page.wait_for_selector("[data-testid=opt-replicas]")
    for opt in ("chunk_samples", "placement", "reader", "read_ms"):
        assert page.is_visible(f"[data-testid=opt-{opt}]"), opt
    for field in ("lr-input", "batch-input", "optimizer-select", "model-select"):
        assert not page.is_visible(f"[data-testid={field}]"), field
    assert page.inner_text("#steps-label") == "Epochs (each reads the data set once)"
    set_view(page, "zh", False)
    page.wait_for_function("document.querySelector('#steps-label').textContent"
                           " === '轮数（每轮把数据集读一遍）'")
    set_view(page, "en", False)
