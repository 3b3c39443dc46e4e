"""The strategy form is built from the strategy's spec (GET /api/strategies), and the
common settings apply to every distributed strategy (stragglers on data parallelism too).

Labels are compared with what the API says, never with words typed here: the point is
that the page learns them from the spec.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser_support import ARTIFACTS, get_json, wait_status

pytestmark = pytest.mark.browser

OPTIONS = "[data-testid=strategy-options]"


def _spec(server: str, name: str) -> dict:
    specs = get_json(f"{server}/api/strategies")
    assert isinstance(specs, list)
    return next(s for s in specs if s["name"] == name)


def _option(spec: dict, name: str) -> dict:
    return next(o for o in spec["options"] if o["name"] == name)


def _label(pg: Page, name: str) -> str:
    return pg.inner_text(f"{OPTIONS} [data-option='{name}'] > span").strip()


def _shot(pg: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.locator("aside.controls").screenshot(path=str(ARTIFACTS / name))


def test_the_parameter_server_form_is_built_from_its_spec(page: Page, server: str) -> None:
    pg = page
    ps = _spec(server, "parameter_server")
    # the strategy select offers every strategy, titled by its spec
    titles = pg.eval_on_selector_all(
        "[data-testid=strategy-select] option", "els => els.map(e => [e.value, e.textContent])"
    )
    specs = get_json(f"{server}/api/strategies")
    assert titles == [[s["name"], s["title"]["en"]] for s in specs]

    pg.select_option("[data-testid=strategy-select]", "parameter_server")
    section = pg.locator(OPTIONS)
    assert section.is_visible()
    servers = pg.locator("[data-testid=opt-servers]")
    mode = pg.locator("[data-testid=opt-ps_mode]")
    assert servers.is_visible() and mode.is_visible()
    # a number with the spec's range and default; a select with its choices and labels
    opt = _option(ps, "servers")
    assert servers.get_attribute("type") == "number" and servers.get_attribute("step") == "1"
    assert servers.get_attribute("min") == str(opt["min"])
    assert servers.get_attribute("max") == str(opt["max"])
    assert servers.input_value() == str(opt["default"])
    assert _label(pg, "servers") == opt["label"]["en"]
    assert pg.get_attribute(f"{OPTIONS} [data-option=servers]", "title") == opt["help"]["en"]
    modes = _option(ps, "ps_mode")
    shown = mode.evaluate("el => [...el.options].map(o => [o.value, o.textContent])")
    assert shown == [[c["value"], c["label"]["en"]] for c in modes["choices"]]
    # staleness_bound is shown only in SSP mode (shown_when), backup workers only in backup
    bound = pg.locator("[data-testid=opt-staleness_bound]")
    assert not bound.is_visible()
    mode.select_option("ssp")
    assert bound.is_visible()
    assert not pg.locator("[data-testid=opt-backup_workers]").is_visible()
    bound.fill("3")
    bound.dispatch_event("change")
    assert "ps_mode=ssp" in pg.url and "staleness_bound=3" in pg.url
    assert pg.evaluate("window.distlab.controls.readConfig().options") == {
        "servers": 1, "ps_mode": "ssp", "backup_workers": 0, "staleness_bound": 3}
    _shot(pg, "strategy-form-ps-en.png")

    # in Chinese, the labels, the help and the choices are the spec's Chinese words
    pg.click("[data-testid=lang-toggle]")
    pg.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert _label(pg, "ps_mode") == modes["label"]["zh"]
    assert _label(pg, "staleness_bound") == _option(ps, "staleness_bound")["label"]["zh"]
    assert pg.get_attribute(f"{OPTIONS} [data-option=ps_mode]", "title") == modes["help"]["zh"]
    shown = mode.evaluate("el => [...el.options].map(o => o.textContent)")
    assert shown == [c["label"]["zh"] for c in modes["choices"]]
    assert pg.input_value("[data-testid=strategy-select]") == "parameter_server"
    assert pg.eval_on_selector(
        "[data-testid=strategy-select]", "el => el.selectedOptions[0].textContent"
    ) == ps["title"]["zh"]
    assert mode.input_value() == "ssp" and bound.input_value() == "3", "values survive"
    _shot(pg, "strategy-form-ps-zh.png")

    # data parallelism, in Chinese too: its nullable choice starts with "none"
    pg.select_option("[data-testid=strategy-select]", "data_parallel")
    assert pg.locator("[data-testid=opt-servers]").count() == 0
    comp = pg.locator("[data-testid=opt-compression]")
    assert comp.evaluate("el => el.options[0].value") == ""
    comp.select_option("qsgd")
    assert pg.locator("[data-testid=opt-qsgd_levels]").is_visible()
    assert pg.locator("[data-testid=opt-error_feedback]").is_visible()
    assert pg.locator("[data-testid=option-hint]").is_visible()  # what QSGD sends
    _shot(pg, "strategy-form-dp-zh.png")
    pg.click("[data-testid=lang-toggle]")
    pg.wait_for_function("document.documentElement.lang === 'en'")
    _shot(pg, "strategy-form-dp-en.png")
    # back to the parameter server: what was typed for it is still there
    pg.select_option("[data-testid=strategy-select]", "parameter_server")
    assert pg.input_value("[data-testid=opt-staleness_bound]") == "3"


def test_data_parallel_options_from_the_generated_form_reach_the_run(
    page: Page, server: str
) -> None:
    pg = page
    pg.select_option("[data-testid=strategy-select]", "data_parallel")
    pg.fill("[data-testid=workers-input]", "2")
    pg.fill("[data-testid=steps-input]", "6")
    pg.set_checked("[data-testid=full-speed]", True)
    pg.select_option("[data-testid=opt-compression]", "topk")
    frac = pg.locator("[data-testid=opt-compress_fraction]")
    frac.fill("0.05")
    frac.dispatch_event("change")
    pg.set_checked("[data-testid=opt-error_feedback]", True)
    assert "5%" in pg.inner_text("[data-testid=option-hint]")
    pg.set_checked("[data-testid=baseline-input]", False)
    with pg.expect_response(lambda r: r.url.endswith("/api/runs") and r.status == 201) as created:
        pg.click("[data-testid=start-run]")
    run_id = created.value.json()["id"]
    wait_status(pg, "finished", 60_000)
    run = get_json(f"{server}/api/runs/{run_id}")
    assert isinstance(run, dict) and run["status"] == "finished"
    options = run["config"]["options"]
    assert options["compression"] == "topk"
    assert options["compress_fraction"] == 0.05
    assert options["error_feedback"] is True
    assert options["allreduce"] == "builtin"
    # options hidden by the chosen compression went at their defaults; all are listed
    dp = _spec(server, "data_parallel")
    assert set(options) == {o["name"] for o in dp["options"]}
    assert options["qsgd_levels"] == _option(dp, "qsgd_levels")["default"]
    # the URL says the same, under the options' plain names
    assert "compression=topk" in pg.url and "compress_fraction=0.05" in pg.url


def test_a_straggler_on_a_data_parallel_run_from_the_form(page: Page, server: str) -> None:
    pg = page
    pg.select_option("[data-testid=strategy-select]", "data_parallel")
    pg.fill("[data-testid=workers-input]", "2")
    pg.fill("[data-testid=steps-input]", "6")
    pg.set_checked("[data-testid=full-speed]", True)
    # the straggler settings are common to every distributed strategy
    section = pg.locator("[data-testid=straggler-section]")
    assert section.is_visible()
    section.locator("summary").click()
    pg.fill("[data-testid=emulated-input]", "20")
    pg.select_option("[data-testid=straggler-select]", "one")
    pg.fill("[data-testid=straggler-factor-input]", "5")
    pg.fill("[data-testid=straggler-rank-input]", "1")
    pg.dispatch_event("[data-testid=straggler-rank-input]", "change")
    assert "straggler=one" in pg.url and "straggler_rank=1" in pg.url
    with pg.expect_response(lambda r: r.url.endswith("/api/runs") and r.status == 201) as created:
        pg.click("[data-testid=start-run]")
    run_id = created.value.json()["id"]
    wait_status(pg, "finished", 60_000)
    config = get_json(f"{server}/api/runs/{run_id}")["config"]
    assert config["strategy"] == "data_parallel"
    assert (config["straggler"], config["straggler_factor"], config["straggler_rank"]) == (
        "one", 5, 1)
    assert config["emulated_compute_ms"] == 20

    # the slowed steps: rank 1 sleeps about 5× the emulated 20 ms, rank 0 about 20 ms
    events = get_json(f"{server}/api/runs/{run_id}/events?after=0&limit=1000")
    steps = [e for e in events if e["type"] == "step"]
    slow = [e["emulated_ms"] for e in steps if e["rank"] == 1]
    fast = [e["emulated_ms"] for e in steps if e["rank"] == 0]
    assert len(slow) == 6 and min(slow) >= 80 and max(fast) < 60, (slow, fast)
    # ... on the page: emulated segments on the timeline, the narration names rank 1
    # (the status pill may turn before the last frame is drawn: wait for the drawing)
    pg.wait_for_function(
        "document.querySelectorAll('[data-testid=timeline] .seg-emulated').length >= 12",
        timeout=10_000)
    pg.eval_on_selector(
        "[data-testid=scrubber]",
        "el => { el.value = '5'; el.dispatchEvent(new Event('input', {bubbles: true})); }",
    )
    pg.wait_for_function(
        "document.querySelector('[data-testid=narration]').textContent.startsWith('step 5')"
    )
    assert "rank 1 is" in pg.inner_text("[data-testid=narration]")
    # one process has no stragglers: the section goes, and is not sent
    pg.select_option("[data-testid=strategy-select]", "single")
    assert not section.is_visible()
    assert pg.evaluate("window.distlab.controls.readConfig().straggler") == "none"
