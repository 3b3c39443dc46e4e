"""ZeRO in the page, in real Chromium (issue 16, first step): choosing it offers only
Adam (its spec's optimizers), and a run started from the form reaches "finished" with
the shards' collectives on the wire: reduce-scatter and all-gather, no all-reduce."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, wait_status

pytestmark = pytest.mark.browser


def test_a_zero_run_from_the_form(page: Page, server: str) -> None:
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "zero")
    page.wait_for_function(
        "document.querySelector('[data-testid=optimizer-select]').value === 'adam'")
    assert page.eval_on_selector(
        "[data-testid=optimizer-select] option[value=sgd]", "o => o.disabled")
    page.fill("[data-testid=workers-input]", "2")
    page.fill("[data-testid=steps-input]", "10")
    page.fill("[data-testid=lr-input]", "0.01")
    page.check("[data-testid=full-speed]")
    page.check("[data-testid=detail-input]")
    page.click("[data-testid=start-run]")
    wait_status(page, "finished", 90_000)
    run_id = page.evaluate("window.distlab.app.runId")
    run = get_json(f"{server}/api/runs/{run_id}")
    assert isinstance(run, dict)
    assert run["config"]["optimizer"] == "adam" and run["config"]["options"]["stage"] == "2"
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    items = events["events"] if isinstance(events, dict) else events
    # Per step (the set-up broadcast of rank 0's weights aside):
    ops = {e["op"] for e in items if e["type"] == "comm" and e["step"]}
    assert ops == {"reduce_scatter", "all_gather"}, ops

    # Memory per process, measured, beside the paper's accounting for stage 2.
    page.wait_for_selector("[data-testid=memory-card]", state="visible")
    assert page.locator("[data-testid=memory-bars] .mem-row").count() == 2
    note = page.inner_text("[data-testid=memory-note]")
    assert "ZeRO stage 2's accounting" in note, note
    page.click("[data-testid=lang-toggle]")
    page.wait_for_function(
        "document.querySelector('[data-testid=memory-note]').textContent.includes('阶段 2')")
    page.click("[data-testid=lang-toggle]")

    # The bytes card quotes stage 2's formula, and each worker sent what it predicts
    # (to a float per phase: shards of unequal size).
    page.wait_for_function("document.querySelector('[data-testid=link-bytes]').dataset"
                           ".formulaKey === 'zero.bytes.2'")
    # (in English again: the views redraw in the next animation frame after the toggle)
    page.wait_for_function(
        "document.querySelector('#bytes-formula').textContent.includes('ZeRO stage 2')")
    formula = page.inner_text("#bytes-formula")
    assert "ZeRO stage 2" in formula and "2(n−1)/n·N" in formula, formula
    rows = page.evaluate("[...document.querySelectorAll('[data-testid=link-bytes] "
                         "tr[data-rank]')].map(r => ({...r.dataset}))")
    assert len(rows) == 2
    for row in rows:
        assert abs(float(row["sent"]) - float(row["expectedSent"])) <= 2 * 4 * 10, row
    page.click("[data-testid=lang-toggle]")
    page.wait_for_function(
        "document.querySelector('#bytes-formula').textContent.includes('ZeRO 阶段 2')")
    page.click("[data-testid=lang-toggle]")

    # Replayed after the fact (a fresh page, no workers), the memory card draws the same
    # measured bytes per process and kind as it did live.
    live = _memory_bars(page)
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    page.wait_for_function(
        "document.querySelector('[data-testid=memory-card]').dataset.step === "
        f"'{live['step']}'")
    assert _memory_bars(page) == live


def _memory_bars(page: Page) -> dict[str, dict[str, int]]:
    """Per process, the bytes of each kind its bar shows (and the step they are from)."""
    return page.evaluate("""() => {
      const card = document.querySelector('[data-testid=memory-card]');
      const out = {step: card.dataset.step};
      for (const row of card.querySelectorAll('.mem-row'))
        out[row.dataset.rank] = Object.fromEntries([...row.querySelectorAll('.mem-seg')]
          .map(s => [s.dataset.kind, Number(s.dataset.bytes)]));
      return out;
    }""")

def test_the_library_version_is_offered_by_the_spec_and_runs_from_the_form(
        page: Page, server: str) -> None:
    """The implementation option (ours | PyTorch) comes from ZeRO's spec, in both
    languages; PyTorch's stage 3 (FSDP2) started from the form finishes, its all-gathers
    and reduce-scatters on the wire and its memory card shown."""
    specs = get_json(f"{server}/api/strategies")
    assert isinstance(specs, list)
    zero = next(s for s in specs if s["name"] == "zero")
    option = next(o for o in zero["options"] if o["name"] == "implementation")
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "zero")
    impl = page.locator("[data-testid=opt-implementation]")
    assert impl.is_visible()
    shown = impl.evaluate("el => [...el.options].map(o => [o.value, o.textContent])")
    assert shown == [[c["value"], c["label"]["en"]] for c in option["choices"]]
    page.click("[data-testid=lang-toggle]")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    label = page.inner_text("[data-testid=strategy-options] [data-option=implementation] > span")
    assert label.strip() == option["label"]["zh"]
    assert impl.evaluate("el => [...el.options].map(o => o.textContent)") == [
        c["label"]["zh"] for c in option["choices"]]
    page.click("[data-testid=lang-toggle]")
    page.wait_for_function("document.documentElement.lang === 'en'")

    impl.select_option("torch")
    page.select_option("[data-testid=opt-stage]", "3")
    page.fill("[data-testid=workers-input]", "2")
    page.fill("[data-testid=steps-input]", "6")
    page.fill("[data-testid=lr-input]", "0.01")
    page.check("[data-testid=full-speed]")
    page.check("[data-testid=detail-input]")
    page.click("[data-testid=start-run]")
    wait_status(page, "finished", 90_000)
    run_id = page.evaluate("window.distlab.app.runId")
    run = get_json(f"{server}/api/runs/{run_id}")
    assert isinstance(run, dict)
    assert run["config"]["options"] == {"stage": "3", "implementation": "torch"}
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    items = events["events"] if isinstance(events, dict) else events
    ops = {e["op"] for e in items if e["type"] == "comm" and e["step"]}
    assert ops == {"all_gather", "reduce_scatter"}, ops
    page.wait_for_selector("[data-testid=memory-card]", state="visible")
    assert page.locator("[data-testid=memory-bars] .mem-row").count() == 2
