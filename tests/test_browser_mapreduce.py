"""MapReduce in real Chromium (issue 18): a word count over English and Chinese text on a
master and 3 workers, with the combiner, reaches "finished"; the topology card draws the
master and its workers, the job card draws every task the workers measured (as many bars
as mr_task events, map and reduce) with the phase boundaries, and says the output equals
the one-process job, with the shuffle's bytes the events counted. In Chinese too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, post_run, set_view, wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/mapreduce")


def test_a_word_count_runs_and_its_tasks_and_check_are_drawn(page: Page, server: str) -> None:
    body = {"strategy": "mapreduce", "workers": 3, "steps": 2, "pace": None,
            "options": {"documents": 300, "map_tasks": 8, "reduce_tasks": 3, "task_ms": 40,
                        "combiner": True, "corpus": "mixed"}}
    run_id = post_run(server, body)
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    wait_status(page, "finished", 120_000)
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    tasks = [e for e in events if e["type"] == "mr_task" and e["step"] == 2]
    [result] = [e for e in events if e["type"] == "mr_result" and e["step"] == 2]
    assert result["correct"]

    page.wait_for_function(
        "document.querySelector('[data-testid=mr-gantt]').dataset.step === '2'"
        " && document.querySelector('[data-testid=mr-facts] [data-fact=result]') !== null",
        timeout=30_000)
    assert page.is_visible("[data-testid=mr-card]")
    assert not page.is_visible(".card-chart")  # nothing trained: no loss chart
    bars = page.locator("[data-testid=mr-bar]")
    assert bars.count() == len(tasks)
    kinds = sorted((bars.nth(i).get_attribute("data-kind"),
                    int(bars.nth(i).get_attribute("data-task"))) for i in range(bars.count()))
    assert kinds == sorted((e["kind"], e["task"]) for e in tasks)
    facts = page.locator("[data-testid=mr-facts]")
    result_line = facts.locator("[data-fact=result]")
    assert result_line.get_attribute("data-correct") == "true"
    assert f"{result['keys']} keys" in result_line.inner_text()
    shuffled = sum(e["bytes_in"] for e in tasks if e["kind"] == "reduce")
    assert shuffled > 0
    assert "combiner on" in facts.locator("[data-fact=combiner]").inner_text()
    # the topology: the master and three workers, all idle at the end
    nodes = page.locator("[data-testid=mr-node]")
    assert nodes.count() == 4
    assert page.get_attribute("[data-testid=topology]", "data-mode") == "mapreduce"
    assert page.inner_text(".card-topology .card-head h2") == "Master and workers"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "mapreduce-en.png"))

    set_view(page, "zh", False)
    page.wait_for_function(
        "document.querySelector('.card-mr h2').textContent === '作业：所有任务，同一时间轴'")
    assert "与单进程作业一致" in facts.locator("[data-fact=result]").inner_text()
    page.screenshot(path=str(SHOTS / "mapreduce-zh.png"))
    set_view(page, "en", False)


def test_the_form_hides_the_training_settings_for_a_job(page: Page, server: str) -> None:
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    assert page.is_visible("[data-testid=lr-input]")
    page.select_option("[data-testid=strategy-select]", "mapreduce")
    page.wait_for_selector("[data-testid=opt-map_tasks]")
    for field in ("lr-input", "batch-input", "optimizer-select", "model-select",
                  "dataset-select"):
        assert not page.is_visible(f"[data-testid={field}]"), field
    assert page.inner_text("#steps-label") == "Jobs (each on a new corpus)"
    set_view(page, "zh", False)
    page.wait_for_function("document.querySelector('#steps-label').textContent"
                           " === '作业数（每次一份新语料）'")
    set_view(page, "en", False)
    page.select_option("[data-testid=strategy-select]", "data_parallel")
    page.wait_for_function("document.querySelector('#steps-label').textContent === 'Steps'")
    assert page.is_visible("[data-testid=lr-input]")
