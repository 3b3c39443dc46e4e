"""The MPI collectives playground in real Chromium (issue 18).

- A 4-worker ring all-reduce started from the form (Detail on) reaches "finished"; its
  card shows every rank's buffer before (the values the engine sent) and after — each
  equal to the sum this test computes from the ranks' before-buffers in the events — the
  step's messages as arrows, 2(n−1) rounds of one block each, the bytes every rank sent
  and the α–β formula of the ring. The loss chart and the decision boundary are not shown
  (nothing is trained).
- An all-to-all on 3 workers started through the API, replayed: every rank's after-buffer
  holds block r of every rank's vector, in rank order; the card is drawn in Chinese too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, post_run, set_view, wait_run_end, wait_status

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/collectives")
CARD = "[data-testid=collectives-card]"


def _card(page: Page, step: int) -> dict:
    """Wait for the card of ``step``; return what it shows, rank by rank."""
    page.wait_for_function(
        f"document.querySelector('{CARD}').dataset.step === '{step}'"
        " && document.querySelectorAll('[data-testid=coll-after][data-values]').length > 0",
        timeout=30_000)
    assert page.is_visible(CARD)

    def values(testid: str) -> dict[int, list[float]]:
        rows = page.locator(f"[data-testid={testid}]")
        return {int(rows.nth(i).get_attribute("data-rank")):
                json.loads(rows.nth(i).get_attribute("data-values") or "null")
                for i in range(rows.count())}

    msgs = page.locator("[data-testid=coll-msg]")
    bytes_ = page.locator("[data-testid=coll-bytes]")
    return {
        "before": values("coll-before"),
        "after": values("coll-after"),
        "messages": sorted((int(msgs.nth(i).get_attribute("data-round")),
                            int(msgs.nth(i).get_attribute("data-src")),
                            int(msgs.nth(i).get_attribute("data-dst")),
                            int(msgs.nth(i).get_attribute("data-bytes")))
                           for i in range(msgs.count())),
        "sent": {int(bytes_.nth(i).get_attribute("data-rank")):
                 int(bytes_.nth(i).get_attribute("data-sent"))
                 for i in range(bytes_.count())},
        "cost": page.inner_text("[data-testid=coll-cost]"),
        "check": page.inner_text("[data-testid=coll-check]"),
    }


def test_a_ring_all_reduce_shows_every_buffer_and_message(page: Page, server: str) -> None:
    steps = 3
    page.select_option("[data-testid=strategy-select]", "collectives")
    page.wait_for_selector("[data-testid=opt-collective]")
    page.select_option("[data-testid=opt-collective]", "all_reduce")
    page.select_option("[data-testid=opt-algorithm]", "ring")
    page.fill("[data-testid=workers-input]", "4")
    page.fill("[data-testid=steps-input]", str(steps))
    page.check("[data-testid=detail-input]")
    page.check("[data-testid=full-speed]")
    page.click("[data-testid=start-run]")
    page.wait_for_function(f"!document.querySelector('{CARD}').hidden", timeout=90_000)
    wait_status(page, "finished", 120_000)
    shown = _card(page, steps)

    run_id = page.evaluate("new URL(location.href).searchParams.get('run')")
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    [info] = [e for e in events if e["type"] == "collective"]
    assert (info["collective"], info["algorithm"], info["elements"]) == ("all_reduce", "ring", 8)
    before = {e["rank"]: e["before"] for e in events
              if e["type"] == "buffers" and e["step"] == steps}
    total = [sum(v[i] for v in before.values()) for i in range(8)]
    assert shown["before"] == before
    assert shown["after"] == {r: total for r in range(4)}  # the sum, on every rank
    # 2(n−1) = 6 rounds, in each every rank sends one block (8 B) to its right neighbour
    assert shown["messages"] == [(k, r, (r + 1) % 4, 8) for k in range(6) for r in range(4)]
    sent = {e["rank"]: e["bytes_sent"] for e in events
            if e["type"] == "step" and e["step"] == steps}
    assert shown["sent"] == sent == {r: 48 for r in range(4)}  # 2(n−1)/n·N, N = 32 B
    assert "2(n−1)·α + 2(n−1)/n·N·β" in shown["cost"] and "6·α + 48 B·β" in shown["cost"]
    assert "max error 0" in shown["check"]
    # nothing trained: no loss chart and no decision boundary beside the card
    assert not page.is_visible("[data-testid=loss-chart]")
    assert not page.is_visible("#boundary-card")
    page.wait_for_timeout(2600)  # the rounds have been drawn (the picture)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "all-reduce-ring.png"))


def test_an_all_to_all_replayed_in_both_languages(page: Page, server: str) -> None:
    body = {"strategy": "collectives", "workers": 3, "steps": 2, "detail": True,
            "options": {"collective": "all_to_all"}}
    run_id = post_run(server, body)
    assert wait_run_end(server, run_id, 120)["status"] == "finished"
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    shown = _card(page, 2)
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    before = {e["rank"]: e["before"] for e in events
              if e["type"] == "buffers" and e["step"] == 2}
    # rank r ends with block r (2 elements) of every rank's vector, in rank order
    for r in range(3):
        assert shown["after"][r] == [x for q in range(3) for x in before[q][2 * r:2 * r + 2]]
    assert len(shown["messages"]) == 6  # n−1 = 2 rounds, every rank one block each round
    assert {m[0] for m in shown["messages"]} == {0, 1}
    assert page.text_content('[data-article="title"]') == "MPI collectives, message by message"
    set_view(page, "zh", False)
    page.wait_for_function(f"document.querySelector('{CARD} h2').textContent.includes('集合通信')")
    assert "全交换" in page.inner_text("[data-testid=coll-head]")
    # the same step redrawn in another language: drawn at once, not animated again
    assert page.evaluate("getComputedStyle(document.querySelector("
                         "'[data-testid=coll-after]')).opacity") == "1"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "all-to-all-zh.png"))
    set_view(page, "en", False)


def test_reduce_scatter_then_all_gather_shows_the_middle(page: Page, server: str) -> None:
    """The picture of "all-reduce = reduce-scatter + all-gather" on 8 workers (16
    elements: two lines of boxes a rank); each rank's middle is its block of the sum."""
    run_id = post_run(server, {"strategy": "collectives", "workers": 8, "steps": 1,
                               "detail": True,
                               "options": {"collective": "all_reduce", "algorithm": "rs_ag"}})
    assert wait_run_end(server, run_id, 120)["status"] == "finished"
    page.goto(f"{server}/?run={run_id}")
    page.wait_for_function("window.distlab !== undefined")
    shown = _card(page, 1)
    assert len({m[0] for m in shown["messages"]}) == 14  # 2(n−1) rounds
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
    middle = {e["rank"]: e["middle"] for e in events if e["type"] == "buffers"}
    cells = page.locator("[data-testid=coll-middle]")
    assert {int(cells.nth(i).get_attribute("data-rank")): cells.nth(i).text_content()
            for i in range(cells.count())} == \
        {r: " ".join(str(int(x)) for x in middle[r]) for r in range(8)}
    page.wait_for_timeout(5500)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "rs-ag-8.png"))


def test_every_collective_reaches_finished_and_shows_its_results(page: Page,
                                                                 server: str) -> None:
    """Each of the nine collectives (its usual algorithm, 3 workers, root 1 where it has
    one) runs, and the page shows every rank's after-buffer the engine reported."""
    from engine.mpi_collectives import COLLECTIVES, ROOTED
    for collective in COLLECTIVES:
        options = {"collective": collective, **({"root": 1} if collective in ROOTED else {})}
        run_id = post_run(server, {"strategy": "collectives", "workers": 3, "steps": 1,
                                   "detail": True, "options": options})
        assert wait_run_end(server, run_id, 120)["status"] == "finished", collective
        page.goto(f"{server}/?run={run_id}")
        page.wait_for_function("window.distlab !== undefined")
        wait_status(page, "finished", 30_000)
        shown = _card(page, 1)
        events = get_json(f"{server}/api/runs/{run_id}/events?limit=5000")
        after = {e["rank"]: e["after"] for e in events if e["type"] == "buffers"}
        assert shown["after"] == after, collective
        assert "max error 0" in shown["check"], collective
        assert shown["messages"], collective  # every collective sends something
