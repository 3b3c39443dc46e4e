"""A lesson followed in a classroom room, in real Chromium: one instructor page and several
student pages (separate browser contexts).

- Every follower gets the lesson's reveal when the instructor's run of it ends: the answer,
  the explanation and what the run measured, next to that follower's own guess (and, for a
  student who did not guess, the answer and the measurement all the same).
- At 1440×900 the room's banner and the lesson panel leave the main views (the topology
  card) in sight, for the instructor and for a student.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser_support import INSTRUCTOR_KEY, get_json, wait_status

pytestmark = pytest.mark.browser

APP_READY = "window.distlab !== undefined && window.Plotly !== undefined"
PANEL = "[data-testid=lesson-panel]"
REVEAL = "[data-testid=lesson-reveal]"
LESSON = "parameter-server"  # 60 steps at full speed, no comparison run: quick
SHOTS = Path("/tmp/shots/A")


class Pages:
    def __init__(self, browser: Browser, server: str) -> None:
        self.browser = browser
        self.server = server
        self.contexts = []
        self.errors: list[str] = []

    def open(self, path: str = "/", viewport: tuple[int, int] = (1280, 800)) -> Page:
        ctx = self.browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        self.contexts.append(ctx)
        pg = ctx.new_page()
        pg.on("pageerror", lambda exc: self.errors.append(str(exc)))
        pg.goto(f"{self.server}{path}")
        pg.wait_for_function(APP_READY)
        return pg

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def pages(browser: Browser, server: str) -> Iterator[Pages]:
    p = Pages(browser, server)
    yield p
    p.close()
    assert p.errors == [], f"JavaScript errors on the pages: {p.errors}"


def open_room(pg: Page) -> str:
    pg.click("[data-testid=room-menu]")
    pg.fill("[data-testid=room-key-input]", INSTRUCTOR_KEY)
    pg.click("[data-testid=room-open]")
    pg.wait_for_selector("[data-testid=room-banner][data-role=instructor] [data-testid=room-code]")
    code = pg.inner_text("[data-testid=room-code]").strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code), code
    return code


def join(pages: Pages, code: str, viewport: tuple[int, int] = (1280, 800)) -> Page:
    pg = pages.open(f"/?room={code}", viewport)
    pg.wait_for_selector("[data-testid=room-banner][data-role=student]")
    return pg


def wait_lesson(pg: Page, lesson_id: str) -> None:
    pg.wait_for_function(
        "id => { const p = document.querySelector('[data-testid=lesson-panel]');"
        " return p.dataset.lesson === id && !p.hidden; }",
        arg=lesson_id,
        timeout=30_000,
    )


def wait_reveal(pg: Page, run_id: str) -> None:
    pg.wait_for_function(
        "id => { const r = document.querySelector('[data-testid=lesson-reveal]');"
        " return r && !r.hidden && r.dataset.runId === id; }",
        arg=run_id,
        timeout=60_000,
    )


def test_every_follower_gets_the_reveal_next_to_their_own_guess(pages: Pages, server: str) -> None:
    lesson = get_json(f"{server}/api/lessons/{LESSON}")
    assert isinstance(lesson, dict)
    predict = lesson["predict"]
    choices = predict["choices"]
    assert len(choices) >= 3

    inst = pages.open("/")
    code = open_room(inst)
    inst.select_option("[data-testid=lesson-select]", LESSON)
    wait_lesson(inst, LESSON)
    followers = [join(pages, code) for _ in range(3)]
    for i, f in enumerate(followers):
        wait_lesson(f, LESSON)
        f.click(f"{PANEL} [data-testid=lesson-predict] [data-choice='{i}']")
        f.wait_for_function(
            "i => document.querySelector(`[data-choice='${i}']`).getAttribute('aria-checked')"
            " === 'true'",
            arg=i,
        )

    inst.click(f"{PANEL} [data-testid=lesson-predict] [data-choice='{predict['answer']}']")
    inst.click(f"{PANEL} [data-testid=lesson-start]")
    inst.wait_for_function("window.distlab.lessons.current.runId", timeout=30_000)
    run_id = inst.evaluate("window.distlab.lessons.current.runId")
    wait_status(inst, "finished", 90_000)
    wait_reveal(inst, run_id)

    steps = lesson["preset"]["config"]["steps"]
    for i, f in enumerate(followers):
        f.wait_for_function("id => window.distlab.app.runId === id", arg=run_id, timeout=30_000)
        wait_reveal(f, run_id)
        reveal = f.locator(REVEAL)
        assert reveal.get_attribute("data-guess") == str(i)
        verdict = reveal.locator(".lesson-verdict")
        assert verdict.get_attribute("data-right") == str(i == predict["answer"]).lower()
        assert choices[i]["en"] in verdict.inner_text()
        text = reveal.inner_text()
        assert choices[predict["answer"]]["en"] in text
        assert predict["explain"]["en"] in text
        measured = reveal.locator("[data-testid=lesson-measured] li").all_inner_texts()
        assert measured and measured[0].startswith(f"{steps} steps"), (i, measured)
        # the guess stays the follower's own, and shows as chosen beside the answer
        chosen = f.locator(f"{PANEL} [data-choice][aria-checked=true]")
        assert chosen.count() == 1 and chosen.get_attribute("data-choice") == str(i)
        correct = f.locator(f"{PANEL} [data-choice].correct")
        assert correct.get_attribute("data-choice") == str(predict["answer"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    followers[1].screenshot(path=str(SHOTS / "follower-reveal.png"))

    # a student who joins after the run ended, without a guess: the answer and the measurement
    late = join(pages, code)
    wait_lesson(late, LESSON)
    wait_reveal(late, run_id)
    reveal = late.locator(REVEAL)
    assert reveal.get_attribute("data-guess") == ""
    assert reveal.locator(".lesson-verdict").get_attribute("data-right") == ""
    assert choices[predict["answer"]]["en"] in reveal.inner_text()
    measured = reveal.locator("[data-testid=lesson-measured] li").all_inner_texts()
    assert measured and measured[0].startswith(f"{steps} steps"), measured


def test_followers_see_the_lessons_comparison_beside_the_run(pages: Pages, server: str) -> None:
    """The instructor's lesson runs its comparison first (sync beside async): every
    follower gets the same dashed loss line and the comparison's numbers in the reveal."""
    lesson_id = "sync-vs-async"
    inst = pages.open("/")
    code = open_room(inst)
    inst.select_option("[data-testid=lesson-select]", lesson_id)
    wait_lesson(inst, lesson_id)
    follower = join(pages, code)
    wait_lesson(follower, lesson_id)
    inst.click(f"{PANEL} [data-testid=lesson-predict] [data-choice='2']")
    inst.click(f"{PANEL} [data-testid=lesson-start]")
    inst.wait_for_function("window.distlab.lessons.current.runId", timeout=60_000)
    cur = inst.evaluate("window.distlab.lessons.current")
    run_id, compare_id = cur["runId"], cur["compareRunId"]
    assert compare_id and compare_id != run_id
    follower.wait_for_function("id => window.distlab.app.runId === id", arg=run_id,
                               timeout=30_000)
    wait_status(inst, "finished", 90_000)
    wait_reveal(follower, run_id)
    # the comparison's mean loss, dashed, under the followed run's curves
    follower.wait_for_function(
        """() => { const gd = document.querySelector('[data-testid=loss-chart]');
                   const b = (gd.data || []).find(t => t.meta === 'baseline');
                   return !!b && b.x.length > 0 && b.line && b.line.dash === 'dash'; }""",
        timeout=30_000)
    assert get_json(f"{server}/api/rooms/{code}")["compare_id"] == compare_id
    follower.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=lesson-measured] li')]"
        ".some(li => li.innerText.startsWith('comparison ('))", timeout=30_000)
    lines = follower.locator("[data-testid=lesson-measured] li").all_inner_texts()
    compare = get_json(f"{server}/api/runs/{compare_id}")
    assert isinstance(compare, dict)
    line = next(x for x in lines if x.startswith("comparison ("))
    assert f"{compare['summary']['steps_completed']} steps" in line, line


