"""Chapter 9's lesson, decentralized SGD, live in real Chromium (issue 17), English and Chinese.

The lesson runs D-PSGD on a ring of 8 workers, each holding one class only, and compares it
with the same ring on IID data. The reveal's answer (the replicas stay further apart with
one class per worker) and its measured lines come from the runs' own events: the
consensus distance shown is the last step event's, its mean is the mean of every step's,
and the comparison's is its run summary's, which is smaller.

The screenshot of the revealed lesson goes to /tmp/lesson9.png (and /tmp/lesson9-zh.png).
"""

from __future__ import annotations

import re
import statistics
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, run_lesson_measure, wait_run_end, wait_status

pytestmark = pytest.mark.browser

LID = "distributed-optimization"
PANEL = "[data-testid=lesson-panel]"
REVEAL = "[data-testid=lesson-reveal]"
MEASURED = f"{REVEAL} [data-testid=lesson-measured] li"


def _fmt(x: float) -> str:
    """views' fmtNum(x, 3) for the consensus distances here (0.0001 ≤ x < 1e6)."""
    return repr(float(f"{x:.3g}"))


def _consensus_by_step(server: str, run_id: str) -> dict[int, float]:
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=10000")
    assert isinstance(events, list) and len(events) < 10_000  # all of them
    return {e["step"]: e["consensus"] for e in events
            if e["type"] == "step" and e.get("consensus") is not None}


def _wait_compare_line(page: Page, word: str) -> list[str]:
    page.wait_for_function(
        "([sel, word]) => [...document.querySelectorAll(sel)]"
        ".some(li => li.textContent.includes(word))", arg=[MEASURED, word], timeout=120_000)
    return page.locator(MEASURED).all_inner_texts()


