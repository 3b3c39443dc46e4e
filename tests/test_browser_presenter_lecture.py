"""Presenter mode for a lecture hall, in a real Chromium at 1920×1080 against the real server
(issue 13, item 6): the worker nodes' labels and the bytes table are at least 20 px and the
ring's chunk numbers at least 16 px as rendered (SVG text: its font size times the SVG's
scale), and fit their circles; with a classroom room and a lesson open, presenter mode (P)
puts the views on the first screen (the lesson is a compact band above them), and hiding
the controls (H) keeps the lesson's answer in sight."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser_support import ARTIFACTS, INSTRUCTOR_KEY, post_run, wait_status

pytestmark = pytest.mark.browser

W, H = 1920, 1080
# A hand-written ring all-reduce (its messages carry chunk numbers), slow enough to watch.
RING_RUN = {"strategy": "data_parallel", "options": {"allreduce": "ring"}, "detail": True,
            "workers": 4, "steps": 60, "pace": 2.0, "dataset": "moons", "seed": 3}
LESSON = "ring-allreduce"

# Rendered sizes (CSS px) of the texts the back row must read.
SIZES = """(() => {
  const px = (e) => {
    const fs = parseFloat(getComputedStyle(e).fontSize);
    return e.ownerSVGElement ? fs * e.ownerSVGElement.getScreenCTM().a : fs;
  };
  const shown = (e) => e.textContent.trim() && e.getClientRects().length
    && getComputedStyle(e).display !== 'none' && getComputedStyle(e).visibility !== 'hidden';
  const nodes = [...document.querySelectorAll('#topology .node')].map((g) => {
    const c = g.querySelector('circle.node-body').getBoundingClientRect();
    return [...g.querySelectorAll('text:not(.fault-mark)')].filter(shown).map((t) => {
      const r = t.getBoundingClientRect();
      return {text: t.textContent, px: px(t),
              inside: r.left >= c.left - 0.5 && r.right <= c.right + 0.5
                      && r.top >= c.top - 0.5 && r.bottom <= c.bottom + 0.5};
    });
  });
  const table = [...document.querySelectorAll('#bytes-table th, #bytes-table td')].filter(shown)
    .map((e) => ({text: e.textContent.trim(), px: px(e)}));
  return {nodes, table};
})()"""

# SIZES as the assertions below want them (the presenter's re-layout settles in later
# frames): four nodes of two labels or more, every label at least 20 px and in its circle,
# the bytes table's cells at least 20 px.
SIZES_OK = f"""(() => {{ const s = {SIZES};
  const labels = s.nodes.flat();
  return s.nodes.length === 4 && s.nodes.every((n) => n.length >= 2)
    && labels.every((t) => t.px >= 20 && t.inside)
    && s.table.length >= 8 && s.table.every((c) => c.px >= 20); }})()"""

# The first chunk number drawn on a moving packet, measured the moment it is drawn (the
# packets move along the ring for a fraction of a second per step).
CHUNK = """(() => {
  const t = document.querySelector('#topology .packet-chunk');
  if (!t || !t.getClientRects().length) return null;
  const fs = parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a;
  const c = t.parentNode.querySelector('circle').getBoundingClientRect();
  const r = t.getBoundingClientRect();
  return {text: t.textContent, px: fs, dot: c.width,
          inside: r.left >= c.left - 1 && r.right <= c.right + 1};
})()"""


@pytest.fixture
def big_page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": W, "height": H})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def shot(pg: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(ARTIFACTS / f"presenter-lecture-{name}.png"))


def stop(server: str, run_id: str) -> None:
    """Stop the run (as the instructor) so that it does not load the machine any longer."""
    req = urllib.request.Request(f"{server}/api/runs/{run_id}/control",
                                 data=json.dumps({"action": "stop"}).encode(),
                                 headers={"content-type": "application/json",
                                          "X-Instructor-Key": INSTRUCTOR_KEY})
    with contextlib.suppress(OSError):  # it has ended by itself
        urllib.request.urlopen(req, timeout=10).close()


def test_presenter_text_is_big_enough_for_the_back_row(big_page: Page, server: str) -> None:
    pg = big_page
    run_id = post_run(server, RING_RUN)
    try:
        check_sizes(pg, server, run_id)
    finally:
        stop(server, run_id)


def check_sizes(pg: Page, server: str, run_id: str) -> None:
    pg.goto(f"{server}/?run={run_id}")
    pg.wait_for_function("window.distlab !== undefined && window.Plotly !== undefined")
    pg.keyboard.press("p")
    pg.wait_for_function("document.body.classList.contains('presenter')")
    # the nodes show a loss and the bytes table has a row per rank
    pg.wait_for_function(
        """document.querySelectorAll('#topology .node').length === 4
           && [...document.querySelectorAll('#topology .node text')]
                .some((t) => t.textContent.startsWith('loss'))
           && document.querySelectorAll('#bytes-table tbody tr[data-rank]').length === 4""",
        timeout=60_000)
    chunk = pg.wait_for_function(CHUNK, timeout=60_000, polling="raf").json_value()
    wait_layout(pg, SIZES_OK)
    sizes = pg.evaluate(SIZES)
    shot(pg, "sizes")
    labels = [t for node in sizes["nodes"] for t in node]
    assert len(sizes["nodes"]) == 4 and all(len(node) >= 2 for node in sizes["nodes"]), sizes
    small = [(t["text"], round(t["px"], 1)) for t in labels if t["px"] < 20]
    assert small == [], f"node labels under 20 px: {small}"
    out = [t["text"] for t in labels if not t["inside"]]
    assert out == [], f"node labels sticking out of their circles: {out}"
    assert len(sizes["table"]) >= 8, sizes["table"]
    small = [(c["text"], c["px"]) for c in sizes["table"] if c["px"] < 20]
    assert small == [], f"bytes table cells under 20 px: {small}"
    assert chunk["px"] >= 16 and chunk["inside"], chunk


def open_room_and_lesson(pg: Page, server: str) -> None:
    pg.goto(f"{server}/?lesson={LESSON}")
    pg.wait_for_function("window.distlab !== undefined && window.Plotly !== undefined")
    pg.wait_for_selector("[data-testid=lesson-start]")
    pg.click("[data-testid=room-menu]")
    pg.fill("[data-testid=room-key-input]", INSTRUCTOR_KEY)
    pg.click("[data-testid=room-open]")
    pg.wait_for_selector("[data-testid=room-banner][data-role=instructor] [data-testid=room-code]")


TOPO = """(() => { const r = document.querySelector('.card-topology').getBoundingClientRect();
  return {top: r.top, bottom: r.bottom}; })()"""
# the whole workers card on the first screen
TOPO_ON_SCREEN = f"{TOPO}.bottom <= {H}"
# the lesson's answer: drawn, its bottom (and top) on the screen
ANSWER = """(() => { const a = document.querySelector('[data-testid=lesson-reveal] .lesson-answer');
  const r = a && a.getBoundingClientRect(); return r && r.height > 0 ? r : null; })()"""
ANSWER_ON_SCREEN = f"({ANSWER}?.top >= 0 && {ANSWER}?.bottom <= {H})"
ANSWER_ENDS_ON_SCREEN = f"({ANSWER}?.bottom <= {H})"


def wait_layout(pg: Page, js: str) -> None:
    """Wait until the layout after a switch (it settles in later frames: resize observers,
    fitted panels) makes `js` true; if it never does, the assertions after say what differs."""
    with contextlib.suppress(PlaywrightTimeoutError):
        pg.wait_for_function(js, timeout=30_000)


def test_presenter_puts_the_views_first_and_hide_keeps_the_answer(
        big_page: Page, server: str) -> None:
    pg = big_page
    open_room_and_lesson(pg, server)
    pg.keyboard.press("p")
    pg.wait_for_function("document.body.classList.contains('presenter')")
    wait_layout(pg, TOPO_ON_SCREEN)
    shot(pg, "lesson-question")
    # before the run: the question and its choices are in sight, and so is the whole
    # workers card
    topo = pg.evaluate(TOPO)
    assert topo["bottom"] <= H, f"the workers card ends at {topo['bottom']}px (screen: {H}px)"
    assert pg.locator("[data-testid=lesson-predict]").is_visible()
    assert pg.locator("[data-testid=lesson-start]").is_visible()

    # the lesson's run, stopped after a few steps: the answer is revealed
    lesson = json.loads(urllib.request.urlopen(f"{server}/api/lessons/{LESSON}").read())
    pg.click(f"[data-testid=lesson-predict] [data-choice='{lesson['predict']['answer']}']")
    pg.click("[data-testid=lesson-start]")
    pg.wait_for_function("window.distlab.player.lastStep >= 3", timeout=60_000)
    pg.click("[data-testid=stop-run]")
    wait_status(pg, "stopped", 60_000)
    answer = pg.locator("[data-testid=lesson-reveal] .lesson-answer")
    answer.wait_for(state="visible", timeout=30_000)
    wait_layout(pg, f"{TOPO_ON_SCREEN} && {ANSWER_ON_SCREEN}")
    shot(pg, "lesson-answer")
    topo = pg.evaluate(TOPO)
    assert topo["bottom"] <= H, f"the workers card ends at {topo['bottom']}px (screen: {H}px)"
    assert answer.is_visible()
    box = answer.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= H, box

    # H hides the chrome, not the teaching content: the answer stays
    pg.keyboard.press("h")
    pg.wait_for_function("document.body.classList.contains('hide-controls')")
    wait_layout(pg, f"{ANSWER_ENDS_ON_SCREEN} && {TOPO}.top <= {H / 2}")
    shot(pg, "lesson-answer-hidden")
    assert answer.is_visible(), "hiding the controls hid the lesson's answer"
    assert pg.locator("[data-testid=lesson-reveal] .lesson-explain").is_visible()
    box = answer.bounding_box()
    assert box is not None and box["y"] + box["height"] <= H, box
    topo = pg.evaluate(TOPO)
    assert topo["top"] <= H / 2, topo
