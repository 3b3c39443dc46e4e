"""The hosts panel of a torchrun run in a real Chromium against the real server: the page
that started the run shows the command to paste on each host and copies it; a viewer
sees the hosts but not the command (it holds the join token); once two real torchrun
agents have joined, the workers are listed by host — in English and in Chinese."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser_support import ARTIFACTS, running_server, wait_status

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = Path(sys.executable).with_name("torchrun")
APP_READY = "window.distlab !== undefined && window.Plotly !== undefined"
PANEL = "[data-testid=hosts-panel]"


@pytest.fixture(scope="module")
def hosts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The "hosts" are this machine: the command names the loopback.
    with running_server(tmp_path_factory.mktemp("distlab-hosts"),
                        {"DISTLAB_PUBLIC_HOST": "127.0.0.1"}) as base:
        yield base


def open_page(browser: Browser, url: str, errors: list[str]) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(url)
    pg.wait_for_function(APP_READY)
    return pg


def test_the_hosts_panel_shows_the_command_and_the_workers_by_host(
        browser: Browser, hosts_server: str) -> None:
    errors: list[str] = []
    pg = open_page(browser, f"{hosts_server}/?lang=en", errors)
    # Started by this page (so it holds the run's control token), as an instructor would
    # through the API; then the page follows it.
    run_id = pg.evaluate("""async () => {
      const api = await import('/static/js/core/api.js');
      const r = await api.createRun({strategy: 'data_parallel', launcher: 'torchrun',
        nnodes: 2, workers: 4, steps: 60, pace: 6, batch_size: 16});
      return r.data.id;
    }""")
    pg.goto(f"{hosts_server}/?run={run_id}&lang=en")
    pg.wait_for_function(APP_READY)
    pg.locator(PANEL).wait_for(state="visible", timeout=30_000)
    command = pg.locator("[data-testid=hosts-command]")
    command.wait_for(state="visible", timeout=30_000)
    text = command.inner_text().strip()
    assert text.startswith("torchrun --nnodes 2 --nproc-per-node 2 --rdzv-backend c10d")
    assert f"--rdzv-id {run_id}" in text and "--token " in text
    assert "waiting for 2 hosts" in pg.inner_text("[data-testid=hosts-status]")
    pg.click("[data-testid=hosts-copy]")
    pg.wait_for_function("document.querySelector('[data-testid=hosts-copy]').innerText"
                         ".trim() === 'Copied'")
    copied = pg.evaluate("navigator.clipboard.readText().catch(() => getSelection()"
                         ".toString())")
    assert copied.strip() == text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "torchrun-hosts-waiting.png"))

    # A viewer (no control token) sees the hosts, never the token.
    viewer = open_page(browser, f"{hosts_server}/?run={run_id}&lang=en", errors)
    viewer.locator("[data-testid=hosts-note]").wait_for(state="visible", timeout=30_000)
    assert "only the page that started the run" in viewer.inner_text(
        "[data-testid=hosts-note]")
    assert not viewer.locator("[data-testid=hosts-command-row]").is_visible()
    assert "--token" not in viewer.inner_text(PANEL)
    viewer.context.close()

    agents = []
    try:
        for host in ("host-a", "host-b"):  # the pasted command, on two "hosts"
            agents.append(subprocess.Popen(
                [str(TORCHRUN), *shlex.split(text)[1:]], cwd=ROOT, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": str(ROOT), "DISTLAB_HOST_NAME": host}))
        pg.wait_for_function(
            "document.querySelectorAll('[data-testid=host-group]').length === 2",
            timeout=60_000)
        groups = pg.locator("[data-testid=host-group]")
        assert [groups.nth(i).get_attribute("data-host") for i in range(2)] == [
            "host-a", "host-b"] or sorted(
            groups.nth(i).get_attribute("data-host") for i in range(2)) == ["host-a", "host-b"]
        pg.wait_for_function("[...document.querySelectorAll('[data-testid=host-group]')]"
                             ".every((li) => !li.innerText.includes('starting'))",
                             timeout=60_000)
        line = groups.nth(0).inner_text()
        assert "(node 0, 127.0.0.1)" in line and "rank 0 running" in line
        assert "2 hosts joined, backend gloo" in pg.inner_text("[data-testid=hosts-status]")
        pg.screenshot(path=str(ARTIFACTS / "torchrun-hosts-joined.png"))
        pg.click("[data-testid=lang-toggle]")
        pg.wait_for_function("document.querySelector('.hosts-title').innerText === '主机'")
        assert "2 台主机已加入" in pg.inner_text("[data-testid=hosts-status]")
        assert "进程 0" in groups.nth(0).inner_text()
        pg.screenshot(path=str(ARTIFACTS / "torchrun-hosts-joined-zh.png"))
        wait_status(pg, "finished", 180_000)
        # The run takes no more hosts: the command goes, the hosts stay.
        pg.wait_for_function("document.querySelector('[data-testid=hosts-command-row]')"
                             ".hidden", timeout=30_000)
        assert pg.locator("[data-testid=host-group]").count() == 2
        for agent in agents:
            assert agent.wait(60) == 0
    finally:
        for agent in agents:
            if agent.poll() is None:
                os.killpg(agent.pid, signal.SIGKILL)
                agent.wait(30)
        pg.context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def test_the_form_starts_a_torchrun_run_and_shows_its_command(
        browser: Browser, hosts_server: str) -> None:
    """An instructor needs no API call: Launcher and Hosts are in the form, and the page
    that pressed Start shows the command; a stop while it waits for hosts ends it."""
    errors: list[str] = []
    pg = open_page(browser, f"{hosts_server}/?lang=en", errors)
    pg.select_option("[data-testid=strategy-select]", "data_parallel")
    pg.click("[data-testid=comm-section] summary")
    pg.select_option("[data-testid=launcher-select]", "torchrun")
    assert pg.inner_text("[data-testid=launcher-select] option:checked") == \
        "torchrun, other hosts"
    pg.fill("[data-testid=nnodes-input]", "2")
    pg.fill("[data-testid=workers-input]", "4")
    pg.click("[data-testid=start-run]")
    command = pg.locator("[data-testid=hosts-command]")
    command.wait_for(state="visible", timeout=30_000)
    text = command.inner_text().strip()
    assert text.startswith("torchrun --nnodes 2 --nproc-per-node 2 --rdzv-backend c10d")
    assert "--token " in text
    # No process runs yet: the run is starting, and the narration says what to do
    pg.wait_for_function("document.querySelector('[data-testid=narration]')"
                         ".innerText.includes('Waiting for 2 hosts to join')")
    assert pg.is_disabled("[data-testid=pause-run]")
    run_id = pg.evaluate("new URLSearchParams(location.search).get('run')")
    pg.click("[data-testid=stop-run]")
    wait_status(pg, "stopped", 60_000)
    pg.context.close()
    assert run_id
    assert errors == [], f"JavaScript errors on the page: {errors}"
