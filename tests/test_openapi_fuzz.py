"""The published OpenAPI document is the API served (issue 21).

Schemathesis generates requests from ``/openapi.json`` (valid ones and deliberately
invalid ones) and runs every one of its checks on each answer: the status is declared,
the body matches the declared schema (every 4xx is ``ApiError``), the content type is
declared, a schema-valid request is not refused as invalid, an invalid one is not
accepted. So a route that returns what it does not declare fails here.

Runs in process against the ASGI app (no server, no port). Generation is derandomized
with a bounded number of examples per operation, so the same requests are sent every
time. POST /api/runs starts real runs: the settings allow one live run of at most two
worker processes (the rest get a declared 429) and generated runs are cut to a few steps;
the app's shutdown kills whatever is still running, which the last test checks.

Not fuzzed: the HTML page and the websocket routes (``/ws/...``), which are not in the
document (an OpenAPI document cannot describe a websocket; the page is not an API).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from backend.main import create_app
from backend.settings import Settings

KEY = "fuzz-instructor-key"
EXAMPLES = 12  # per operation and generation mode: enough to reach every declared status
TINY_STEPS = 3
STARTED: list[str] = []  # runs the fuzzing started (for the report of the last test)


# Built at import, as schemathesis parametrizes the tests at collection: the document comes
# from app.openapi() (no request, no lifespan); the app starts on the first request.
_DATA = Path(tempfile.mkdtemp(prefix="distlab-fuzz-"))
_APP = create_app(Settings(data_dir=_DATA / "data", instructor_key=KEY,
                           max_active_runs=1, max_active_workers=2, max_queued_runs=0))
schema = schemathesis.openapi.from_dict(_APP.openapi())
schema.app = _APP  # requests go to the app in process (as from_asgi does)
schema.config.generation.update(max_examples=EXAMPLES, deterministic=True)


@pytest.fixture(scope="module", autouse=True)
def _app_stops() -> Iterator[None]:
    yield
    asgi.shutdown_lifespans()  # the app's shutdown: kills the runs still live
    shutil.rmtree(_DATA, ignore_errors=True)


def _call(case: Any, headers: dict[str, str]) -> None:
    excluded = []
    if case.method == "POST" and case.path == "/api/runs":
        # A run's settings have rules between fields that JSON Schema cannot state
        # (workers × batch_size ≤ num_samples, straggler_rank < workers, latency_us only
        # with network 'custom', a strategy's own checks, ...): a body the schema allows
        # may still get a 422 that names the rule. Every other check still applies.
        excluded.append(positive_data_acceptance)
        positive = case.meta is None or case.meta.generation.mode.is_positive
        if positive and isinstance(case.body, dict):
            # a real run: keep it short (an invalid body is left as generated, so that
            # it stays invalid)
            case.body["steps"] = TINY_STEPS
    # A header the case has is part of what is tested (a deliberately invalid key, say)
    sent = {name.lower() for name in case.headers or {}}
    headers = {name: value for name, value in headers.items() if name.lower() not in sent}
    response = case.call_and_validate(headers=headers, excluded_checks=excluded)
    if case.path == "/api/runs" and response.status_code == 201:
        STARTED.append(response.json()["id"])


@schema.parametrize()
def test_the_api_as_a_student(case: Any) -> None:
    _call(case, {})


@schema.parametrize()
def test_the_api_as_the_instructor(case: Any) -> None:
    _call(case, {"X-Instructor-Key": KEY})


def test_a_real_run_as_the_document_says() -> None:
    """The routes of one run, on a run that exists: generated ids are unknown (404), and
    generated run settings rarely pass the rules between fields, so fuzzing alone would
    not see these answers. Whether the run is still live when asked does not matter:
    both answers (e.g. 200 or 409 to a pause) are declared and checked alike."""
    key = {"X-Instructor-Key": KEY}
    started = schema["/api/runs"]["POST"].Case(
        body={"workers": 2, "steps": TINY_STEPS, "batch_size": 8}).call_and_validate()
    assert started.status_code == 201, started.text
    run = {"run_id": started.json()["id"]}
    STARTED.append(run["run_id"])
    for path, method, extra in [
        ("/api/runs", "GET", {}), ("/api/runs/{run_id}", "GET", {}),
        ("/api/runs/{run_id}/events", "GET", {}),
        *[("/api/runs/{run_id}/export", "GET", {"query": {"format": f}})
          for f in ("jsonl", "csv", "perfetto")],
        ("/api/runs/{run_id}/fork", "POST", {}),
        ("/api/runs/{run_id}/control", "POST", {"body": {"action": "pause"}}),
        ("/api/runs/{run_id}/control", "POST", {"body": {"action": "kill", "rank": 7},
                                                "headers": key}),
    ]:
        params = {"path_parameters": run} if "{run_id}" in path else {}
        case = schema[path][method].Case(**params, **extra)
        case.call_and_validate()


def test_nothing_is_left_running() -> None:
    """After the app's shutdown no worker process of a run is left. Workers are forked by
    the forkserver (engine/supervisor.py's warm_up), so they are its children; the
    forkserver itself is the test process's, shared with other tests, and stays."""
    from multiprocessing import forkserver

    asgi.shutdown_lifespans()
    print(f"runs started: {len(STARTED)}")
    server = getattr(forkserver._forkserver, "_forkserver_pid", None)
    assert server is not None, "the app never started: nothing was tested"
    left = _children(server)
    assert not left, [Path(f"/proc/{pid}/cmdline").read_text() for pid in left]


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found |= {int(child)} | _children(int(child))
    return found
