"""The run's status as the page shows it, in a real Chromium against the real server: the
status pill is one word (in Chinese too), the run list shows a run's end as soon as the
run itself reports it, and an unknown ``?run=`` id says so in the page's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request

from tests.browser_support import wait_status

pytestmark = pytest.mark.browser

APP_READY = "window.distlab !== undefined && window.Plotly !== undefined"


def test_status_pill_is_one_word_in_chinese(page: Page, server: str) -> None:
    pg = page
    pg.goto(f"{server}/?workers=2&steps=4&pace=full&lang=zh")
    pg.wait_for_function(APP_READY)
    pg.click("[data-testid=start-run]")
    wait_status(pg, "finished", 30_000)
    pill = pg.locator("[data-testid=run-status]")
    assert pill.get_attribute("data-status") == "finished"
    assert pill.inner_text().strip() == "已完成"
    assert not pg.locator("#status-local").is_visible()
    pg.click("#lang-toggle")
    pg.wait_for_function("document.documentElement.lang.startsWith('en')")
    pg.wait_for_function(
        "document.querySelector('[data-testid=run-status]').innerText.trim() === 'finished'"
    )


def test_run_list_shows_the_end_of_the_run_at_once(page: Page) -> None:
    pg = page
    pg.fill("[data-testid=workers-input]", "2")
    pg.fill("[data-testid=steps-input]", "5")
    pg.set_checked("[data-testid=full-speed]", True)
    lists: list[Request] = []  # the page's fetches of the run list
    pg.on("request", lambda r: lists.append(r) if r.url.endswith("/api/runs") else None)
    pg.click("[data-testid=start-run]")
    wait_status(pg, "finished", 45_000)
    run_id = pg.evaluate("window.distlab.app.runId")
    entry = f"[data-testid=run-list] [data-run-id='{run_id}'] .run-status-dot"
    # well before the 10 s poll: the list follows the run's own run_finished
    pg.wait_for_function(f"document.querySelector(\"{entry}\")?.dataset.status === 'finished'",
                         timeout=2_000)
    # A list fetched as the run ended must not bring "running" back. That is a change that
    # must not come, so a fixed wait; and then every list the page asked for has been
    # answered, so none is still on its way to undo the assertion below.
    pg.wait_for_timeout(1500)
    for r in lists:
        res = r.response()
        if res is not None:
            res.finished()
    pg.wait_for_timeout(200)  # the page applies the last answer
    assert pg.get_attribute(entry, "data-status") == "finished"


@pytest.mark.parametrize(
    "lang,expected", [("en", "no run with id none"), ("zh", "没有 ID 为 none 的运行")]
)
def test_unknown_run_id_says_so(page: Page, server: str, lang: str, expected: str) -> None:
    pg = page
    pg.goto(f"{server}/?run=none&lang={lang}")
    pg.wait_for_function(APP_READY)
    err = pg.locator("[data-testid=form-error]")
    err.wait_for(state="visible")
    pg.wait_for_function(
        "t => document.querySelector('[data-testid=form-error]').innerText.includes(t)",
        arg=expected,
    )
    assert "pattern" not in err.inner_text()
