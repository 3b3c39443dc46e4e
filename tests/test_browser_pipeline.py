"""Pipeline parallelism and the tiny transformer in the page, in real Chromium (issue 15).

- Choosing the pipeline strategy offers only the transformer and text data sets (the
  spec says which models a strategy trains, the config schema which data each model
  learns from); the run started from the form reaches "finished".
- The schedule grid fills in from the stages' measured cells: one row per stage, one cell
  per forward / backward pass, its step and measured bubble kept as data attributes.
- The transformer's writing appears and changes while it trains.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, post_run, wait_run_end, wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/pipeline")


def test_a_pipeline_run_from_the_form_fills_the_schedule_grid(page: Page, server: str
                                                              ) -> None:
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "pipeline")
    # The form follows the spec: the MLP cannot be pipelined, points are not text.
    page.wait_for_function(
        "document.querySelector('[data-testid=model-select]').value === 'transformer'")
    assert page.eval_on_selector(
        "[data-testid=model-select] option[value=mlp]", "o => o.disabled")
    assert page.input_value("[data-testid=dataset-select]") == "text-en"
    assert page.eval_on_selector(
        "[data-testid=dataset-select] option[value=spirals]", "o => o.disabled")
    assert page.is_visible("[data-testid=transformer-row]")
    assert page.inner_text("#batch-label") == "Batch size (all processes together)"
    page.fill("[data-testid=workers-input]", "2")
    page.fill("[data-testid=steps-input]", "12")
    page.fill("[data-testid=context-input]", "16")
    page.fill("[data-testid=layers-input]", "2")
    page.check("[data-testid=full-speed]")
    page.click("[data-testid=start-run]")
    wait_status(page, "finished", 90_000)

    grid = page.locator("[data-testid=schedule-grid]")
    page.wait_for_function(
        "document.querySelector('[data-testid=schedule-grid]').dataset.step === '12'",
        timeout=15_000)
    micro = 4  # the strategy's default
    assert grid.locator("rect.pp-cell").count() == 2 * 2 * micro
    assert grid.locator("rect.pp-F[data-stage='0']").count() == micro
    bubble = float(grid.get_attribute("data-bubble"))
    assert 0 <= bubble < 1
    summary = page.inner_text("[data-testid=schedule-summary]")
    assert "(2 − 1)/(4 + 2 − 1) = 20 %" in summary, summary
    assert page.locator("[data-testid=schedule-stages] li").count() == 2
    assert page.is_hidden("#boundary-card") and page.is_visible("[data-testid=sample-card]")
    assert page.inner_text("[data-testid=sample-text]").strip()
    # the explanations follow the strategy: the schedule, not a ring all-reduce
    views = page.eval_on_selector("[data-article=views]", "e => e.textContent")
    assert "Pipeline schedule" in views and "reduce-scatter" not in views, views
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "pipeline-finished.png"))


def test_the_transformers_writing_appears_and_changes(page: Page, server: str) -> None:
    run = post_run(server, {"strategy": "data_parallel", "workers": 2, "steps": 30,
                            "model": "transformer", "dataset": "text-zh", "lr": 1.0,
                            "batch_size": 8, "context": 16, "layers": 2, "pace": 6})
    page.goto(f"{server}/?run={run}")
    page.wait_for_function("window.distlab !== undefined")
    seen: set[str] = set()
    for _ in range(300):  # up to ~60 s: every distinct writing the page showed
        text = page.inner_text("[data-testid=sample-text]")
        if text.strip():
            seen.add(text)
        if get_json(f"{server}/api/runs/{run}")["status"] != "running" and len(seen) > 1:
            break
        page.wait_for_timeout(200)
    done = wait_run_end(server, run, 60)
    assert done["status"] == "finished", done["error"]
    assert len(seen) > 1, seen  # it wrote, and what it wrote changed as it learnt
    page.wait_for_function(
        "document.querySelector('[data-testid=sample-text]').dataset.step === '30'",
        timeout=15_000)


def test_a_tensor_parallel_run_shows_its_shards(page: Page, server: str) -> None:
    run = post_run(server, {"strategy": "tensor_parallel", "workers": 2, "steps": 6,
                            "model": "transformer", "dataset": "text-en", "batch_size": 8,
                            "context": 16, "layers": 3, "heads": 4, "d_model": 32})
    assert wait_run_end(server, run, 90)["status"] == "finished"
    page.goto(f"{server}/?run={run}")
    page.wait_for_function("window.distlab !== undefined")
    page.wait_for_function(
        "document.querySelector('[data-testid=tp-card]').dataset.step === '6'", timeout=15_000)
    card = page.locator("[data-testid=tp-card]")
    assert card.get_attribute("data-allreduces") == "12"  # 4 per block, 3 blocks
    holds = page.locator("[data-testid=tp-holds] li")
    assert holds.count() == 2
    assert "heads 0–1 of 4" in holds.nth(0).inner_text()
    assert "MLP columns 64–127 of 128" in holds.nth(1).inner_text()
    assert page.locator("[data-testid=tp-table] tr[data-block]").count() == 3
    # bytes measured beside the formula's: 12 all-reduces × 8·16·32·4 B, ring share 1
    formula = page.inner_text("[data-testid=tp-formula]")
    assert "16.4 KB" in formula and formula.count("196.6 KB") == 2, formula
    assert page.is_visible("[data-testid=sample-card]")
    views = page.eval_on_selector("[data-article=views]", "e => e.textContent")
    assert "Tensor shards" in views and "reduce-scatter" not in views, views
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "tensor-parallel.png"))


def test_the_chapter_4_lesson_predicts_then_measures_the_bubble(page: Page, server: str
                                                                 ) -> None:
    lesson = get_json(f"{server}/api/lessons/model-parallelism")
    assert isinstance(lesson, dict) and lesson["kind"] == "demo"
    page.goto(f"{server}/?lesson=model-parallelism")
    page.wait_for_selector("[data-testid=lesson-start]")
    page.click(f"[data-testid=lesson-predict] [data-choice='{lesson['predict']['answer']}']")
    page.click("[data-testid=lesson-start]")
    wait_status(page, "finished", 120_000)
    reveal = page.locator("[data-testid=lesson-reveal]")
    reveal.wait_for(state="visible", timeout=15_000)
    measured = " ".join(reveal.locator("[data-testid=lesson-measured] li").all_inner_texts())
    assert "formula 43 %" in measured, measured
    assert "stage by stage: 4, 3, 2, 1" in measured, measured
    # the grid drew the run's last step
    assert page.get_attribute("[data-testid=schedule-grid]", "data-step") == str(
        lesson["preset"]["config"]["steps"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "lesson-ch4.png"))


def test_an_interleaved_run_from_the_form_shades_its_chunks(page: Page, server: str) -> None:
    """Interleaved 1F1B chosen in the form: v chunks per process, each cell labelled with
    its chunk (odd chunks lighter), and the interleaved formula beside the measured bubble."""
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "pipeline")
    page.wait_for_function(
        "document.querySelector('[data-testid=model-select]').value === 'transformer'")
    chunks = page.locator("[data-testid=opt-virtual_stages]")
    assert not chunks.is_visible()  # only the interleaved schedule has chunks
    page.select_option("[data-testid=opt-schedule]", "interleaved")
    chunks.wait_for(state="visible")
    assert chunks.input_value() == "2"
    page.fill("[data-testid=workers-input]", "2")
    page.fill("[data-testid=steps-input]", "6")
    page.fill("[data-testid=context-input]", "16")
    page.fill("[data-testid=layers-input]", "4")
    page.check("[data-testid=full-speed]")
    page.locator("[data-testid=straggler-section] summary").click()
    page.fill("[data-testid=emulated-input]", "160")  # a grid that looks as on a cluster
    page.click("[data-testid=start-run]")
    wait_status(page, "finished", 90_000)

    grid = page.locator("[data-testid=schedule-grid]")
    page.wait_for_function(
        "document.querySelector('[data-testid=schedule-grid]').dataset.step === '6'",
        timeout=15_000)
    page.locator("[data-testid=schedule-card]").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/interleaved.png")
    page.locator("[data-testid=schedule-card]").screenshot(path="/tmp/interleaved-card.png")
    page.locator("#topology").screenshot(path="/tmp/interleaved-chain.png")
    micro, v = 4, 2
    assert grid.locator("rect.pp-cell").count() == 2 * 2 * micro * v
    for chunk in range(v):
        assert grid.locator(f"rect.pp-F[data-stage='0'][data-chunk='{chunk}']").count() == micro
    assert grid.locator("rect.pp-chunk-odd").count() == 2 * 2 * micro
    labels = grid.locator("text.pp-cell-label").all_text_contents()
    # cells wide enough carry their label: kind, micro-batch · chunk
    assert any(x.endswith("·1") for x in labels) and "B0·0" in labels, labels
    assert all(re.fullmatch(r"[FB][0-3]·[01]", x) for x in labels), labels
    summary = page.inner_text("[data-testid=schedule-summary]")
    assert "(2 − 1)/(2·4 + 2 − 1) = 11 %" in summary, summary
    assert page.is_visible("[data-testid=schedule-chunk-legend]")
    stages = page.locator("[data-testid=schedule-stages] li").all_inner_texts()
    assert "chunk 0: embedding + block 1 | chunk 1: block 3" in stages[0], stages
    assert "micro-batch × chunk activations" in stages[0], stages
