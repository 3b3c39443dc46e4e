"""Training through GFS: what reading the batches through the store costs, and how data
locality follows the replication factor.

Side by side in this one command, interleaved over rounds (the machine's noise hits them
alike): the same data-parallel run (3 workers, 1000 samples in chunks of 64, 16 a batch,
2 epochs) with its data from memory (the baseline), and through the store with r = 1, 2
and 3 (one chunkserver per worker's host). Reported: the run's wall time on the trainers'
clock (first step's start to the last step event, median over rounds) and its ratio to
the memory run; the share of reads served by the worker's own host (locality: about
r / workers, since the sampler's shuffle knows nothing of where chunks live); the bytes
the chunkservers sent. The disk time per read is emulated (``read_ms``, 0 here: what is
measured is the real messages and checksums).

Usage: .venv/bin/python -m bench.gfs_train [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics

from engine.config import RunConfig
from engine.runner import run_headless
from engine.strategies.gfs_sampler import steps_per_epoch

BASE = {"strategy": "gfs_train", "workers": 3, "num_samples": 1000, "batch_size": 16,
        "seed": 1}
CASES = {
    "memory (baseline)": {"source": "memory", "replicas": 1},
    "store, r = 1": {"replicas": 1},
    "store, r = 2": {"replicas": 2},
    "store, r = 3": {"replicas": 3},
}


def one_run(steps: int, options: dict) -> tuple[float, float | None, int]:
    events = run_headless(RunConfig(**BASE, steps=steps, options={"read_ms": 0, **options}),
                          timeout=600)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    steps_ev = [e for e in events if e["type"] == "step" and e.get("loss") is not None]
    wall = max(e["t"] for e in steps_ev) - min(e["t_start"] for e in steps_ev)
    epochs = [e for e in events if e["type"] == "gfs_train_epoch" and e["complete"]]
    assert epochs and all(e["exactly_once"] for e in epochs)
    ok = sum(e["ok"] for e in epochs)
    local = sum(e["local"] for e in epochs)
    return wall, (local / ok if ok else None), sum(e["bytes"] for e in epochs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    per_epoch = steps_per_epoch(BASE["num_samples"], BASE["workers"], BASE["batch_size"],
                                "pad")
    steps = 2 * per_epoch
    times: dict[str, list[float]] = {name: [] for name in CASES}
    extra: dict[str, tuple[float | None, int]] = {}
    for _ in range(args.rounds):
        for name, options in CASES.items():
            wall, locality, sent = one_run(steps, options)
            times[name].append(wall)
            extra[name] = (locality, sent)
    base = statistics.median(times["memory (baseline)"])
    print(f"{BASE['workers']} workers, {BASE['num_samples']} samples, {steps} steps "
          f"(2 epochs), median of {args.rounds} rounds")
    print(f"{'case':<20} {'wall s':>8} {'× memory':>9} {'locality':>9} {'bytes read':>11}")
    for name in CASES:
        wall = statistics.median(times[name])
        locality, sent = extra[name]
        loc = "–" if locality is None else f"{100 * locality:.0f}%"
        print(f"{name:<20} {wall:>8.2f} {wall / base:>9.2f} {loc:>9} {sent:>11}")


if __name__ == "__main__":
    main()
