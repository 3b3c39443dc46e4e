"""表9 (chapter 9, distributed optimizers) in the compare view, in a real Chromium against
the real server: three finished runs — data parallelism with momentum under two seeds,
and decentralized SGD on a ring — opened with `?compare=A,B,C&target=0.3`. Every cell of
the table must equal what this test computes itself from the runs' events (fetched from
the API): the steps and wall time to the target (the workers' mean loss, smoothed by a
trailing mean over 5 steps), the bytes a worker sent up to it (median over workers), the
optimizer-state memory (momentum's buffer > 0, plain SGD's 0), the final loss, and the
spread across the two seeds; the run with no seed sibling says why it has none. The
target-loss input refuses a bad value visibly and recomputes the table for a good one.
"""

from __future__ import annotations

import statistics
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page

from tests.browser_support import ARTIFACTS, get_json, post_run, wait_run_end

pytestmark = pytest.mark.browser

STEPS = 40
SMOOTH = 5  # views/optimizertable.js SMOOTH_STEPS
TABLE = "[data-testid=compare-optimizers]"
COMMON = {"steps": STEPS, "pace": None, "dataset": "moons", "workers": 2}


@pytest.fixture(scope="module")
def runs(server: str) -> list[dict]:
    bodies = [
        {"strategy": "data_parallel", "optimizer": "momentum", "seed": 0, **COMMON},
        {"strategy": "data_parallel", "optimizer": "momentum", "seed": 1, **COMMON},
        {"strategy": "decentralized", "options": {"graph": "ring"}, "seed": 0, **COMMON},
    ]
    ids = [post_run(server, b) for b in bodies]
    out = []
    for run_id in ids:
        run = wait_run_end(server, run_id)
        assert run["status"] == "finished", run
        events = get_json(f"{server}/api/runs/{run_id}/events?limit=10000")
        assert isinstance(events, list) and len(events) < 10_000  # all of them
        out.append({**run, "events": events})
    return out


# ------------------------------------------------ the expected values, from the events


def steps_of(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] == "step"]


def smoothed(events: list[dict]) -> list[tuple[int, float]]:
    """(step, trailing mean over SMOOTH steps of the workers' mean loss), every step
    all the workers reported."""
    recs = steps_of(events)
    workers = {e["rank"] for e in recs}
    by_step: dict[int, list[float]] = {}
    for e in recs:
        by_step.setdefault(e["step"], []).append(e["loss"])
    steps = sorted(s for s, ls in by_step.items() if len(ls) == len(workers))
    means = [statistics.fmean(by_step[s]) for s in steps]
    return [(s, statistics.fmean(means[max(0, i - SMOOTH + 1): i + 1]))
            for i, s in enumerate(steps)]


def to_target(events: list[dict], target: float) -> int | None:
    return next((s for s, y in smoothed(events) if y <= target), None)


def wall_to(events: list[dict], step: int) -> float:
    recs = steps_of(events)
    firsts: dict[int, dict] = {}
    for e in recs:
        if e["rank"] not in firsts or e["step"] < firsts[e["rank"]]["step"]:
            firsts[e["rank"]] = e
    start = min(e["t_start"] for e in firsts.values())
    return max(e["t"] for e in recs if e["step"] == step) - start


def bytes_to(events: list[dict], step: int | None) -> float:
    per_rank: dict[int, int] = {}
    for e in steps_of(events):
        if step is None or e["step"] <= step:
            per_rank[e["rank"]] = per_rank.get(e["rank"], 0) + e["bytes_sent"]
    return statistics.median(per_rank.values())


def optimizer_bytes(events: list[dict]) -> int:
    latest: dict[int, dict] = {}
    for e in steps_of(events):
        if "memory" in e and (e["rank"] not in latest or e["step"] >= latest[e["rank"]]["step"]):
            latest[e["rank"]] = e
    assert latest, "the steps carry memory"
    return max(e["memory"]["optimizer"] for e in latest.values())


def final_loss(events: list[dict]) -> float:
    recs = steps_of(events)
    last = sorted({e["step"] for e in recs})[-SMOOTH:]
    return statistics.fmean(
        statistics.fmean(e["loss"] for e in recs if e["step"] == s) for s in last
    )


# ------------------------------------------------ what the page shows


def values(pg: Page, quantity: str, attr: str = "value") -> list[str]:
    return pg.eval_on_selector_all(
        f"{TABLE} tr[data-quantity={quantity}] td", f"els => els.map(e => e.dataset.{attr} ?? '')"
    )


def wait_target(pg: Page, target: float) -> None:
    pg.wait_for_function(f"document.querySelector('{TABLE}')?.dataset.target === '{target}'")


