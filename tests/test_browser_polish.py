"""Polish pass, in a real Chromium against the real server: translated field names in the
compare view (and no run keys behind it), parameter-server worker labels that fit, the
rebuilt server on its node and in the narration, the lesson reveal readable in presenter
mode, the timeline clock in the URL, the replicas badge after a failure, and the run list
in step with the run's end."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from playwright.sync_api import Page

from tests.browser_support import ARTIFACTS, get_json, wait_status

pytestmark = pytest.mark.browser


def post(server: str, body: dict) -> str:
    req = urllib.request.Request(f"{server}/api/runs", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())["id"]


def wait_end(server: str, run_id: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        run = get_json(f"{server}/api/runs/{run_id}")
        assert isinstance(run, dict)
        if run["status"] not in ("starting", "running", "paused"):
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']}"
        time.sleep(0.2)


def shot(pg: Page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(ARTIFACTS / f"polish-{name}.png"), full_page=full_page)


def set_view(pg: Page, lang: str, presenter: bool) -> None:
    if pg.evaluate("document.documentElement.lang || 'en'").startswith("zh") != (lang == "zh"):
        pg.click("[data-testid=lang-toggle]")
    if pg.evaluate("document.body.classList.contains('presenter')") != presenter:
        pg.click("[data-testid=presenter-toggle]")
    pg.wait_for_timeout(400)


DP = {"strategy": "data_parallel", "workers": 2, "steps": 6, "pace": None, "dataset": "moons"}


# ---------------------------------------------------------------- 1. compare view

def test_compare_shows_field_labels_and_keys_leave_the_hidden_run_alone(
    page: Page, server: str
) -> None:
    pg = page
    other = post(server, {**DP, "lr": 0.1, "batch_size": 16})
    wait_end(server, other)
    # a paced live run started from this page (it holds the run's token)
    pg.fill("[data-testid=workers-input]", "2")
    pg.fill("[data-testid=steps-input]", "80")
    pg.fill("[data-testid=pace-input]", "4")
    pg.set_checked("[data-testid=full-speed]", False)
    pg.click("[data-testid=start-run]")
    pg.wait_for_function("window.distlab.player.lastStep >= 2", timeout=30_000)
    mine = pg.evaluate("window.distlab.app.runId")
    pg.evaluate(f"window.distlab.app.compareId = {json.dumps(other)}")
    pg.click("[data-testid=compare-open]")
    pg.wait_for_selector("[data-testid=compare-diff] tr[data-field=batch_size]")
    assert pg.get_attribute("[data-testid=compare-view]", "data-a") == mine

    row = "[data-testid=compare-diff] tr[data-field=batch_size] th"
    assert pg.inner_text(row) == "Batch size per worker"
    assert pg.get_attribute(row, "title") == "batch_size"
    assert pg.inner_text("[data-testid=compare-diff] tr[data-field=lr] th") == "Learning rate"
    labels = pg.eval_on_selector_all(
        "[data-testid=compare-diff] tr[data-field] th",
        "els => els.map(e => [e.parentElement.dataset.field, e.textContent])",
    )
    raw = [field for field, text in labels if text == field]
    assert raw == [], labels  # every known field is translated
    shot(pg, "compare-en", full_page=True)

    # run keys do nothing while the lab (and its run) is hidden
    pg.locator("[data-testid=compare-view] h2").first.click()
    pace = pg.input_value("[data-testid=pace-input]")
    for key in [" ", "ArrowRight", "ArrowLeft", "3", "l"]:
        pg.keyboard.press(key)
    pg.wait_for_timeout(800)
    assert pg.get_attribute("[data-testid=run-status]", "data-status") == "running"
    assert pg.input_value("[data-testid=pace-input]") == pace
    assert pg.evaluate("window.distlab.player.mode") == "live"

    set_view(pg, "zh", True)
    assert pg.inner_text(row) == "每个进程的批大小"
    shot(pg, "compare-zh-presenter", full_page=True)
    set_view(pg, "en", False)

    # back in the lab, space pauses the run again
    pg.click("[data-testid=compare-close]")
    pg.locator("body").click(position={"x": 5, "y": 790})
    pg.keyboard.press(" ")
    wait_status(pg, "paused", 10_000)
    pg.click("[data-testid=stop-run]")
    wait_status(pg, "stopped", 15_000)


# ---------------------------------------------------------------- 2 + 5. parameter server

OVERLAPS = """(() => {
  const nodes = [...document.querySelectorAll('#topology .ps-worker')];
  const boxes = nodes.map((g) => [...g.querySelectorAll('text')].filter((t) => t.textContent)
      .map((t) => t.getBoundingClientRect()));
  const bad = [];
  for (let i = 0; i + 1 < boxes.length; i++)
    for (const a of boxes[i]) for (const b of boxes[i + 1])
      if (a.right > b.left + 0.5 && b.right > a.left + 0.5 && a.bottom > b.top && b.bottom > a.top)
        bad.push([i, a.right, b.left]);
  return {n: nodes.length, texts: boxes.flat().length, bad};
})()"""


def check_labels_fit(pg: Page, workers: int, name: str) -> None:
    for lang in ("en", "zh"):
        for presenter in (False, True):
            set_view(pg, lang, presenter)
            res = pg.evaluate(OVERLAPS)
            assert res["n"] == workers and res["texts"] >= 2 * workers, res
            assert res["bad"] == [], (lang, presenter, res)
            shot(pg, f"ps{workers}-{lang}{'-presenter' if presenter else ''}-{name}")
    set_view(pg, "en", False)


def test_ps_worker_labels_fit_with_8_workers(page: Page, server: str) -> None:
    run = post(server, {"strategy": "parameter_server", "workers": 8, "steps": 60, "pace": None,
                        "ps_mode": "async", "dataset": "moons", "batch_size": 8})
    assert wait_end(server, run, 90)["status"] == "finished"
    page.goto(f"{server}/?run={run}")
    wait_status(page, "finished", 30_000)
    page.wait_for_selector("#topology .ps-worker")
    check_labels_fit(page, 8, "finished")


def test_rebuilt_server_on_its_node_and_in_the_narration(page: Page, server: str) -> None:
    pg = page
    run = post(server, {"strategy": "parameter_server", "workers": 4, "steps": 24, "pace": 3.0,
                        "ps_mode": "sync", "checkpoint_every": 5, "recovery": "restart",
                        "dataset": "moons", "batch_size": 8,
                        "faults": [{"after_step": 7, "action": "kill", "rank": 0}]})
    pg.goto(f"{server}/?run={run}")
    node = "#topology .ps-server[data-rank='0']"
    pg.wait_for_function(f"document.querySelector(\"{node}\")?.dataset.restored", timeout=60_000)
    text = pg.get_attribute(node, "data-restored")
    assert text is not None and text.startswith("rebuilt: checkpoint v") and "replayed" in text
    assert "rebuilt: checkpoint v" in (pg.text_content(node) or "")
    pg.wait_for_function(
        "document.querySelector('[data-testid=narration]').textContent.includes('rebuilt')",
        timeout=10_000,
    )
    shot(pg, "ps4-rebuilt-en")
    check_labels_fit(pg, 4, "live")
    set_view(pg, "zh", True)
    shot(pg, "ps4-rebuilt-zh-presenter")
    set_view(pg, "en", False)
    wait_status(pg, "finished", 60_000)
    # a few versions later the node is back to its usual lines
    assert pg.get_attribute(node, "data-restored") is None
    assert "rebuilt" not in (pg.text_content(node) or "")


# ---------------------------------------------------------------- 3. lesson reveal

VISIBLE = """(el) => {
  const r = el.getBoundingClientRect();
  if (r.bottom > innerHeight + 0.5 || r.top < -0.5) return false;
  for (let p = el.parentElement; p; p = p.parentElement) {
    const s = getComputedStyle(p);
    if (s.overflowY === 'visible' && s.overflowX === 'visible') continue;
    const q = p.getBoundingClientRect();
    if (r.top < q.top - 0.5 || r.bottom > q.bottom + 0.5) return false;
  }
  return true;
}"""


def test_lesson_reveal_readable_in_presenter_mode(page: Page, server: str) -> None:
    pg = page
    lid = "parameter-server"
    lesson = get_json(f"{server}/api/lessons/{lid}")
    assert isinstance(lesson, dict)
    pg.goto(f"{server}/?lesson={lid}&big=1")
    pg.wait_for_selector("[data-testid=lesson-start]")
    pg.click(f"[data-testid=lesson-predict] [data-choice='{lesson['predict']['answer']}']")
    pg.click("[data-testid=lesson-start]")
    wait_status(pg, "finished", 60_000)
    items = pg.locator("[data-testid=lesson-measured] li")
    items.first.wait_for(state="visible", timeout=10_000)
    pg.wait_for_timeout(300)
    # the reveal brings the whole measured list into view by itself (no scrolling by hand)
    assert items.last.evaluate(VISIBLE), "the end of 'Measured in this run' is cut off"
    assert items.first.evaluate(VISIBLE)
    for lang in ("en", "zh"):
        set_view(pg, lang, True)
        n = items.count()
        assert n >= 2
        for i in range(n):  # every line of the list can be brought into view and read
            items.nth(i).scroll_into_view_if_needed()
            assert items.nth(i).evaluate(VISIBLE), (lang, i, items.nth(i).inner_text())
        shot(pg, f"lesson-reveal-{lang}-presenter")
    set_view(pg, "en", False)
    items.last.scroll_into_view_if_needed()
    assert items.last.evaluate(VISIBLE)
    shot(pg, "lesson-reveal-en")


# ---------------------------------------------------------------- 4. timeline clock in the URL

def test_timeline_clock_round_trips_through_the_url(page: Page, server: str) -> None:
    pg = page
    run = post(server, {**DP, "network": "1gbe"})
    assert wait_end(server, run)["status"] == "finished"
    modes = "#timeline-modes .toggle.active"
    pg.goto(f"{server}/?run={run}&tl=modelled")
    wait_status(pg, "finished", 30_000)
    active = f"document.querySelector('{modes}').dataset.mode"
    pg.wait_for_function(f"{active} === 'modelled'", timeout=10_000)
    assert "tl=modelled" in pg.url
    pg.click("[data-testid=timeline-compact]")
    assert "tl=compact" in pg.url
    url = pg.url
    pg.click("[data-testid=timeline-wall]")
    assert "tl=" not in pg.url
    # the link restores the clock
    pg.goto(url)
    wait_status(pg, "finished", 30_000)
    pg.wait_for_function(f"{active} === 'compact'", timeout=10_000)
    assert "tl=compact" in pg.url


# ---------------------------------------------------------------- 6. replicas badge

def test_failed_run_claims_no_identical_replicas(page: Page, server: str) -> None:
    pg = page
    run = post(server, {**DP, "workers": 3, "steps": 40, "pace": 10.0,
                        "faults": [{"after_step": 3, "action": "kill", "rank": 2}]})
    assert wait_end(server, run)["status"] == "failed"
    pg.goto(f"{server}/?run={run}")
    wait_status(pg, "failed", 30_000)
    badge = "[data-testid=replicas-badge]"
    pg.wait_for_function(f"document.querySelector('{badge}').dataset.state === 'failed'",
                         timeout=10_000)
    assert pg.inner_text(badge) == "replicas: —"
    assert "identical" not in pg.inner_text(badge)
    shot(pg, "badge-failed-en")
    set_view(pg, "zh", True)
    assert pg.inner_text(badge) == "副本：—"
    shot(pg, "badge-failed-zh-presenter")
    set_view(pg, "en", False)


# ---------------------------------------------------------------- 7. run list

def test_run_list_shows_the_end_of_the_run_at_once(page: Page) -> None:
    pg = page
    pg.fill("[data-testid=workers-input]", "2")
    pg.fill("[data-testid=steps-input]", "5")
    pg.set_checked("[data-testid=full-speed]", True)
    pg.click("[data-testid=start-run]")
    wait_status(pg, "finished", 45_000)
    run_id = pg.evaluate("window.distlab.app.runId")
    entry = f"[data-testid=run-list] [data-run-id='{run_id}'] .run-status-dot"
    # well before the 10 s poll: the list follows the run's own run_finished
    pg.wait_for_function(f"document.querySelector(\"{entry}\")?.dataset.status === 'finished'",
                         timeout=2_000)
    pg.wait_for_timeout(1500)  # a list fetched as the run ended does not bring "running" back
    assert pg.get_attribute(entry, "data-status") == "finished"
