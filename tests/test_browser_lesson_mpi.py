"""Chapter 3's MPI lesson in real Chromium (issue 18): the ring all-reduce written as
reduce-scatter + all-gather on 4 ranks of 8 numbers. The reveal says what each rank really
sent in the last step — 48 B each, 2·(n−1)/n of its 32 B, the answer — read from the step
events, and that every rank's result equals the one-process sum.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, wait_run_end, wait_status

pytestmark = pytest.mark.browser

LID = "mpi-collectives"
REVEAL = "[data-testid=lesson-reveal]"
MEASURED = f"{REVEAL} [data-testid=lesson-measured] li"


def test_the_mpi_lesson_reveals_what_each_rank_sent(page: Page, server: str) -> None:
    lesson = get_json(f"{server}/api/lessons/{LID}")
    assert isinstance(lesson, dict) and lesson["preset"]["config"]["strategy"] == "collectives"
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
        ".includes('bytes each rank sent'))", arg=MEASURED, timeout=60_000)
    measured = page.locator(MEASURED).all_inner_texts()
    run_id = page.evaluate("window.distlab.app.runId")
    run = wait_run_end(server, run_id, 30)
    last = run["config"]["steps"]
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    sent = {e["rank"]: e["bytes_sent"] for e in events
            if e["type"] == "step" and e["step"] == last}
    assert set(sent.values()) == {48}  # 2·(4 − 1)/4 · 32 B: the answer, measured
    [line] = [m for m in measured if "bytes each rank sent" in m]
    assert line.endswith("0: 48 B · 1: 48 B · 2: 48 B · 3: 48 B"), line
    assert any("equals the one-process computation ✓" in m for m in measured), measured
    page.screenshot(path="/tmp/lesson3-mpi.png")
