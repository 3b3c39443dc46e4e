"""The run list in Chromium says how long the server keeps each run and marks pinned ones,
in English and Chinese; an instructor (holding the key) pins and unpins there, a student
sees no pin buttons."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from backend.store import Store
from tests.browser_support import (
    ARTIFACTS,
    INSTRUCTOR_KEY,
    get_json,
    running_server,
    set_view,
)

CONFIG = {"strategy": "data_parallel", "workers": 2, "steps": 3, "batch_size": 8,
          "dataset": "spirals"}
RUNS = ["0000000000a1", "0000000000a2", "0000000000a3"]  # oldest first


@pytest.fixture(scope="module")
def kept_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("retention-data")
    store = Store(data)
    now = time.time()
    for i, run_id in enumerate(RUNS):
        store.create_run(run_id, CONFIG, "running", "s-class")
        store.append_events(run_id, [{"seq": 1, "type": "run_started", "run_id": run_id,
                                      "t": 0.0, "rank": None, "step": None}])
        store.update_run(run_id, status="finished", step=3,
                         finished_at=now - (len(RUNS) - i) * 86_400)
    store.flush()
    store.close()
    env = {"DISTLAB_KEEP_DAYS": "30", "DISTLAB_KEEP_RUNS_PER_STUDENT": "3"}
    with running_server(data, env) as base:
        yield base


def _open(browser: Browser, server: str, instructor: bool) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    if instructor:  # as room.js keeps it once the server accepted the key
        context.add_init_script(
            f"sessionStorage.setItem('distlab.instructorKey', '{INSTRUCTOR_KEY}')")
    pg.goto(f"{server}/")
    pg.wait_for_function("window.distlab !== undefined")
    pg.wait_for_selector(f"[data-testid=run-list] [data-run-id='{RUNS[0]}']")
    return pg


def _keep(pg: Page, run_id: str) -> str:
    return pg.locator(f".run-item[data-run-id='{run_id}'] [data-testid=run-keep]").inner_text()


def test_the_run_list_says_when_runs_go_and_an_instructor_pins(
        browser: Browser, kept_server: str) -> None:
    student = _open(browser, kept_server, instructor=False)
    assert student.locator("[data-testid=pin-run]").count() == 0
    # the oldest of three (3 kept per student): the next run pushes it out; 30 days from
    # its end, 3 days ago
    assert _keep(student, RUNS[0]) == "deleted in 26 days or after the next run"
    assert _keep(student, RUNS[2]) == "deleted in 28 days or after 3 more runs"
    title = student.locator(f".run-item[data-run-id='{RUNS[0]}'] [data-testid=run-keep]"
                            ).get_attribute("title")
    assert "30 days after they end" in title and "newest 3" in title

    teacher = _open(browser, kept_server, instructor=True)
    pin = teacher.locator(f"[data-testid=pin-run][data-run-id='{RUNS[0]}']")
    assert pin.inner_text() == "pin"
    pin.click()
    teacher.wait_for_selector(f".run-item[data-run-id='{RUNS[0]}'] .run-pin-mark")
    assert _keep(teacher, RUNS[0]) == "pinned"
    assert teacher.locator(f"[data-testid=pin-run][data-run-id='{RUNS[0]}']"
                           ).inner_text() == "unpin"
    listed = {r["id"]: r for r in get_json(f"{kept_server}/api/runs")}
    assert listed[RUNS[0]]["pinned"] is True
    # with one run pinned, the others have a place more each
    teacher.click("#btn-refresh-runs")
    teacher.wait_for_function(
        f"document.querySelector(\".run-item[data-run-id='{RUNS[1]}'] [data-testid=run-keep]\")"
        ".textContent.includes('after 2 more runs')")

    set_view(teacher, "zh", presenter=False)
    assert _keep(teacher, RUNS[0]) == "已固定"
    assert _keep(teacher, RUNS[2]) == "28 天后或再运行 3 次后删除"
    ARTIFACTS.mkdir(exist_ok=True)
    teacher.set_viewport_size({"width": 1280, "height": 1400})  # the whole list in view
    teacher.wait_for_timeout(300)
    teacher.locator(".runs").screenshot(path=str(ARTIFACTS / "retention-runs-zh.png"))
    set_view(teacher, "en", presenter=False)
    teacher.locator(".runs").screenshot(path=str(ARTIFACTS / "retention-runs-en.png"))

    # the student's page learns of the pin with its next refresh
    student.click("#btn-refresh-runs")
    student.wait_for_selector(f".run-item[data-run-id='{RUNS[0]}'] .run-pin-mark")

    teacher.locator(f"[data-testid=pin-run][data-run-id='{RUNS[0]}']").click()
    teacher.wait_for_function(
        f"!document.querySelector(\".run-item[data-run-id='{RUNS[0]}'] .run-pin-mark\")")
    req = urllib.request.Request(f"{kept_server}/api/runs/{RUNS[0]}/pin", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:  # no key: 403
        urllib.request.urlopen(req, timeout=5)
    assert refused.value.code == 403
    refused.value.close()
    student.context.close()
    teacher.context.close()