def test_the_dpsgd_lesson_reveals_the_consensus_its_runs_measured(page: Page,
                                                                  server: str) -> None:
    lesson = get_json(f"{server}/api/lessons/{LID}")
    assert isinstance(lesson, dict) and lesson["kind"] == "demo" and lesson["chapter"] == 9
    config = lesson["preset"]["config"]
    assert config["strategy"] == "decentralized" and config["workers"] == 8
    assert config["options"]["graph"] == "ring"
    assert config["options"]["data_split"] == "one_class"
    assert lesson["compare"]["config"]["options"]["data_split"] == "iid"
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/?lesson={LID}&lang=en")
    page.wait_for_function(
        f"document.querySelector('{PANEL}').dataset.lesson === '{LID}' "
        f"&& !document.querySelector('{PANEL}').hidden")
    start = page.locator("[data-testid=lesson-start]")
    assert start.is_disabled()  # predict first
    answer = lesson["predict"]["answer"]
    page.click(f"[data-testid=lesson-predict] [data-choice='{answer}']")
    assert page.is_checked("[data-testid=lesson-compare]")
    start.click()
    wait_status(page, "finished", 120_000)
    reveal = page.locator(REVEAL)
    reveal.wait_for(state="visible", timeout=30_000)
    assert reveal.locator(".lesson-verdict").get_attribute("data-right") == "true"
    assert lesson["predict"]["explain"]["en"] in reveal.inner_text()
    measured = _wait_compare_line(page, "comparison's consensus distance")

    # this run's lines, from its own step events
    run_id = page.evaluate("window.distlab.app.runId")
    run = wait_run_end(server, run_id, 30)
    for k, v in config.items():
        assert run["config"][k] == v, k
    mine = _consensus_by_step(server, run_id)
    last = max(mine)
    assert last == config["steps"]
    mean = statistics.mean(mine[k] for k in sorted(mine))
    assert measured[0].startswith(f"{config['steps']} steps"), measured
    assert "ring of 8 workers, one class per worker" in measured, measured
    line = (f"consensus distance: {_fmt(mine[last])} at step {last}, {_fmt(mean)} on average"
            f" over the run's {len(mine)} steps")
    assert line in measured, (line, measured)
    assert any(re.fullmatch(r"each worker sent 9\.7 KB per step \(step 100\)", m)
               for m in measured), measured
    # the run summary the comparison is reported from agrees with the events
    summary = run["summary"]["consensus"]
    assert summary["last"] == pytest.approx(mine[last])
    assert summary["mean"] == pytest.approx(mean)

    # the comparison (IID data): its consensus from its own events, and smaller — the answer
    runs = get_json(f"{server}/api/runs")
    assert isinstance(runs, list)
    # (the server is shared with other browser tests: the comparison is the run of the
    # lesson's compare config, the newest such)
    want = lesson["compare"]["config"]
    compare = sorted((r for r in runs if r["id"] != run_id
                      and r["config"]["strategy"] == "decentralized"
                      and r["config"]["options"]["data_split"] == "iid"
                      and r["config"]["workers"] == want.get("workers", config["workers"])
                      and r["config"]["steps"] == want.get("steps", config["steps"])),
                     key=lambda r: r["created_at"])
    assert compare, runs
    compare = compare[-1:]
    theirs = _consensus_by_step(server, compare[0]["id"])
    their_mean = statistics.mean(theirs.values())
    their_line = (f"comparison's consensus distance: {_fmt(theirs[max(theirs)])} at its last"
                  f" step, {_fmt(their_mean)} on average")
    assert their_line in measured, (their_line, measured)
    ratio = mean / their_mean
    assert 1.5 < ratio < 100, ratio  # "further apart: a few times as far"
    said = [m for m in measured if m.startswith("this run's replicas were ")]
    assert len(said) == 1, measured
    shown = float(re.search(r"were ([0-9.]+)×", said[0]).group(1))
    assert shown == pytest.approx(ratio, rel=0.05), (shown, ratio)
    reveal.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/lesson9.png")

    # the reveal again from the URL alone, in Chinese
    url = urlsplit(page.url)
    query = dict(parse_qsl(url.query)) | {"lang": "zh"}
    assert query["lesson"] == LID and query["run"] == run_id and query["guess"] == str(answer)
    page.goto(urlunsplit(url._replace(query=urlencode(query))))
    page.locator(REVEAL).wait_for(state="visible", timeout=30_000)
    zh = page.locator(REVEAL).inner_text()
    assert lesson["predict"]["explain"]["zh"] in zh
    assert (f"共识距离：第 {last} 步为 {_fmt(mine[last])}，全程 {len(mine)} 步平均为 {_fmt(mean)}"
            in zh), zh
    assert "8 个工作进程组成的环，每个工作进程只有一个类别" in zh, zh
    page.screenshot(path="/tmp/lesson9-zh.png")


def test_the_last_step_measures_ring_and_complete_graph(page: Page, server: str) -> None:
    setups = []
    for run in run_lesson_measure(page, server, LID, 4):
        assert run["status"] == "finished"
        o = run["config"]["options"]
        setups.append((o["graph"], o["data_split"]))
    assert setups == [("ring", "one_class"), ("complete", "one_class"),
                      ("ring", "iid"), ("complete", "iid")]
    table = "[data-testid=compare-measured]"
    page.wait_for_function(
        f"[...document.querySelectorAll('{table} tr[data-quantity=bytes] td')].length === 4 &&"
        f" [...document.querySelectorAll('{table} tr[data-quantity=bytes] td')]"
        ".every(td => td.dataset.value !== '')", timeout=60_000)
    sent = page.eval_on_selector_all(f"{table} tr[data-quantity=bytes] td",
                                     "tds => tds.map(td => +td.dataset.value)")
    # a ring sends two models per worker, the complete graph seven, whatever the data
    assert sent[0] == sent[2] and sent[1] == sent[3] and sent[1] == pytest.approx(3.5 * sent[0])
    page.screenshot(path="/tmp/lesson9-measure.png")
