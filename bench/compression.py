"""Gradient compression on the reference workload: loss vs bytes, side by side.

4 workers, data parallelism, the same seed for every method, so differences come from
the compression alone. "final loss" is the mean training loss over the last 10% of steps
(all ranks), which smooths out batch-to-batch noise. Two byte counts per method:
- payload: the encoded gradient one rank produces per step, vs the raw fp32 gradient;
- wire: bytes each rank actually sent per step (the all-gather of encoded gradients vs the
  uncompressed run's all-reduce, counted as a ring all-reduce sends them).
Usage: .venv/bin/python bench/compression.py [--steps 400] [--dataset spirals]
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from engine.config import RunConfig
from engine.runner import run_headless

# Each method: the data_parallel strategy's options (RunConfig.options).
METHODS: list[tuple[str, dict[str, Any]]] = [
    ("none (fp32 all-reduce)", {}),
    ("fp16", {"compression": "fp16"}),
    ("QSGD 4-bit (s=7)", {"compression": "qsgd", "qsgd_levels": 7}),
    ("QSGD 4-bit + error feedback", {"compression": "qsgd", "qsgd_levels": 7,
                                     "error_feedback": True}),
    ("QSGD 2-bit (s=1)", {"compression": "qsgd", "qsgd_levels": 1}),
    ("top-1%", {"compression": "topk", "compress_fraction": 0.01}),
    ("top-1% + error feedback", {"compression": "topk", "compress_fraction": 0.01,
                                 "error_feedback": True}),
    ("random-1% + error feedback", {"compression": "randk", "compress_fraction": 0.01,
                                    "error_feedback": True}),
    ("sign", {"compression": "sign"}),
    ("sign + error feedback", {"compression": "sign", "error_feedback": True}),
    ("PowerSGD rank 1", {"compression": "powersgd", "powersgd_rank": 1}),
    ("PowerSGD rank 2", {"compression": "powersgd", "powersgd_rank": 2}),
]


def measure(base: dict[str, Any], options: dict[str, Any]) -> dict[str, float]:
    log = run_headless(RunConfig(**base, options=options), timeout=900)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    steps = [e for e in log if e["type"] == "step"]
    last = max(e["step"] for e in steps)
    tail = [e["loss"] for e in steps if e["step"] > last * 0.9]
    grad_bytes = log[0]["num_params"] * 4
    return {
        "loss": statistics.mean(tail),
        "payload": statistics.mean(e.get("payload_bytes", grad_bytes) for e in steps),
        "wire": statistics.mean(e["bytes_sent"] for e in steps),
        "error": statistics.mean(e.get("compress_error", 0.0) for e in steps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--dataset", default="spirals")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    rows = {name: [] for name, _ in METHODS}
    for seed in args.seeds:
        base = {"strategy": "data_parallel", "workers": 4, "steps": args.steps,
                "batch_size": 32, "lr": 0.6, "seed": seed, "dataset": args.dataset}
        for name, options in METHODS:
            rows[name].append(measure(base, options))

    def avg(name: str, key: str) -> float:
        return statistics.mean(r[key] for r in rows[name])

    ref = METHODS[0][0]
    print(f"4 workers, {args.steps} steps, {args.dataset}, seeds {args.seeds} "
          f"(mean over seeds)")
    print(f"{'method':28} {'final loss':>10} {'vs none':>8} {'payload ×':>9} "
          f"{'wire ×':>7} {'‖x−Q(x)‖²/‖x‖²':>15}")
    for name, _ in METHODS:
        print(f"{name:28} {avg(name, 'loss'):>10.4f} "
              f"{avg(name, 'loss') / avg(ref, 'loss'):>8.2f} "
              f"{avg(ref, 'payload') / avg(name, 'payload'):>9.1f} "
              f"{avg(ref, 'wire') / avg(name, 'wire'):>7.1f} {avg(name, 'error'):>15.4f}")
    print("payload ×: raw gradient bytes / encoded bytes per rank per step; "
          "wire ×: bytes sent per rank, uncompressed / compressed")


if __name__ == "__main__":
    main()
