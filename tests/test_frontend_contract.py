"""The frontend agrees with the engine and the API, and both languages are complete.

The frontend is plain ES modules with no build step, so these checks read the sources:
- the event types the reducer handles are the engine's (``engine.events.EVENT_TYPES``);
- the step fields it copies exist in the schema;
- the run form sends exactly the fields ``POST /api/runs`` accepts;
- the ``en`` and ``zh`` catalogs have the same keys and placeholders, and every key the
  page and the modules use exists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backend.models import ControlRequest, RunCreate
from engine.compression import METHODS as COMPRESSIONS
from engine.config import ALL_REDUCE_ALGORITHMS, DATASETS, STRATEGIES
from engine.events import EVENT_TYPES, FINAL_STATUSES
from engine.network import NETWORKS
from frontend import STATIC_DIR, TEMPLATES_DIR

JS = STATIC_DIR / "js"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _js_string_array(source: str, name: str) -> list[str]:
    match = re.search(rf"export const {name} = \[(.*?)\];", source, re.S)
    assert match, f"{name} not found"
    return re.findall(r'"([^"]+)"', match.group(1))


def _catalogs() -> dict[str, dict[str, str]]:
    source = _read(JS / "i18n.js")
    found = re.findall(r"/\*CATALOG:(\w+)\*/\s*(\{.*?\})\s*/\*END CATALOG:\1\*/", source, re.S)
    return {lang: json.loads(body) for lang, body in found}


# ---------------------------------------------------------------- events


def test_reducer_handles_exactly_the_engine_event_types() -> None:
    source = _read(JS / "state.js")
    handled = set(_js_string_array(source, "HANDLED_EVENT_TYPES"))
    engine = set(EVENT_TYPES)
    assert handled - engine == set(), "the reducer handles types the engine never emits"
    assert engine - handled == set(), "new engine event types: handle them in state.js"
    cases = set(re.findall(r'case "(\w+)":', source))
    assert cases == handled, "HANDLED_EVENT_TYPES must list the reducer's switch cases"


def test_parameter_server_events_and_choices_are_handled() -> None:
    source = _read(JS / "state.js")
    handled = set(_js_string_array(source, "HANDLED_EVENT_TYPES"))
    assert {"ps_update", "gradient_dropped"} <= handled
    for field, name in (("ps_mode", "PS_MODES"), ("straggler", "STRAGGLERS")):
        literal = str(RunCreate.model_fields[field].annotation)
        values = _js_string_array(source, name)
        assert all(f"'{v}'" in literal for v in values) and literal.count("'") == 2 * len(values)
    html = _read(TEMPLATES_DIR / "index.html")
    mode = re.search(r'<select id="f-ps-mode".*?</select>', html, re.S)
    strag = re.search(r'<select id="f-straggler".*?</select>', html, re.S)
    assert mode and strag
    assert re.findall(r'value="(\w+)"', mode.group(0)) == _js_string_array(source, "PS_MODES")
    assert re.findall(r'value="(\w+)"', strag.group(0)) == _js_string_array(source, "STRAGGLERS")


def test_fault_events_and_choices_are_handled() -> None:
    source = _read(JS / "state.js")
    handled = set(_js_string_array(source, "HANDLED_EVENT_TYPES"))
    assert {"fault", "worker_failed", "nan_detected"} <= handled
    # the step fields a fault adds are read
    assert {"skipped", "slow_factor"} <= set(_js_string_array(source, "STEP_FIELDS"))
    # the fault actions the menu offers are the API's (delay/drop on links come later)
    actions = str(ControlRequest.model_fields["action"].annotation)
    faults = _js_string_array(source, "FAULT_ACTIONS")
    assert faults == ["kill", "freeze", "slow", "corrupt"]
    assert all(f"'{a}'" in actions for a in faults)
    menu = _read(JS / "faultmenu.js")
    for a in faults:
        # a plain button, or a button with its number (numberRow: slow's factor)
        assert f'button("{a}"' in menu or f'numberRow("{a}"' in menu, a
    # nan_policy: the select offers exactly the API's choices, the form sends it
    literal = str(RunCreate.model_fields["nan_policy"].annotation)
    policies = _js_string_array(source, "NAN_POLICIES")
    assert all(f"'{v}'" in literal for v in policies) and literal.count("'") == 2 * len(policies)
    html = _read(TEMPLATES_DIR / "index.html")
    select = re.search(r'<select id="f-nan-policy".*?</select>', html, re.S)
    assert select
    assert re.findall(r'value="(\w+)"', select.group(0)) == policies
    controls = _read(JS / "controls.js")
    read = re.search(r"function readConfig\(\) \{(.*?)\n  \}\n", controls, re.S)
    assert read and re.search(r"^\s*nan_policy: f\.nanPolicy\.value,", read.group(1), re.M)
    assert '"nan_policy"' in controls.split("const URL_FIELDS", 1)[1].split("];", 1)[0]


def test_checkpoint_and_recovery_are_real_controls() -> None:
    source = _read(JS / "state.js")
    handled = set(_js_string_array(source, "HANDLED_EVENT_TYPES"))
    assert {"checkpoint_saved", "recovery"} <= handled
    literal = str(RunCreate.model_fields["recovery"].annotation)
    policies = _js_string_array(source, "RECOVERY_POLICIES")
    assert all(f"'{v}'" in literal for v in policies) and literal.count("'") == 2 * len(policies)
    html = _read(TEMPLATES_DIR / "index.html")
    select = re.search(r'<select id="f-recovery".*?</select>', html, re.S)
    assert select
    assert re.findall(r'value="(\w+)"', select.group(0)) == policies
    assert 'id="f-checkpoint-every"' in html and 'id="f-max-restarts"' in html
    controls = _read(JS / "controls.js")
    read = re.search(r"function readConfig\(\) \{(.*?)\n  \}\n", controls, re.S)
    assert read
    body = read.group(1)
    assert re.search(r"^\s*checkpoint_every: numOrRaw\(f\.checkpointEvery\.value", body, re.M)
    assert re.search(r"^\s*recovery: f\.recovery\.value,", body, re.M)
    assert re.search(r"^\s*max_restarts: ", body, re.M)
    url_fields = controls.split("const URL_FIELDS", 1)[1].split("];", 1)[0]
    for name in ("checkpoint_every", "recovery", "max_restarts"):
        assert f'"{name}"' in url_fields, name
    assert "no controls yet" not in controls


def test_step_fields_read_by_the_reducer_exist_in_the_schema() -> None:
    fields = set(_js_string_array(_read(JS / "state.js"), "STEP_FIELDS"))
    assert fields <= set(EVENT_TYPES["step"])


def test_terminal_statuses_cover_the_engine() -> None:
    terminal = set(_js_string_array(_read(JS / "state.js"), "TERMINAL_STATUSES"))
    assert set(FINAL_STATUSES) <= terminal
    assert "interrupted" in terminal


# ---------------------------------------------------------------- run form


def test_form_sends_exactly_the_api_fields() -> None:
    source = _read(JS / "controls.js")
    body = re.search(r"export const DEFAULT_CONFIG = \{(.*?)\};", source, re.S)
    assert body
    keys = set(re.findall(r"^\s*(\w+):", body.group(1), re.M))
    assert keys == set(RunCreate.model_fields)
    # readConfig() starts from every field and overrides the ones with controls
    read = re.search(r"function readConfig\(\) \{(.*?)\n  \}\n", source, re.S)
    assert read
    overridden = set(re.findall(r"^\s*(\w+)(?::|,)", read.group(1), re.M))
    assert {"network", "latency_us", "bandwidth_gbps", "links", "allreduce"} <= overridden
    comp = re.search(r"function readCompression\(\) \{(.*?)\n  \}\n", source, re.S)
    assert comp
    assert set(re.findall(r"^\s*(\w+):", comp.group(1), re.M)) == {
        "compression",
        "qsgd_levels",
        "compress_fraction",
        "powersgd_rank",
        "error_feedback",
    }


def test_form_choices_match_the_engine() -> None:
    html = _read(TEMPLATES_DIR / "index.html")
    strategy = re.search(r'<select id="f-strategy".*?</select>', html, re.S)
    dataset = re.search(r'<select id="f-dataset".*?</select>', html, re.S)
    allreduce = re.search(r'<select id="f-allreduce".*?</select>', html, re.S)
    assert strategy and dataset and allreduce
    assert re.findall(r'value="(\w+)"', strategy.group(0)) == list(STRATEGIES)
    assert re.findall(r'value="(\w+)"', dataset.group(0)) == list(DATASETS)
    assert re.findall(r'value="(\w+)"', allreduce.group(0)) == list(ALL_REDUCE_ALGORITHMS)
    assert _js_string_array(_read(JS / "state.js"), "ALLREDUCE_ALGOS") == list(
        ALL_REDUCE_ALGORITHMS
    )

    network = re.search(r'<select id="f-network".*?</select>', html, re.S)
    compression = re.search(r'<select id="f-compression".*?</select>', html, re.S)
    assert network and compression
    # the first option of each is "none" (value ""), sent as null
    assert re.findall(r'value="(\w*)"', network.group(0)) == ["", *NETWORKS]
    assert re.findall(r'value="(\w*)"', compression.group(0)) == ["", *COMPRESSIONS]
    state = _read(JS / "state.js")
    assert _js_string_array(state, "NETWORKS") == list(NETWORKS)
    assert _js_string_array(state, "COMPRESSIONS") == list(COMPRESSIONS)
    net = RunCreate.model_fields["network"].annotation
    assert "Literal" in str(net) and all(n in str(net) for n in NETWORKS)


def test_form_defaults_are_the_api_defaults() -> None:
    """Fields without a control are sent as the API's own defaults."""
    source = _read(JS / "controls.js")
    body = re.search(r"export const DEFAULT_CONFIG = \{(.*?)\};", source, re.S)
    assert body
    sent = dict(re.findall(r"^\s*(\w+): (.+?),\s*$", body.group(1), re.M))
    for name, field in RunCreate.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if name == "pace":
            continue  # the form starts at a human pace on purpose
        assert json.loads(sent[name]) == default, name


