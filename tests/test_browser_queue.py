"""A fair class in real Chromium (issue 20): with one live run per student, a browser that
holds one gets its next run queued — the page says so, with its place — while another
browser (another student: its own anonymous id) starts at once; the queued run starts by
itself when the first one is stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser_support import get_json, running_server, set_view, wait_status

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def class_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("class-data"),
                        {"DISTLAB_MAX_RUNS_PER_STUDENT": "1"}) as base:
        yield base


def _start(page: Page, server: str) -> str:
    """Start a long, paced single-process run from the form; returns its id."""
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "single")
    page.fill("[data-testid=steps-input]", "5000")
    before = page.evaluate("window.distlab.app.runId")
    page.click("[data-testid=start-run]")
    page.wait_for_function("id => window.distlab.app.runId && window.distlab.app.runId !== id",
                           arg=before)
    return page.evaluate("window.distlab.app.runId")


def test_a_student_at_the_limit_waits_and_another_starts(browser: Browser,
                                                        class_server: str) -> None:
    alice = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    bob = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        first = _start(alice, class_server)
        wait_status(alice, "running", 60_000)
        second = _start(alice, class_server)
        note = alice.locator("[data-testid=queue-note]")
        note.wait_for(state="visible", timeout=30_000)
        assert "position 1" in note.inner_text() and "per student" in note.inner_text()
        assert get_json(f"{class_server}/api/runs/{second}")["status"] == "queued"
        # in Chinese the reason is Chinese too (the server's code and numbers, worded here)
        set_view(alice, "zh", False)
        alice.wait_for_function("document.querySelector('[data-testid=queue-note]')"
                                ".textContent.includes('每位学生最多 1 个')", timeout=10_000)
        set_view(alice, "en", False)
        # the narration says the run waits (not "Starting ? workers")
        alice.wait_for_function("document.getElementById('narration').textContent"
                                ".includes('waiting in the queue')", timeout=10_000)
        theirs = _start(bob, class_server)  # another student: at once
        wait_status(bob, "running", 60_000)
        assert get_json(f"{class_server}/api/runs/{theirs}")["status"] != "queued"
        alice.screenshot(path="/tmp/queue.png")
        # Alice stops her first run (from the run list, the page that holds its token)...
        alice.goto(f"{class_server}/?run={first}")
        alice.wait_for_function("window.distlab !== undefined")
        wait_status(alice, "running", 30_000)
        alice.click("[data-testid=stop-run]")
        wait_status(alice, "stopped", 60_000)
        # ...and her queued run starts by itself
        alice.goto(f"{class_server}/?run={second}")
        alice.wait_for_function("window.distlab !== undefined")
        wait_status(alice, "running", 60_000)
        assert alice.locator("[data-testid=queue-note]").is_hidden()
        for page, run in ((alice, second), (bob, theirs)):
            page.goto(f"{class_server}/?run={run}")
            page.wait_for_function("window.distlab !== undefined")
            wait_status(page, "running", 30_000)
            page.click("[data-testid=stop-run]")
            wait_status(page, "stopped", 60_000)
    finally:
        alice.context.close()
        bob.context.close()
