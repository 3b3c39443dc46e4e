"""The page in a real headless Chromium against the real server (``distlab serve``).

Starts the server as a subprocess on a free port with its own data directory, drives the
page with Playwright (sync API) and Debian's Chromium, and saves a screenshot under
``tests/artifacts/``.
Without /usr/bin/chromium the tests fail, unless DISTLAB_ALLOW_NO_BROWSER=1 says that
skipping is acceptable on this machine.
"""

from __future__ import annotations

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

pytestmark = pytest.mark.browser

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
# Screenshots are test artifacts; docs/screenshot.png is made by docs/screenshots.py.
SCREENSHOT = ROOT / "tests" / "artifacts" / "browser-data-parallel-4.png"
STATUS = "[data-testid=run-status]"

if not CHROMIUM.exists():
    if os.environ.get("DISTLAB_ALLOW_NO_BROWSER") == "1":
        pytest.skip("no /usr/bin/chromium (DISTLAB_ALLOW_NO_BROWSER=1)", allow_module_level=True)
    pytest.fail(
        "browser tests need /usr/bin/chromium (apt-get install chromium, or `make browser`); "
        "set DISTLAB_ALLOW_NO_BROWSER=1 to skip them",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=2) as res:
        return json.loads(res.read())


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("distlab-data")
    port = _free_port()
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown kills workers too
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = _get_json(f"{base}/api/health")
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
def browser() -> Iterator[Browser]:
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


def _wait_status(pg: Page, status: str, timeout_ms: int) -> None:
    pg.wait_for_function(
        f"document.querySelector('{STATUS}').dataset.status === '{status}'", timeout=timeout_ms
    )


def test_data_parallel_run_end_to_end(page: Page) -> None:
    pg = page
    pg.select_option("[data-testid=strategy-select]", "data_parallel")
    pg.fill("[data-testid=workers-input]", "4")
    pg.fill("[data-testid=steps-input]", "30")
    pg.fill("[data-testid=pace-input]", "10")
    pg.select_option("[data-testid=dataset-select]", "moons")  # learns visibly in 30 steps
    pg.set_checked("[data-testid=full-speed]", False)
    pg.click("[data-testid=start-run]")

    # one node per worker, on the ring
    pg.wait_for_function(
        "document.querySelectorAll('[data-testid=topology] .node[data-rank]').length === 4",
        timeout=30_000,
    )
    # the loss chart gains points (Plotly keeps its traces on the div as gd.data)
    pg.wait_for_function(
        """(() => { const gd = document.querySelector('[data-testid=loss-chart]');
                   return !!(gd.data && gd.data[0] && gd.data[0].x.length > 0); })()""",
        timeout=30_000,
    )
    # the timeline fills with measured segments
    pg.wait_for_function(
        "document.querySelectorAll('[data-testid=timeline] .seg').length > 0", timeout=30_000
    )
    # packets were started by a step event
    pg.wait_for_function(
        "Number(document.querySelector('[data-testid=topology]').dataset.animatedStep) >= 1",
        timeout=30_000,
    )
    _wait_status(pg, "finished", 60_000)
    assert pg.inner_text(STATUS).strip() == "finished"

    ranks = pg.eval_on_selector_all(
        "[data-testid=topology] .node[data-rank]", "els => els.map(e => e.dataset.rank)"
    )
    assert sorted(ranks) == ["0", "1", "2", "3"]
    # 4 ranks + the global mean, each with all 30 steps (redraws are throttled: wait)
    pg.wait_for_function(
        """document.querySelector('[data-testid=loss-chart]').data
             .map(t => t.x.length).join(',') === '30,30,30,30,30'"""
    )
    assert pg.get_attribute("[data-testid=replicas-badge]", "data-state") == "same"
    for seg in ("compute", "comm"):
        assert pg.locator(f"[data-testid=timeline] .seg-{seg}").count() > 0
    assert "30" in pg.inner_text("[data-testid=narration]")

    # the run shows up in the list of past runs
    pg.wait_for_function(
        "document.querySelectorAll('[data-testid=run-list] .run-item').length >= 1"
    )

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    pg.wait_for_timeout(600)  # let the last throttled redraw land
    pg.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 20_000

    # scrubbing back in time re-renders every view from the reducer
    pg.eval_on_selector(
        "[data-testid=scrubber]",
        "el => { el.value = '5'; el.dispatchEvent(new Event('input', {bubbles: true})); }",
    )
    pg.wait_for_function(
        "document.querySelector('[data-testid=narration]').textContent.startsWith('step 5:')"
    )
    pg.wait_for_function(
        "document.querySelector('[data-testid=loss-chart]').data[0].x.length === 5"
    )
    pg.click("[data-testid=go-live]")
    pg.wait_for_function(
        "document.querySelector('[data-testid=loss-chart]').data[0].x.length === 30"
    )


