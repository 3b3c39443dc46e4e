"""A bad value is refused next to its field, in the page's language (issue 13, item 7).

The form checks every value against the schema the API validates with (GET
/api/schema/config, GET /api/strategies) before it posts: the field is marked
aria-invalid and a message beside it (data-testid=field-error-<name>) says what is
allowed, and no run starts. What only the server can know (a rule between two fields)
comes back as a 422: its errors land on their fields the same way, in the same words.
The allowed ranges in the assertions are read from the API, not typed here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, Request

from tests.browser_support import get_json, wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/B")
APP_READY = "window.distlab !== undefined && window.Plotly !== undefined"
START = "[data-testid=start-run]"
FORM_ERROR = "[data-testid=form-error]"


def _field(server: str, name: str) -> dict:
    schema = get_json(f"{server}/api/schema/config")
    assert isinstance(schema, dict)
    return next(f for f in schema["fields"] if f["name"] == name)


def _open_zh(pg: Page, server: str, query: str = "") -> list[str]:
    """The page in Chinese, ready; returns the list the page's POST /api/runs land in."""
    pg.goto(f"{server}/?lang=zh{query}")
    pg.wait_for_function(APP_READY)
    pg.wait_for_function(f"!document.querySelector('{START}').disabled", timeout=30_000)
    posts: list[str] = []

    def seen(req: Request) -> None:
        if req.method == "POST" and req.url.endswith("/api/runs"):
            posts.append(req.url)

    pg.on("request", seen)
    return posts


def _error_shown(pg: Page, name: str, timeout: int = 30_000) -> str:
    pg.wait_for_function(
        """n => { const e = document.querySelector(`[data-testid="field-error-${n}"]`);
                  return !!e && !e.hidden && e.textContent.trim() !== ''; }""",
        arg=name,
        timeout=timeout,
    )
    return pg.inner_text(f'[data-testid="field-error-{name}"]').strip()


def _error_gone(pg: Page, name: str, input_sel: str) -> None:
    pg.wait_for_function(
        """([n, sel]) => { const e = document.querySelector(`[data-testid="field-error-${n}"]`);
                  return (!e || e.hidden) &&
                         document.querySelector(sel).getAttribute('aria-invalid') !== 'true'; }""",
        arg=[name, input_sel],
        timeout=30_000,
    )


def test_an_out_of_range_batch_is_refused_beside_its_field_in_chinese(
    page: Page, server: str
) -> None:
    pg = page
    posts = _open_zh(pg, server)
    batch = _field(server, "batch_size")
    sel = "[data-testid=batch-input]"
    pg.fill(sel, str(batch["max"] + 488))
    pg.click(START)
    text = _error_shown(pg, "batch_size")
    # the allowed range, from the schema, in Chinese; no English validator words
    assert f"介于 {batch['min']} 与 {batch['max']} 之间" in text, text
    assert pg.get_attribute(sel, "aria-invalid") == "true"
    assert "Input should" not in pg.inner_text("#run-form")
    # the message sits next to its field (inside the same label)
    assert pg.evaluate(
        """s => document.querySelector(s).closest('.field')
                 .contains(document.querySelector('[data-testid="field-error-batch_size"]'))""",
        sel,
    )
    assert posts == [], "the form posted a run it knew was invalid"
    assert pg.get_attribute("[data-testid=run-status]", "data-status") == "none"
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "field-error-zh.png"))

    # fixed: the message goes as soon as the value is allowed, and the run starts
    pg.fill(sel, "16")
    _error_gone(pg, "batch_size", sel)
    pg.fill("[data-testid=steps-input]", "3")
    pg.check("[data-testid=full-speed]")
    with pg.expect_response(lambda r: r.url.endswith("/api/runs") and r.status == 201):
        pg.click(START)
    wait_status(pg, "finished", 90_000)
    assert len(posts) == 1


def test_a_rule_only_the_server_knows_lands_on_its_field(page: Page, server: str) -> None:
    pg = page
    # the schema lets a straggler rank go up to 7; with 2 workers the server refuses 3
    posts = _open_zh(pg, server, "&workers=2&straggler=one&steps=3")
    assert _field(server, "straggler_rank")["max"] >= 3
    if not pg.evaluate("document.querySelector('[data-testid=straggler-section]').open"):
        pg.click("[data-testid=straggler-section] > summary")
    rank = "[data-testid=straggler-rank-input]"
    pg.fill(rank, "3")
    with pg.expect_response(lambda r: r.url.endswith("/api/runs") and r.status == 422):
        pg.click(START)
    text = _error_shown(pg, "straggler_rank")
    assert "介于 0 与 1 之间" in text, text
    assert pg.get_attribute(rank, "aria-invalid") == "true"
    # no raw API text anywhere in the form
    assert "must be between" not in pg.inner_text("#run-form")
    assert len(posts) == 1
    pg.fill(rank, "1")
    _error_gone(pg, "straggler_rank", rank)


def test_a_refused_strategy_option_lands_on_its_option(page: Page, server: str) -> None:
    pg = page
    # backup workers: the spec allows up to 7, the server only fewer than the workers
    _open_zh(pg, server, "&strategy=parameter_server&ps_mode=backup&workers=2&steps=3")
    opt = "[data-testid=opt-backup_workers]"
    pg.wait_for_selector(opt)
    pg.fill(opt, "2")
    pg.locator(opt).dispatch_event("change")
    with pg.expect_response(lambda r: r.url.endswith("/api/runs") and r.status == 422):
        pg.click(START)
    text = _error_shown(pg, "backup_workers")
    assert "介于 0 与 1 之间" in text, text
    assert pg.get_attribute(opt, "aria-invalid") == "true"
    assert "options.backup_workers" not in pg.inner_text("#run-form")


def test_workers_times_batch_beyond_the_data_set_is_said_at_the_batch(
    page: Page, server: str
) -> None:
    pg = page
    _open_zh(pg, server, "&workers=4&steps=3")
    samples = _field(server, "num_samples")["default"]
    batch = "[data-testid=batch-input]"
    pg.fill(batch, str(samples // 4 + 1))  # within the schema's range, too many together
    with pg.expect_response(lambda r: r.url.endswith("/api/runs") and r.status == 422):
        pg.click(START)
    text = _error_shown(pg, "batch_size")
    assert str(samples // 4) in text and "num_samples" not in text, text
    assert pg.get_attribute(batch, "aria-invalid") == "true"
    # in English the same field says it in English
    pg.click("[data-testid=lang-toggle]")
    pg.wait_for_function("document.documentElement.lang === 'en'", timeout=30_000)
    text = _error_shown(pg, "batch_size")
    assert str(samples // 4) in text and "每个" not in text, text


def test_an_error_not_tied_to_a_field_still_shows_the_servers_words(
    page: Page, server: str
) -> None:
    pg = page
    _open_zh(pg, server)
    pg.route(
        "**/api/runs",
        lambda route: route.fulfill(status=422, content_type="application/json",
                                    body='{"detail": "something else went wrong"}')
        if route.request.method == "POST" else route.continue_(),
    )
    pg.click(START)
    err = pg.locator(FORM_ERROR)
    err.wait_for(state="visible", timeout=30_000)
    assert "something else went wrong" in err.inner_text()
