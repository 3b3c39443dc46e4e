"""Local SGD's replicas card in real Chromium (issue 17).

- A 3-worker run averaging every 4 steps, 16 steps at full speed on moons, started from
  the form, reaches "finished"; the card plots a point per step per worker whose value is
  that worker's checksum minus the mean checksum of the step — computed here from the
  run's step events fetched from the API —, dotted sync markers at steps 4, 8, 12, 16
  (the steps whose events say `synced`), each worker's drift at each sync, and a line of
  bytes whose numbers are the events' sums: what each worker sent, and a sync's measured
  bytes × 16 for data parallelism.
- The decision boundary of the last step says it is the averaged model (the engine draws
  worker 0's replica, everyone's model only at a sync).
- Replayed in a freshly loaded page, the run draws the same card, and the article beside
  the views explains local SGD; in Chinese, the card's title is Chinese.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, set_view, wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/local_sgd")
STEPS = 16
H = 4
WORKERS = 3
CARD = "[data-testid=lsgd-card]"
CHART = "[data-testid=lsgd-chart]"
BYTES = "[data-testid=lsgd-bytes]"


def _card_drawn(page: Page) -> dict:
    """Wait for the card of the last step (chart, markers and bytes); return what it shows."""
    page.wait_for_function(
        f"(() => {{ const c = document.querySelector('{CHART}');"
        f" return c.dataset.step === '{STEPS}' && (c.data || []).length === {2 * WORKERS}"
        f" && c.data[0].x.length === {STEPS}"
        f" && (c.layout.shapes || []).length === {STEPS // H}; }})()",
        timeout=30_000)
    assert page.is_visible(CARD)
    traces = page.evaluate(
        f"document.querySelector('{CHART}').data.map((d) =>"
        " ({kind: d.meta.kind, rank: d.meta.rank, x: d.x, y: d.y}))")
    return {
        "deviation": {t["rank"]: (t["x"], t["y"]) for t in traces if t["kind"] == "deviation"},
        "drift": {t["rank"]: (t["x"], t["y"]) for t in traces if t["kind"] == "drift"},
        "markers": page.evaluate(
            f"document.querySelector('{CHART}').layout.shapes.map((s) => s.x0)"),
        "syncs": page.get_attribute(CHART, "data-syncs"),
        "ranks": json.loads(page.get_attribute(BYTES, "data-ranks") or "null"),
        "sent": json.loads(page.get_attribute(BYTES, "data-sent") or "null"),
        "dp": json.loads(page.get_attribute(BYTES, "data-dp") or "null"),
        "bytes_text": page.inner_text(BYTES),
    }


def _expected(events: list[dict]) -> dict:
    """What the card must show, from the run's step events alone."""
    steps = {(e["rank"], e["step"]): e for e in events if e["type"] == "step"}
    ranks = sorted({r for r, _ in steps})
    assert ranks == list(range(WORKERS))
    dev: dict[int, list[float]] = {r: [] for r in ranks}
    for k in range(1, STEPS + 1):
        sums = [steps[(r, k)]["param_checksum"] for r in ranks]
        mean = sum(sums) / len(sums)
        for r, s in zip(ranks, sums, strict=True):
            dev[r].append(s - mean)
    synced = [k for k in range(1, STEPS + 1) if steps[(0, k)]["synced"]]
    drift = {r: ([k for k in synced], [steps[(r, k)]["drift"] for k in synced]) for r in ranks}
    sent = [sum(steps[(r, k)]["bytes_sent"] for k in range(1, STEPS + 1)) for r in ranks]
    per_sync = [sum(steps[(r, k)]["bytes_sent"] for k in synced) / len(synced) for r in ranks]
    return {"ranks": ranks, "dev": dev, "synced": synced, "drift": drift, "sent": sent,
            "dp": [p * STEPS for p in per_sync]}


def _check(shown: dict, want: dict, page: Page) -> None:
    # a point per step per worker: checksum − the step's mean checksum
    for r in want["ranks"]:
        x, y = shown["deviation"][r]
        assert x == list(range(1, STEPS + 1))
        assert y == pytest.approx(want["dev"][r], abs=1e-9)
    # apart between syncs, one model at each
    assert max(abs(v) for v in want["dev"][0][:H - 1]) > 0
    assert shown["markers"] == want["synced"] == [4, 8, 12, 16]
    assert shown["syncs"] == "4,8,12,16"
    for r in want["ranks"]:
        assert shown["drift"][r][0] == want["drift"][r][0]
        assert shown["drift"][r][1] == pytest.approx(want["drift"][r][1])
    # the bytes: the events' sums, and a sync's measured bytes × the steps
    assert shown["ranks"] == want["ranks"]
    assert shown["sent"] == want["sent"]
    assert shown["dp"] == pytest.approx(want["dp"])
    assert all(s > 0 for s in want["sent"])
    mean_sent = sum(want["sent"]) / WORKERS
    mean_dp = sum(want["dp"]) / WORKERS
    words = page.evaluate(
        "async ([a, b]) => { const m = await import('/static/js/core/i18n.js');"
        " return [m.fmtBytes(a), m.fmtBytes(b), m.fmtNum(b / a, 3)]; }", [mean_sent, mean_dp])
    for w in words[:2]:
        assert w in shown["bytes_text"]
    ratio = (f"1/{words[2]} of the bytes", f"1/{words[2]} 的字节数")  # English, Chinese
    assert any(r in shown["bytes_text"] for r in ratio)