def test_stream_reconnects_without_losing_events(browser: Browser, server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    # Remember every WebSocket the page opens, so the test can cut one.
    context.add_init_script(
        """(() => {
          const Orig = window.WebSocket;
          window.__sockets = [];
          window.WebSocket = class extends Orig {
            constructor(...args) { super(...args); window.__sockets.push(this); }
          };
        })()"""
    )
    pg = context.new_page()
    try:
        pg.goto(f"{server}/?steps=40&pace=10&workers=2")
        pg.wait_for_function("window.distlab !== undefined")
        pg.click("[data-testid=start-run]")
        pg.wait_for_function("window.distlab.player.lastStep >= 5", timeout=30_000)
        pg.evaluate("window.__sockets.at(-1).close()")  # an unexpected close
        _wait_status(pg, "finished", 60_000)
        urls = pg.evaluate("window.__sockets.map(s => s.url)")
        assert len(urls) >= 2
        assert int(urls[-1].rsplit("after=", 1)[1]) > 0, urls
        run_id = pg.evaluate("window.distlab.app.runId")
        seqs = pg.evaluate("window.distlab.player.events.map(e => e.seq)")
        server_events = _get_json(f"{server}/api/runs/{run_id}/events?after=0&limit=10000")
        assert isinstance(server_events, list)
        assert seqs == list(range(1, len(server_events) + 1))
    finally:
        context.close()


def test_switching_to_chinese_changes_visible_text(page: Page) -> None:
    pg = page
    start = pg.locator("[data-testid=start-run]")
    assert start.inner_text().strip() == "Start"
    toggle = pg.locator("[data-testid=lang-toggle]")
    assert toggle.inner_text().strip() == "中文"
    toggle.click()
    assert start.inner_text().strip() == "开始"
    assert toggle.inner_text().strip() == "English"
    assert pg.evaluate("document.documentElement.lang") == "zh-CN"
    assert "lang=zh" in pg.url
    article = pg.inner_text("[data-testid=article]")
    assert "数据并行" in article and "Data parallelism in" not in article
    # the choice survives a reload (URL and localStorage)
    pg.reload()
    assert pg.locator("[data-testid=start-run]").inner_text().strip() == "开始"
    pg.locator("[data-testid=lang-toggle]").click()
    assert pg.locator("[data-testid=start-run]").inner_text().strip() == "Start"


def test_bad_value_shows_the_servers_422_message(page: Page) -> None:
    pg = page
    error = pg.locator("[data-testid=form-error]")
    assert not error.is_visible()
    pg.fill("[data-testid=lr-input]", "-1")
    with pg.expect_response(lambda r: r.url.endswith("/api/runs") and r.status == 422):
        pg.click("[data-testid=start-run]")
    error.wait_for(state="visible")
    text = error.inner_text()
    assert "lr" in text and "greater than 0" in text
    # fixing the value and starting again clears the message
    pg.fill("[data-testid=lr-input]", "0.3")
    pg.fill("[data-testid=steps-input]", "3")
    pg.click("[data-testid=start-run]")
    error.wait_for(state="hidden")
    _wait_status(pg, "finished", 60_000)


def _events(server: str, run_id: str) -> list[dict]:
    events = _get_json(f"{server}/api/runs/{run_id}/events?after=0&limit=10000")
    assert isinstance(events, list)
    return events


def _link_bytes(pg: Page) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The bytes card's numbers, from its data attributes (not from the text)."""
    return pg.evaluate(
        """(() => {
          const el = document.querySelector('[data-testid=link-bytes]');
          const rows = [...el.querySelectorAll('tr[data-rank]')].map(r => ({...r.dataset}));
          return [{...el.dataset}, rows];
        })()"""
    )


def test_ring_all_reduce_animates_every_real_message(page: Page, server: str) -> None:
    pg = page
    n, steps = 4, 15
    pg.fill("[data-testid=workers-input]", str(n))
    pg.fill("[data-testid=steps-input]", str(steps))
    pg.fill("[data-testid=pace-input]", "5")
    pg.set_checked("[data-testid=full-speed]", False)
    assert not pg.is_checked("[data-testid=detail-input]")
    pg.select_option("[data-testid=allreduce-select]", "ring")
    # a hand-written algorithm ticks Detail (the student may untick it) and says why
    assert pg.is_checked("[data-testid=detail-input]")
    assert pg.locator("[data-testid=detail-hint]").is_visible()
    assert "allreduce=ring" in pg.url
    with pg.expect_response(lambda r: r.url.endswith("/api/runs") and r.status == 201) as created:
        pg.click("[data-testid=start-run]")
    run = created.value.json()
    assert run["config"]["allreduce"] == "ring" and run["config"]["detail"] is True

    topo = "[data-testid=topology]"
    # (a) packets move because comm events said so, along the ring the messages used
    pg.wait_for_function(
        f"Number(document.querySelector('{topo}').dataset.animatedMessages) > 0", timeout=30_000
    )
    pg.wait_for_function(
        f"document.querySelectorAll('{topo} g.packet[data-op]').length > 0", timeout=10_000
    )
    _wait_status(pg, "finished", 60_000)
    assert pg.get_attribute(topo, "data-mode") == "links"
    pairs = pg.eval_on_selector_all(
        f"{topo} .edge", "els => els.map(e => [Number(e.dataset.src), Number(e.dataset.dst)])"
    )
    assert sorted(pairs) == [[r, (r + 1) % n] for r in range(n)]

    # (b) bytes per rank: equal across ranks, and 2(n-1)/n·N per step, as measured
    pg.wait_for_function(
        f"document.querySelector('[data-testid=link-bytes]').dataset.steps === '{steps}'"
    )
    card, rows = _link_bytes(pg)
    events = _events(server, run["id"])
    started = next(e for e in events if e["type"] == "run_started")
    grad = started["num_params"] * 4
    assert card["algo"] == "ring" and card["source"] == "comm"
    assert int(card["gradBytes"]) == grad
    formula = 2 * (n - 1) / n * grad * steps
    assert float(card["formulaBytes"]) == 2 * (n - 1) / n * grad
    sent = [int(r["sent"]) for r in rows]
    recv = [int(r["recv"]) for r in rows]
    assert [int(r["rank"]) for r in rows] == list(range(n))
    # ring chunks differ by at most one float when N is not a multiple of n
    slack = 8 * steps
    assert min(sent) > 0 and max(sent) - min(sent) <= slack, sent
    assert all(abs(x - formula) <= slack for x in sent + recv), (sent, recv, formula)
    # and exactly what the engine's comm events of the steps say
    for r in range(n):
        mine = [e for e in events if e["type"] == "comm" and e["step"] is not None]
        assert sent[r] == sum(e["bytes"] for e in mine if e["src"] == r)
        assert recv[r] == sum(e["bytes"] for e in mine if e["dst"] == r)
    edge_bytes = pg.eval_on_selector_all(f"{topo} .edge", "els => els.map(e => e.dataset.bytes)")
    assert sorted(int(b) for b in edge_bytes) == sorted(sent)
    assert "every packet is a real message" in pg.inner_text("#topo-caption")

    # scrubbing back shows the bytes as of that step
    pg.eval_on_selector(
        "[data-testid=scrubber]",
        "el => { el.value = '5'; el.dispatchEvent(new Event('input', {bubbles: true})); }",
    )
    pg.wait_for_function("document.querySelector('[data-testid=link-bytes]').dataset.steps === '5'")
    assert pg.inner_text("[data-testid=narration]").startswith("step 5: ring all-reduce")
    _, rows5 = _link_bytes(pg)
    assert all(abs(int(r["sent"]) - formula * 5 / steps) <= 8 * 5 for r in rows5)
    pg.click("[data-testid=go-live]")

    # (c) the run finished
    assert pg.inner_text(STATUS).strip() == "finished"
    shot = ROOT / "tests" / "artifacts" / "browser-ring-4.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    pg.wait_for_timeout(400)
    pg.screenshot(path=str(shot))


def test_naive_all_reduce_funnels_through_rank_0(page: Page, server: str) -> None:
    pg = page
    n = 4
    pg.goto(f"{server}/?workers={n}&steps=6&pace=full&allreduce=naive&detail=true")
    pg.wait_for_function("window.distlab !== undefined")
    # the form came back from the URL
    assert pg.input_value("[data-testid=allreduce-select]") == "naive"
    assert pg.is_checked("[data-testid=detail-input]")
    pg.click("[data-testid=start-run]")
    _wait_status(pg, "finished", 60_000)
    pg.wait_for_function("document.querySelector('[data-testid=link-bytes]').dataset.steps === '6'")
    card, rows = _link_bytes(pg)
    assert card["algo"] == "naive"
    sent = {int(r["rank"]): int(r["sent"]) for r in rows}
    assert sent[1] > 0
    assert sent[0] == (n - 1) * sent[1]
    assert sent[1] == sent[2] == sent[3] == 6 * int(card["gradBytes"])
    # a star: every edge touches rank 0, both ways
    pairs = pg.eval_on_selector_all(
        "[data-testid=topology] .edge",
        "els => els.map(e => [Number(e.dataset.src), Number(e.dataset.dst)])",
    )
    assert sorted(pairs) == sorted([[0, r] for r in range(1, n)] + [[r, 0] for r in range(1, n)])

    # one process has nothing to all-reduce: the choice is disabled and not sent
    pg.select_option("[data-testid=strategy-select]", "single")
    assert pg.is_disabled("[data-testid=allreduce-select]")
