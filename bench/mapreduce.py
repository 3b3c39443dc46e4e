"""MapReduce: what one slow machine costs a job, what backup tasks win back, and what the
combiner saves on the shuffle (Dean & Ghemawat 2008, §3.6 and §4.3).

Four configurations side by side, in this one command, interleaved over rounds (the
machine's noise hits them alike): no straggler; one worker 5× slower; the same with backup
tasks; no straggler with backup tasks (what the copies cost when nobody is slow). Each
is a word count over 2000 mixed English/Chinese documents, M = 24 map and R = 4 reduce
tasks, 4 workers, each task 80 ms of emulated work on top of its real work. Reported:
the job's wall time (the master's, from the first assignment to the last reduce
output), median over rounds, and its ratio to the no-straggler job; the shuffle's bytes
with and without the combiner.

Usage: .venv/bin/python -m bench.mapreduce [--rounds 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import statistics

from engine.config import RunConfig
from engine.runner import run_headless

OPTIONS = {"job": "word_count", "corpus": "mixed", "documents": 2000, "map_tasks": 24,
           "reduce_tasks": 4, "task_ms": 80}
CASES = {
    "no straggler": ({}, {}),
    "one worker 5x slower": ({"straggler": "one", "straggler_rank": 1,
                              "straggler_factor": 5.0}, {}),
    "5x slower + backup tasks": ({"straggler": "one", "straggler_rank": 1,
                                  "straggler_factor": 5.0}, {"backup_tasks": True}),
    "no straggler + backup tasks": ({}, {"backup_tasks": True}),
}


def job_times(workers: int, jobs: int, config: dict, options: dict) -> tuple[list[float], dict]:
    events = run_headless(RunConfig(strategy="mapreduce", workers=workers, steps=jobs,
                                    options={**OPTIONS, **options}, **config), timeout=600)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    results = [e for e in events if e["type"] == "mr_result"]
    assert all(r["correct"] for r in results)
    tasks = [e for e in events if e["type"] == "mr_task"]
    return [r["job_s"] for r in results], {
        "shuffled": sum(e.get("bytes_in", 0) for e in tasks if e["kind"] == "reduce") / jobs,
        "backups": sum(1 for e in events if e["type"] == "mr_assign" and e["backup"]) / jobs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2, help="jobs per run (steps)")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    extra: dict[str, dict] = {}
    for _ in range(args.rounds):
        for name, (config, options) in CASES.items():
            got, extra[name] = job_times(args.workers, args.jobs, config, options)
            times[name] += got[1:] if len(got) > 1 else got  # the first job warms up
    base = statistics.median(times["no straggler"])
    print(f"{'case':32} {'job time (median)':>18} {'× no straggler':>15} {'backup copies':>14}")
    for name in CASES:
        t = statistics.median(times[name])
        print(f"{name:32} {t:>16.3f} s {t / base:>14.2f}× {extra[name]['backups']:>14.1f}")
    for combiner in (False, True):
        _, got = job_times(args.workers, 1, {}, {"combiner": combiner, "task_ms": 0})
        print(f"shuffle, combiner {'on ' if combiner else 'off'}: {got['shuffled'] / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