def test_comm_ops_the_ui_orders_are_the_engines() -> None:
    ops = set(_js_string_array(_read(JS / "state.js"), "COMM_OP_ORDER"))
    described = EVENT_TYPES["comm"]["op"]
    assert ops == set(re.findall(r"\w+", described.split(":", 1)[1])), described


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
    html = _read(TEMPLATES_DIR / "index.html")
    used = set(re.findall(r'data-i18n(?:-html|-title|-aria)?="([\w.]+)"', html))
    for path in JS.glob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([\w.]+)"\s*[,)]', _read(path)))
    # keys built at run time: "status." + status, "dataset." + name, "timeline." + segment
    statuses = {
        "none",
        "starting",
        "running",
        "paused",
        "finished",
        "stopped",
        "failed",
        "interrupted",
    }
    used |= {f"status.{s}" for s in statuses}
    used |= {f"dataset.{d}" for d in DATASETS}
    used |= {f"strategy.{s}" for s in STRATEGIES}
    used |= {f"timeline.{s}" for s in ("wait", "compute", "comm")}
    # keys built from the all-reduce algorithm and the message op
    for a in ALL_REDUCE_ALGORITHMS:
        used |= {f"allreduce.{a}", f"topo.algoShort.{a}", f"bytes.formula.{a}"}
        if a != "builtin":
            used.add(f"algo.{a}")
    used |= {f"op.{o}" for o in _js_string_array(_read(JS / "state.js"), "COMM_OP_ORDER")}
    # keys built from the network preset and the compression method
    used |= {f"net.name.{n}" for n in NETWORKS}
    used |= {f"network.{n}" for n in NETWORKS} | {"network.none"}
    used |= {f"comp.label.{c}" for c in COMPRESSIONS}
    used |= {f"compression.{c}" for c in COMPRESSIONS} | {"compression.none"}
    used |= {f"ab.algo.{a}" for a in ("ring", "tree", "naive")}
    used |= {f"nan.{p}" for p in _js_string_array(_read(JS / "state.js"), "NAN_POLICIES")}
    assert used - keys == set()


def test_page_hooks_exist() -> None:
    html = _read(TEMPLATES_DIR / "index.html")
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
        "allreduce-select",
        "link-bytes",
        "network-select",
        "latency-input",
        "bandwidth-input",
        "links-editor",
        "add-link",
        "compression-select",
        "qsgd-levels-input",
        "fraction-input",
        "powersgd-rank-input",
        "error-feedback-input",
        "baseline-input",
        "allreduce-note",
        "timeline-modelled",
        "compression-panel",
        "bytes-chart",
        "error-chart",
        "residual-chart",
        "alpha-beta-chart",
        "ps-section",
        "servers-input",
        "ps-mode-select",
        "backup-input",
        "staleness-bound-input",
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
