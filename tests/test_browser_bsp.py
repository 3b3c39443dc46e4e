"""BSP in real Chromium (issue 18): PageRank on 3 workers for 20 supersteps, with the
combiner and a 10× straggler, reaches "finished"; the card shows the supersteps as
columns whose messages and barrier waits are the step events' numbers, the messages
between every pair of workers, the best-ranked vertices and the change per superstep;
the loss chart and the decision boundary are hidden (nothing is trained). In Chinese too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, post_run, set_view, wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/bsp")
STEPS = 20


def test_pagerank_in_supersteps_runs_and_its_card_shows_the_events(page: Page,
                                                                   server: str) -> None:
    body = {"strategy": "bsp", "workers": 3, "steps": STEPS, "pace": None,
            "straggler": "one", "straggler_rank": 1, "straggler_factor": 10,
            "emulated_compute_ms": 5,
            "options": {"algorithm": "pagerank", "vertices": 400, "combiner": True}}
    run_id = post_run(server, body)
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    wait_status(page, "finished", 120_000)
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    steps = {(e["rank"], e["step"]): e for e in events if e["type"] == "step"}
    assert len(steps) == 3 * STEPS

    page.wait_for_function(
        f"document.querySelector('[data-testid=bsp-card]').dataset.step === '{STEPS}'",
        timeout=30_000)
    assert page.is_visible("[data-testid=bsp-card]")
    assert not page.is_visible(".card-chart")  # nothing trained: no loss chart
    assert not page.is_visible(".card-boundary")
    # every cell: the messages sent and the barrier wait of that worker's step event
    cells = page.locator("[data-testid=bsp-cell]")
    assert cells.count() == 3 * 8  # the newest 8 supersteps
    for i in range(cells.count()):
        c = cells.nth(i)
        e = steps[(int(c.get_attribute("data-rank")), int(c.get_attribute("data-step")))]
        assert int(c.get_attribute("data-messages")) == e["messages"]
        assert int(c.get_attribute("data-raw")) == e["messages_raw"]
        assert float(c.get_attribute("data-wait")) == e["barrier_ms"]
        assert e["messages"] < e["messages_raw"]  # the combiner folded some
    # the straggler's cells are marked; the others waited for it
    slowed = page.locator("[data-testid=bsp-cell].slowed")
    assert slowed.count() == 8
    assert {slowed.nth(i).get_attribute("data-rank") for i in range(8)} == {"1"}
    # the pairs of the last superstep
    pairs = page.locator("[data-testid=bsp-pair]")
    assert pairs.count() == 9
    for i in range(9):
        p = pairs.nth(i)
        src, dst = int(p.get_attribute("data-src")), int(p.get_attribute("data-dst"))
        e = steps[(src, STEPS)]
        want = e["messages_local"] if src == dst else e["messages_to"][dst]
        assert int(p.get_attribute("data-messages")) == want
    totals = page.locator("[data-testid=bsp-total]")
    last = totals.nth(totals.count() - 1)
    assert int(last.get_attribute("data-messages")) == sum(
        steps[(r, STEPS)]["messages"] for r in range(3))
    # the best vertices, and the change of the last superstep
    best = max((v for r in range(3) for v in steps[(r, STEPS)]["top"]), key=lambda x: x[1])
    first = page.locator("[data-testid=bsp-top] li").first
    assert int(first.get_attribute("data-vertex")) == best[0]
    assert float(page.get_attribute("[data-testid=bsp-now]", "data-value")) == \
        steps[(0, STEPS)]["change"]
    page.wait_for_function("(document.getElementById('bsp-chart').data || [{x: []}])[0]"
                           f".x.length === {STEPS}")
    # the workers' own check against the one-process computation
    errors = [e["error"] for e in events if e["type"] == "bsp_values"]
    assert len(errors) == 3
    check = page.locator("[data-testid=bsp-check]")
    assert check.get_attribute("data-ok") == "true"
    assert float(check.get_attribute("data-error")) == max(errors)
    assert "equals the same supersteps computed in one process" in check.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "bsp-en.png"))

    set_view(page, "zh", False)
    page.wait_for_function(
        "document.querySelector('.card-bsp h2').textContent === '超步：计算、交换、屏障'")
    assert "等待" in page.inner_text("[data-testid=bsp-steps]")
    assert "与单进程计算相同超步的结果一致" in page.inner_text("[data-testid=bsp-check]")
    page.screenshot(path=str(SHOTS / "bsp-zh.png"))
    set_view(page, "en", False)


def test_the_form_names_supersteps_and_the_strategy_in_chinese(page: Page,
                                                                server: str) -> None:
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "bsp")
    page.wait_for_selector("[data-testid=opt-vertices]")
    for field in ("lr-input", "batch-input", "optimizer-select", "model-select",
                  "dataset-select"):
        assert not page.is_visible(f"[data-testid={field}]"), field
    assert page.inner_text("#steps-label") == "Supersteps"
    set_view(page, "zh", False)
    page.wait_for_function("document.querySelector('#steps-label').textContent === '超步数'")
    option = page.locator("[data-testid=strategy-select] option[value=bsp]")
    assert option.inner_text() == "BSP：按超步计算 PageRank（Pregel）"
    set_view(page, "en", False)


def test_connected_components_count_the_components_of_one_process(page: Page,
                                                                   server: str) -> None:
    from engine import bsp_graph

    n, degree = 300, 0.8
    body = {"strategy": "bsp", "workers": 2, "steps": 30, "pace": None,
            "options": {"algorithm": "connected_components", "vertices": n,
                        "graph": "random", "degree": degree, "partition": "range"}}
    run_id = post_run(server, body)
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    wait_status(page, "finished", 120_000)
    page.wait_for_selector("[data-testid=bsp-components]", timeout=30_000)
    src, dst = bsp_graph.make_graph("random", n, 0, degree)
    want = len(set(bsp_graph.components(src, dst, n).tolist()))
    assert page.inner_text("[data-testid=bsp-components]") == f"{want} connected components"
    assert page.get_attribute("[data-testid=bsp-check]", "data-ok") == "true"
    assert page.locator("[data-testid=bsp-top]").count() == 0  # no ranks to list
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("(document.getElementById('bsp-chart').data || [{x: []}])[0]"
                           ".x.length === 30")  # the chart drawn to the last superstep
    page.screenshot(path=str(SHOTS / "bsp-components-en.png"))
