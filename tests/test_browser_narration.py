"""The narration tells a straggler from jitter (issue 13, item 2): one slow step of a rank
that is not slower otherwise is scheduler noise on a busy machine, not a straggler."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from backend.store import Store
from engine.config import RunConfig
from engine.runner import run_headless
from tests.browser_support import running_server

pytestmark = pytest.mark.browser

RUN = "6a77e2000000"  # run ids are 12 hex digits
SPIKE_STEP = 8


def _store_run_with_one_slow_step(data_dir: Path) -> None:
    """A real 4-worker ring run, stored with one step where rank 2 took 60 ms longer and
    the others waited for it at the all-reduce — what a busy core does once, not a
    straggler (no straggler configured, no slow fault)."""
    config = RunConfig(strategy="data_parallel", workers=4, steps=12, batch_size=16,
                       options={"allreduce": "ring"})
    events = run_headless(config, timeout=120)
    for event in events:
        if event["type"] == "step" and event["step"] == SPIKE_STEP:
            if event["rank"] == 2:
                event["compute_ms"] += 60.0
            else:
                event["comm_ms"] += 60.0
    store = Store(data_dir)
    store.create_run(RUN, config.to_dict(), "running")
    store.append_events(RUN, events)
    store.update_run(RUN, status="finished", step=config.steps)
    store.flush()
    store.close()


@pytest.fixture(scope="module")
def jitter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("jitter-data")
    _store_run_with_one_slow_step(data_dir)
    with running_server(data_dir) as base:
        yield base


def _narration_at(browser: Browser, base: str, lang: str, step: int) -> str:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=lang)
    try:
        # The views draw in the next animation frame, so until then the narration may still
        # hold the line of the run's end: wait for the line of this very step.
        marker = f"第 {step} 步" if lang == "zh" else f"step {step}:"
        pg: Page = context.new_page()
        pg.goto(f"{base}/?run={RUN}&at={step}&lang={lang}")
        pg.wait_for_function(
            f"window.distlab && window.distlab.player.mode === 'scrub'"
            f" && window.distlab.player.cursor === {step}"
            f" && document.getElementById('narration').textContent.includes('{marker}')",
            timeout=30_000,
        )
        return pg.inner_text("#narration")
    finally:
        context.close()


def test_one_slow_step_is_called_jitter_not_a_straggler(browser: Browser,
                                                         jitter_server: str) -> None:
    text = _narration_at(browser, jitter_server, "en", SPIKE_STEP)
    assert "jitter, not a straggler" in text and "rank 2" in text, text
    assert "× slower" not in text, text
    zh = _narration_at(browser, jitter_server, "zh", SPIKE_STEP)
    assert "抖动" in zh and "不是掉队者" in zh, zh
