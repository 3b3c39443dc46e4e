"""Chapter 7's lesson, a small GFS with a chunkserver killed mid-run, live in real Chromium
(issue 19). The reveal says what the run measured, from its events: every epoch read every
sample exactly once, the dead chunkserver, the copies the master made again, and every
chunk back to 3 copies."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, wait_run_end, wait_status

pytestmark = pytest.mark.browser

LID = "data-storage"
REVEAL = "[data-testid=lesson-reveal]"
MEASURED = f"{REVEAL} [data-testid=lesson-measured] li"


def test_the_storage_lesson_reveals_exactly_once_and_the_copies(page: Page,
                                                                 server: str) -> None:
    lesson = get_json(f"{server}/api/lessons/{LID}")
    assert isinstance(lesson, dict) and lesson["chapter"] == 7 and lesson["kind"] == "demo"
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/?lesson={LID}&lang=en")
    page.wait_for_function("document.querySelector('[data-testid=lesson-panel]')"
                           f".dataset.lesson === '{LID}'")
    page.click(f"[data-testid=lesson-predict] [data-choice='{lesson['predict']['answer']}']")
    page.click("[data-testid=lesson-start]")
    wait_status(page, "finished", 120_000)
    page.locator(REVEAL).wait_for(state="visible", timeout=30_000)
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].some(li => li.textContent"
        ".includes('exactly once'))", arg=MEASURED, timeout=60_000)
    measured = page.locator(MEASURED).all_inner_texts()
    run_id = page.evaluate("window.distlab.app.runId")
    run = wait_run_end(server, run_id, 30)
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    epochs = [e for e in events if e["type"] == "gfs_epoch"]
    assert len(epochs) == run["config"]["steps"]
    assert all(e["exactly_once"] and e["equal"] for e in epochs)
    copies = [e for e in events if e["type"] == "gfs_rereplicate"]
    assert copies
    n = len(epochs)
    assert any(m.startswith(f"{n} of {n} epochs read every one of the") for m in measured)
    assert "dead: chunkserver 3 (its replicas are gone from the map)" in measured, measured
    assert any(m.startswith(f"re-replicated: {len(copies)} copies") for m in measured)
    assert "every chunk has 3 copies" in measured
    page.screenshot(path="/tmp/lesson7-gfs.png")
