"""What one failure costs: restart from a checkpoint (torchrun) versus elastic shrink.

The same data-parallel run three ways, interleaved over rounds in one command: unbroken;
a worker killed after step K with ``recovery="restart"`` (checkpoint every 10 steps, so
up to 9 steps are done again, by freshly started processes); and the same kill with
``recovery="shrink"`` (the survivors go on as a smaller group). Compute is emulated
(20 ms per step) so that steps cost what they would on a bigger model. Reports the wall
time, the time from the kill to the next completed step, the steps done again, and the
ratio of wall time to the unbroken run.
Usage: .venv/bin/python bench/recovery.py [--steps 60] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from engine.config import RunConfig
from engine.runner import run_headless

KILL_AFTER = 25
CASES: list[tuple[str, dict[str, Any]]] = [
    ("unbroken", {}),
    ("kill, restart from checkpoint", {"recovery": "restart", "checkpoint_every": 10}),
    ("kill, elastic shrink", {"recovery": "shrink"}),
]


def measure(steps: int, extra: dict[str, Any]) -> tuple[float, float | None, int]:
    faults = ([{"after_step": KILL_AFTER, "action": "kill", "rank": 2}]
              if extra else [])
    config = RunConfig(**{"strategy": "data_parallel", "workers": 4, "steps": steps,
                          "batch_size": 32, "dataset": "moons",
                          "emulated_compute_ms": 20.0, "faults": faults, **extra})
    log = run_headless(config, timeout=600)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    wall = log[-1]["summary"]["wall_s"]
    kill = next((e for e in log if e["type"] == "fault"), None)
    gap = None
    if kill is not None:
        after = [e["t"] for e in log if e["type"] == "step" and e["seq"] > kill["seq"]
                 and e["step"] > KILL_AFTER]
        recovery = next(e for e in log if e["type"] == "recovery")
        later = [e["t"] for e in log if e["type"] == "step" and e["seq"] > recovery["seq"]]
        gap = (min(later) - kill["t"]) * 1e3 if later else (min(after) - kill["t"]) * 1e3
    steps_per_rank: dict[int, int] = {}
    for e in log:
        if e["type"] == "step":
            steps_per_rank[e["rank"]] = steps_per_rank.get(e["rank"], 0) + 1
    redone = max(0, steps_per_rank.get(0, steps) - steps)
    return wall, gap, redone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float | None, int]]] = {n: [] for n, _ in CASES}
    for _ in range(args.rounds):
        for name, extra in CASES:
            results[name].append(measure(args.steps, extra))
    base = statistics.median(w for w, _, _ in results["unbroken"])
    print(f"{'case':32} {'wall s':>8} {'× unbroken':>11} {'kill → next step ms':>20} "
          f"{'steps redone':>13}")
    for name, runs in results.items():
        wall = statistics.median(w for w, _, _ in runs)
        gaps = [g for _, g, _ in runs if g is not None]
        gap = f"{statistics.median(gaps):.0f}" if gaps else "–"
        print(f"{name:32} {wall:>8.2f} {wall / base:>11.2f} {gap:>20} {runs[-1][2]:>13}")
    print(f"(median over {args.rounds} rounds of {args.steps} steps, 4 workers, rank 2 "
          f"killed after step {KILL_AFTER}; wall time includes start-up)")


if __name__ == "__main__":
    main()
