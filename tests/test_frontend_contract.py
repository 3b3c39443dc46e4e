"""The frontend agrees with the engine and the API, and both languages are complete.

The run form no longer keeps copies of the engine's choices, defaults or ranges: it builds
the strategy's options from ``GET /api/strategies`` and reads the common settings' limits
from ``GET /api/schema/config`` (checked by the browser tests). What is left to check here:
- the reducer handles exactly the event types the engine emits (strategies' included), and
  the step fields and statuses it reads exist; the JS constants are read by importing the
  module with node, not by parsing its source;
- what the form sends is what ``POST /api/runs`` accepts, and every option a strategy
  declares has a kind the form can draw;
- the hand-written common fields of the page name real settings, and every choice of
  their selects has words in the catalog;
- the ``en`` and ``zh`` catalogs have the same keys and placeholders, and every key the
  page and the modules use exists.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from backend.models import RunCreate
from engine.collectives import ALGORITHMS
from engine.compression import METHODS as COMPRESSIONS
from engine.config import config_schema
from engine.events import EVENT_TYPES, FINAL_STATUSES, all_event_types
from engine.network import NETWORKS
from engine.strategies import registry
from frontend import STATIC_DIR, TEMPLATES_DIR

JS = STATIC_DIR / "js"
HTML = TEMPLATES_DIR / "index.html"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@cache
def _state_constants() -> dict[str, list[str]]:
    """The reducer's exported lists, as node imports them."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        f"import('{(JS / 'core' / 'reducer.js').as_uri()}').then(m => console.log(JSON.stringify({{"
        "handled: m.HANDLED_EVENT_TYPES, step: m.STEP_FIELDS, terminal: m.TERMINAL_STATUSES,"
        " ops: m.COMM_OP_ORDER})))"
    )
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True,
                         text=True, check=True, timeout=30)
    return json.loads(out.stdout)


def _catalogs() -> dict[str, dict[str, str]]:
    source = _read(JS / "core" / "i18n.js")
    found = re.findall(r"/\*CATALOG:(\w+)\*/\s*(\{.*?\})\s*/\*END CATALOG:\1\*/", source, re.S)
    return {lang: json.loads(body) for lang, body in found}


def _common_fields() -> dict[str, dict]:
    return {f["name"]: f for f in config_schema()["fields"]}


def _html_fields() -> list[tuple[str, str | None]]:
    """(data-field, data-choices) of the page's hand-written common settings."""
    out = []
    for tag in re.findall(r"<(?:input|select)\b[^>]*\bdata-field=\"[^\"]+\"[^>]*>", _read(HTML)):
        name = re.search(r'data-field="([^"]+)"', tag).group(1)
        prefix = re.search(r'data-choices="([^"]*)"', tag)
        out.append((name, prefix.group(1) if prefix else None))
    return out


# ---------------------------------------------------------------- events


def test_reducer_handles_exactly_the_engine_event_types() -> None:
    handled = set(_state_constants()["handled"])
    engine = set(all_event_types())
    assert handled - engine == set(), "the reducer handles types the engine never emits"
    assert engine - handled == set(), "new engine event types: handle them in state.js"


def test_step_fields_read_by_the_reducer_exist_in_the_schema() -> None:
    assert set(_state_constants()["step"]) <= set(EVENT_TYPES["step"])


def test_terminal_statuses_cover_the_engine() -> None:
    terminal = set(_state_constants()["terminal"])
    assert set(FINAL_STATUSES) <= terminal
    assert "interrupted" in terminal


def test_comm_ops_the_ui_orders_are_the_engines() -> None:
    described = EVENT_TYPES["comm"]["op"]
    ops = set(re.findall(r"\w+", described.split(":", 1)[1]))
    assert set(_state_constants()["ops"]) == ops, described


# ---------------------------------------------------------------- run form


def test_the_form_sends_what_the_api_accepts() -> None:
    """The form's config is the schema's common settings, the strategy and its options,
    link overrides and scheduled faults (specs.js formDefaults): nothing else."""
    sent = set(_common_fields()) | {"strategy", "options", "links", "faults"}
    assert sent == set(RunCreate.model_fields)


def test_every_strategy_option_is_one_the_form_can_draw() -> None:
    for spec in registry.specs().values():
        described = spec.describe()
        for opt in described["options"]:
            assert opt["type"] in {"int", "float", "bool", "choice"}, (spec.name, opt["name"])
            assert opt["label"]["en"].strip() and opt["label"]["zh"].strip(), opt["name"]
            if opt["type"] == "choice":
                assert all(c["label"]["en"] and c["label"]["zh"] for c in opt["choices"])
            for other in opt.get("shown_when", {}):
                assert other in {o["name"] for o in described["options"]}, (opt["name"], other)
        assert described["workers"]["min"] <= described["workers"]["max"]