def test_local_sgd_replicas_fan_out_and_snap_together_live_and_on_replay(
        page: Page, server: str) -> None:
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "local_sgd")
    page.wait_for_selector("[data-testid=opt-sync_every]")
    page.fill("[data-testid=opt-sync_every]", str(H))
    page.fill("[data-testid=workers-input]", str(WORKERS))
    page.fill("[data-testid=steps-input]", str(STEPS))
    page.select_option("[data-testid=dataset-select]", "moons")
    page.check("[data-testid=full-speed]")
    page.click("[data-testid=start-run]")
    # Live: the page that started the run draws the card from its stream.
    page.wait_for_function(f"!document.querySelector('{CARD}').hidden", timeout=90_000)
    wait_status(page, "finished", 120_000)
    live = _card_drawn(page)

    run_id = page.evaluate("new URL(location.href).searchParams.get('run')")
    run = get_json(f"{server}/api/runs/{run_id}")
    assert isinstance(run, dict)
    config = run["config"]
    assert (config["strategy"], config["workers"], config["steps"], config["dataset"],
            config["pace"], config["options"]["sync_every"]) == (
        "local_sgd", WORKERS, STEPS, "moons", None, H)
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    assert isinstance(events, list)
    want = _expected(events)
    _check(live, want, page)
    assert "H = 4 · 3 workers · step 16" in page.inner_text("[data-testid=lsgd-head]")
    # the boundary of the last step (always drawn, after its sync) is the averaged model
    page.wait_for_function(
        "document.querySelector('[data-testid=boundary-note]').textContent"
        f" === 'averaged model, step {STEPS}'")
    page.wait_for_function(  # the loss chart beside it, for the picture
        "((document.querySelector('[data-testid=loss-chart]').data || [])[0] || {x: []})"
        f".x.length === {STEPS}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "local-sgd-live.png"))
    page.locator(CARD).screenshot(path=str(SHOTS / "local-sgd-card.png"))

    # Replay: a freshly loaded page on the finished run draws the same card.
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    replay = _card_drawn(page)
    assert replay == live
    # the page's article explains local SGD, not data parallelism's every-step all-reduce
    assert page.text_content('[data-article="title"]') == "Local SGD and DiLoCo in three moves"
    # scrubbed back to step 7: the card as of step 7 — one sync behind it, three steps apart
    page.eval_on_selector(
        "[data-testid=scrubber]",
        "el => { el.value = '7'; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    page.wait_for_function(
        f"(() => {{ const c = document.querySelector('{CHART}'); return c.dataset.step === '7'"
        " && (c.data || []).length > 0 && c.data[0].x.length === 7"
        " && (c.layout.shapes || []).length === 1; })()", timeout=10_000)
    y7 = page.evaluate(f"document.querySelector('{CHART}').data[0].y")
    assert y7 == pytest.approx(want["dev"][0][:7], abs=1e-9)
    assert page.inner_text("[data-testid=lsgd-now]").startswith("step 7: 3 of a round of 4")
    # the narration of a step of a round (no collective in it: nobody waits, so no
    # straggler line can stand in for it)
    page.wait_for_function(
        "document.querySelector('[data-testid=narration]').textContent.startsWith("
        "'step 7 (3 of a round of 4): each worker on its own replica, nothing sent')")
    page.click("[data-testid=go-live]")
    _card_drawn(page)
    set_view(page, "zh", False)
    title_zh = "副本：同步之间各自分开，同步时合而为一"
    page.wait_for_function(f"document.querySelector('{CARD} h2').textContent === '{title_zh}'")
    page.wait_for_function(
        f"document.querySelector('{BYTES}').textContent.includes('数据并行')")
    _check(_card_drawn(page), want, page)
    page.screenshot(path=str(SHOTS / "local-sgd-replay-zh.png"))
    set_view(page, "en", False)
