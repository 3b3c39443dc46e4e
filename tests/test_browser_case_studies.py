"""Chapter 13's case studies in real Chromium (issue 16), in English and Chinese:

- the lesson lists the published set-ups (frontend/static/data/cases.json) with their
  sources; each one's link opens the calculator filled in with it: d, p, t, the GPU
  count of the paper, the memory per GPU as engine/calculator.py computes it, fitting
  the paper's GPU — and every input can also be set from the URL;
- the lesson's live run, a scaled-down 2 × 2 × 2 mix of the same parallelism, starts
  from the lesson, finishes, and its reveal names the group that carried the most bytes,
  which is the one the run's own step events say.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from playwright.sync_api import Page

from backend.cases import cases
from engine.calculator import ACCELERATORS, GIB, per_gpu
from tests.browser_support import get_json, wait_status

pytestmark = pytest.mark.browser

LID = "case-studies"
PANEL = "[data-testid=lesson-panel]"
SHOTS = Path("/tmp")


def _open_lesson(page: Page, server: str, lang: str) -> None:
    page.goto(f"{server}/?lesson={LID}&lang={lang}")
    page.wait_for_function(
        f"document.querySelector('{PANEL}').dataset.lesson === '{LID}' "
        f"&& !document.querySelector('{PANEL}').hidden")


def _calculator_from_link(page: Page, case_id: str) -> Page:
    """Click the case's calculator link (a new tab); wait for the calculator to be filled."""
    link = page.locator(f"[data-testid=lesson-case-link][data-case='{case_id}']")
    with page.context.expect_page() as info:
        link.click()
    calc = info.value
    errors: list[str] = []
    calc.on("pageerror", lambda exc: errors.append(str(exc)))
    calc.wait_for_function(
        "document.querySelector('[data-testid=calc-out]')?.dataset.ready === '1'")
    assert errors == []
    return calc


def _check_calculator_shows(calc: Page, case_id: str) -> None:
    case = cases()[case_id]
    s = case.setup.calculator()
    assert calc.input_value("[data-testid=calc-case]") == case_id
    assert calc.get_attribute("[data-testid=calc-out]", "data-case") == case_id
    for testid, want in (("calc-data", s.data), ("calc-pipeline", s.pipeline),
                         ("calc-tensor", s.tensor), ("calc-zero", s.zero)):
        assert calc.input_value(f"[data-testid={testid}]") == str(want), testid
    assert calc.is_checked("[data-testid=calc-recompute]") == s.recompute
    expected = per_gpu(s)["total"] / GIB
    assert float(calc.get_attribute("[data-testid=calc-total]", "data-gib")) == pytest.approx(
        expected, abs=0.001)
    assert str(case.gpus) in calc.inner_text("[data-testid=calc-total]")
    gpus = calc.locator("[data-testid=calc-case-gpus]")
    assert gpus.get_attribute("data-match") == "true" and str(case.gpus) in gpus.inner_text()
    fit = calc.locator("[data-testid=calc-case-fit]")
    assert fit.get_attribute("data-fits") == "true"
    assert expected < ACCELERATORS[case.accelerator]
    # the accelerator's own line of the fit list agrees
    line = calc.locator("[data-testid=calc-fit] li", has_text=case.accelerator)
    assert line.get_attribute("data-fits") == "true"
    assert calc.locator("[data-testid=calc-case-changed]").count() == 0
    # the URL holds the set-up, so the page can be linked as it is
    assert f"case={case_id}" in calc.url and f"tensor={s.tensor}" in calc.url


def test_each_case_opens_the_calculator_filled_in_both_languages(page: Page,
                                                                 server: str) -> None:
    lesson = get_json(f"{server}/api/lessons/{LID}")
    assert isinstance(lesson, dict) and lesson["kind"] == "demo"
    ids = [c["id"] for c in lesson["cases"]]
    assert ids == list(cases())
    for lang in ("en", "zh"):
        _open_lesson(page, server, lang)
        section = page.locator("[data-testid=lesson-cases]")
        assert section.locator("[data-testid=lesson-case-link]").count() == len(ids)
        text = section.inner_text()
        for c in lesson["cases"]:
            assert c["title"][lang] in text and c["source"]["where"][lang] in text
        section.evaluate("e => e.scrollIntoView({block: 'end'})")  # the panel scrolls
        page.screenshot(path=str(SHOTS / f"cases-lesson-{lang}.png"))
        for case_id in ids if lang == "en" else ["llama3-405b"]:
            calc = _calculator_from_link(page, case_id)
            _check_calculator_shows(calc, case_id)
            card = calc.locator("[data-testid=calc-case-card]").inner_text()
            assert cases()[case_id].title.model_dump()[lang] in card
            assert cases()[case_id].source.title in card
            if lang == "zh":
                assert "块 GPU" in calc.inner_text("[data-testid=calc-total]")
                assert "放得进" in calc.inner_text("[data-testid=calc-case-fit]")
            calc.screenshot(path=str(SHOTS / f"cases-calculator-{case_id}-{lang}.png"),
                            full_page=True)
            calc.close()


