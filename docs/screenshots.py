"""Make the README's screenshots from real runs: `.venv/bin/python docs/screenshots.py`
(or only some: `... docs/screenshots.py presenter` makes the files whose name has "presenter").

Starts a server on a free port with a scratch data directory, runs each scenario to the
end through the API, opens the page on the finished run in headless Chromium, and saves
a PNG under docs/. Nothing here is mocked: the pictures show real runs.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SHOTS = [
    # (file, run config overrides on top of the scenario, page query)
    ("screenshot.png", "data-parallel-4", {"pace": None, "steps": 150}, "lang=en"),
    ("screenshot-zh.png", "data-parallel-4", {"pace": None, "steps": 150}, "lang=zh"),
    ("screenshot-ps.png", "ps-async", {}, "lang=en"),
]
# Presenter mode (big=1) on a lesson page: (file, lesson id, page query). The run is the
# lesson's preset exactly (so the lesson panel shows its result), viewed at step `at`
# (scrubbed back from the end) so the narration tells what happened in that step.
PRESENTER_SHOTS = [
    ("screenshot-presenter-en.png", "stragglers", "lang=en&big=1&guess=2&at=50"),
    ("screenshot-presenter-zh.png", "stragglers", "lang=zh&big=1&guess=2&at=50"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, body: dict | None = None) -> dict | list:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def _only(shots: list) -> list:
    wanted = sys.argv[1:]
    return [s for s in shots if not wanted or any(w in s[0] for w in wanted)]


def _with(scenario: dict, overrides: dict) -> dict:
    """A scenario's config with overrides, as the page sends it: the strategy's options
    in ``overrides["options"]`` add to the scenario's, unless the strategy changes."""
    config = {**scenario, **overrides}
    if config.get("strategy") == scenario.get("strategy"):
        config["options"] = {**scenario.get("options", {}), **overrides.get("options", {})}
    return config


def _finished_run(base: str, config: dict) -> str:
    run = _call(f"{base}/api/runs", config)
    while _call(f"{base}/api/runs/{run['id']}")["status"] in ("starting", "running"):
        time.sleep(0.2)
    return run["id"]


def _shoot(page, url: str, path: Path, scrubbed: bool = False) -> None:
    page.goto(url)
    page.wait_for_function(
        "document.querySelector('[data-testid=run-status]')"
        ".dataset.status === 'finished'", timeout=60_000)
    if scrubbed:  # the link's step (at=) is shown once the run's events are in
        page.wait_for_function("window.distlab.player.mode === 'scrub'", timeout=60_000)
    page.wait_for_timeout(2500)  # the last throttled redraws and packets
    if scrubbed:
        # a lesson page: its panel above the views, down to the bottom of the views
        bottom = page.evaluate(
            "document.querySelector('main.layout').getBoundingClientRect().bottom")
        width = page.viewport_size["width"]
        page.screenshot(path=str(path), full_page=True,
                        clip={"x": 0, "y": 0, "width": width, "height": bottom})
    else:
        page.screenshot(path=str(path))
    print("wrote", path)


def main() -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port",
                                   str(port), "--data-dir", data])
        try:
            for _ in range(200):
                try:
                    _call(f"{base}/api/health")
                    break
                except OSError:
                    time.sleep(0.1)
            scenarios = {s["name"]: s["config"] for s in _call(f"{base}/api/scenarios")}
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                for name, scenario, overrides, query in _only(SHOTS):
                    run_id = _finished_run(base, _with(scenarios[scenario], overrides))
                    _shoot(page, f"{base}/?run={run_id}&{query}", DOCS / name)
                # a projector's 1920×1080 (presenter mode is made for it)
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                lesson_runs: dict[str, str] = {}
                for name, lesson_id, query in _only(PRESENTER_SHOTS):
                    if lesson_id not in lesson_runs:
                        preset = _call(f"{base}/api/lessons/{lesson_id}")["preset"]
                        config = _with(scenarios[preset["scenario"]], preset["overrides"])
                        lesson_runs[lesson_id] = _finished_run(base, config)
                    url = f"{base}/?lesson={lesson_id}&run={lesson_runs[lesson_id]}&{query}"
                    _shoot(page, url, DOCS / name, scrubbed="at=" in query)
                browser.close()
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
