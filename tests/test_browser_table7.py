"""表7 (chapter 7: range vs hash vs consistent hashing) in a real Chromium against the real
server: the lesson "data-placement" runs its last step — the same GFS store (4
chunkservers + 1 spare, r = 2, 64 chunks; the spare joins, chunkserver 1 leaves) under
the three placements, one after another — and the compare view opens them. Every cell of
the table must equal what this test reads itself from the runs' events (fetched from the
API): the replicas moved on the join and on the leave, the balance (max / mean) as
written and after each change, the scrub. Consistent hashing must have moved fewer than
hash mod n. The store card of one run names the retired server and says what moved. In
Chinese too.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser_support import ARTIFACTS, get_json, run_lesson_measure, wait_status

pytestmark = pytest.mark.browser

TABLE = "[data-testid=compare-placement]"
POLICIES = ["range", "hash", "consistent"]


def of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


def cells(pg: Page, quantity: str, attr: str = "value") -> list[str]:
    return pg.eval_on_selector_all(
        f"{TABLE} tr[data-quantity={quantity}] td", f"els => els.map(e => e.dataset.{attr} ?? '')"
    )


def test_table7_from_three_placements(page: Page, server: str) -> None:
    pg = page
    runs = run_lesson_measure(pg, server, "data-placement", 3)
    assert [r["status"] for r in runs] == ["finished"] * 3, runs
    assert [r["config"]["options"]["placement"] for r in runs] == POLICIES
    events = []
    for r in runs:
        evs = get_json(f"{server}/api/runs/{r['id']}/events?limit=10000")
        assert isinstance(evs, list) and len(evs) < 10_000  # all of them
        events.append(evs)
    # every run's events reduced to the end
    pg.wait_for_function(
        f"""(() => {{ const ths = document.querySelectorAll('{TABLE} thead th[data-side]');
              return ths.length === 3
                  && [...ths].every(th => th.dataset.finished === 'true'); }})()""",
        timeout=60_000,
    )
    assert cells(pg, "policy") == POLICIES

    joins = [of(evs, "gfs_rebalance")[0] for evs in events]
    leaves = [of(evs, "gfs_rebalance")[1] for evs in events]
    assert [j["reason"] for j in joins] == ["join"] * 3
    assert [j["reason"] for j in leaves] == ["leave"] * 3
    assert [int(v) for v in cells(pg, "join")] == [j["moved"] for j in joins]
    assert [int(v) for v in cells(pg, "leave")] == [j["moved"] for j in leaves]
    assert cells(pg, "join", "total") == ["128"] * 3
    assert [int(v) for v in cells(pg, "join", "chunks")] == [j["chunks"] for j in joins]
    # each moved replica is a gfs_move whose crc32 the master checked
    for evs, j in zip(events, joins, strict=True):
        moved = [m for m in of(evs, "gfs_move") if m["reason"] == "join"]
        assert len(moved) == j["moved"] and all(m["verified"] for m in moved)
    # what 表7 teaches: consistent hashing moves about 1/5, hash mod n most
    range_, hash_, ring = (j["moved"] for j in joins)
    assert ring < hash_ and ring <= 0.3 * 128 and hash_ >= 0.5 * 128, (range_, hash_, ring)

    for quantity, reason in (("balanceWritten", "written"), ("balanceJoin", "join"),
                             ("balanceLeave", "leave")):
        want = [next(b for b in of(evs, "gfs_balance") if b["reason"] == reason)
                for evs in events]
        assert [float(v) for v in cells(pg, quantity)] == [b["ratio"] for b in want]
        assert [int(v) for v in cells(pg, quantity, "max")] == [b["max"] for b in want]
    scrubs = [of(evs, "gfs_scrub")[-1] for evs in events]
    assert all(s["full"] and s["verified"] == 128 for s in scrubs)
    assert cells(pg, "scrub") == ["128"] * 3 and cells(pg, "scrub", "full") == ["true"] * 3

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    card = pg.locator(".compare-card-placement")
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(ARTIFACTS / "table7-en.png"))

    # both languages: the card relocalizes with the same numbers
    pg.click("[data-testid=lang-toggle]")
    pg.wait_for_function(
        "document.querySelector('.compare-card-placement h2')?.textContent.includes('一致性哈希')")
    assert "一致性哈希" in pg.inner_text(f"{TABLE} tr[data-quantity=policy] td:nth-child(4)")
    assert [int(v) for v in cells(pg, "join")] == [j["moved"] for j in joins]
    card.screenshot(path=str(ARTIFACTS / "table7-zh.png"))
    pg.click("[data-testid=lang-toggle]")

    # the consistent run's store card: the retired server holds nothing, the facts say
    # what the join and the leave moved
    pg.goto(f"{server}/?run={runs[2]['id']}&lang=en")
    pg.wait_for_function(
        "document.querySelector('[data-testid=gfs-facts] [data-fact=scrub]') !== null"
        " && document.querySelector('[data-testid=gfs-facts] [data-fact=leave]') !== null",
        timeout=60_000)
    retired = pg.locator("[data-testid=gfs-column][data-server='1']")
    assert retired.get_attribute("data-chunks") == "0"
    assert "retired" in (retired.text_content() or "")
    join_fact = pg.inner_text("[data-testid=gfs-facts] [data-fact=join]")
    assert f"moved {joins[2]['moved']} of 128 replicas" in join_fact
    # the replicas the last change (the leave) moved are marked where they landed
    landed = pg.eval_on_selector_all(
        "[data-testid=gfs-column] [data-testid=gfs-chunk][data-moved=true]",
        "els => els.map(e => [+e.dataset.chunk, +e.closest('[data-server]').dataset.server])")
    want = [[m["chunk"], m["dst"]] for m in of(events[2], "gfs_move") if m["reason"] == "leave"]
    assert sorted(landed) == sorted(want) and len(want) == leaves[2]["moved"]
    pg.locator("[data-testid=gfs-card]").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / "table7-store.png"), full_page=True)


def test_the_placement_lesson_predicts_then_reveals_what_moved(page: Page,
                                                               server: str) -> None:
    """Predict-then-observe: the answer is chosen before the run; the reveal says, from
    the run's events, how many replicas the join and the leave moved."""
    lid = "data-placement"
    reveal = "[data-testid=lesson-reveal]"
    measured_li = f"{reveal} [data-testid=lesson-measured] li"
    lesson = get_json(f"{server}/api/lessons/{lid}")
    assert isinstance(lesson, dict) and lesson["chapter"] == 7 and lesson["kind"] == "demo"
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/?lesson={lid}&lang=en")
    page.wait_for_function("document.querySelector('[data-testid=lesson-panel]')"
                           f".dataset.lesson === '{lid}'")
    page.click(f"[data-testid=lesson-predict] [data-choice='{lesson['predict']['answer']}']")
    page.click("[data-testid=lesson-start]")
    wait_status(page, "finished", 120_000)
    page.locator(reveal).wait_for(state="visible", timeout=30_000)
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].some(li => li.textContent"
        ".includes('was decommissioned'))", arg=measured_li, timeout=60_000)
    measured = page.locator(measured_li).all_inner_texts()
    run_id = page.evaluate("window.distlab.app.runId")
    events = get_json(f"{server}/api/runs/{run_id}/events?limit=10000")
    join, leave = of(events, "gfs_rebalance")
    assert join["policy"] == "consistent"
    assert any("chunkserver 5 joined" in m and f"moved {join['moved']} of 128" in m
               for m in measured), measured
    assert any(f"chunkserver 1 was decommissioned — {leave['moved']} of 128" in m
               for m in measured), measured
    assert any(m.startswith("scrub after epoch 3") for m in measured), measured
    assert measured[0].startswith("4 steps in") and "nothing trained" in measured[0], measured
    page.locator(reveal).screenshot(path=str(ARTIFACTS / "table7-lesson.png"))
