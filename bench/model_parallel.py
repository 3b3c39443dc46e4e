"""表4, measured: data vs pipeline vs tensor parallelism on the same model and batch.

The tiny transformer (4 blocks, d_model 64, context 32, 4 heads) on the English text,
global batch 32, the same seed, at full speed: one process (the reference), 4-way data
parallelism (8 samples each), a 4-stage pipeline (1F1B, 4 micro-batches) and 4-way tensor
parallelism, run one after another in one command. For each: the median time per step,
the bytes each process sends per step, the memory each process holds (parameters,
gradients, the most activations autograd kept: the step events' ``memory``), the idle
fraction (the share of a step a process is not computing: waiting or communicating;
the pipeline's from its cells), and how far its final loss is from the reference's (all
four compute the same SGD step).

On one 2-core machine four processes share two cores and every "link" is loopback: the
times say how the strategies behave here, not on a cluster; the bytes and the memory do
not depend on the machine.

Usage: .venv/bin/python -m bench.model_parallel [--steps 30]
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from engine.config import RunConfig
from engine.runner import run_headless
from engine.strategies.pipeline_schedules import measured_bubble

MODEL = dict(model="transformer", dataset="text-en", context=32, d_model=64, layers=4,
             heads=4, lr=0.5, seed=1)
BATCH = 32
CASES: list[tuple[str, dict[str, Any]]] = [
    ("one process", {"strategy": "single", "workers": 1, "batch_size": BATCH}),
    ("data parallel ×4", {"strategy": "data_parallel", "workers": 4,
                          "batch_size": BATCH // 4}),
    ("pipeline ×4 (1F1B, m=4)", {"strategy": "pipeline", "workers": 4, "batch_size": BATCH,
                                 "options": {"schedule": "1f1b", "micro_batches": 4}}),
    ("tensor parallel ×4", {"strategy": "tensor_parallel", "workers": 4,
                            "batch_size": BATCH}),
]


def kb(n: float) -> str:
    return f"{n / 1024:,.0f}"


def measure(steps: int, case: dict[str, Any]) -> dict[str, Any]:
    log = run_headless(RunConfig(steps=steps, **MODEL, **case), timeout=900)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    rows = [e for e in log if e["type"] == "step"]
    later = [e for e in rows if e["step"] > 2]  # after the warm-up
    step_ms = statistics.median(max(e["t"] - e["t_start"] for e in later
                                    if e["step"] == s) * 1e3
                                for s in range(3, steps + 1))
    if case["strategy"] == "pipeline":
        idle = statistics.median(
            measured_bubble([e["schedule"] for e in later if e["step"] == s])
            for s in range(3, steps + 1))
    else:
        idle = statistics.median(
            1 - min(1.0, e["compute_ms"] / max(1e-9, (e["t"] - e["t_start"]) * 1e3))
            for e in later)
    memory = [e["memory"] for e in rows if e["step"] == 1]
    return {
        "step_ms": step_ms, "idle": idle,
        "sent": statistics.median(e["bytes_sent"] for e in later),
        "params": max(m["params"] for m in memory),
        "grads": max(m["grads"] for m in memory),
        "acts": max(m["activations"] for m in memory),
        "loss": statistics.mean(e["loss"] for e in rows if e["step"] == steps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    print(f"tiny transformer, global batch {BATCH}, {args.steps} steps at full speed; "
          "per process: KB sent per step, KB held (params / grads / activations, the "
          "largest process)")
    print(f"{'':<26}{'ms/step':>8}{'idle':>7}{'sent KB':>9}{'params':>8}{'grads':>7}"
          f"{'acts':>7}  final loss (Δ vs one process)")
    ref = None
    for name, case in CASES:
        r = measure(args.steps, case)
        ref = r["loss"] if ref is None else ref
        print(f"{name:<26}{r['step_ms']:>8.1f}{r['idle']:>7.0%}{kb(r['sent']):>9}"
              f"{kb(r['params']):>8}{kb(r['grads']):>7}{kb(r['acts']):>7}  "
              f"{r['loss']:.5f} ({r['loss'] - ref:+.1e})", flush=True)


if __name__ == "__main__":
    main()
