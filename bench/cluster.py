"""Start → first step: a run on a Ray cluster beside the same run as local processes.

Run with ``.venv/bin/python -m bench.cluster`` (needs ``pip install 'distlab[cluster]'``).
It starts a throw-away local Ray head (or uses ``--address``), then runs the same small
data-parallel config both ways, interleaved over several rounds so that drift in the
machine's load hits both alike, and reports the medians and their ratio. "Start" is the
moment the server would call the supervisor's ``start``; "first step" the moment the
first ``step`` event reaches the server's callback (through the long poll, on Ray). On
Ray that includes placing the placement group, starting the actor's process (``import
torch``) and its forkserver (``import torch`` again); locally the server's forkserver is
already warm (``warm_up`` at start-up), so a fork is all a worker costs.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from backend.cluster import RayCluster
from engine.config import RunConfig
from engine.supervisor import RunSupervisor, warm_up


def time_to_first_step(make: Callable[..., Any], config: RunConfig) -> float:
    first = threading.Event()
    marks: list[float] = []

    def on_events(events: list[dict[str, Any]]) -> None:
        if not marks and any(e["type"] == "step" for e in events):
            marks.append(time.monotonic())
            first.set()

    sup = make(config, uuid.uuid4().hex[:12], on_events)
    started = time.monotonic()
    sup.start()
    if not first.wait(300):
        raise TimeoutError("no first step in 300 s")
    if not sup.wait(300):
        raise TimeoutError("the run did not end in 300 s")
    return marks[0] - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", help="a running Ray cluster (default: start one here)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = RunConfig(strategy="data_parallel", workers=args.workers, steps=5,
                       batch_size=16)

    def local(cfg: RunConfig, run_id: str, on_events: Callable[..., None]) -> Any:
        return RunSupervisor(cfg, run_id=run_id, on_events=on_events)

    def measure(address: str) -> None:
        cluster = RayCluster(address)
        warm_up()  # the server does this at start-up
        times: dict[str, list[float]] = {"local": [], "ray": []}
        try:
            for _ in range(args.rounds):
                times["local"].append(time_to_first_step(local, config))
                times["ray"].append(time_to_first_step(cluster.supervisor, config))
        finally:
            cluster.close()
        base = statistics.median(times["local"])
        print(f"start → first step, {args.workers} workers, median of {args.rounds} "
              "interleaved rounds")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"  {name:6s} {median * 1000:8.0f} ms   ×{median / base:5.1f}   "
                  f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})")

    if args.address:
        measure(args.address)
        return
    from tests.ray_head import local_ray_head

    with local_ray_head(num_cpus=max(4, args.workers)) as head:
        measure(head.address)


if __name__ == "__main__":
    main()
