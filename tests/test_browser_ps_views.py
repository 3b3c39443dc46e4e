"""Parameter-server views in a real Chromium against the real server: the workers' labels
fit side by side (8 workers, both languages, presenter mode), a rebuilt server says so on
its node and in the narration, and the info panel and the tail-latency caption describe
the run's consistency mode instead of the all-reduce."""

from __future__ import annotations

import contextlib

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser_support import (
    ARTIFACTS,
    post_run,
    set_view,
    wait_run_end,
    wait_status,
)

pytestmark = pytest.mark.browser

APP_READY = "window.distlab !== undefined && window.Plotly !== undefined"


def shot(pg: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(ARTIFACTS / f"ps-{name}.png"))


# Pairs of text boxes of neighbouring worker nodes that overlap (they should not).
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
            # the nodes are redrawn for the new size and words in later frames: wait for them
            with contextlib.suppress(PlaywrightTimeoutError):  # else the asserts say what differs
                pg.wait_for_function(
                    f"""n => {{ const r = {OVERLAPS};
                               return r.n === n && r.texts >= 2 * n && r.bad.length === 0; }}""",
                    arg=workers, timeout=30_000,
                )
            res = pg.evaluate(OVERLAPS)
            assert res["n"] == workers and res["texts"] >= 2 * workers, res
            assert res["bad"] == [], (lang, presenter, res)
            shot(pg, f"{workers}-{lang}{'-presenter' if presenter else ''}-{name}")
    set_view(pg, "en", False)


def test_ps_worker_labels_fit_with_8_workers(page: Page, server: str) -> None:
    run = post_run(server, {"strategy": "parameter_server", "workers": 8, "steps": 60,
                            "pace": None, "options": {"ps_mode": "async"}, "dataset": "moons",
                            "batch_size": 8})
    assert wait_run_end(server, run, 90)["status"] == "finished"
    page.goto(f"{server}/?run={run}")
    wait_status(page, "finished", 30_000)
    page.wait_for_selector("#topology .ps-worker")
    check_labels_fit(page, 8, "finished")


def test_rebuilt_server_on_its_node_and_in_the_narration(page: Page, server: str) -> None:
    pg = page
    run = post_run(server, {"strategy": "parameter_server", "workers": 4, "steps": 24,
                            "pace": 3.0, "options": {"ps_mode": "sync"}, "checkpoint_every": 5,
                            "recovery": "restart", "dataset": "moons", "batch_size": 8,
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
    shot(pg, "4-rebuilt-en")
    check_labels_fit(pg, 4, "live")
    set_view(pg, "zh", True)
    shot(pg, "4-rebuilt-zh-presenter")
    set_view(pg, "en", False)
    wait_status(pg, "finished", 60_000)
    # a few versions later the node is back to its usual lines
    assert pg.get_attribute(node, "data-restored") is None
    assert "rebuilt" not in (pg.text_content(node) or "")


def test_info_panel_and_tail_caption_follow_an_async_ps_run(page: Page, server: str) -> None:
    pg = page
    pg.goto(
        f"{server}/?strategy=parameter_server&ps_mode=async&workers=2&steps=8&pace=full&lang=zh"
    )
    pg.wait_for_function(APP_READY)
    pg.click("[data-testid=start-run]")
    wait_status(pg, "finished", 40_000)
    pg.wait_for_function(
        "document.getElementById('tail-explain').dataset.i18n === 'tail.async'"
    )
    assert "异步" in pg.inner_text("#tail-explain")
    article = pg.inner_text("[data-i18n-html='article.ps.async']")
    assert "服务器" in article and "全归约" not in article
    pg.click("#lang-toggle")
    pg.wait_for_function("document.documentElement.lang.startsWith('en')")
    assert "Asynchronous" in pg.inner_text("[data-i18n-html='article.ps.async']")
    assert "waits for its slowest" not in pg.inner_text("#tail-explain")
    pg.locator("[data-i18n-html='article.ps.async']").scroll_into_view_if_needed()
    shot(pg, "article-async")
