"""Start-up latency and full-speed throughput of data parallelism for 1, 2, 4 workers.

Run with ``make bench`` (or ``.venv/bin/python bench/throughput.py``). Every
configuration runs in the same command, interleaved over several rounds, and is reported
beside the 1-worker baseline as a ratio, because these machines are noisy: read ratios,
not absolute numbers. Numbers are wall-clock on this machine's loopback (gloo, CPU).
"""

from __future__ import annotations

import argparse
import statistics
import time

from engine.config import RunConfig
from engine.runner import run_headless
from engine.supervisor import warm_up


def one_run(workers: int, steps: int, detail: bool) -> dict[str, float]:
    strategy = "single" if workers == 1 else "data_parallel"
    started = time.monotonic()
    first_step: list[float] = []

    def on_event(event: dict) -> None:
        if event["type"] == "step" and not first_step:
            first_step.append(time.monotonic() - started)

    log = run_headless(RunConfig(strategy=strategy, workers=workers, steps=steps,
                                 batch_size=32, detail=detail), on_event=on_event,
                       timeout=600)
    summary = log[-1]["summary"]
    assert log[-1]["status"] == "finished", log[-1]["error"]
    return {"first_step_s": first_step[0], "steps_per_s": summary["steps_per_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--detail", action="store_true", help="emit per-message events")
    args = parser.parse_args()

    warm_up()  # the server does this at start-up too
    results: dict[int, list[dict[str, float]]] = {w: [] for w in args.workers}
    for _ in range(args.rounds):
        for w in args.workers:  # interleaved, so drift in machine load hits all alike
            results[w].append(one_run(w, args.steps, args.detail))

    base = statistics.median(r["steps_per_s"] for r in results[args.workers[0]])
    print(f"{'workers':>7} {'first step (s)':>15} {'steps/s':>9} {'vs ' + str(args.workers[0]):>7}"
          f" {'samples/s':>10}")
    for w, runs in results.items():
        first = statistics.median(r["first_step_s"] for r in runs)
        sps = statistics.median(r["steps_per_s"] for r in runs)
        print(f"{w:>7} {first:>15.3f} {sps:>9.1f} {sps / base:>7.2f} {sps * 32 * w:>10.0f}")
    print(f"(median of {args.rounds} rounds, {args.steps} steps each, batch 32 per worker)")


if __name__ == "__main__":
    main()
