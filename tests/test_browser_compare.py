"""The compare view (`?compare=A,B`) in a real Chromium against the real server: two short
data-parallel runs that differ in workers and learning rate, their mean losses overlaid
(by step and by time), their timelines on one time axis, and exactly the differing config
fields highlighted. Also reached from the run list ("compare" + "Side by side"). The
settings table names each field with the form's (translated) label, and the run keys leave
a live run alone while the compare view hides the lab.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.request

import pytest
from playwright.sync_api import Page

from tests.browser_support import ARTIFACTS, get_json, set_view, wait_status

pytestmark = pytest.mark.browser

STEPS = 8
VIEW = "[data-testid=compare-view]"
LOSS = "[data-testid=compare-loss]"


def start_run(server: str, **config: object) -> str:
    body = {"strategy": "data_parallel", "steps": STEPS, "pace": None, "dataset": "moons", **config}
    req = urllib.request.Request(
        f"{server}/api/runs",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.status == 201
        return json.loads(res.read())["id"]


def wait_finished(server: str, run_id: str, timeout_s: float = 40) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        run = get_json(f"{server}/api/runs/{run_id}")
        if run["status"] in ("finished", "failed", "stopped"):
            assert run["status"] == "finished", run
            return run
        assert time.monotonic() < deadline, f"run {run_id} did not finish: {run['status']}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def two_runs(server: str) -> tuple[dict, dict]:
    a = start_run(server, workers=2, lr=0.5)
    b = start_run(server, workers=3, lr=0.1)
    return wait_finished(server, a), wait_finished(server, b)


def flat(config: dict) -> dict:
    """A config as the table shows it: each strategy option a row "options.<name>"."""
    out = {k: v for k, v in config.items() if k != "options"}
    out.update({f"options.{k}": v for k, v in config.get("options", {}).items()})
    return out


def differing(a: dict, b: dict) -> set[str]:
    a, b = flat(a), flat(b)
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def test_compare_two_runs_side_by_side(
    page: Page, server: str, two_runs: tuple[dict, dict]
) -> None:
    ra, rb = two_runs
    pg = page
    pg.goto(f"{server}/?compare={ra['id']},{rb['id']}")
    pg.wait_for_function("window.distlab !== undefined && window.Plotly !== undefined")
    pg.wait_for_selector(VIEW)
    assert pg.is_hidden("main.layout"), "the lab is hidden while comparing"

    # both mean losses, every step, A solid and B dashed
    pg.wait_for_function(
        f"""(() => {{ const gd = document.querySelector('{LOSS}');
              return !!(gd.data && gd.data.length === 2
                        && gd.data.every(t => t.x.length === {STEPS})); }})()""",
        timeout=15_000,
    )
    traces = pg.evaluate(f"document.querySelector('{LOSS}').data.map(t => [t.meta, t.x, t.y])")
    assert [m for m, _, _ in traces] == ["a", "b"]
    assert all(y is not None and y > 0 for _, _, ys in traces for y in ys)
    assert traces[0][2] != traces[1][2], "different learning rates give different losses"

    # by step, then by time (seconds since each run started, increasing)
    pg.click("[data-testid=compare-x-step]")
    pg.wait_for_function(
        f"document.querySelector('{LOSS}').data[0].x.join(',') === "
        f"'{','.join(str(i) for i in range(1, STEPS + 1))}'"
    )
    pg.click("[data-testid=compare-x-time]")
    pg.wait_for_function(f"document.querySelector('{LOSS}').dataset.x === 'time'")
    pg.wait_for_function(
        f"document.querySelector('{LOSS}').data[0].x.some(x => !Number.isInteger(x))"
    )
    for xs in pg.evaluate(f"document.querySelector('{LOSS}').data.map(t => t.x)"):
        assert all(0 < x0 < x1 for x0, x1 in itertools.pairwise(xs))

    # the timelines: one lane per worker, segments in both, one shared time axis
    for side, workers in (("a", 2), ("b", 3)):
        sel = f"[data-testid=compare-timeline-{side}]"
        pg.wait_for_function(f"document.querySelectorAll('{sel} .seg').length > 0")
        assert pg.locator(f"{sel} .lane-label").count() == workers
        assert pg.locator(f"{sel} .seg-compute").count() >= STEPS * workers
    his = pg.eval_on_selector_all(
        "[data-testid^=compare-timeline-]", "els => els.map(e => e.dataset.hi)"
    )
    assert len(his) == 2 and his[0] == his[1] and float(his[0]) > 0

    # the config table: a row per field, exactly the differing ones highlighted
    diff = "[data-testid=compare-diff]"
    pg.wait_for_selector(f"{diff} tr[data-field]")
    fields = pg.eval_on_selector_all(
        f"{diff} tr[data-field]", "els => els.map(e => e.dataset.field)"
    )
    assert set(fields) == flat(ra["config"]).keys() | flat(rb["config"]).keys()
    assert "options.allreduce" in fields
    shown = set(
        pg.eval_on_selector_all(
            f"{diff} tr[data-differs=true]", "els => els.map(e => e.dataset.field)"
        )
    )
    assert shown == differing(ra["config"], rb["config"]) == {"workers", "lr"}
    assert pg.locator(f"{diff} tr.differs").count() == 2
    # "only differences" hides the rest
    pg.check("[data-testid=compare-only-diff]")
    assert pg.locator(f"{diff} tr[data-field]:visible").count() == 2

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.uncheck("[data-testid=compare-only-diff]")
    pg.wait_for_timeout(400)
    pg.screenshot(path=str(ARTIFACTS / "compare-en.png"), full_page=True)
    pg.click("[data-testid=lang-toggle]")
    pg.click("[data-testid=presenter-toggle]")
    pg.wait_for_function(
        f"document.querySelector('{VIEW}').innerText.includes('对比两次运行')", timeout=30_000
    )
    assert "对比两次运行" in pg.inner_text(VIEW)
    pg.wait_for_timeout(600)  # the presenter re-layout settles before the screenshot
    pg.screenshot(path=str(ARTIFACTS / "compare-zh-presenter.png"), full_page=True)
    pg.click("[data-testid=presenter-toggle]")
    pg.click("[data-testid=lang-toggle]")

    # back to the lab
    pg.click("[data-testid=compare-close]")
    assert pg.is_hidden(VIEW)
    assert pg.is_visible("main.layout")
    assert "compare=" not in pg.url


def test_compare_from_the_run_list(page: Page, server: str, two_runs: tuple[dict, dict]) -> None:
    ra, rb = two_runs
    pg = page
    pg.click("#btn-refresh-runs")  # the runs were made after the page opened
    pg.click(f"[data-testid=run-list] .run-item[data-run-id='{ra['id']}']")
    pg.wait_for_function("id => window.distlab.app.runId === id", arg=ra["id"])
    pg.click(f"[data-testid=compare-run][data-run-id='{rb['id']}']")
    pg.click("[data-testid=compare-open]")
    pg.wait_for_selector(VIEW)
    compare_param = "new URLSearchParams(location.search).get('compare')"
    assert pg.evaluate(compare_param) == f"{ra['id']},{rb['id']}"
    assert pg.input_value("[data-testid=compare-select-a]") == ra["id"]
    assert pg.input_value("[data-testid=compare-select-b]") == rb["id"]
    pg.wait_for_function(
        f"(document.querySelector('{LOSS}').data || []).length === 2", timeout=15_000
    )
    # swapping A and B swaps the columns
    pg.click("[data-testid=compare-swap]")
    pg.wait_for_function(
        "id => new URLSearchParams(location.search).get('compare').startsWith(id)", arg=rb["id"]
    )
    pg.wait_for_function(
        'document.querySelector("[data-testid=compare-diff] tr[data-field=workers] td")'
        "?.textContent === '3'"
    )


def test_compare_shows_field_labels_and_keys_leave_the_hidden_run_alone(
    page: Page, server: str
) -> None:
    pg = page
    other = start_run(server, workers=2, lr=0.1, batch_size=16)
    wait_finished(server, other)
    # a paced live run started from this page (it holds the run's token)
    pg.fill("[data-testid=workers-input]", "2")
    pg.fill("[data-testid=steps-input]", "80")
    pg.fill("[data-testid=pace-input]", "4")
    pg.set_checked("[data-testid=full-speed]", False)
    pg.click("[data-testid=start-run]")
    pg.wait_for_function("window.distlab.player.lastStep >= 2", timeout=30_000)
    mine = pg.evaluate("window.distlab.app.runId")
    pg.evaluate(f"window.distlab.app.compareId = {json.dumps(other)}")
    pg.click("[data-testid=compare-open]")
    pg.wait_for_selector("[data-testid=compare-diff] tr[data-field=batch_size]")
    assert pg.get_attribute(VIEW, "data-a") == mine

    # every config field is shown with the form's words, its raw name in the tooltip
    row = "[data-testid=compare-diff] tr[data-field=batch_size] th"
    assert pg.inner_text(row) == "Batch size per worker"
    assert pg.get_attribute(row, "title") == "batch_size"
    assert pg.inner_text("[data-testid=compare-diff] tr[data-field=lr] th") == "Learning rate"
    # a strategy option is labelled, and its value named, by the strategy's spec
    opt = "[data-testid=compare-diff] tr[data-field='options.allreduce']"
    assert pg.inner_text(f"{opt} th") == "All-reduce algorithm"
    assert pg.inner_text(f"{opt} td >> nth=0") == "Built-in (process group)"
    assert pg.get_attribute(f"{opt} td >> nth=0", "title") == "builtin"
    labels = pg.eval_on_selector_all(
        "[data-testid=compare-diff] tr[data-field] th",
        "els => els.map(e => [e.parentElement.dataset.field, e.textContent])",
    )
    raw = [field for field, text in labels if text == field]
    assert raw == [], labels  # every known field is translated
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "compare-labels-en.png"), full_page=True)

    # run keys do nothing while the lab (and its run) is hidden
    pg.locator(f"{VIEW} h2").first.click()
    pace = pg.input_value("[data-testid=pace-input]")
    controls: list[str] = []  # space would send pause, 3 set_pace
    pg.on("request", lambda r: controls.append(r.url) if r.url.endswith("/control") else None)
    for key in [" ", "ArrowRight", "ArrowLeft", "3", "l"]:
        pg.keyboard.press(key)
    # Nothing may happen: only a fixed wait shows that no pause lands a moment later. A
    # request the page sends after the keys is seen after any control request they sent.
    pg.wait_for_timeout(800)
    with pg.expect_request(lambda r: r.url.endswith("/api/health")):
        pg.evaluate("fetch('/api/health')")
    assert controls == [], controls
    assert pg.get_attribute("[data-testid=run-status]", "data-status") == "running"
    assert pg.input_value("[data-testid=pace-input]") == pace
    assert pg.evaluate("window.distlab.player.mode") == "live"

    set_view(pg, "zh", True)
    assert pg.inner_text(row) == "每个进程的批大小"
    assert pg.inner_text(f"{opt} th") == "全归约算法"
    pg.screenshot(path=str(ARTIFACTS / "compare-labels-zh-presenter.png"), full_page=True)
    set_view(pg, "en", False)

    # back in the lab, space pauses the run again
    pg.click("[data-testid=compare-close]")
    pg.locator("body").click(position={"x": 5, "y": 790})
    pg.keyboard.press(" ")
    wait_status(pg, "paused", 10_000)
    pg.click("[data-testid=stop-run]")
    wait_status(pg, "stopped", 15_000)
