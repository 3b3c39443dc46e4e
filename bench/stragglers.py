"""Stragglers and backup workers on the synchronous parameter server (Chen et al. 2016).

Same workload three ways, interleaved over rounds in one command: sync with equal workers,
sync with one worker 5× slower, and sync with that straggler plus one backup worker
(N = 4 gradients needed of 5 workers). Reports the median time per version (server
update) and the ratio to the no-straggler run. Compute is emulated (40 ms per step) so
that the consistency model, not message overhead, dominates — as in a real cluster.
Usage: .venv/bin/python bench/stragglers.py [--steps 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from typing import Any

from engine.config import RunConfig
from engine.runner import run_headless

# Each case: common settings, and the parameter server's options under "options" (over
# the sync defaults below).
CASES: list[tuple[str, dict[str, Any]]] = [
    ("sync, no straggler", {"workers": 4}),
    ("sync, one 5x straggler", {"workers": 4, "straggler": "one"}),
    ("sync + 1 backup, 5x straggler", {"workers": 5, "straggler": "one",
                                        "options": {"ps_mode": "backup",
                                                    "backup_workers": 1}}),
    ("async, one 5x straggler", {"workers": 4, "straggler": "one",
                                 "options": {"ps_mode": "async"}}),
]


def time_per_version(steps: int, extra: dict[str, Any]) -> tuple[float, int]:
    options = {"servers": 1, "ps_mode": "sync", **extra.get("options", {})}
    config = RunConfig(**{"strategy": "parameter_server", "steps": steps,
                          "batch_size": 32, "dataset": "moons",
                          "emulated_compute_ms": 40.0, "straggler_factor": 5.0,
                          "straggler_rank": 0, **extra, "options": options})
    log = run_headless(config, timeout=600)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    times = [e["t"] for e in log if e["type"] == "ps_update"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    dropped = sum(e["type"] == "gradient_dropped" for e in log)
    per_version = statistics.median(gaps) * 1e3
    if config.opts.ps_mode == "async":  # one version per gradient: a "step" is W versions
        per_version *= config.workers
    return per_version, dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, int]]] = {name: [] for name, _ in CASES}
    for _ in range(args.rounds):
        for name, extra in CASES:
            results[name].append(time_per_version(args.steps, extra))
    base = statistics.median(ms for ms, _ in results[CASES[0][0]])
    print(f"{'case':32} {'ms per step':>12} {'× no straggler':>15} {'dropped':>8}")
    for name, runs in results.items():
        ms = statistics.median(m for m, _ in runs)
        print(f"{name:32} {ms:>12.1f} {ms / base:>15.2f} {runs[-1][1]:>8}")
    print(f"(median over {args.rounds} rounds of {args.steps} steps; for async, W updates "
          f"count as one step)")


if __name__ == "__main__":
    main()
