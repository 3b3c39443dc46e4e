"""The calculator page (/calculator) in real Chromium, in both languages (issue 16): GPT-3
175B does not fit one GPU; split 16 × 8 × 8 with ZeRO-1 and recomputation it does, and
the page's number is the engine's (engine/calculator.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from engine.calculator import MODELS, Setup, per_gpu

pytestmark = pytest.mark.browser


def test_the_calculator_says_what_fits(page: Page, server: str) -> None:
    page.goto(server)
    page.click("[data-testid=calculator-link]")
    page.wait_for_selector("[data-testid=calc-total]")
    assert page.input_value("[data-testid=calc-model]") == "gpt3-175b"
    fit = page.locator("[data-testid=calc-fit] li")
    assert fit.count() == 5 and all(
        li.get_attribute("data-fits") == "false" for li in fit.all())
    for testid, value in (("calc-data", "16"), ("calc-pipeline", "8"), ("calc-tensor", "8")):
        page.fill(f"[data-testid={testid}]", value)
    page.select_option("[data-testid=calc-zero]", "1")
    page.check("[data-testid=calc-recompute]")
    g = MODELS["gpt3-175b"]
    expected = per_gpu(Setup(params=g["params"], layers=96, hidden=12288, heads=96, data=16,
                             pipeline=8, tensor=8, zero=1, recompute=True))["total"] / 2**30
    gib = float(page.get_attribute("[data-testid=calc-total]", "data-gib"))
    assert gib == pytest.approx(expected, abs=0.001)
    assert "1024 GPUs" in page.inner_text("[data-testid=calc-total]")
    h100 = page.locator("[data-testid=calc-fit] li", has_text="H100")
    assert h100.get_attribute("data-fits") == "true"
    assert "46.7 %" in page.inner_text("[data-testid=calc-bubble]")  # (8 − 1)/(8 + 8 − 1)
    page.click("[data-testid=lang-toggle]")
    page.wait_for_function(
        "document.querySelector('[data-testid=calc-total]').textContent.includes('每块 GPU')")
    assert "放得下" in page.inner_text("[data-testid=calc-fit]")
    page.click("[data-testid=lang-toggle]")
