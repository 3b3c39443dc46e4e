"""3-D parallelism's mesh view in real Chromium (issue 16).

- A 2 × 2 × 2 run started from the form draws its mesh live: eight processes, a block
  per data replica, and the bytes the newest step sent over each kind of group, with
  tensor traffic the largest; the run reaches "finished".
- Pointing at a process highlights its three groups, and they are the ones the engine
  announced (tensor innermost, then pipeline, then data).
- The pipeline's schedule grid draws one pipeline of the mesh (replica 0, slice 0).
- Replayed after the fact, the same run draws the same mesh and traffic; in Chinese too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, set_view, wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/three_d")
STEPS = 4


def _mesh_drawn(page: Page, step: int) -> dict[str, int]:
    """Wait for the mesh and the traffic of ``step``; return the bytes per group."""
    page.wait_for_function(
        f"document.querySelector('[data-testid=mesh-traffic]').dataset.step === '{step}'",
        timeout=30_000)
    assert page.locator("[data-testid=mesh-rank]").count() == 8
    assert page.locator(".mesh-block").count() == 2  # one block per data replica
    rows = page.locator("[data-testid=mesh-traffic-row]")
    return {rows.nth(i).get_attribute("data-group"): int(rows.nth(i).get_attribute("data-bytes"))
            for i in range(rows.count())}


def _in(page: Page, rank: int) -> str:
    return page.get_attribute(f"[data-testid=mesh-rank][data-rank='{rank}']", "data-in")


def test_a_2x2x2_run_draws_its_mesh_live_and_on_replay(page: Page, server: str) -> None:
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "three_d")
    page.wait_for_function(
        "document.querySelector('[data-testid=model-select]').value === 'transformer'")
    assert page.input_value("[data-testid=opt-dp]") == "2"
    page.fill("[data-testid=workers-input]", "8")
    page.fill("[data-testid=steps-input]", str(STEPS))
    page.fill("[data-testid=context-input]", "8")
    page.fill("[data-testid=layers-input]", "2")
    page.check("[data-testid=full-speed]")
    page.click("[data-testid=start-run]")
    # Live: the page that started the run draws the mesh from its stream.
    page.wait_for_function(
        "!document.querySelector('[data-testid=mesh-card]').hidden", timeout=90_000)
    wait_status(page, "finished", 120_000)
    live = _mesh_drawn(page, STEPS)
    assert set(live) == {"tensor", "pipeline", "data"}
    assert all(v > 0 for v in live.values()), live
    # Four all-reduces of the activations per block per micro-batch: the most bytes.
    assert live["tensor"] > live["pipeline"] and live["tensor"] > live["data"], live

    # Point at rank 5 = (d, p, t) = (1, 0, 1): its groups are those the engine announced.
    run_id = page.evaluate("new URL(location.href).searchParams.get('run')")
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=1000")
    [mesh] = [e for e in events if e["type"] == "mesh"]
    groups = mesh["ranks"][5]["groups"]
    assert groups == {"tensor": [4, 5], "pipeline": [5, 7], "data": [1, 5]}
    page.hover("[data-testid=mesh-rank][data-rank='5']")
    page.wait_for_function("document.querySelector('[data-testid=mesh-card]')"
                           ".dataset.selected === '5'")
    assert (_in(page, 4), _in(page, 7), _in(page, 1)) == ("tensor", "pipeline", "data")
    assert all(_in(page, r) == "" for r in (0, 2, 3, 6))
    assert "(d, p, t) = (1, 0, 1)" in page.inner_text("[data-testid=mesh-selected]")
    assert page.locator("[data-testid=mesh-grid] path.mesh-link").count() == 3
    # The schedule grid draws one pipeline of the mesh: two stages.
    page.wait_for_function(
        f"document.querySelector('[data-testid=schedule-grid]').dataset.step === '{STEPS}'")
    assert page.locator("[data-testid=schedule-stages] li").count() == 2
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "mesh-live.png"))

    # Replay: a fresh page on the finished run draws the same mesh and traffic.
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    assert _mesh_drawn(page, STEPS) == live
    page.click("[data-testid=mesh-rank][data-rank='2']")
    page.mouse.move(0, 0)
    page.wait_for_function("document.querySelector('[data-testid=mesh-card]')"
                           ".dataset.selected === '2'")
    assert (_in(page, 3), _in(page, 0), _in(page, 6)) == ("tensor", "pipeline", "data")
    set_view(page, "zh", False)
    page.wait_for_function("document.querySelector('[data-testid=mesh-selected]')"
                           ".textContent.includes('进程 2')")
    assert "张量" in page.inner_text("[data-testid=mesh-traffic]")
    page.screenshot(path=str(SHOTS / "mesh-replay-zh.png"))
    set_view(page, "en", False)
