"""A strategy defined only in the tests' own files (tests/strategies/local_sgd.py) becomes
part of DistLab by being named in DISTLAB_STRATEGIES: the API publishes and validates its
options, the engine runs it, and the page builds its form — with no other file changed."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from tests.browser_support import (
    ARTIFACTS,
    get_json,
    running_server,
    wait_run_end,
    wait_status,
)

PLUGIN = {"DISTLAB_STRATEGIES": "tests.strategies.local_sgd"}


@pytest.fixture(scope="module")
def plugin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("plugin-data"), PLUGIN) as base:
        yield base


def _post(base: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_the_plugin_is_published_with_its_options(plugin_server: str) -> None:
    specs = {s["name"]: s for s in get_json(f"{plugin_server}/api/strategies")}
    assert list(specs)[:3] == ["single", "data_parallel", "parameter_server"]
    spec = specs["periodic_averaging"]
    assert spec["title"]["zh"] and spec["workers"] == {"min": 2, "max": 8}
    [option] = spec["options"]
    assert option | {"label": None, "help": None} == {
        "name": "average_every", "type": "int", "default": 4, "min": 1, "max": 100,
        "exclusive_min": False, "nullable": False, "advanced": False, "label": None,
        "help": None}
    assert option["label"]["zh"] and option["help"]["en"]
    assert "replicas_averaged" in get_json(f"{plugin_server}/api/schema/events")["types"]


@pytest.mark.parametrize(("options", "field", "needle"), [
    ({"average_every": 0}, "options.average_every", "between 1 and 100"),
    ({"average_every": "4"}, "options.average_every", "must be an integer"),
    ({"average_every": 50}, "options.average_every", "never meet"),
    ({"every": 2}, "options.every", "unknown setting"),
])
def test_bad_options_get_a_422_naming_the_field(plugin_server: str, options: dict[str, Any],
                                                field: str, needle: str) -> None:
    status, body = _post(plugin_server, "/api/runs", {
        "strategy": "periodic_averaging", "workers": 2, "steps": 10, "options": options})
    assert status == 422, body
    assert needle in body["detail"] and body["errors"][0]["field"] == field, body


def test_the_plugin_runs_on_real_workers(plugin_server: str) -> None:
    status, run = _post(plugin_server, "/api/runs", {
        "strategy": "periodic_averaging", "workers": 3, "steps": 8, "batch_size": 16,
        "options": {"average_every": 4}})
    assert status == 201, run
    done = wait_run_end(plugin_server, run["id"])
    assert done["status"] == "finished", done["error"]
    assert done["config"]["options"] == {"average_every": 4}
    with urllib.request.urlopen(f"{plugin_server}/api/runs/{run['id']}/export?format=jsonl",
                                timeout=10) as res:
        events = [json.loads(line) for line in res.read().decode().splitlines()]
    checksums: dict[int, set[float]] = {}
    for e in events:
        if e["type"] == "step":
            checksums.setdefault(e["step"], set()).add(e["param_checksum"])
    # The replicas drift apart between averages and are one again right after each.
    assert len(checksums[3]) == 3 and len(checksums[4]) == 1 and len(checksums[8]) == 1
    assert [e["step"] for e in events if e["type"] == "replicas_averaged"] == [4, 8]


def test_without_the_plugin_the_strategy_is_unknown(client: TestClient) -> None:
    r = client.post("/api/runs", json={"strategy": "periodic_averaging", "workers": 2})
    assert r.status_code == 422
    assert "strategy must be one of single, data_parallel, parameter_server" in r.json()["detail"]


@pytest.mark.browser
def test_the_page_builds_the_plugins_form_and_runs_it(browser: Browser,
                                                      plugin_server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{plugin_server}/")
    pg.wait_for_function("window.distlab !== undefined && window.Plotly !== undefined")
    pg.select_option("[data-testid=strategy-select]", "periodic_averaging")
    field = pg.locator("[data-testid=opt-average_every]")
    field.wait_for(state="visible")
    assert field.get_attribute("min") == "1" and field.get_attribute("max") == "100"
    assert "Average every" in pg.locator("[data-testid=strategy-options]").inner_text()
    field.fill("2")
    pg.fill("[data-testid=workers-input]", "2")
    pg.fill("[data-testid=steps-input]", "6")
    pg.screenshot(path=str(ARTIFACTS / "plugin-form.png"))
    pg.click("[data-testid=start-run]")
    wait_status(pg, "finished", 60_000)
    run_id = pg.evaluate("new URLSearchParams(location.search).get('run')")
    run = get_json(f"{plugin_server}/api/runs/{run_id}")
    assert run["config"]["strategy"] == "periodic_averaging"
    assert run["config"]["options"] == {"average_every": 2}
    context.close()
    assert errors == [], errors