def test_every_calculator_input_comes_from_the_url(page: Page, server: str) -> None:
    # a case, with one input changed by the URL: the page says it differs from the paper
    page.goto(f"{server}/calculator?case=llama3-405b&pipeline=8&lang=en")
    page.wait_for_function(
        "document.querySelector('[data-testid=calc-out]')?.dataset.ready === '1'")
    assert page.input_value("[data-testid=calc-pipeline]") == "8"
    assert page.input_value("[data-testid=calc-data]") == "128"
    assert page.locator("[data-testid=calc-case-changed]").is_visible()
    assert page.get_attribute("[data-testid=calc-case-gpus]", "data-match") == "false"
    # no case: every input from the URL, the model's shape by name
    page.goto(f"{server}/calculator?model=gpt3-175b&seq=1024&micro_batch=2&micro_batches=4"
              "&data=16&pipeline=8&tensor=8&zero=1&mixed=1&recompute=1")
    page.wait_for_function(
        "document.querySelector('[data-testid=calc-out]')?.dataset.ready === '1'")
    assert page.locator("[data-testid=calc-case-card]").is_hidden()
    got = {t: page.input_value(f"[data-testid={t}]") for t in
           ("calc-model", "calc-data", "calc-pipeline", "calc-tensor", "calc-zero")}
    assert got == {"calc-model": "gpt3-175b", "calc-data": "16", "calc-pipeline": "8",
                   "calc-tensor": "8", "calc-zero": "1"}
    assert page.input_value("#c-seq") == "1024" and page.input_value("#c-mb") == "2"
    assert page.input_value("#c-m") == "4" and page.is_checked("#c-recompute")
    assert "1024 GPUs" in page.inner_text("[data-testid=calc-total]")
    # the model alone, unsplit: too big for every accelerator
    page.goto(f"{server}/calculator?model=llama3-405b")
    page.wait_for_function(
        "document.querySelector('[data-testid=calc-out]')?.dataset.ready === '1'")
    fit = page.locator("[data-testid=calc-fit] li")
    assert all(li.get_attribute("data-fits") == "false" for li in fit.all())


def test_the_lesson_runs_its_scaled_down_mix_and_reveals(page: Page, server: str) -> None:
    lesson = get_json(f"{server}/api/lessons/{LID}")
    assert isinstance(lesson, dict)
    config = lesson["preset"]["config"]
    assert config["strategy"] == "three_d" and config["workers"] == 8
    o = config["options"]
    assert (o["dp"], o["pp"], o["tp"]) == (2, 2, 2)
    _open_lesson(page, server, "en")
    start = page.locator("[data-testid=lesson-start]")
    assert start.is_disabled()  # predict first
    answer = lesson["predict"]["answer"]
    page.click(f"[data-testid=lesson-predict] [data-choice='{answer}']")
    start.click()
    wait_status(page, "finished", 240_000)
    reveal = page.locator("[data-testid=lesson-reveal]")
    reveal.wait_for(state="visible", timeout=15_000)
    assert reveal.locator(".lesson-verdict").get_attribute("data-right") == "true"
    assert lesson["predict"]["explain"]["en"] in reveal.inner_text()
    measured = reveal.locator("[data-testid=lesson-measured] li").all_inner_texts()
    assert measured[0].startswith(f"{config['steps']} steps"), measured
    assert any(m.startswith("bytes sent in step") for m in measured), measured
    # the run's own step events: the group the reveal names carried the most bytes
    run_id = page.evaluate("window.distlab.app.runId")
    run = get_json(f"{server}/api/runs/{run_id}")
    assert isinstance(run, dict) and run["config"]["options"]["tp"] == 2
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    assert isinstance(events, list)
    steps = [e for e in events if e["type"] == "step"]
    last = max(e["step"] for e in steps)
    total = {k: sum(e["sent_by_group"][k] for e in steps if e["step"] == last)
             for k in ("tensor", "pipeline", "data")}
    most = max(total, key=total.__getitem__)
    assert most == "tensor", total  # the lesson's answer (choice 0), measured
    assert f"the most bytes: the {most} groups" in measured, measured
    page.screenshot(path=str(SHOTS / "cases-lesson-reveal-en.png"))
    # the reveal again from the URL alone, in Chinese
    url = urlsplit(page.url)
    query = {k: v for k, v in parse_qsl(url.query)} | {"lang": "zh"}
    assert query["lesson"] == LID and query["run"] == run_id and query["guess"] == "0"
    page.goto(urlunsplit(url._replace(query=urlencode(query))))
    page.locator("[data-testid=lesson-reveal]").wait_for(state="visible", timeout=20_000)
    zh = page.locator("[data-testid=lesson-reveal]").inner_text()
    assert lesson["predict"]["explain"]["zh"] in zh and "字节最多的是：张量组" in zh
    page.screenshot(path=str(SHOTS / "cases-lesson-reveal-zh.png"))