def check_to_target(pg: Page, runs: list[dict], target: float) -> list[int | None]:
    expected = [to_target(r["events"], target) for r in runs]
    steps = values(pg, "steps")
    times = values(pg, "time")
    sent = values(pg, "bytes")
    rows = zip(runs, expected, steps, times, sent, strict=True)
    for r, want, got_step, got_time, got_bytes in rows:
        if want is None:
            assert got_step == got_time == got_bytes == "", (target, got_step)
            continue
        assert int(got_step) == want, (target, r["config"]["strategy"])
        assert float(got_time) == pytest.approx(wall_to(r["events"], want), abs=1e-9)
        assert float(got_bytes) == bytes_to(r["events"], want)
    return expected


def test_table9_fills_from_finished_runs(page: Page, server: str, runs: list[dict]) -> None:
    pg = page
    ids = ",".join(r["id"] for r in runs)
    pg.goto(f"{server}/?compare={ids}&target=0.3")
    pg.wait_for_function("window.distlab !== undefined")
    # every run's events reduced to the end (run_finished is the last event)
    pg.wait_for_function(
        f"""(() => {{ const ths = document.querySelectorAll('{TABLE} thead th[data-side]');
              return ths.length === 3
                  && [...ths].every(th => th.dataset.finished === 'true'); }})()""",
        timeout=30_000,
    )
    wait_target(pg, 0.3)

    # steps, wall time and bytes to loss 0.3: every run gets there in 40 steps
    reached = check_to_target(pg, runs, 0.3)
    assert all(s is not None for s in reached), reached
    whole = [float(v) for v in values(pg, "bytes", "run")]
    assert whole == [bytes_to(r["events"], None) for r in runs]

    # optimizer memory: momentum's buffer, from the events; plain SGD's none, said so
    memory = values(pg, "memory")
    for r, got in zip(runs, memory, strict=True):
        assert int(got) == optimizer_bytes(r["events"])
    assert int(memory[0]) > 0 and int(memory[1]) > 0
    assert int(memory[2]) == 0
    assert "plain SGD" in pg.inner_text(f"{TABLE} tr[data-quantity=memory] td:nth-child(4)")

    for r, got in zip(runs, values(pg, "final"), strict=True):
        assert float(got) == pytest.approx(final_loss(r["events"]), abs=1e-9)

    # the seed pair: its spread, from both runs; the ring has no seed sibling
    spread_steps = abs(reached[0] - reached[1])
    seed_steps, seed_loss = values(pg, "seedSteps"), values(pg, "seedLoss")
    assert [int(v) for v in seed_steps[:2]] == [spread_steps, spread_steps]
    want_loss = abs(final_loss(runs[0]["events"]) - final_loss(runs[1]["events"]))
    assert want_loss > 0, "two seeds, two losses"
    for got in seed_loss[:2]:
        assert float(got) == pytest.approx(want_loss, abs=1e-9)
    assert values(pg, "seedSteps", "runs")[:2] == ["2", "2"]
    assert seed_steps[2] == seed_loss[2] == ""
    assert values(pg, "seedSteps", "reason")[2] == "noSiblings"
    assert "another seed" in pg.inner_text(f"{TABLE} tr[data-quantity=seedSteps] td:nth-child(4)")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.locator(".compare-card-optimizers").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / "table9-en.png"), full_page=True)

    # a bad target is refused beside the input; the table keeps 0.3
    box = pg.locator("[data-testid=compare-target]")
    err = pg.locator("[data-testid=compare-target-error]")
    box.fill("-1")
    assert err.is_hidden(), "not refused while typed"
    box.press("Enter")  # committed: refused
    err.wait_for(state="visible")
    assert "-1" in err.inner_text()
    assert box.get_attribute("aria-invalid") == "true"
    assert pg.get_attribute(TABLE, "data-target") == "0.3"
    assert parse_qs(urlparse(pg.url).query)["target"] == ["0.3"]
    pg.locator(".compare-card-optimizers .card-head").screenshot(
        path=str(ARTIFACTS / "table9-bad-target.png")
    )

    # a good one recomputes every run's row and goes in the URL
    box.fill("0.25")  # applies as typed
    wait_target(pg, 0.25)
    err.wait_for(state="hidden")
    assert parse_qs(urlparse(pg.url).query)["target"] == ["0.25"]
    check_to_target(pg, runs, 0.25)

    # both languages
    pg.click("[data-testid=lang-toggle]")
    pg.wait_for_function(
        "document.querySelector('.compare-card-optimizers h2')?.textContent.includes('表9')"
        " && document.querySelector('.compare-card-optimizers h2').textContent.includes('目标损失')"
    )
    wait_target(pg, 0.25)  # the relocalized card reads its target back from the URL
    assert "普通 SGD" in pg.inner_text(f"{TABLE} tr[data-quantity=memory] td:nth-child(4)")
    pg.locator(".compare-card-optimizers").screenshot(path=str(ARTIFACTS / "table9-zh.png"))
    pg.click("[data-testid=lang-toggle]")
