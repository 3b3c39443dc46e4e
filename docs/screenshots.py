"""Make the README's screenshots from real runs: `.venv/bin/python docs/screenshots.py`.

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
                for name, scenario, overrides, query in SHOTS:
                    run = _call(f"{base}/api/runs", {**scenarios[scenario], **overrides})
                    while _call(f"{base}/api/runs/{run['id']}")["status"] in (
                            "starting", "running"):
                        time.sleep(0.2)
                    page.goto(f"{base}/?run={run['id']}&{query}")
                    page.wait_for_function(
                        "document.querySelector('[data-testid=run-status]')"
                        ".dataset.status === 'finished'", timeout=60_000)
                    page.wait_for_timeout(2500)  # the last throttled redraws and packets
                    page.screenshot(path=str(DOCS / name))
                    print("wrote", DOCS / name)
                browser.close()
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
