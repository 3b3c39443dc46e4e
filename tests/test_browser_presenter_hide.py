"""Presenter mode + "hide controls" on a 1920×1080 projector, in a real Chromium against the
real server: with a lesson open and a classroom room, the lesson panel shrinks to its title
line (a click shows the rest) and the room banner to one compact line, so the Workers, Loss
and Boundary cards stay in the upper part of the screen. Also: the fault log never shows a
line cut in half, and the tail-latency chart's axis titles follow a language switch."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request

import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser_support import ARTIFACTS, INSTRUCTOR_KEY, get_json

pytestmark = pytest.mark.browser

LESSON = "stragglers"
# a straggler run: the tail-latency card applies (rank 0 sleeps 3× the emulated 10 ms)
RUN = {"strategy": "data_parallel", "workers": 2, "steps": 8, "pace": None, "dataset": "moons",
       "seed": 3, "emulated_compute_ms": 10, "straggler": "one", "straggler_factor": 3,
       "straggler_rank": 0}

LOSS_CARD_TOP = """() => document.getElementById('loss-chart').closest('.card')
  .getBoundingClientRect().top"""
# With the controls hidden: the loss card in the upper two thirds of the screen, the lesson
# panel one line (its summary folded) and the room banner one line.
HIDDEN_LAYOUT = f"""() => ({LOSS_CARD_TOP})() <= 1080 * 2 / 3
  && document.getElementById('lesson-band').getBoundingClientRect().height < 80
  && document.getElementById('room-banner').getBoundingClientRect().height < 70"""


def wait_layout(pg: Page, js: str) -> None:
    """Wait until the layout after a switch (it settles in later frames: resize observers,
    fitted panels) makes `js` true; if it never does, the assertions after say what differs."""
    with contextlib.suppress(PlaywrightTimeoutError):
        pg.wait_for_function(js, timeout=30_000)


def finish(server: str, config: dict) -> str:
    req = urllib.request.Request(f"{server}/api/runs", data=json.dumps(config).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        run_id = json.loads(res.read())["id"]
    for _ in range(300):
        run = get_json(f"{server}/api/runs/{run_id}")
        assert isinstance(run, dict)
        if run["status"] not in ("starting", "running"):
            break
        time.sleep(0.1)
    assert run["status"] == "finished", run
    return run_id


def shot(pg: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(ARTIFACTS / f"presenter-hide-{name}.png"))


@pytest.fixture
def big_page(browser: Browser, server: str):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def test_presenter_hide_keeps_the_views_on_a_projector(big_page: Page, server: str) -> None:
    pg = big_page
    run_id = finish(server, RUN)
    pg.goto(f"{server}/?run={run_id}&lesson={LESSON}")
    pg.wait_for_function("window.distlab !== undefined && window.Plotly !== undefined")
    pg.wait_for_selector("[data-testid=lesson-panel] [data-testid=lesson-head]")
    # a classroom room, opened by the instructor: the big code banner
    pg.click("[data-testid=room-menu]")
    pg.fill("[data-testid=room-key-input]", INSTRUCTOR_KEY)
    pg.click("[data-testid=room-open]")
    pg.wait_for_selector("[data-testid=room-banner][data-role=instructor] [data-testid=room-code]")
    code = pg.inner_text("[data-testid=room-code]").strip()
    pg.keyboard.press("p")
    pg.wait_for_function("document.body.classList.contains('presenter')")
    pg.wait_for_timeout(300)
    shot(pg, "en-presenter")
    before = pg.evaluate(LOSS_CARD_TOP)

    pg.keyboard.press("h")
    pg.wait_for_function("document.body.classList.contains('hide-controls')")
    wait_layout(pg, HIDDEN_LAYOUT)
    shot(pg, "en-hidden")
    top = pg.evaluate(LOSS_CARD_TOP)
    assert top <= 1080 * 2 / 3, f"loss card starts at {top}px (was {before}px before hiding)"
    # the lesson panel is one title line; the room banner one line with a readable code
    head = pg.locator("[data-testid=lesson-head]")
    assert head.is_visible()
    assert not pg.locator("[data-testid=lesson-summary]").is_visible()
    panel_h = pg.evaluate("document.getElementById('lesson-band').getBoundingClientRect().height")
    assert panel_h < 80, panel_h
    banner = pg.evaluate("""() => {
      const b = document.getElementById('room-banner').getBoundingClientRect();
      const c = document.querySelector('[data-testid=room-code]');
      return {h: b.height, code: c.innerText, font: parseFloat(getComputedStyle(c).fontSize),
              visible: c.getBoundingClientRect().bottom <= b.bottom + 0.5};
    }""")
    assert banner["h"] < 70 and banner["code"].strip() == code, banner
    assert banner["font"] >= 20 and banner["visible"], banner

    # a click on the title line shows the whole lesson, another one folds it again
    head.click()
    assert pg.locator("[data-testid=lesson-summary]").is_visible()
    shot(pg, "en-hidden-expanded")
    head.click()
    assert not pg.locator("[data-testid=lesson-summary]").is_visible()

    # Chinese: the same one-line panel and banner
    pg.evaluate("document.querySelector('[data-testid=lang-toggle]').click()")
    pg.wait_for_function("document.documentElement.lang.startsWith('zh')")
    wait_layout(pg, f"({LOSS_CARD_TOP})() <= 1080 * 2 / 3")
    assert pg.evaluate(LOSS_CARD_TOP) <= 1080 * 2 / 3
    shot(pg, "zh-hidden")

    # the tail-latency chart of the finished run follows the language switch
    pg.keyboard.press("h")
    pg.wait_for_selector("#tail-latency .xtitle")
    titles = ("() => [...document.querySelectorAll('#tail-latency .xtitle, #tail-latency .ytitle')]"
              ".map((e) => e.textContent)")
    zh = pg.evaluate(titles)
    pg.click("[data-testid=lang-toggle]")
    pg.wait_for_function("document.documentElement.lang === 'en'")
    pg.wait_for_function(f"({titles})()[0] !== {json.dumps(zh[0])}", timeout=5000)
    en = pg.evaluate(titles)
    assert en != zh and en[0] == "step", (zh, en)
    # the lesson's title stays in sight (sticky) when its panel is scrolled
    pg.set_viewport_size({"width": 1100, "height": 560})
    scrolls = ("(() => { const p = document.getElementById('lesson-panel');"
               " return p.scrollHeight > p.clientHeight + 20; })()")
    wait_layout(pg, scrolls)
    assert pg.evaluate(scrolls)
    pg.evaluate("document.getElementById('lesson-panel').scrollTop = 10000")
    vis = pg.evaluate("""() => {
      const p = document.getElementById('lesson-panel').getBoundingClientRect();
      const h = document.querySelector('[data-testid=lesson-head]').getBoundingClientRect();
      return h.top >= p.top - 0.5 && h.bottom <= p.bottom;
    }""")
    assert vis
    shot(pg, "en-scrolled")