def _topology_top(pg: Page) -> float:
    return pg.evaluate(
        "document.querySelector('.card-topology').getBoundingClientRect().top"
    )


def test_room_views_above_the_fold_at_1440x900(pages: Pages, server: str) -> None:
    size = (1440, 900)
    inst = pages.open("/", size)
    code = open_room(inst)
    inst.select_option("[data-testid=lesson-select]", LESSON)
    wait_lesson(inst, LESSON)
    student = join(pages, code, size)
    wait_lesson(student, LESSON)
    SHOTS.mkdir(parents=True, exist_ok=True)
    roles = (("instructor", inst), ("student", student))

    def tops(when: str) -> dict[str, float]:
        out = {}
        for name, pg in roles:
            pg.wait_for_timeout(300)  # the banner's and the panel's layout
            pg.screenshot(path=str(SHOTS / f"room-1440x900-{name}-{when}.png"))
            assert pg.evaluate("scrollY") == 0
            out[name] = _topology_top(pg)
        return out

    # most of the topology card (its top 350 px at least) is on screen without scrolling:
    # before the run, and with the lesson's answer revealed
    before = tops("lesson")
    assert all(top < size[1] - 350 for top in before.values()), before
    # "More" shows the rest of the lesson (its summary), "Less" folds it again
    summary = student.locator(f"{PANEL} [data-testid=lesson-summary]")
    assert summary.is_hidden()
    student.click(f"{PANEL} [data-testid=lesson-more]")
    summary.wait_for(state="visible")
    student.click(f"{PANEL} [data-testid=lesson-more]")
    summary.wait_for(state="hidden")
    student.click(f"{PANEL} [data-testid=lesson-predict] [data-choice='1']")
    inst.click(f"{PANEL} [data-testid=lesson-predict] [data-choice='0']")
    inst.click(f"{PANEL} [data-testid=lesson-start]")
    inst.wait_for_function("window.distlab.lessons.current.runId", timeout=30_000)
    run_id = inst.evaluate("window.distlab.lessons.current.runId")
    for _, pg in roles:
        wait_reveal(pg, run_id)
    after = tops("reveal")
    assert all(top < size[1] - 350 for top in after.values()), after
    # the reveal itself can be read in the panel (it scrolls inside the panel, if at all)
    for _, pg in roles:
        last = pg.locator("[data-testid=lesson-measured] li").last
        assert last.evaluate(VISIBLE), "the end of 'Measured in this run' is cut off"


# True when the element is inside the viewport and not clipped by a scrolling ancestor.
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
