"""A class on a Ray cluster, in real Chromium (issue 20): ``distlab serve`` with
DISTLAB_RAY_ADDRESS set places the page's runs on a local Ray head of one CPU. The first
run holds it; the next waits in the queue and the page says why ("Ray cluster is full")
and where it stands; stopping the first lets it in, and its steps reach the page as for
a local run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser_support import get_json, running_server, wait_status
from tests.ray_head import local_ray_head

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ray_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'distlab[cluster]' "
                                      "(make install-dev does) to test runs on a Ray cluster")
    with local_ray_head(num_cpus=1) as head, running_server(
            tmp_path_factory.mktemp("ray-data"), {"DISTLAB_RAY_ADDRESS": head.address}) as base:
        yield base
    assert head.leftovers == [], f"Ray processes outlived the head: {head.leftovers}"


def _start(page: Page, server: str) -> str:
    """Start a long single-process run from the form; returns its id."""
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "single")
    page.fill("[data-testid=steps-input]", "5000")
    before = page.evaluate("window.distlab.app.runId")
    page.click("[data-testid=start-run]")
    page.wait_for_function("id => window.distlab.app.runId && window.distlab.app.runId !== id",
                           arg=before, timeout=120_000)
    return page.evaluate("window.distlab.app.runId")


def _open(page: Page, server: str, run: str, status: str) -> None:
    page.goto(f"{server}/?run={run}")
    page.wait_for_function("window.distlab !== undefined")
    wait_status(page, status, 120_000)


def test_a_full_ray_cluster_queues_the_next_run_and_lets_it_in(browser: Browser,
                                                               ray_server: str) -> None:
    assert get_json(f"{ray_server}/api/health")["runs_on"].startswith("127.0.0.1:")
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        first = _start(page, ray_server)
        wait_status(page, "running", 120_000)
        second = _start(page, ray_server)
        note = page.locator("[data-testid=queue-note]")
        note.wait_for(state="visible", timeout=30_000)
        assert "position 1" in note.inner_text()
        assert "Ray cluster is full" in note.inner_text()
        page.screenshot(path="/tmp/ray-queue.png")
        _open(page, ray_server, first, "running")
        page.click("[data-testid=stop-run]")
        wait_status(page, "stopped", 120_000)
        # the queued run starts by itself on the cluster; its steps reach the page
        _open(page, ray_server, second, "running")
        assert page.locator("[data-testid=queue-note]").is_hidden()
        page.wait_for_function("window.distlab.player.liveState.lastSeq > 20",
                               timeout=60_000)
        page.screenshot(path="/tmp/ray-running.png")
        page.click("[data-testid=stop-run]")
        wait_status(page, "stopped", 120_000)
    finally:
        page.context.close()
