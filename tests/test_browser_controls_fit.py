"""The run buttons and the player's buttons stay whole and within reach (issue 13, item 5).

A paused run's Stop button reads its whole word (the Resume beside it is wider than
Pause); with every form section open, Start is still on screen; the player's play/pause
glyph is drawn (an SVG icon), not a character that some machines have no font for.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser_support import wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/B")
APP_READY = "window.distlab !== undefined && window.Plotly !== undefined"
START = "[data-testid=start-run]"


def _open(
    browser: Browser, server: str, width: int, height: int, query: str = ""
) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{server}/{query}")
    pg.wait_for_function(APP_READY)
    pg.wait_for_function(f"!document.querySelector('{START}').disabled", timeout=30_000)
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def wide(browser: Browser, server: str) -> Iterator[Page]:
    yield from _open(browser, server, 1440, 900)


def _shot(pg: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / name))


def _whole(pg: Page, testid: str) -> dict:
    return pg.evaluate(
        """id => { const b = document.querySelector(`[data-testid=${id}]`);
                   const r = b.getBoundingClientRect();
                   const panel = document.querySelector('aside.controls');
                   const p = panel.getBoundingClientRect();
                   return {text: b.innerText.trim(), sw: b.scrollWidth, cw: b.clientWidth,
                           inside: r.left >= p.left && r.right <= p.left + panel.clientWidth,
                           panelScrolls: panel.scrollWidth > panel.clientWidth}; }""",
        testid,
    )


def test_a_paused_runs_stop_button_reads_its_whole_word(wide: Page) -> None:
    pg = wide
    pg.fill("[data-testid=steps-input]", "400")
    pg.fill("[data-testid=pace-input]", "2")
    pg.click(START)
    wait_status(pg, "running", 60_000)
    pg.click("[data-testid=pause-run]")
    wait_status(pg, "paused", 30_000)
    pg.wait_for_function(
        "document.querySelector('[data-testid=pause-run]').dataset.action === 'resume'",
        timeout=30_000,
    )
    _shot(pg, "paused-en.png")
    for lang, words in (("en", ("Resume", "Step", "Stop")), ("zh", ("继续", "单步", "停止"))):
        if lang == "zh":
            pg.click("[data-testid=lang-toggle]")
            pg.wait_for_function("document.documentElement.lang.startsWith('zh')", timeout=30_000)
            _shot(pg, "paused-zh.png")
        for testid, word in zip(("pause-run", "step-run", "stop-run"), words, strict=True):
            got = _whole(pg, testid)
            assert got["text"] == word, (lang, testid, got)
            assert got["sw"] <= got["cw"], (lang, testid, got)
            # the button lies wholly inside the panel (not cut off by its edge)
            assert got["inside"] and not got["panelScrolls"], (lang, testid, got)
    pg.click("[data-testid=stop-run]")
    wait_status(pg, "stopped", 60_000)


def _start_in_view(pg: Page) -> dict:
    return pg.evaluate(
        """() => {
          const b = document.querySelector('[data-testid=start-run]');
          const r = b.getBoundingClientRect();
          const panel = document.querySelector('aside.controls').getBoundingClientRect();
          const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          return {top: r.top, bottom: r.bottom, h: r.height, vh: innerHeight, vw: innerWidth,
                  right: r.right, panelTop: panel.top, panelBottom: panel.bottom,
                  hit: !!hit && (hit === b || b.contains(hit))};
        }"""
    )


@pytest.mark.parametrize("size", [(1440, 900), (1920, 1080)])
def test_start_stays_in_view_with_every_section_open(
    browser: Browser, server: str, size: tuple[int, int]
) -> None:
    for pg in _open(browser, server, *size, query="?strategy=parameter_server&ps_mode=ssp"):
        # open every closed section of the form (and "More options")
        toggles = pg.locator("#run-form details:not([open]) > summary")
        for _ in range(10):
            visible = [s for s in toggles.all() if s.is_visible()]
            if not visible:
                break
            visible[0].click()
        assert pg.locator("#run-form details:not([open]) > summary:visible").count() == 0
        # a scheduled fault or two make the form longer still
        pg.click("[data-testid=add-sched]")
        pg.click("[data-testid=add-sched]")
        _shot(pg, f"sections-open-{size[0]}.png")
        got = _start_in_view(pg)
        assert got["h"] > 0 and got["top"] >= 0 and got["bottom"] <= got["vh"], got
        assert got["top"] >= got["panelTop"] and got["bottom"] <= got["panelBottom"], got
        assert got["hit"], got


def test_the_replay_button_draws_its_icons(wide: Page) -> None:
    pg = wide
    pg.fill("[data-testid=steps-input]", "60")
    pg.check("[data-testid=full-speed]")
    pg.click(START)
    wait_status(pg, "finished", 90_000)
    button = "[data-testid=replay-play]"
    pg.wait_for_function(f"!document.querySelector('{button}').disabled", timeout=30_000)
    pg.select_option("[data-testid=replay-speed]", "2")
    # idle: a drawn play triangle, and the word; no font glyph in the text
    icon = pg.evaluate(
        """b => { const el = document.querySelector(b);
                  const svg = [...el.querySelectorAll('svg')]
                    .find(s => s.getBoundingClientRect().width > 0);
                  return {icon: svg ? svg.dataset.icon : null, text: el.innerText.trim()}; }""",
        button,
    )
    assert icon == {"icon": "play", "text": "Replay"}, icon
    pg.click(button)
    pg.wait_for_function(
        """b => [...document.querySelector(b).querySelectorAll('svg')]
                 .some(s => s.dataset.icon === 'pause' && s.getBoundingClientRect().width > 0)""",
        arg=button,
        timeout=30_000,
    )
    text = pg.inner_text(button).strip()
    assert text in ("Pause", "Replay"), text  # the replay may have ended meanwhile
    for testid in ("replay-play", "go-live"):
        for ch in "▶⏸●":
            assert ch not in pg.inner_text(f"[data-testid={testid}]"), (testid, ch)
    _shot(pg, "player-bar.png")
