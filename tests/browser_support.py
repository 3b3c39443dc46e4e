"""Shared fixtures for the browser tests: the real server and a real headless Chromium.

`server` starts ``distlab serve`` as a subprocess on a free port with its own data
directory (and the instructor key INSTRUCTOR_KEY); `browser` launches Debian's Chromium
through Playwright; `page` opens the app and fails the test on any JavaScript error.
Without /usr/bin/chromium the tests fail, unless DISTLAB_ALLOW_NO_BROWSER=1 says that
skipping is acceptable on this machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

INSTRUCTOR_KEY = "test-instructor-key"
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
PR_SET_PDEATHSIG = 1  # linux/prctl.h
STATUS = "[data-testid=run-status]"

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=2) as res:
        return json.loads(res.read())


def _die_with_parent() -> None:
    """In the server's process, before it starts: SIGTERM it when pytest dies, however
    pytest dies (its workers follow: they die with the server, engine/processes.py)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def running_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """``distlab serve`` as a subprocess on a free port; yields its base URL and kills it
    (and every worker it started) afterwards."""
    port = free_port()
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "serve", "--port", str(port),
             "--data-dir", str(data_dir)],
            cwd=ROOT,
            env={**os.environ, "DISTLAB_INSTRUCTOR_KEY": INSTRUCTOR_KEY, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown kills workers too
            preexec_fn=_die_with_parent,  # and a killed pytest (no teardown) leaves none
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = get_json(f"{base}/api/health")
                if isinstance(health, dict) and health.get("status") == "ok":
                    break
            except (OSError, urllib.error.URLError, ValueError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.2)
        yield base
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("distlab-data")) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("DISTLAB_ALLOW_NO_BROWSER") == "1":
            pytest.skip("no /usr/bin/chromium (DISTLAB_ALLOW_NO_BROWSER=1)")
        pytest.fail(
            "browser tests need /usr/bin/chromium (apt-get install chromium, or `make browser`); "
            "set DISTLAB_ALLOW_NO_BROWSER=1 to skip them",
            pytrace=False,
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{server}/")
    pg.wait_for_function("window.distlab !== undefined && window.Plotly !== undefined")
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def wait_status(pg: Page, status: str, timeout_ms: int) -> None:
    pg.wait_for_function(
        f"document.querySelector('{STATUS}').dataset.status === '{status}'", timeout=timeout_ms
    )




# ---------------------------------------------------------------- helpers shared by the tests


def post_run(server: str, body: dict) -> str:
    """Start a run through the API (not the page, which would hold its control token)."""
    req = urllib.request.Request(f"{server}/api/runs", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())["id"]


def wait_run_end(server: str, run_id: str, timeout_s: float = 60) -> dict:
    """Poll the API until the run is no longer live; returns the run (any final status)."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = get_json(f"{server}/api/runs/{run_id}")
        assert isinstance(run, dict)
        if run["status"] not in ("starting", "running", "paused"):
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']}"
        time.sleep(0.2)


def run_lesson_measure(pg: Page, server: str, lesson: str, runs: int) -> list[dict]:
    """Open a lesson, run its last step's runs (one after another) and wait for the compare
    view to open them; returns the runs as the API has them once each has ended."""
    pg.set_viewport_size({"width": 1440, "height": 900})
    pg.goto(f"{server}/?lesson={lesson}&lang=en")
    pg.locator("[data-testid=lesson-measure]").wait_for()
    pg.click("[data-testid=lesson-measure-run]")
    pg.wait_for_function(
        "n => { const v = document.querySelector('[data-testid=compare-view]');"
        " return !v.hidden && v.dataset.runs === String(n); }", arg=runs, timeout=300_000)
    return [wait_run_end(server, pg.get_attribute("[data-testid=compare-view]",
                                                  f"data-{side}"), 120)
            for side in "abcd"[:runs]]


def set_view(pg: Page, lang: str, presenter: bool) -> None:
    """Switch language and presenter mode with the page's own toggles (only if needed)."""
    if pg.evaluate("document.documentElement.lang || 'en'").startswith("zh") != (lang == "zh"):
        pg.click("[data-testid=lang-toggle]")
    if pg.evaluate("document.body.classList.contains('presenter')") != presenter:
        pg.click("[data-testid=presenter-toggle]")
    pg.wait_for_timeout(400)  # the re-render after a switch
