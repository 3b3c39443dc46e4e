"""Failure causes are codes with fields, rendered — never English to be parsed back.

``worker_failed.cause`` and ``run_finished.cause`` are ``{"code": ..., fields}``;
``run_finished.error`` and the Perfetto export carry the English sentence
(``engine.causes.cause_text``); the browser renders the code from its catalogs.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from engine import causes
from engine.causes import CAUSES, cause_text, make
from engine.config import RunConfig
from engine.export import to_trace
from engine.supervisor import RunSupervisor
from tests.frontend_catalogs import catalogs
from tests.helpers import wait_all_dead, worker_pids


def _catalog(lang: str) -> dict[str, str]:
    return catalogs()[lang]


def _placeholders(template: str) -> set[str]:
    return set(re.findall(r"\{(\w+)", template))


def test_every_code_renders_its_fields_in_english() -> None:
    assert cause_text(make("signal", signal="SIGKILL")) == "killed by signal SIGKILL"
    assert cause_text(make("frozen", silent_s=3.14)) == "frozen: no heartbeat for 3.1 s"
    assert cause_text(make("exit", exit_code=1)) == "exited unexpectedly with code 1"
    assert cause_text(make("link_drop", src=0, dst=1)) == (
        "timed out waiting for a message from rank 0, which was dropped on the link 0→1")
    assert cause_text(causes.of_exception("exception", RuntimeError("boom"))) == \
        "RuntimeError: boom"
    run = make("rank_failed", rank=2, pid=4242, cause=make("signal", signal="SIGKILL"))
    assert cause_text(run) == "rank 2 (pid 4242): killed by signal SIGKILL"
    assert cause_text(make("stalled", limit_s=60)).startswith("no progress for 60 s")
    for code, (fields, template) in CAUSES.items():
        assert _placeholders(template) <= set(fields), code
        text = cause_text(make(code, **{f: 7 for f in fields}))
        assert "{" not in text and "?" not in text, (code, text)


def test_strings_unknown_codes_and_missing_fields_still_read() -> None:
    assert cause_text("killed by signal SIGKILL") == "killed by signal SIGKILL"  # stored run
    assert cause_text(None) == "?"
    assert cause_text({"code": "melted", "degrees": 900}) == "melted (degrees=900)"
    assert cause_text({"code": "frozen"}) == "frozen: no heartbeat for ? s"
    with pytest.raises(ValueError, match="takes"):
        make("signal", sig="SIGKILL")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_browser_has_a_sentence_for_every_code(lang: str) -> None:
    catalog = _catalog(lang)
    for code, (fields, template) in CAUSES.items():
        key = f"cause.{code}"
        assert key in catalog, key
        assert _placeholders(catalog[key]) == _placeholders(template), key
        assert _placeholders(catalog[key]) <= set(fields), key
    # the English catalog says what the engine says
    if lang == "en":
        for code, (_, template) in CAUSES.items():
            plain = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", template)
            assert catalog[f"cause.{code}"] == plain, code


def test_the_perfetto_export_renders_a_cause() -> None:
    cause = make("signal", signal="SIGKILL")
    events = [
        {"seq": 1, "type": "worker_failed", "run_id": "r", "t": 1.0, "rank": 1, "step": None,
         "cause": cause, "detection_ms": 3.0, "pid": 9},
        {"seq": 2, "type": "worker_failed", "run_id": "r", "t": 1.1, "rank": 2, "step": None,
         "cause": "killed by signal SIGKILL", "detection_ms": 3.0, "pid": 10},  # stored run
    ]
    instants = [e for e in to_trace(events)["traceEvents"] if e["ph"] == "i"]
    assert [e["name"] for e in instants] == ["worker_failed: killed by signal SIGKILL"] * 2
    assert instants[0]["args"]["cause"] == cause
    assert instants[0]["args"]["cause_text"] == "killed by signal SIGKILL"


class _Run:
    def __init__(self, **config: Any) -> None:
        self.log: list[dict[str, Any]] = []
        self.stepped = threading.Event()
        self.sup = RunSupervisor(RunConfig(**config), run_id="causes", on_events=self._on)
        self.sup.start()

    def _on(self, events: list[dict[str, Any]]) -> None:
        self.log.extend(events)
        if any(e["type"] == "step" and e["step"] >= 2 for e in events):
            self.stepped.set()

    def failed(self) -> tuple[dict[str, Any], dict[str, Any]]:
        assert self.stepped.wait(30)
        return self.log[-1], next(e for e in self.log if e["type"] == "worker_failed")


@pytest.mark.parametrize("action", ["kill", "freeze"])
def test_a_killed_or_frozen_worker_says_why_as_a_code(action: str) -> None:
    run = _Run(workers=2, steps=5000, batch_size=8, pace=20.0, timeout_s=2.0)
    assert run.stepped.wait(30)
    pid = next(e["pid"] for e in run.log if e["type"] == "worker_started" and e["rank"] == 1)
    run.sup.inject(action, 1)
    assert run.sup.wait(30)
    final, failed = run.failed()
    if action == "kill":
        assert failed["cause"] == {"code": "signal", "signal": "SIGKILL"}
    else:
        assert failed["cause"]["code"] == "frozen" and failed["cause"]["silent_s"] >= 2.0
    assert final["status"] == "failed"
    assert final["cause"] == {"code": "rank_failed", "rank": 1, "pid": pid,
                              "cause": failed["cause"]}
    assert final["error"] == f"rank 1 (pid {pid}): {cause_text(failed['cause'])}"
    assert wait_all_dead(worker_pids(run.log)) == []
