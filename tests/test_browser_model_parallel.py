"""Data, pipeline and tensor parallelism in the page, in real Chromium (issue 15, 表4).

- A pipeline run's processes are drawn as a chain: stage 0 → 1 → 2 (activations, above)
  and back (gradients, below), each link with the bytes it carried; nothing links the
  last stage to the first (it is not data parallelism's ring).
- Chapter 4's lesson ends with a step that runs data, pipeline and tensor parallelism on
  the same transformer and opens them side by side: the measured table shows memory per
  process, bytes and time per step and the idle fraction, a number for each run.

Screenshots (1440×900, English and Chinese) go to /tmp/shots/model-parallel.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import post_run, set_view, wait_run_end

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/model-parallel")
TOPO = "[data-testid=topology]"
TABLE = "[data-testid=compare-measured]"


def test_a_pipeline_run_is_drawn_as_a_chain(page: Page, server: str) -> None:
    run = post_run(server, {"strategy": "pipeline", "workers": 3, "steps": 6, "pace": None,
                            "model": "transformer", "dataset": "text-en", "context": 16,
                            "layers": 3, "batch_size": 8,
                            "options": {"schedule": "1f1b", "micro_batches": 2}})
    assert wait_run_end(server, run, 120)["status"] == "finished"
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/?run={run}")
    page.wait_for_function(
        f"(() => {{ const s = document.querySelector('{TOPO}');"
        " return s.dataset.mode === 'chain' && s.dataset.chainStep === '6'; })()",
        timeout=30_000)
    links = page.eval_on_selector_all(
        f"{TOPO} path.chain-link",
        "els => els.map(e => [+e.dataset.src, +e.dataset.dst, e.dataset.dir, +e.dataset.bytes])")
    # activations one way, gradients the other, between neighbours only
    assert sorted((s, d, k) for s, d, k, _ in links) == [
        (0, 1, "forward"), (1, 0, "backward"), (1, 2, "forward"), (2, 1, "backward")], links
    assert all(b > 0 for *_, b in links), links
    assert page.locator(f"{TOPO} .chain-layer [data-src='2'][data-dst='0']").count() == 0
    assert page.locator(f"{TOPO} .chain-label").count() == 4
    # the stages in order, and no ring of data parallelism's drawn under them
    stages = page.eval_on_selector_all(f"{TOPO} .chain-node",
                                       "els => els.map(e => e.dataset.stage)")
    assert stages == ["0", "1", "2"]
    assert page.locator(f"{TOPO} > g.edges path").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "zh"):
        set_view(page, lang, presenter=False)
        page.wait_for_function(
            f"document.querySelector('{TOPO} .chain-node text').textContent"
            f".startsWith('{'阶段' if lang == 'zh' else 'stage'}')")
        page.locator(".card-topology").screenshot(path=str(SHOTS / f"chain-{lang}.png"))
        page.screenshot(path=str(SHOTS / f"pipeline-page-{lang}.png"))


def test_the_lesson_measures_data_pipeline_and_tensor_parallelism(page: Page, server: str
                                                                  ) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/?lesson=model-parallelism")
    step = page.locator("[data-testid=lesson-measure]")
    step.wait_for()
    page.click("[data-testid=lesson-measure-run]")
    # three runs one after another, then the compare view opens on them
    page.wait_for_function(
        "(() => { const v = document.querySelector('[data-testid=compare-view]');"
        " return !v.hidden && v.dataset.runs === '3'; })()", timeout=600_000)
    strategies = []
    for side in "abc":
        run = page.get_attribute("[data-testid=compare-view]", f"data-{side}")
        strategies.append(wait_run_end(server, run, 60)["config"]["strategy"])
    assert strategies == ["data_parallel", "pipeline", "tensor_parallel"]
    # every quantity a number for every run (the runs' events arrive over the socket)
    page.wait_for_function(
        f"[...document.querySelectorAll('{TABLE} tbody td')].length === 12 &&"
        f" [...document.querySelectorAll('{TABLE} tbody td')].every(td => td.dataset.value !== '')",
        timeout=60_000)
    values = page.eval_on_selector_all(
        f"{TABLE} tbody tr",
        "rows => Object.fromEntries(rows.map(r => [r.dataset.quantity,"
        " [...r.querySelectorAll('td')].map(td => +td.dataset.value)]))")
    assert set(values) == {"memory", "bytes", "time", "idle"}
    for q in ("memory", "bytes", "time"):
        assert all(v > 0 for v in values[q]), (q, values)
    assert all(0 <= v <= 1 for v in values["idle"]), values
    # 40 steps leave steps without the model's writing: the times are of training alone
    notes = page.eval_on_selector_all(f"{TABLE} tr[data-quantity=time] .sub",
                                      "els => els.map(e => e.textContent)")
    assert all("writing" not in n for n in notes), notes
    # the pipeline's idle time is its measured bubble; the others' their time in collectives
    kinds = page.eval_on_selector_all(f"{TABLE} tr[data-quantity=idle] .sub",
                                      "els => els.map(e => e.dataset.kind)")
    assert kinds == ["collectives", "bubble", "collectives"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "zh"):
        set_view(page, lang, presenter=False)
        word = "每个进程的内存" if lang == "zh" else "Memory per process"
        page.wait_for_function(
            f"document.querySelector('{TABLE} tr[data-quantity=memory] th')"
            f".textContent === '{word}'")
        page.screenshot(path=str(SHOTS / f"compare-{lang}.png"))
        page.locator(".compare-card-measured").screenshot(path=str(SHOTS / f"table4-{lang}.png"))
