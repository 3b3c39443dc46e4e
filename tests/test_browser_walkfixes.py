"""Fixes from a browser walkthrough: the loss chart on every path that loads a run (a
student following a room, a run with the uncompressed baseline overlay), the status pill in
Chinese, and an unknown ?run= id.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser_support import ARTIFACTS, wait_status
from tests.test_browser_rooms import Pages, open_room, start_paced_run

pytestmark = pytest.mark.browser

APP_READY = "window.distlab !== undefined && window.Plotly !== undefined"

# The drawn loss chart: per trace its number of points, the data's y extent and the axis
# ranges Plotly actually drew (its _fullLayout, not what we asked for).
CHART = """() => {
  const gd = document.querySelector('[data-testid=loss-chart]');
  if (!gd || !gd._fullLayout || !gd.data) return null;
  const ys = gd.data.flatMap(t => Array.from(t.y || [])).filter(Number.isFinite);
  const xs = gd.data.flatMap(t => Array.from(t.x || [])).filter(Number.isFinite);
  return {
    points: gd.data.map(t => (t.x || []).length),
    metas: gd.data.map(t => t.meta || null),
    ymin: Math.min(...ys), ymax: Math.max(...ys), xmin: Math.min(...xs), xmax: Math.max(...xs),
    yrange: gd._fullLayout.yaxis.range, xrange: gd._fullLayout.xaxis.range,
  };
}"""


def chart_ok(pg: Page, min_points: int) -> dict:
    """Wait until every rank trace has min_points points, then check the axes cover the data."""
    pg.wait_for_function(
        f"""n => {{ const c = ({CHART})();
                   return !!c && c.points.length > 0 && Math.min(...c.points) >= n; }}""",
        arg=min_points,
        timeout=30_000,
    )
    pg.wait_for_timeout(600)  # throttled redraws settle
    c = pg.evaluate(CHART)
    lo, hi = c["yrange"]
    assert lo <= c["ymin"] and hi >= c["ymax"], c
    assert hi - lo < 5 * (c["ymax"] - c["ymin"] + 0.05), f"y axis far wider than the data: {c}"
    assert c["xrange"][0] <= c["xmin"] and c["xrange"][1] >= c["xmax"], c
    return c


@pytest.fixture
def pages(browser: Browser, server: str) -> Iterator[Pages]:
    p = Pages(browser, server)
    yield p
    p.close()
    assert p.errors == [], f"JavaScript errors on the pages: {p.errors}"


def test_student_following_a_room_sees_the_loss_chart_grow(pages: Pages) -> None:
    inst = pages.open("/")
    code = open_room(inst)
    student = pages.open(f"/?room={code}")
    student.wait_for_selector("[data-testid=room-banner][data-role=student]")
    run_id = start_paced_run(inst, workers=2, steps=24, pace=8)
    student.wait_for_function("id => window.distlab.app.runId === id", arg=run_id, timeout=10_000)
    first = chart_ok(student, 3)
    later = chart_ok(student, first["points"][0] + 4)
    assert later["xmax"] > first["xmax"]
    wait_status(student, "finished", 30_000)
    end = chart_ok(student, 24)
    assert end["xmax"] == 24
    student.screenshot(path=str(ARTIFACTS / "walkfix_student_chart.png"))


def test_baseline_overlay_keeps_the_loss_axes_on_the_data(page: Page, server: str) -> None:
    pg = page
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{server}/?workers=2&steps=20&pace=10&dataset=moons&compression=qsgd")
    pg.wait_for_function(APP_READY)
    assert pg.is_checked("[data-testid=baseline-input]")
    pg.click("[data-testid=start-run]")
    pg.wait_for_function("/[?&]base=/.test(location.search) && /[?&]run=/.test(location.search)")
    chart_ok(pg, 3)
    wait_status(pg, "finished", 40_000)
    c = chart_ok(pg, 20)
    assert "baseline" in c["metas"], c
    assert c["xmax"] == 20
    pg.screenshot(path=str(ARTIFACTS / "walkfix_baseline_chart.png"))
    assert errors == []


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


def test_student_keys_say_only_the_instructor_controls(pages: Pages) -> None:
    inst = pages.open("/")
    code = open_room(inst)
    student = pages.open(f"/?room={code}")
    student.wait_for_selector("[data-testid=room-banner][data-role=student]")
    run_id = start_paced_run(inst, workers=2, steps=200, pace=4)
    student.wait_for_function("id => window.distlab.app.runId === id", arg=run_id, timeout=10_000)
    inst.keyboard.press("Escape")
    inst.click("[data-testid=pause-run]")
    student.wait_for_function(
        "document.querySelector('[data-testid=run-status]').dataset.status === 'paused'",
        timeout=10_000,
    )
    student.wait_for_function(
        "document.querySelector('[data-testid=narration]').innerText.includes('instructor paused')"
    )
    assert "Resume (space)" not in student.inner_text("[data-testid=narration]")
    controls: list[str] = []
    student.on(
        "request", lambda r: controls.append(r.url) if r.url.endswith("/control") else None
    )
    student.locator("body").click(position={"x": 600, "y": 30})
    student.keyboard.press("Space")
    note = student.locator("[data-testid=control-note]")
    note.wait_for(state="visible", timeout=3_000)
    assert "Only the instructor controls this run" in note.inner_text()
    student.keyboard.press("ArrowRight")
    student.wait_for_timeout(300)
    student.screenshot(path=str(ARTIFACTS / "walkfix_student_note.png"))
    assert controls == [], controls
    inst.click("[data-testid=stop-run]")


def test_info_panel_and_tail_caption_follow_an_async_ps_run(page: Page, server: str) -> None:
    pg = page
    pg.goto(
        f"{server}/?strategy=parameter_server&ps_mode=async&workers=2&steps=8&pace=full&lang=zh"
    )
    pg.wait_for_function(APP_READY)
    pg.click("[data-testid=start-run]")
    wait_status(pg, "finished", 40_000)
    pg.wait_for_function(
        "document.getElementById('tail-explain').dataset.i18n === 'wf.tail.async'"
    )
    assert "异步" in pg.inner_text("#tail-explain")
    article = pg.inner_text("[data-i18n-html='wf.art.ps.async']")
    assert "服务器" in article and "全归约" not in article
    pg.click("#lang-toggle")
    pg.wait_for_function("document.documentElement.lang.startsWith('en')")
    assert "Asynchronous" in pg.inner_text("[data-i18n-html='wf.art.ps.async']")
    assert "waits for its slowest" not in pg.inner_text("#tail-explain")
    pg.locator("[data-i18n-html='wf.art.ps.async']").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / "walkfix_article_async.png"))
