"""Lessons in a real browser: every lesson renders in English and Chinese with no missing
catalog key, loads its preset into the run form, and one demo lesson runs end to end from
its page (predict, start, finish, reveal, and the reveal again from the URL alone); in
presenter mode every line of the reveal can be brought into view and read."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page

from tests.browser_support import ARTIFACTS, STATUS, get_json, set_view, wait_status

pytestmark = pytest.mark.browser

PANEL = "[data-testid=lesson-panel]"
# a catalog key shown as is (in prose a space or line break follows "lesson.")
RAW_KEY = re.compile(r"\blesson\.[a-z]")


def _panel_for(page: Page, lesson_id: str) -> None:
    page.wait_for_function(
        f"document.querySelector('{PANEL}').dataset.lesson === '{lesson_id}' "
        f"&& !document.querySelector('{PANEL}').hidden"
    )


def _check_panel(page: Page, lesson: dict, lang: str) -> None:
    panel = page.locator(PANEL)
    text = panel.inner_text()
    lid = lesson["id"]
    assert "undefined" not in text and "null" not in text and "NaN" not in text, (lid, lang)
    # t() returns the key itself when a catalog lacks it
    assert not RAW_KEY.search(text), (lid, lang, RAW_KEY.search(text))
    assert panel.locator(".lesson-title").inner_text() == lesson["title"][lang]
    assert panel.locator(".lesson-chapter").inner_text().strip(), lid
    assert panel.locator("[data-testid=lesson-summary]").inner_text() == lesson["summary"][lang]
    points = panel.locator("[data-testid=lesson-look] li").all_inner_texts()
    assert points == lesson["look_at"][lang], (lid, lang)
    papers = panel.locator("[data-testid=lesson-papers] li").all_inner_texts()
    assert len(papers) == len(lesson["papers"]) and all(p.strip() for p in papers)
    related = panel.locator("[data-testid=lesson-related] a")
    assert related.count() == len(lesson["related"]), (lid, lang)
    for h in panel.locator("h2, h3").all_inner_texts():
        assert h.strip(), (lid, lang)
    if lesson["kind"] == "demo":
        choices = panel.locator("[data-testid=lesson-predict] [data-choice]")
        assert choices.all_inner_texts() == [c[lang] for c in lesson["predict"]["choices"]]
        assert panel.locator(".lesson-question").inner_text() == lesson["predict"]["question"][lang]
        # no prediction yet: the lesson's run cannot start
        assert panel.locator("[data-testid=lesson-start]").is_disabled()
    else:
        assert panel.locator("[data-testid=lesson-start]").count() == 0


def _form_matches_preset(page: Page, lesson: dict) -> None:
    """'Load settings only' fills the run form with the preset, without starting a run."""
    page.click(f"{PANEL} [data-testid=lesson-load]")
    sent = page.evaluate("window.distlab.controls.readConfig()")
    want = lesson["preset"]["config"]
    # (fields the form does not know yet are sent by the lesson itself, from the preset)
    diff = {k: (sent[k], v) for k, v in want.items() if k in sent and sent[k] != v}
    assert diff == {}, (lesson["id"], diff)
    assert page.locator(STATUS).get_attribute("data-status") == "none"


def test_every_lesson_renders_in_both_languages(page: Page, server: str) -> None:
    listed = get_json(f"{server}/api/lessons")
    assert isinstance(listed, list) and len(listed) >= 15
    lessons = {x["id"]: get_json(f"{server}/api/lessons/{x['id']}") for x in listed}
    select = page.locator("[data-testid=lesson-select]")
    # the picker lists every lesson, grouped by chapter
    assert select.locator("option[value]:not([value=''])").count() == len(lessons)
    assert select.locator("optgroup").count() == len({x["chapter"] for x in listed})
    for lang in ("en", "zh"):
        if lang == "zh":
            page.click("[data-testid=lang-toggle]")
            page.wait_for_function("document.documentElement.lang === 'zh-CN'")
        for lid, lesson in lessons.items():
            select.select_option(lid)
            _panel_for(page, lid)
            _check_panel(page, lesson, lang)
            assert f"lesson={lid}" in page.url
            if lang == "en" and lesson["preset"]:
                _form_matches_preset(page, lesson)
        for label in select.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)"):
            assert label.strip() and not RAW_KEY.search(label)
    page.screenshot(path=str(ARTIFACTS / "lessons-walk-zh.png"))
    # switching the language re-renders the open lesson
    page.click("[data-testid=lang-toggle]")
    last = list(lessons.values())[-1]
    title = json.dumps(last["title"]["en"])
    shown = f"document.querySelector('{PANEL} .lesson-title').textContent"
    page.wait_for_function(f"{shown} === {title}")
    # closing the lesson removes it from the URL
    page.click("[data-testid=lesson-close]")
    assert page.locator(PANEL).is_hidden()
    assert "lesson=" not in page.url


def test_a_demo_lesson_runs_from_its_page(page: Page, server: str) -> None:
    lid = "parameter-server"
    lesson = get_json(f"{server}/api/lessons/{lid}")
    assert isinstance(lesson, dict)
    page.goto(f"{server}/?lesson={lid}")
    _panel_for(page, lid)
    start = page.locator("[data-testid=lesson-start]")
    assert start.is_disabled()
    answer = lesson["predict"]["answer"]
    page.click(f"[data-testid=lesson-predict] [data-choice='{answer}']")
    assert "guess=" in page.url
    assert start.is_enabled()
    start.click()
    wait_status(page, "finished", 45_000)
    reveal = page.locator("[data-testid=lesson-reveal]")
    reveal.wait_for(state="visible", timeout=10_000)
    assert reveal.locator(".lesson-verdict").get_attribute("data-right") == "true"
    assert lesson["predict"]["explain"]["en"] in reveal.inner_text()
    measured = reveal.locator("[data-testid=lesson-measured] li").all_inner_texts()
    steps = lesson["preset"]["config"]["steps"]
    assert measured and measured[0].startswith(f"{steps} steps"), measured
    assert any("staleness: mean 0," in m for m in measured), measured
    # the run really is the lesson's preset
    run_id = page.evaluate("window.distlab.app.runId")
    run = get_json(f"{server}/api/runs/{run_id}")
    assert isinstance(run, dict)
    for k, v in lesson["preset"]["config"].items():
        assert run["config"][k] == v, k
    page.screenshot(path=str(ARTIFACTS / "lesson-reveal.png"))
    # the URL alone brings the lesson, the guess, the run and the reveal back (in Chinese)
    url = page.url
    assert f"run={run_id}" in url and f"guess={answer}" in url
    page.goto(url + "&lang=zh")
    _panel_for(page, lid)
    page.locator("[data-testid=lesson-reveal]").wait_for(state="visible", timeout=15_000)
    zh = page.locator("[data-testid=lesson-reveal]").inner_text()
    assert lesson["predict"]["explain"]["zh"] in zh and not RAW_KEY.search(zh)
    assert page.locator(f"[data-choice='{answer}']").get_attribute("aria-checked") == "true"
    page.screenshot(path=str(ARTIFACTS / "lesson-reveal-zh.png"))


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
    # the reveal brings the whole measured list into view by itself (no scrolling by hand),
    # once its layout has settled
    pg.wait_for_function(
        f"""() => {{ const li = [...document.querySelectorAll('[data-testid=lesson-measured] li')];
                    const visible = {VISIBLE};
                    return li.length > 0 && visible(li[0]) && visible(li.at(-1)); }}""",
        timeout=30_000,
    )
    assert items.last.evaluate(VISIBLE), "the end of 'Measured in this run' is cut off"
    assert items.first.evaluate(VISIBLE)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "zh"):
        set_view(pg, lang, True)
        n = items.count()
        assert n >= 2
        for i in range(n):  # every line of the list can be brought into view and read
            items.nth(i).scroll_into_view_if_needed()
            assert items.nth(i).evaluate(VISIBLE), (lang, i, items.nth(i).inner_text())
        pg.screenshot(path=str(ARTIFACTS / f"lesson-reveal-presenter-{lang}.png"))
    set_view(pg, "en", False)
    items.last.scroll_into_view_if_needed()
    assert items.last.evaluate(VISIBLE)
