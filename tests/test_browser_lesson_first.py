"""Chapter 1's smallest convincing experiment, in real Chromium (issue 18): the first
lesson's last step runs the same job on 1 process and on 4 (work emulated in proportion
to the batch), and each again with a process killed at step 20. The compare view shows
the 4 processes' steps faster than the 1 process's (the speed-up), the 1-process run
failed when its process died, and the 4-process run finished without it (availability).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser_support import run_lesson_measure

pytestmark = pytest.mark.browser

LID = "first-distributed-run"
TABLE = "[data-testid=compare-measured]"


def test_one_process_against_four_speed_and_availability(page: Page, server: str) -> None:
    runs = run_lesson_measure(page, server, LID, 4)
    assert [r["config"]["workers"] for r in runs] == [1, 4, 1, 4]
    # availability: one process is a single point of failure; four go on without one
    assert [r["status"] for r in runs] == ["finished", "finished", "failed", "finished"]
    assert runs[3]["summary"]["steps_completed"] == runs[3]["config"]["steps"]
    row = f"{TABLE} tr[data-quantity=time] td"
    page.wait_for_function(
        f"[...document.querySelectorAll('{row}')].slice(0, 2)"
        ".every(td => td.dataset.value !== '')", timeout=60_000)
    ms = page.eval_on_selector_all(row, "tds => tds.map(td => td.dataset.value)")
    one, four = float(ms[0]), float(ms[1])
    # 80 ms of emulated work a step on 1 process, 20 ms on each of 4 (the same batch):
    # the 4 processes' step is shorter, whatever the all-reduce costs on this machine
    assert one >= 80 and four < one, (one, four)
    page.screenshot(path="/tmp/lesson1-measure.png")
