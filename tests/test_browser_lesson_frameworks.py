"""Chapter 5's lesson in real Chromium (issue 20): the lesson's run, its exported PyTorch
DDP script next to the Horovod and TensorFlow versions of the same job, and Table 5 — in
English and in Chinese. The Export menu offers the script for a data-parallel run, and a
run whose compression has no DDP hook gets the server's reason instead of a download."""

from __future__ import annotations

import urllib.request

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, post_run, wait_run_end, wait_status

pytestmark = pytest.mark.browser

LID = "frameworks"
PANEL = "[data-testid=lesson-panel]"
SECTION = "[data-testid=lesson-frameworks]"


def script_of(server: str, run_id: str) -> str:
    with urllib.request.urlopen(f"{server}/api/runs/{run_id}/script", timeout=10) as res:
        return res.read().decode()


def open_lesson(page: Page, server: str, query: str) -> None:
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(f"{server}/?lesson={LID}&{query}")
    page.wait_for_function(f"document.querySelector('{PANEL}')?.dataset.lesson === '{LID}'")
    page.locator(SECTION).wait_for()


def test_the_frameworks_lesson_shows_the_run_as_three_frameworks(page: Page,
                                                                  server: str) -> None:
    lesson = get_json(f"{server}/api/lessons/{LID}")
    assert isinstance(lesson, dict) and lesson["chapter"] == 5 and lesson["kind"] == "demo"
    workers = lesson["preset"]["config"]["workers"]
    open_lesson(page, server, "lang=en")
    horovod = page.locator("[data-testid=fw-horovod-code]").inner_text()
    assert f"horovodrun -np {workers}" in horovod and "hvd.DistributedOptimizer" in horovod
    tf = page.locator("[data-testid=fw-tf-code]").inner_text()
    assert "MultiWorkerMirroredStrategy" in tf and "TF_CONFIG" in tf
    assert "not run here" in page.locator("[data-testid=fw-tf]").inner_text()
    table = page.locator("[data-testid=fw-table5]").inner_text()
    assert "Table 5" in table and "Measured on" in table and "steps/s" in table

    page.click(f"[data-testid=lesson-predict] [data-choice='{lesson['predict']['answer']}']")
    page.click("[data-testid=lesson-start]")
    wait_status(page, "finished", 120_000)
    run_id = page.evaluate("window.distlab.app.runId")
    wait_run_end(server, run_id, 30)
    page.wait_for_function(f"document.querySelector('{SECTION}').dataset.scriptFor === "
                           f"'{run_id}'", timeout=30_000)
    shown = page.locator("[data-testid=fw-ddp-code]").inner_text()
    script = script_of(server, run_id)
    assert shown.strip() == script.strip()
    assert f"torchrun --standalone --nproc-per-node {workers} train.py" in shown
    assert page.locator("[data-testid=fw-download]").get_attribute("href") == \
        f"/api/runs/{run_id}/script"
    page.locator("[data-testid=lesson-reveal]").wait_for(state="visible", timeout=30_000)
    # the Export menu offers the script of a data-parallel run
    page.click("[data-testid=export-menu] > summary")
    assert page.locator("[data-testid=export-script]").is_visible()
    page.keyboard.press("Escape")
    page.locator(SECTION).scroll_into_view_if_needed()
    page.screenshot(path="/tmp/lesson5-frameworks-en.png", full_page=True)

    # the same lesson and run, in Chinese (the link restores both)
    open_lesson(page, server, f"run={run_id}&lang=zh")
    page.wait_for_function(f"document.querySelector('{SECTION}').dataset.scriptFor === "
                           f"'{run_id}'", timeout=30_000)
    section = page.locator(SECTION).inner_text()
    for words in ("同一个任务，三种框架", "表5", "这里不运行", "2 核"):
        assert words in section, (words, section)
    assert "MultiWorkerMirroredStrategy" in section and "hvd.DistributedOptimizer" in section
    assert page.locator("[data-testid=fw-ddp-code]").inner_text().strip() == script.strip()
    page.locator(SECTION).scroll_into_view_if_needed()
    page.screenshot(path="/tmp/lesson5-frameworks-zh.png", full_page=True)


def test_the_export_menu_says_why_a_run_has_no_ddp_script(page: Page, server: str) -> None:
    run_id = post_run(server, {"strategy": "data_parallel", "workers": 2, "steps": 2,
                               "batch_size": 8, "options": {"compression": "qsgd"}})
    wait_run_end(server, run_id, 60)
    page.goto(f"{server}/?run={run_id}&lang=en")
    wait_status(page, "finished", 60_000)
    page.click("[data-testid=export-menu] > summary")
    page.click("[data-testid=export-script]")
    why = page.locator("[data-testid=export-script-why]")
    why.wait_for(state="visible", timeout=10_000)
    assert "options.compression" in why.inner_text() and "qsgd" in why.inner_text()
