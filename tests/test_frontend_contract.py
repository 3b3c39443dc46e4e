"""The frontend agrees with the engine and the API, and both languages are complete.

The run form no longer keeps copies of the engine's choices, defaults or ranges: it builds
the strategy's options from ``GET /api/strategies`` and reads the common settings' limits
from ``GET /api/schema/config`` (checked by the browser tests). What is left to check here:
- the core reducer handles exactly the engine's common event types, and each strategy's
  slice exactly the types its spec adds, so every type the engine emits is handled; the
  step fields and statuses it reads exist; the JS constants are read by importing the
  modules with node (strategies registered as main.js does), not by parsing their source;
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
from tests.frontend_catalogs import catalog_modules, catalogs

JS = STATIC_DIR / "js"
HTML = TEMPLATES_DIR / "index.html"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@cache
def _state_constants() -> dict:
    """The reducer's exported lists, as node imports them, the strategies registered."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = f"""
const [reducer, selectors, registry, strategies, dp, i18n] = await Promise.all([
  import('{(JS / "core" / "reducer.js").as_uri()}'),
  import('{(JS / "core" / "selectors.js").as_uri()}'),
  import('{(JS / "core" / "registry.js").as_uri()}'),
  import('{(JS / "strategies" / "index.js").as_uri()}'),
  import('{(JS / "strategies" / "data_parallel" / "slice.js").as_uri()}'),
  import('{(JS / "core" / "i18n.js").as_uri()}'),
]);
strategies.registerStrategies();
console.log(JSON.stringify({{
  common: reducer.COMMON_EVENT_TYPES, slices: registry.sliceEventTypes(),
  handled: reducer.handledEventTypes(), step: reducer.STEP_FIELDS,
  terminal: selectors.TERMINAL_STATUSES, ops: dp.COMM_OP_ORDER, catalogs: i18n.CATALOGS,
}}));
"""
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True,
                         text=True, check=True, timeout=30)
    return json.loads(out.stdout)


def _catalogs() -> dict[str, dict[str, str]]:
    return catalogs()


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


def test_the_core_reducer_handles_exactly_the_common_event_types() -> None:
    common = set(_state_constants()["common"])
    assert common == set(EVENT_TYPES), "common event types: handle them in js/core/reducer.js"


def test_each_strategy_slice_handles_exactly_the_event_types_its_spec_adds() -> None:
    slices = _state_constants()["slices"]
    specs = registry.specs()
    assert set(slices) <= set(specs), "a frontend for a strategy the engine does not have"
    for name, spec in specs.items():
        if spec.events:
            assert name in slices, f"{name} adds events: give it a slice in js/strategies/{name}/"
        assert set(slices.get(name, ())) == set(spec.events), name


def test_every_engine_event_type_is_handled_by_the_core_or_a_registered_slice() -> None:
    handled = _state_constants()["handled"]
    assert len(handled) == len(set(handled)), "a type handled twice"
    assert set(handled) == set(all_event_types())


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


def test_every_key_lives_in_one_catalog_module_and_the_page_merges_them_all() -> None:
    """Catalogs are split by feature (js/i18n/*.js) and by strategy
    (js/strategies/<name>/catalog.js): a key in two modules would be a silent override."""
    seen: dict[str, str] = {}
    for module, langs in catalog_modules().items():
        assert set(langs) == {"en", "zh"}, module
        assert set(langs["en"]) == set(langs["zh"]), module
        for key in langs["en"]:
            assert key not in seen, f"{key} in {seen.get(key)} and {module}"
            seen[key] = module
    # what core/i18n.js holds once the strategies are registered (main.js does it first)
    assert _state_constants()["catalogs"] == catalogs()


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


def test_the_compare_table_has_a_label_for_every_common_setting() -> None:
    """A new common setting needs its words in the compare table (views/comparedata.js),
    or the table shows its raw name (the browser test would find it much later)."""
    block = _read(JS / "views" / "comparedata.js").split("export const FIELD_LABELS = {")[1]
    labelled = set(re.findall(r"^\s+(\w+):", block.split("};")[0], re.M))
    common = {f["name"] for f in config_schema()["fields"]}
    assert common - labelled == set()
