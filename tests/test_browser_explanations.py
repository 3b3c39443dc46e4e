"""The explanations follow the run (issue 13, item 9), in real Chromium.

- "Colours and shapes" (the article under the views) describes what the loaded run's views
  draw: the ring's reduce-scatter for data parallelism, the server's pulls and pushes for a
  parameter server, the compression for a compressed run; in English and Chinese.
- A scenario's description matches its config: no straggler in the words when the run has
  none, and the parameter-server lesson's preset loads a scenario whose text fits it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, post_run, wait_run_end

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/A")

VIEWS_TEXT = (
    "() => { const h = document.querySelector(\"h3[data-i18n='article.viewsTitle']\");"
    " return h ? h.parentElement.innerText : ''; }"
)


def _views_text(pg: Page, server: str, run_id: str, must: str) -> str:
    pg.goto(f"{server}/?run={run_id}")
    pg.wait_for_function("window.distlab !== undefined")
    pg.wait_for_function(f"({VIEWS_TEXT})().includes({must!r})", timeout=30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.locator("[data-testid=article]").screenshot(path=str(SHOTS / f"article-{must}.png"))
    return pg.evaluate(VIEWS_TEXT)


def test_colours_and_shapes_follow_the_strategy(page: Page, server: str) -> None:
    ps = post_run(server, {"strategy": "parameter_server", "workers": 2, "steps": 6})
    dp = post_run(server, {"strategy": "data_parallel", "workers": 2, "steps": 6})
    comp = post_run(server, {"strategy": "data_parallel", "workers": 2, "steps": 6,
                             "options": {"compression": "qsgd"}})
    single = post_run(server, {"strategy": "single", "workers": 1, "steps": 6})
    for r in (ps, dp, comp, single):
        wait_run_end(server, r, 90)

    text = _views_text(page, server, ps, "server")
    assert "reduce-scatter" not in text and "along the ring" not in text, text
    assert "push" in text and "pull" in text, text
    page.click("[data-testid=lang-toggle]")
    page.wait_for_function(f"({VIEWS_TEXT})().includes('服务器')", timeout=10_000)
    zh = page.evaluate(VIEWS_TEXT)
    assert "归约分发" not in zh and "reduce-scatter" not in zh, zh
    page.click("[data-testid=lang-toggle]")

    text = _views_text(page, server, comp, "compress")
    assert "reduce-scatter" not in text, text
    assert "all-gather" in text, text

    text = _views_text(page, server, dp, "reduce-scatter")
    assert "server" not in text.lower(), text

    # one process: the reference, with nothing sent — no ring, no packets to explain
    text = _views_text(page, server, single, "sends nothing")
    assert not re.search(r"\bring\b", text) and "reduce-scatter" not in text, text
    assert "reference" in page.inner_text("[data-testid=article]")


def _mentions_straggler(text: dict) -> bool:
    return "straggler" in text["en"].lower() or "落后" in text["zh"]


def test_scenario_text_matches_its_config(page: Page, server: str) -> None:
    scenarios = get_json(f"{server}/api/scenarios")
    assert isinstance(scenarios, list) and scenarios
    for s in scenarios:
        if s["config"].get("straggler", "none") == "none":
            assert not _mentions_straggler(s["title"]), s["name"]
            assert not _mentions_straggler(s["description"]), s["name"]
        else:
            assert _mentions_straggler(s["title"]) or _mentions_straggler(s["description"])
    # a lesson's preset never switches off the straggler its scenario's words are about
    by_name = {s["name"]: s for s in scenarios}
    for item in get_json(f"{server}/api/lessons"):
        lesson = get_json(f"{server}/api/lessons/{item['id']}")
        preset = lesson.get("preset")
        if not preset:
            continue
        s = by_name[preset["scenario"]]
        if preset["config"].get("straggler", "none") == "none":
            assert not _mentions_straggler(s["description"]), (lesson["id"], s["name"])

    # the parameter-server lesson's settings, loaded into the form: the scenario's words fit
    page.goto(f"{server}/?lesson=parameter-server")
    page.wait_for_selector("[data-testid=lesson-load]")
    page.click("[data-testid=lesson-load]")
    page.wait_for_function("document.getElementById('scenario-desc').textContent.trim() !== ''")
    desc = page.inner_text("#scenario-desc")
    assert "straggler" not in desc.lower() and "slow worker" not in desc.lower(), desc
    assert page.evaluate("window.distlab.controls.readConfig().straggler") == "none"
