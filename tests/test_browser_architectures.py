"""Chapter 2's lesson, architectures side by side, in real Chromium (issue 18): its last
step runs the same model three ways on 8 processes in two nodes of four — a parameter
server (centralized), the hierarchical all-reduce (layered), gossip on a ring
(peer-to-peer) — and the compare view reads from each run's step events the bytes that
crossed between the nodes per step (8·N, 2·N and 4·N for a model of N bytes) and the
communication time on the modelled two-level network.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser_support import run_lesson_measure

pytestmark = pytest.mark.browser

LID = "architectures"
TABLE = "[data-testid=compare-measured]"


def test_the_three_architectures_are_measured_side_by_side(page: Page, server: str) -> None:
    runs = run_lesson_measure(page, server, LID, 3)
    assert all(r["status"] == "finished" for r in runs), runs
    assert [r["config"]["strategy"] for r in runs] == ["parameter_server", "data_parallel",
                                                        "decentralized"]
    assert all(r["config"]["node_size"] == 4 and r["config"]["network"] == "two_level"
               for r in runs)
    row = f"{TABLE} tr[data-quantity=across] td"
    page.wait_for_function(
        f"[...document.querySelectorAll('{row}')].length === 3 &&"
        f" [...document.querySelectorAll('{row}')].every(td => td.dataset.value !== '')",
        timeout=60_000)
    across = page.eval_on_selector_all(row, "tds => tds.map(td => +td.dataset.value)")
    model = across[1] / 2  # the layered run: the two leaders' ring, 2·N
    assert across == [8 * model, 2 * model, 4 * model]
    modelled = page.eval_on_selector_all(f"{TABLE} tr[data-quantity=modelled] td",
                                         "tds => tds.map(td => td.dataset.value)")
    # the parameter server's messages are not charged to the network model: it says so
    assert modelled[0] == "" and float(modelled[1]) > 0 and float(modelled[2]) > 0
    assert "not charged to the network model" in page.inner_text(
        f"{TABLE} tr[data-quantity=modelled] td:first-of-type")
    page.screenshot(path="/tmp/lesson2-measure.png", full_page=True)
