"""Chapter 3's lesson, MapReduce with a slow worker and backup tasks, live in real Chromium
(issue 18). The reveal says what the runs measured: this run's check against the one-process
job, and each run's time per job from its own run summary (a job is a step) — with the
backup tasks' comparison the faster one, whatever the machine's speed, because a 5× slower
worker's last task is what everyone waits for without them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, wait_run_end, wait_status

pytestmark = pytest.mark.browser

LID = "mapreduce-backup-tasks"
PANEL = "[data-testid=lesson-panel]"
REVEAL = "[data-testid=lesson-reveal]"
MEASURED = f"{REVEAL} [data-testid=lesson-measured] li"


def test_the_mapreduce_lesson_reveals_each_runs_time_per_job(page: Page, server: str) -> None:
    lesson = get_json(f"{server}/api/lessons/{LID}")
    assert isinstance(lesson, dict) and lesson["chapter"] == 3
    assert lesson["preset"]["config"]["strategy"] == "mapreduce"
    assert lesson["compare"]["config"]["options"]["backup_tasks"] is True
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/?lesson={LID}&lang=en")
    page.wait_for_function(
        f"document.querySelector('{PANEL}').dataset.lesson === '{LID}' "
        f"&& !document.querySelector('{PANEL}').hidden")
    page.click(f"[data-testid=lesson-predict] [data-choice='{lesson['predict']['answer']}']")
    assert page.is_checked("[data-testid=lesson-compare]")
    page.click("[data-testid=lesson-start]")
    wait_status(page, "finished", 180_000)
    reveal = page.locator(REVEAL)
    reveal.wait_for(state="visible", timeout=30_000)
    assert lesson["predict"]["explain"]["en"] in reveal.inner_text()
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].some(li => li.textContent"
        ".startsWith('time per job'))", arg=MEASURED, timeout=180_000)
    measured = page.locator(MEASURED).all_inner_texts()

    run_id = page.evaluate("window.distlab.app.runId")
    run = wait_run_end(server, run_id, 30)
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=10000")
    results = [e for e in events if e["type"] == "mr_result"]
    assert len(results) == 3 and all(r["correct"] for r in results)
    assert any(m.startswith(f"word count: {results[-1]['keys']} keys, equal to the one-process"
                            " job: ✓") for m in measured), measured
    runs = get_json(f"{server}/api/runs")
    compare = sorted((r for r in runs if r["id"] != run_id
                      and r["config"]["strategy"] == "mapreduce"
                      and r["config"]["options"].get("backup_tasks")),
                     key=lambda r: r["created_at"])[-1]
    compare = wait_run_end(server, compare["id"], 60)
    [line] = [m for m in measured if m.startswith("time per job")]
    mine, theirs = (float(x) for x in re.findall(r"([0-9.]+) s", line)[:2])
    assert mine == pytest.approx(1 / run["summary"]["steps_per_s"], rel=0.01)
    assert theirs == pytest.approx(1 / compare["summary"]["steps_per_s"], rel=0.01)
    assert mine > theirs  # the backup tasks' job is the shorter one
    reveal.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/lesson3-mapreduce.png")
