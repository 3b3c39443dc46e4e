"""The loss chart in a real Chromium against the real server, on the paths that load a run
other than starting it here: a student following a room sees the chart grow with the
instructor's run, and the uncompressed baseline overlay keeps the axes on the data (the
chart passes its own ranges instead of Plotly's autorange)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

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
    """Wait until every rank trace has min_points points and the drawn axes cover the data
    (the redraws are throttled; Plotly lays the axes out as it draws), then check the chart
    as it was when that held (a live run keeps redrawing it)."""
    try:
        c = pg.wait_for_function(
            f"""n => {{ const c = ({CHART})();
                       if (!c || c.points.length === 0 || Math.min(...c.points) < n) return null;
                       const [lo, hi] = c.yrange;
                       const ok = lo <= c.ymin && hi >= c.ymax
                         && hi - lo < 5 * (c.ymax - c.ymin + 0.05)
                         && c.xrange[0] <= c.xmin && c.xrange[1] >= c.xmax;
                       return ok ? c : null; }}""",
            arg=min_points,
            timeout=30_000,
        ).json_value()
    except PlaywrightTimeoutError:
        c = pg.evaluate(CHART)  # the assertions below say what differed
    assert c and c["points"] and min(c["points"]) >= min_points, c
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
    student.screenshot(path=str(ARTIFACTS / "loss-chart-student.png"))


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
    pg.screenshot(path=str(ARTIFACTS / "loss-chart-baseline.png"))
    assert errors == []
