"""How smoothly the page draws: frame intervals in a real Chromium, live and on replay.

A run is started through the API and followed by the page (1440×900); for a few seconds
the page records the interval between its animation frames (requestAnimationFrame) and
the number of elements in its document. Then, the run finished (no workers competing for
the cores), the same page replays it and is measured again. Cases: the ring all-reduce
and QSGD, 8 workers, one event per message (detail on).

    .venv/bin/python -m bench.browser_frames [--seconds 5] [--workers 8]

Needs Chromium (`make browser`); numbers from a noisy 2-core VM: read live against replay.
"""

from __future__ import annotations

import argparse
import statistics
import time

from playwright.sync_api import Page, sync_playwright

from bench.fanout import _free_port, _http, start_server
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS

CASES = {
    "ring": {"allreduce": "ring"},
    "qsgd": {"compression": "qsgd", "error_feedback": True},
}

# Records frame intervals and the largest element count over `ms` milliseconds.
SAMPLE_JS = """(ms) => new Promise((done) => {
  const gaps = []; let last = null; let most = 0; const end = performance.now() + ms;
  function frame(now) {
    if (last !== null) gaps.push(now - last);
    last = now;
    most = Math.max(most, document.getElementsByTagName('*').length);
    if (now < end) requestAnimationFrame(frame); else done({gaps, most});
  }
  requestAnimationFrame(frame);
})"""


LATE_MS = 20.0


def _summary(sample: dict) -> str:
    gaps = sorted(sample["gaps"])
    if not gaps:
        return "no frames"
    pct = lambda q: gaps[min(len(gaps) - 1, int(q * len(gaps)))]
    # A 60 Hz display's frame is 16.7 ms, measured as 16.6-16.8 by rAF's timestamps: a
    # frame "late" here is one that took more than one display frame (> 20 ms).
    late = sum(1 for g in gaps if g > LATE_MS)
    return (f"{len(gaps):4d} frames, p50 {statistics.median(gaps):5.1f} ms, "
            f"p95 {pct(0.95):6.1f} ms, max {gaps[-1]:6.1f} ms, "
            f"{late} late (> {LATE_MS:.0f} ms), up to {sample['most']} elements")


def measure(page: Page, base: str, options: dict, workers: int, seconds: float) -> None:
    steps = int(20 * (seconds + 6))  # at pace 20: still running while measured live
    run = _http(base, "POST", "/api/runs", {"workers": workers, "steps": steps, "pace": 20.0,
                                            "detail": True, "options": options})
    page.goto(f"{base}/?run={run['id']}")
    page.wait_for_function("window.distlab && window.distlab.player.liveState.lastStep >= 20",
                           timeout=60_000)
    live = page.evaluate(SAMPLE_JS, seconds * 1e3)
    page.wait_for_function(
        "document.querySelector('[data-testid=run-status]').dataset.status === 'finished'",
        timeout=180_000)
    time.sleep(1.0)  # the workers' processes gone
    page.click("[data-testid=replay-play]")
    replay = page.evaluate(SAMPLE_JS, seconds * 1e3)
    print(f"  live:   {_summary(live)}")
    print(f"  replay: {_summary(replay)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    with start_server(_free_port()) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        for name, options in CASES.items():
            print(f"{name}, {args.workers} workers, detail on, pace 20:")
            measure(page, base, options, args.workers, args.seconds)
        browser.close()


if __name__ == "__main__":
    main()
