"""Decentralized SGD's gossip graph and replicas card in real Chromium (issue 17).

- A 4-worker ring run started from the form draws the graph on the topology card: four
  workers and the ring's four edges, each lit with the bytes of the newest step (one model
  each way); the replicas card plots the consensus distance, a point per step, and the
  replicas' checksums differ (each worker holds a model of its own) — the numbers the
  engine streamed.
- Pointing at a worker shows its neighbours and its mixing weights (1/3 on a ring).
- Replayed after the fact, the same run draws the same graph and card, and the article
  beside the views explains gossip; in Chinese too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, post_run, set_view, wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/decentralized")
STEPS = 20
CARD = "[data-testid=gossip-card]"
GRAPH = "[data-testid=topology]"
TITLE = ".card-topology .card-head h2"


def _card_drawn(page: Page) -> dict:
    """Wait for the card of the last step (graph, chart and checksums); return what it shows."""
    page.wait_for_function(
        f"document.querySelector('{GRAPH}').dataset.step === '{STEPS}'"
        f" && document.querySelector('[data-testid=gossip-consensus]').dataset.points === '{STEPS}'"
        " && (document.querySelector('[data-testid=gossip-consensus]').data || [{x: []}])[0]"
        f".x.length === {STEPS}",
        timeout=30_000)
    assert page.is_visible(CARD)
    assert page.get_attribute(GRAPH, "data-mode") == "gossip"
    assert page.inner_text(TITLE) in ("Gossip graph", "Gossip 通信图")
    edges = page.locator("[data-testid=gossip-edge]")
    rows = page.locator("[data-testid=gossip-checksum]")
    return {
        "nodes": page.locator("[data-testid=gossip-node]").count(),
        "edges": sorted((int(edges.nth(i).get_attribute("data-a")),
                         int(edges.nth(i).get_attribute("data-b")),
                         int(edges.nth(i).get_attribute("data-bytes")))
                        for i in range(edges.count())),
        "lit": page.locator("[data-testid=gossip-edge].lit").count(),
        "points": page.evaluate(
            "document.querySelector('[data-testid=gossip-consensus]').data[0].y"),
        "checksums": {int(rows.nth(i).get_attribute("data-rank")):
                      float(rows.nth(i).get_attribute("data-value"))
                      for i in range(rows.count())},
    }


def test_a_ring_of_4_gossips_and_its_replicas_differ_live_and_on_replay(
        page: Page, server: str) -> None:
    page.goto(server)
    page.wait_for_function("window.distlab !== undefined")
    page.select_option("[data-testid=strategy-select]", "decentralized")
    page.wait_for_selector("[data-testid=opt-graph]")
    page.select_option("[data-testid=opt-graph]", "ring")
    page.fill("[data-testid=workers-input]", "4")
    page.fill("[data-testid=steps-input]", str(STEPS))
    page.check("[data-testid=full-speed]")
    page.click("[data-testid=start-run]")
    # Live: the page that started the run draws the card from its stream.
    page.wait_for_function(f"!document.querySelector('{CARD}').hidden", timeout=90_000)
    wait_status(page, "finished", 120_000)
    live = _card_drawn(page)

    run_id = page.evaluate("new URL(location.href).searchParams.get('run')")
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    [graph] = [e for e in events if e["type"] == "graph"]
    assert graph["neighbours"] == [[1, 3], [0, 2], [1, 3], [0, 2]]
    steps = {(e["rank"], e["step"]): e for e in events if e["type"] == "step"}
    model = steps[(0, STEPS)]["bytes_sent"] // 2  # one model to each of two neighbours

    # The ring of 4: four workers, four edges, each carrying one model each way.
    assert live["nodes"] == 4
    assert live["edges"] == [(0, 1, 2 * model), (0, 3, 2 * model), (1, 2, 2 * model),
                             (2, 3, 2 * model)]
    assert live["lit"] == 4
    # A point per step: the consensus distances the leader measured.
    assert live["points"] == pytest.approx([steps[(0, k)]["consensus"]
                                            for k in range(1, STEPS + 1)])
    # The replicas differ: every worker its own checksum, the engine's.
    assert live["checksums"] == pytest.approx({r: steps[(r, STEPS)]["param_checksum"]
                                               for r in range(4)})
    assert len(set(live["checksums"].values())) == 4

    # Pointing at worker 1: its neighbours 0 and 2, each weighted 1/3.
    page.hover("[data-testid=gossip-node][data-rank='1']")
    page.wait_for_function(f"document.querySelector('{GRAPH}').dataset.selected === '1'")
    assert page.locator("[data-testid=gossip-node].peer").count() == 2
    assert {page.locator("[data-testid=gossip-node].peer").nth(i).get_attribute("data-rank")
            for i in range(2)} == {"0", "2"}
    text = page.inner_text("#topo-caption")
    assert "Worker 1 averages with 0, 2" in text and "1/3" in text
    page.mouse.move(0, 0)
    page.wait_for_function(  # the loss chart beside it, for the picture
        "(document.querySelector('[data-testid=loss-chart]').data || [{x: []}])[0].x.length"
        f" === {STEPS}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "gossip-live.png"))
    page.screenshot(path="/tmp/dpsgd.png")

    # Replay: a fresh page on the finished run draws the same card.
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    assert _card_drawn(page) == live
    # the page's article explains gossip, not data parallelism's all-reduce
    assert page.text_content('[data-article="title"]') == "Decentralized SGD in three moves"
    set_view(page, "zh", False)
    page.wait_for_function(
        f"document.querySelector('{TITLE}').textContent === 'Gossip 通信图'")
    assert "环" in page.inner_text("[data-testid=gossip-head]")
    assert page.inner_text(f"{CARD} h2") == "副本：彼此相距多远"
    page.screenshot(path=str(SHOTS / "gossip-replay-zh.png"))
    set_view(page, "en", False)


def test_a_killed_worker_leaves_a_hole_the_others_close(page: Page, server: str) -> None:
    """Recovery "shrink": worker 2 of a ring of 5 is killed; the survivors build a ring of
    4 over themselves. Replayed, the card draws worker 2 as a hole (no edges), the new
    edge 1–3 across it, and says so in its head — from the run's second graph event."""
    body = {"strategy": "decentralized", "workers": 5, "steps": 24, "pace": 20.0,
            "dataset": "moons", "recovery": "shrink", "options": {"graph": "ring"},
            "faults": [{"after_step": 8, "action": "kill", "rank": 2}]}
    run_id = post_run(server, body)
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    wait_status(page, "finished", 120_000)
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    graphs = [e for e in events if e["type"] == "graph"]
    assert [g["members"] for g in graphs] == [[0, 1, 2, 3, 4], [0, 1, 3, 4]]
    page.wait_for_function(f"document.querySelector('{GRAPH}').dataset.holes === '2'",
                           timeout=30_000)
    hole = page.locator("[data-testid=gossip-node][data-rank='2']")
    assert hole.get_attribute("data-member") == "false"
    assert "hole" in (hole.get_attribute("class") or "")
    edges = page.locator("[data-testid=gossip-edge]")
    pairs = sorted((int(edges.nth(i).get_attribute("data-a")),
                    int(edges.nth(i).get_attribute("data-b"))) for i in range(edges.count()))
    assert pairs == [(0, 1), (0, 4), (1, 3), (3, 4)]  # closed over the hole
    head = page.inner_text("[data-testid=gossip-head]")
    assert "worker 2 left" in head and "4 others" in head
    # the replicas card lists the four survivors only
    rows = page.locator("[data-testid=gossip-checksum]")
    assert sorted(int(rows.nth(i).get_attribute("data-rank"))
                  for i in range(rows.count())) == [0, 1, 3, 4]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "gossip-hole.png"))