def test_the_pages_common_fields_are_settings_with_words_for_every_choice() -> None:
    fields = _common_fields()
    cats = _catalogs()
    html = _html_fields()
    assert {name for name, _ in html} >= {"workers", "steps", "lr", "batch_size", "dataset",
                                          "seed", "pace", "straggler", "recovery"}
    for name, prefix in html:
        assert name in fields, f"data-field={name} is not a setting of GET /api/schema/config"
        if prefix is None:
            continue
        assert fields[name]["type"] == "choice", name
        values = [c["value"] for c in fields[name]["choices"]]
        if fields[name]["nullable"]:
            values.append("none")
        for lang in ("en", "zh"):
            missing = [v for v in values if f"{prefix}{v}" not in cats[lang]]
            assert not missing, f"{lang}: {name} has no words for {missing}"


# ---------------------------------------------------------------- i18n


def test_both_catalogs_have_the_same_keys() -> None:
    cats = _catalogs()
    assert set(cats) == {"en", "zh"}
    assert set(cats["en"]) == set(cats["zh"])
    assert len(cats["en"]) > 50


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_catalog_values_are_non_empty(lang: str) -> None:
    assert all(isinstance(v, str) and v.strip() for v in _catalogs()[lang].values())


def test_placeholders_agree_between_languages() -> None:
    cats = _catalogs()
    for key, en in cats["en"].items():
        assert set(re.findall(r"\{(\w+)\}", en)) == set(
            re.findall(r"\{(\w+)\}", cats["zh"][key])
        ), key


def test_chinese_catalog_is_translated() -> None:
    zh = _catalogs()["zh"]
    cjk = [k for k, v in zh.items() if re.search(r"[\u4e00-\u9fff]", v)]
    assert len(cjk) > 0.8 * len(zh)


def test_every_used_key_exists() -> None:
    keys = set(_catalogs()["en"])
    html = _read(HTML)
    used = set(re.findall(r'data-i18n(?:-html|-title|-aria)?="([\w.]+)"', html))
    for path in JS.rglob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([\w.]+)"\s*[,)]', _read(path)))
    # keys built at run time: "status." + status, "timeline." + segment
    statuses = {"none", "starting", "running", "paused", *FINAL_STATUSES}
    used |= {f"status.{s}" for s in statuses}
    used |= {f"timeline.{s}" for s in ("wait", "compute", "comm")}
    # the selects of the common settings (checked above) and the recovery summaries
    used |= {f"recovery.short.{c['value']}" for c in _common_fields()["recovery"]["choices"]}
    # keys built from the all-reduce algorithm, the message op, the network preset, the
    # compression method and the parameter server's mode
    for a in ALGORITHMS:
        used |= {f"topo.algoShort.{a}", f"bytes.formula.{a}"}
        if a != "builtin":
            used.add(f"algo.{a}")
    used |= {f"op.{o}" for o in _state_constants()["ops"]}
    used |= {f"net.name.{n}" for n in NETWORKS}
    used |= {f"comp.label.{c}" for c in COMPRESSIONS}
    used |= {f"ab.algo.{a}" for a in ("ring", "tree", "naive")}
    ps = registry.get("parameter_server").describe()
    modes = next(o for o in ps["options"] if o["name"] == "ps_mode")["choices"]
    used |= {f"psmode.short.{c['value']}" for c in modes}
    assert used - keys == set()


def test_page_hooks_exist() -> None:
    html = _read(HTML)
    for testid in (
        "start-run",
        "pause-run",
        "step-run",
        "stop-run",
        "run-status",
        "topology",
        "loss-chart",
        "timeline",
        "boundary",
        "scrubber",
        "go-live",
        "narration",
        "form-error",
        "run-list",
        "lang-toggle",
        "strategy-select",
        "strategy-options",
        "option-hint",
        "option-note",
        "link-bytes",
        "network-select",
        "latency-input",
        "bandwidth-input",
        "links-editor",
        "add-link",
        "baseline-input",
        "timeline-modelled",
        "compression-panel",
        "bytes-chart",
        "error-chart",
        "residual-chart",
        "alpha-beta-chart",
        "straggler-section",
        "emulated-input",
        "straggler-select",
        "staleness-histogram",
        "chart-x-time",
        "fault-section",
        "nan-policy-select",
        "fault-menu",
        "fault-log",
    ):
        assert f'data-testid="{testid}"' in html, testid
    # Plotly is served locally and loaded before the modules; no CDN anywhere.
    assert html.index("/vendor/plotly.min.js") < html.index("/static/js/main.js")
    assert "http://" not in html and "https://" not in html
