"""ZeRO's memory per worker, measured against the paper's accounting.

The tiny transformer (4 blocks, d_model 64) with Adam, 2 and 4 workers, plain data
parallelism (stage 0) and ZeRO stages 1–3: for each, the bytes worker 0 holds between
steps — parameters, gradients, Adam's state — as the step events measure them
(engine/memory.py), beside Rajbhandari et al.'s per-process accounting in fp32 (4 bytes
a parameter, Adam's m and v 8): 16Ψ for data parallelism, 8Ψ + 8Ψ/N for stage 1,
4Ψ + 12Ψ/N for stage 2, 16Ψ/N for stage 3. Also the bytes each worker sends per step.

Usage: .venv/bin/python -m bench.zero_memory
"""

from __future__ import annotations

from engine.config import RunConfig
from engine.runner import run_headless

MODEL = dict(model="transformer", dataset="text-en", context=32, d_model=64, layers=4,
             heads=4, lr=0.003, optimizer="adam", steps=3, batch_size=8)


def paper(psi: int, n: int, stage: int) -> int:
    return {0: 16 * psi, 1: 8 * psi + 8 * psi // n, 2: 4 * psi + 12 * psi // n,
            3: 16 * psi // n}[stage]


def main() -> None:
    print(f"{'workers':>7} {'stage':>5}  {'params':>9} {'grads':>9} {'Adam':>9} "
          f"{'model states':>13} {'paper':>9}  {'sent/step':>10}  (KB, worker 0)")
    for n in (2, 4):
        for stage in (0, 1, 2, 3):
            case = ({"strategy": "data_parallel"} if stage == 0 else
                    {"strategy": "zero", "options": {"stage": str(stage)}})
            log = run_headless(RunConfig(workers=n, **MODEL, **case), timeout=300)
            assert log[-1]["status"] == "finished", log[-1]["error"]
            psi = next(e for e in log if e["type"] == "run_started")["num_params"]
            first = next(e for e in log if e["type"] == "step" and e["rank"] == 0)
            m = first["memory"]
            states = m["params"] + m["grads"] + m["optimizer"]
            print(f"{n:>7} {stage:>5}  {m['params'] / 1024:>9.1f} {m['grads'] / 1024:>9.1f} "
                  f"{m['optimizer'] / 1024:>9.1f} {states / 1024:>13.1f} "
                  f"{paper(psi, n, stage) / 1024:>9.1f}  {first['bytes_sent'] / 1024:>10.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
