"""The compression card reads at a glance (issue 13, item 10): the bytes chart is on a log
axis, so a 1 % top-k payload is a line beside the uncompressed reference, not a smear on
the x-axis; and a biased compressor without error feedback says why the loss may stall."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import Page

from tests.browser_support import wait_status

pytestmark = pytest.mark.browser


def test_topk_without_error_feedback_bytes_on_a_log_axis_and_why_it_stalls(
        page: Page, server: str) -> None:
    pg = page
    steps = 8
    pg.goto(f"{server}/?workers=2&steps={steps}&pace=20&dataset=moons&compression=topk"
            "&compress_fraction=0.01&error_feedback=false&lang=zh")
    pg.wait_for_function("window.distlab !== undefined && window.Plotly !== undefined")
    pg.click("[data-testid=start-run]")
    wait_status(pg, "finished", 90_000)
    pg.wait_for_function(
        f"document.querySelector('[data-testid=compression-panel]').dataset.step === '{steps}'"
        " && document.querySelector('[data-testid=bytes-chart]').dataset.yscale === 'log'",
        timeout=30_000,
    )
    axis = pg.evaluate(
        """(() => { const gd = document.querySelector('[data-testid=bytes-chart]');
                   const y = gd._fullLayout.yaxis;
                   const trace = m => gd.data.find(t => t.meta === m);
                   return {type: y.type, range: y.range, title: y.title.text,
                           payload: trace('payload').y, reference: trace('reference').y}; })()"""
    )
    assert axis["type"] == "log"
    assert "对数" in axis["title"]
    # Both lines inside the drawn range (a log axis's range is in decades) and far apart:
    # on a linear axis the payload would sit within 5 % of the height from the zero line.
    low, high = axis["range"]
    payload, reference = max(axis["payload"]), axis["reference"][0]
    assert payload < reference / 20  # 1 % of the values (plus their indices)
    assert low < math.log10(payload) < high and low < math.log10(reference) <= high
    assert math.log10(reference) - math.log10(payload) > 0.5 * (high - low)
    caption = pg.locator("#comp-caption")
    assert caption.get_attribute("data-no-ef") == "true"
    assert "误差反馈" in caption.inner_text() and "top-k" in caption.inner_text()
