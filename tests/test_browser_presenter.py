"""Presenter mode in a real Chromium against the real server: keys (← during a live run),
hide controls, the colour-blind-safe palette, the narration from real events, live
scrubbing, the shared URL round trip (the timeline clock included) and the export
downloads (files and PNG)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser_support import ARTIFACTS, get_json, wait_status
from tests.test_browser_rooms import wait_steady

pytestmark = pytest.mark.browser

# Okabe & Ito (2008), as in frontend/static/js/views/palette.js, plus black for the mean.
OKABE_ITO = {"#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#000000"}
RGB = {
    "rgb(230, 159, 0)", "rgb(86, 180, 233)", "rgb(0, 158, 115)", "rgb(240, 228, 66)",
    "rgb(0, 114, 178)", "rgb(213, 94, 0)", "rgb(204, 121, 167)", "rgb(0, 0, 0)",
}
WAIT_GREY = {"rgb(160, 160, 160)", "rgb(153, 153, 153)"}  # the idle/wait segments


def post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def finish(server: str, config: dict) -> str:
    """Start a run through the API and wait for its end (full speed, a few steps)."""
    run = post(f"{server}/api/runs", config)
    for _ in range(300):
        if get_json(f"{server}/api/runs/{run['id']}")["status"] not in ("starting", "running"):
            break
        time.sleep(0.1)
    assert get_json(f"{server}/api/runs/{run['id']}")["status"] == "finished"
    return run["id"]


DP_CONFIG = {"strategy": "data_parallel", "workers": 2, "steps": 10, "pace": None,
             "dataset": "moons", "seed": 3}
# Rank 0 sleeps 5× the emulated 20 ms: rank 1 waits ~80 ms for it at every all-reduce.
STRAGGLER_CONFIG = {**DP_CONFIG, "steps": 6, "emulated_compute_ms": 20, "straggler": "one",
                    "straggler_factor": 5, "straggler_rank": 0}


@pytest.fixture(scope="module")
def dp_run(server: str) -> str:
    return finish(server, DP_CONFIG)


def open_run(pg: Page, server: str, run_id: str, query: str = "") -> None:
    pg.goto(f"{server}/?run={run_id}{query}")
    pg.wait_for_function("window.distlab !== undefined && window.Plotly !== undefined")
    wait_status(pg, "finished", 30_000)
    pg.wait_for_function("""(() => { const gd = document.querySelector('[data-testid=loss-chart]');
        return !!(gd.data && gd.data.length && gd.data[0].x.length); })()""", timeout=10_000)


def cursor(pg: Page) -> dict:
    return pg.evaluate("(() => { const p = window.distlab.player; return {mode: p.mode,"
                       " cursor: p.cursor, last: p.lastStep}; })()")


def chart_last_x(pg: Page) -> int:
    """The newest step the loss chart shows (its mean trace)."""
    return pg.evaluate("""(() => { const gd = document.querySelector('[data-testid=loss-chart]');
        const xs = (gd.data || []).flatMap((d) => Array.from(d.x || []));
        return xs.length ? Math.max(...xs) : 0; })()""")


# Counts the loss chart's draws (Plotly.react / newPlot on its div).
COUNT_LOSS_DRAWS = """() => {
  if (window.__lossDraws !== undefined) return;
  window.__lossDraws = 0;
  for (const name of ['react', 'newPlot']) {
    const orig = window.Plotly[name];
    window.Plotly[name] = function (gd, ...rest) {
      if (gd && gd.id === 'loss-chart') window.__lossDraws++;
      return orig.call(this, gd, ...rest);
    };
  }
}"""


def test_keys_and_live_scrubbing_during_a_paced_run(page: Page) -> None:
    pg = page
    pg.select_option("[data-testid=strategy-select]", "data_parallel")
    pg.fill("[data-testid=workers-input]", "2")
    pg.fill("[data-testid=steps-input]", "60")
    pg.fill("[data-testid=pace-input]", "5")
    pg.set_checked("[data-testid=full-speed]", False)
    pg.evaluate(COUNT_LOSS_DRAWS)
    pg.click("[data-testid=start-run]")
    pg.wait_for_function("window.distlab.player.lastStep >= 5", timeout=30_000)
    pg.locator("body").click(position={"x": 5, "y": 790})  # focus off the form

    # ← twice: the views hold an older step while the run goes on
    pg.keyboard.press("ArrowLeft")
    pg.keyboard.press("ArrowLeft")
    held = cursor(pg)
    assert held["mode"] == "scrub"
    at = held["cursor"]
    pg.wait_for_function(f"window.distlab.player.lastStep >= {at + 4}", timeout=20_000)
    # The views must not follow the newer steps. The chart draws whatever it was last handed,
    # so the second draw from now draws a state handed over after those steps had arrived:
    # only then can the check below see a chart that wrongly followed them.
    draws = pg.evaluate("window.__lossDraws")
    pg.wait_for_function(f"window.__lossDraws >= {draws + 2}", timeout=30_000)
    now = cursor(pg)
    assert now["mode"] == "scrub" and now["cursor"] == at, now
    assert now["last"] >= at + 4
    assert chart_last_x(pg) == at, "the loss chart shows the scrubbed step, not the newest"
    assert pg.inner_text("[data-testid=narration]").startswith(f"step {at}")
    assert "viewing the past" in pg.inner_text("[data-testid=scrub-label]")
    assert f"at={at}" in pg.url

    # Live: the views catch up with the run
    pg.click("[data-testid=go-live]")
    pg.wait_for_function(
        """(() => { const gd = document.querySelector('[data-testid=loss-chart]');
        const xs = (gd.data || []).flatMap((d) => Array.from(d.x || []));
        return Math.max(...xs) >= window.distlab.player.lastStep - 1; })()""", timeout=10_000)
    assert cursor(pg)["mode"] == "live"
    assert chart_last_x(pg) > at + 2
    assert "at=" not in pg.url

    # 3 sets the live run's pace (set_pace through the form), shown for a moment
    pg.keyboard.press("3")
    assert pg.input_value("[data-testid=pace-input]") == "3"
    assert "3 steps/s" in pg.inner_text("[data-testid=key-flash]")
    assert pg.locator("[data-testid=form-error]").is_hidden()

    # space pauses the live run, → trains exactly one step, space resumes
    pg.keyboard.press(" ")
    wait_status(pg, "paused", 10_000)
    # the step that was in flight when the pause was asked for has landed
    wait_steady(pg, "window.distlab.player.lastStep")
    before = cursor(pg)["last"]
    pg.keyboard.press("ArrowRight")
    pg.wait_for_function(f"window.distlab.player.lastStep === {before + 1}", timeout=10_000)
    pg.keyboard.press(" ")
    wait_status(pg, "running", 10_000)
    pg.click("[data-testid=stop-run]")
    wait_status(pg, "stopped", 15_000)


def _colours_when_drawn(pg: Page, read_js: str) -> list[str]:
    """The distinct colours `read_js` reads, once there are some and none is missing."""
    handle = pg.wait_for_function(
        f"(() => {{ const cs = [...new Set({read_js})];"
        " return cs.length && cs.every(c => c) ? cs : null; })()", timeout=10_000)
    return handle.json_value()


def test_presenter_hide_controls_help_and_palette(page: Page, server: str, dp_run: str) -> None:
    pg = page
    open_run(pg, server, dp_run)
    pg.click("[data-testid=presenter-toggle]")
    assert pg.evaluate("document.body.classList.contains('presenter')")
    narr_px = pg.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('[data-testid=narration]')).fontSize)")
    assert narr_px >= 22

    # the palette: ranks and segments in Okabe–Ito colours everywhere. The views draw in
    # the next animation frame (views/frame.js), and the presenter toggle redraws them:
    # each reading waits until every element it reads has its colour.
    strokes = _colours_when_drawn(
        pg, "[...document.querySelectorAll('[data-testid=topology] .node[data-rank] .node-body')]"
            ".map(e => e.getAttribute('stroke'))")
    assert {s.lower() for s in strokes} <= OKABE_ITO, strokes
    lines = _colours_when_drawn(
        pg, "(document.querySelector('[data-testid=loss-chart]').data || [])"
            ".map(d => d.line.color)")
    assert {c.lower() for c in lines} <= OKABE_ITO, lines
    fills = _colours_when_drawn(
        pg, "[...document.querySelectorAll('[data-testid=timeline] .seg')]"
            ".map(e => getComputedStyle(e).fill)")
    assert fills and set(fills) <= RGB | WAIT_GREY, fills

    # hide controls: only the views stay; H brings the controls back
    pg.click("[data-testid=hide-controls]")
    assert pg.locator("aside.controls").is_hidden()
    assert pg.locator("[data-testid=scrubber]").is_hidden()
    assert pg.locator("[data-testid=topology]").is_visible()
    assert pg.locator("[data-testid=loss-chart]").is_visible()
    assert pg.locator("[data-testid=narration]").is_visible()
    assert "hide=1" in pg.url and "big=1" in pg.url
    pg.screenshot(path=str(ARTIFACTS / "presenter-hidden-controls.png"))
    pg.locator("body").click(position={"x": 5, "y": 5})
    pg.keyboard.press("h")
    assert pg.locator("aside.controls").is_visible()
    assert "hide=1" not in pg.url

    # ? shows the key help, in both languages; Esc closes it
    pg.keyboard.press("?")
    assert pg.locator("[data-testid=key-help]").is_visible()
    assert "one step back in time" in pg.inner_text("[data-testid=key-help]")
    pg.screenshot(path=str(ARTIFACTS / "presenter-key-help-en.png"))
    pg.keyboard.press("Escape")
    assert pg.locator("[data-testid=key-help]").is_hidden()
    pg.click("[data-testid=lang-toggle]")
    pg.keyboard.press("?")
    assert "后退一步" in pg.inner_text("[data-testid=key-help]")
    pg.keyboard.press("Escape")

    # F: fullscreen on and off (the page asks the browser; headless Chromium grants it)
    pg.keyboard.press("f")
    pg.wait_for_function("document.fullscreenElement !== null", timeout=5_000)
    pg.keyboard.press("f")
    pg.wait_for_function("document.fullscreenElement === null", timeout=5_000)


def test_narration_names_the_straggler_from_real_events(page: Page, server: str) -> None:
    pg = page
    run_id = finish(server, STRAGGLER_CONFIG)
    open_run(pg, server, run_id)
    pg.locator("body").click(position={"x": 5, "y": 790})
    pg.keyboard.press("ArrowLeft")  # step 5 of 6: a training step, not the summary
    pg.wait_for_function("window.distlab.player.cursor === 5")
    events = get_json(f"{server}/api/runs/{run_id}/events?after=0&limit=1000")
    held = {e["rank"]: e["comm_ms"] + e["wait_ms"] for e in events
            if e["type"] == "step" and e["step"] == 5}
    # rank 1 sat in the all-reduce until rank 0 joined: its extra time there is waiting
    waited = held[1] - held[0]
    assert waited > 30
    pg.wait_for_function(
        "document.querySelector('[data-testid=narration]').textContent.startsWith('step 5')")
    text = pg.inner_text("[data-testid=narration]")
    assert text.startswith("step 5: rank 0 is "), text
    assert "× slower — the other worker waits" in text
    # the waiting time on screen is the event's wait_ms
    assert f"{waited:.1f} ms" in text or f"{round(waited)} ms" in text, (text, waited)
    pg.click("[data-testid=lang-toggle]")
    pg.wait_for_function("document.documentElement.lang === 'zh-CN'")
    pg.wait_for_function(
        "document.querySelector('[data-testid=narration]').textContent.startsWith('第 5 步')",
        timeout=30_000,
    )
    zh = pg.inner_text("[data-testid=narration]")
    assert zh.startswith("第 5 步：进程 0 的用时是另一个进程的") and "等了它" in zh, zh


@pytest.fixture
def fresh_page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == []


def test_shared_url_reproduces_config_and_view(page: Page, fresh_page: Page, browser: Browser,
                                               server: str) -> None:
    scenarios = {s["name"]: s["config"] for s in get_json(f"{server}/api/scenarios")}
    run_id = finish(server, {**scenarios["ps-async"], "steps": 12, "pace": None, "seed": 7})
    pg = page
    pg.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    open_run(pg, server, run_id, "&keep=me")
    pg.click("[data-testid=chart-x-time]")
    pg.click("[data-testid=presenter-toggle]")
    pg.click("[data-testid=lang-toggle]")
    pg.click("[data-testid=hide-controls]")
    pg.locator("body").click(position={"x": 5, "y": 5})
    pg.keyboard.press("ArrowLeft")
    pg.keyboard.press("ArrowLeft")
    at = cursor(pg)["cursor"]
    pg.wait_for_function(f"location.search.includes('at={at}')")
    pg.keyboard.press("h")  # show the controls again to reach the button
    pg.click("[data-testid=copy-link]")
    pg.wait_for_function("document.querySelector('[data-testid=copy-link]').dataset.copied === '1'")
    link = pg.evaluate("navigator.clipboard.readText()")
    assert link == pg.url
    for part in (f"run={run_id}", "big=1", "lang=zh", "x=time", f"at={at}", "keep=me",
                 "strategy=parameter_server", "seed=7", "steps=12"):
        assert part in link, (part, link)
    pg.keyboard.press("h")
    link = pg.url
    assert "hide=1" in link

    # a fresh browser context (no storage) opens the same experiment and view
    fp = fresh_page
    fp.goto(link)
    fp.wait_for_function("window.distlab !== undefined && window.distlab.app.runId !== null")
    fp.wait_for_function(
        f"window.distlab.player.cursor === {at} && window.distlab.player.mode === 'scrub'",
        timeout=30_000)
    assert fp.evaluate("window.distlab.app.runId") == run_id
    assert fp.evaluate("document.body.classList.contains('presenter')")
    assert fp.evaluate("document.body.classList.contains('hide-controls')")
    assert fp.evaluate("document.documentElement.lang") == "zh-CN"
    fp.wait_for_function("document.querySelector('[data-testid=loss-chart]').dataset.x === 'time'")
    assert fp.input_value("[data-testid=strategy-select]") == "parameter_server"
    assert fp.input_value("[data-testid=seed-input]") == "7"
    assert fp.input_value("[data-testid=steps-input]") == "12"
    assert fp.input_value("[data-testid=opt-ps_mode]") == "async"
    assert "keep=me" in fp.url


def test_timeline_clock_round_trips_through_the_url(page: Page, server: str) -> None:
    pg = page
    run = finish(server, {**DP_CONFIG, "steps": 6, "network": "1gbe"})
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
    assert "tl=" not in pg.url  # the default clock stays out of the URL
    # the link restores the clock
    pg.goto(url)
    wait_status(pg, "finished", 30_000)
    pg.wait_for_function(f"{active} === 'compact'", timeout=10_000)
    assert "tl=compact" in pg.url


def test_export_buttons_download_files_and_png(page: Page, server: str, dp_run: str) -> None:
    pg = page
    open_run(pg, server, dp_run)
    pg.click("[data-testid=export-menu] summary")
    sizes = {}
    for fmt, suffix in (("jsonl", ".jsonl"), ("csv", ".csv"), ("perfetto", ".json")):
        with pg.expect_download() as info:
            pg.click(f"[data-testid=export-{fmt}]")
        dl = info.value
        name = dl.suggested_filename
        assert name.startswith(f"distlab-{dp_run}") and name.endswith(suffix), name
        data = Path(dl.path()).read_bytes()
        sizes[fmt] = len(data)
        assert data, fmt
    assert sizes["jsonl"] > 100
    # PNG of the loss chart, drawn by the local Plotly (no network)
    if not pg.locator("[data-testid=export-png]").is_visible():
        pg.click("[data-testid=export-menu] summary")
    with pg.expect_download() as info:
        pg.click("[data-testid=export-png]")
    dl = info.value
    assert dl.suggested_filename.endswith(".png")
    png = Path(dl.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
