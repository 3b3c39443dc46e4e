"""The pipeline bubble, measured against its formula, and the activations each stage holds.

For p ∈ {2, 4} stages and m ∈ {1, 2, 4, 8} micro-batches, both schedules (GPipe, 1F1B)
run the tiny transformer on real stage processes. Each stage's compute is emulated as
``--work`` ms per step (a third forward, two thirds backward, spread over the micro-
batches: engine/strategies/pipeline.py), so that the stages are equal and bigger than the
messages between them, as the formula assumes; the tiny model itself computes in ~1 ms.
Reports, per case, the measured idle fraction (the median over the steps after the first
two, from the stages' cells: pipeline_schedules.measured_bubble) beside (p − 1)/(m + p − 1),
and per stage the most micro-batches' activations held and the most bytes autograd held.

Usage: .venv/bin/python -m bench.pipeline [--steps 8] [--work 80]
"""

from __future__ import annotations

import argparse
import statistics

from engine.config import RunConfig
from engine.runner import run_headless
from engine.strategies.pipeline_schedules import bubble_formula, measured_bubble


def measure(schedule: str, p: int, m: int, steps: int, work_ms: float) -> dict:
    config = RunConfig(strategy="pipeline", workers=p, steps=steps, model="transformer",
                       dataset="text-en", batch_size=16, lr=0.5, context=32, layers=4,
                       emulated_compute_ms=work_ms,
                       options={"schedule": schedule, "micro_batches": m})
    log = run_headless(config, timeout=600)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    by_step: dict[int, dict[int, dict]] = {}
    for e in log:
        if e["type"] == "step":
            by_step.setdefault(e["step"], {})[e["rank"]] = e
    bubbles = [measured_bubble([by_step[s][r]["schedule"] for r in sorted(by_step[s])])
               for s in sorted(by_step) if s > 2]
    first = by_step[max(by_step)]
    return {"bubble": statistics.median(b for b in bubbles if b is not None),
            "held": [first[r]["in_flight_peak"] for r in sorted(first)],
            "bytes": [first[r]["activation_bytes_peak"] for r in sorted(first)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--work", type=float, default=80.0,
                        help="emulated compute per stage per step, ms")
    args = parser.parse_args()
    print(f"tiny transformer (4 blocks, d_model 64, context 32), batch 16, "
          f"{args.work:g} ms emulated work per stage per step, median of steps 3..{args.steps}")
    print(f"{'schedule':<8} {'p':>2} {'m':>2}  {'bubble':>7} {'formula':>7}  "
          f"{'held (micro-batches) per stage':<32} activation KB per stage")
    for p in (2, 4):
        for m in (1, 2, 4, 8):
            for schedule in ("gpipe", "1f1b"):
                r = measure(schedule, p, m, args.steps, args.work)
                kb = " ".join(f"{b / 1024:.0f}" for b in r["bytes"])
                held = " ".join(str(h) for h in r["held"])
                print(f"{schedule:<8} {p:>2} {m:>2}  {r['bubble']:>7.1%} "
                      f"{bubble_formula(p, m):>7.1%}  {held:<32} {kb}", flush=True)


if __name__ == "__main__":
    main()
