"""An asynchronous parameter server with a 5× straggler, as a student meets it (issue 13,
item 3): "steps" means one thing everywhere (the run's steps are steps × workers
gradients, whoever computed them; the scrubber says it walks iterations), the decision
boundary is the server's model at the run's last step, the straggler's timeline lane is
not empty at the end, and the scenario's default shows the effect — the straggler's
gradients in the staleness histogram far to the right of the others'."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from tests.browser_support import get_json, wait_status

pytestmark = pytest.mark.browser


def test_async_straggler_steps_boundary_timeline_and_staleness(page: Page, server: str) -> None:
    pg, steps = page, 20
    pg.goto(f"{server}/")
    pg.wait_for_function("window.distlab !== undefined && window.Plotly !== undefined")
    pg.wait_for_selector("[data-testid=scenario-select] option[value='ps-async-straggler']",
                         state="attached")
    pg.select_option("[data-testid=scenario-select]", "ps-async-straggler")
    pg.fill("[data-testid=steps-input]", str(steps))
    pg.dispatch_event("[data-testid=steps-input]", "change")
    pg.click("[data-testid=start-run]")
    wait_status(pg, "finished", 120_000)
    run_id = pg.evaluate("window.distlab.app.runId")
    run = get_json(f"{server}/api/runs/{run_id}")
    assert run["step"] == steps and run["summary"]["steps_completed"] == steps
    assert run["summary"]["versions"] == steps * 4
    # the page counts the run's steps as the server does: the narration and the run list
    pg.wait_for_function(
        f"document.querySelector('[data-testid=narration]').innerText.includes('{steps} steps')",
        timeout=10_000)
    assert f"{steps}/{steps}" in pg.inner_text("[data-testid=run-list]")
    # the scrubber walks the furthest worker's iterations, and says so
    label = pg.inner_text("[data-testid=scrub-label]")
    m = re.search(r"iteration (\d+) / (\d+)", label)
    assert m and int(m.group(2)) > steps, label
    # the loss chart's x is each worker's iteration too, and says so
    pg.wait_for_function(
        "document.querySelector('[data-testid=loss-chart]')._fullLayout?.xaxis.title.text"
        " === 'iteration'", timeout=10_000)
    # the boundary is the server's model at the run's last step (not a worker's copy)
    pg.wait_for_function(
        f"document.querySelector('[data-testid=boundary]').dataset.boundaryStep === '{steps}'",
        timeout=10_000)
    assert pg.inner_text("[data-testid=boundary-note]") == f"the server's model at step {steps}"
    # every worker's lane has what it did in the newest span of time, the straggler's too
    lanes = pg.evaluate("""() => { const n = {};
        document.querySelectorAll('[data-testid=timeline] [data-rank]')
          .forEach(e => { n[e.dataset.rank] = (n[e.dataset.rank] || 0) + 1; });
        return n; }""")
    assert set(lanes) == {"1", "2", "3", "4"} and all(v > 0 for v in lanes.values()), lanes
    # the straggler's gradients sit far right of the others' in the histogram
    events = get_json(f"{server}/api/runs/{run_id}/events?after=0&limit=10000")
    applied = [a for e in events if e["type"] == "ps_update" and e["rank"] == 0
               for a in e["applied"]]
    slow = [a["staleness"] for a in applied if a["worker"] == 1]
    fast = [a["staleness"] for a in applied if a["worker"] != 1]
    assert slow and sum(slow) / len(slow) >= 2 * sum(fast) / len(fast) + 3
    pg.wait_for_function(
        "n => document.querySelector('[data-testid=staleness-histogram]').dataset.total === n",
        arg=str(steps * 4), timeout=10_000)
    shown_max = pg.get_attribute("[data-testid=staleness-histogram]", "data-max")
    assert shown_max == str(max(slow + fast))
