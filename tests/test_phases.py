"""A step's phases: carried in the step event, or left out when they are exactly the step's
own timings in the usual order (wait → compute → emulated → comm) and derived by every
reader — ``phases_of`` here, ``stepPhases`` on the page, one shared fixture for both."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from engine.config import RunConfig
from engine.events import phases_of
from engine.export import to_trace
from engine.runner import run_headless
from engine.strategies.base import step_phases

FIXTURE = Path(__file__).parent / "js" / "fixtures" / "step-phases.json"


def test_phases_are_read_as_the_shared_fixture_says() -> None:
    for case in json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]:
        assert phases_of(case["step"]) == [tuple(p) for p in case["phases"]], case["name"]


def test_steps_leave_their_usual_phases_out_and_export_the_same_trace() -> None:
    # Emulated compute on every worker, so each step has all four phases but maybe a wait.
    config = RunConfig(workers=2, steps=3, batch_size=8, emulated_compute_ms=2.0)
    events = run_headless(config, timeout=60)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    steps = [e for e in events if e["type"] == "step"]
    assert len(steps) == 6 and not any("phases" in e for e in steps)
    assert all(("emulated", e["emulated_ms"]) in phases_of(e) for e in steps)
    # The same events as they were sent before, each step with its phases spelled out
    # (as the worker built them from the same timings): the same trace, slice for slice.
    with_phases = copy.deepcopy(events)
    for e in with_phases:
        if e["type"] == "step":
            e["phases"] = step_phases(
                ("wait", e["wait_ms"]), ("compute", e["compute_ms"]),
                ("emulated", e.get("emulated_ms", 0.0)), ("comm", e["comm_ms"]))
    assert to_trace(with_phases) == to_trace(events)
    names = {s["name"] for s in to_trace(events)["traceEvents"] if s["ph"] == "X"}
    assert {"compute", "emulated", "comm"} <= names
