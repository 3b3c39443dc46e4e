"""MapReduce (engine/strategies/mapreduce.py) on real processes: a master and workers,
the shuffle as real messages.

- Word count and the inverted index give exactly the one-process job's output, for any
  number of workers, map and reduce tasks, on English, Chinese and mixed text.
- The partition function sends each key to one reducer (the same on every process).
- The combiner cuts the shuffle's bytes, counted from the events (the map tasks' partition
  sizes equal the shuffle messages the workers sent).
- With backup tasks, an idle worker runs a copy of the straggler's task.
- A worker killed mid-job: its running task and the map output on its "disk" are done
  again elsewhere (recovery "continue"), and the output is still right.
"""

from __future__ import annotations

import time
import zlib
from typing import Any

import pytest

from engine.config import RunConfig
from engine.mapreduce_job import (
    combine,
    make_corpus,
    map_task,
    partition_of,
    partitions,
    reduce_task,
    reference,
    splits,
    words,
)
from engine.runner import run_headless
from tests.test_faults import Run

OPTS: dict[str, Any] = {"documents": 120, "map_tasks": 6, "reduce_tasks": 3, "task_ms": 0}


def _run(workers: int, steps: int = 1, **kw: Any) -> list[dict[str, Any]]:
    options = {**OPTS, **kw.pop("options", {})}
    events = run_headless(RunConfig(strategy="mapreduce", workers=workers, steps=steps,
                                    options=options, **kw), timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    return events


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def test_the_job_in_one_process() -> None:
    corpus = make_corpus("mixed", 40, seed=3)
    assert corpus == make_corpus("mixed", 40, seed=3)  # every process builds the same
    count = reference("word_count", corpus)
    assert count["the"] > 10 and count["的"] > 5  # English words, Chinese characters
    index = reference("inverted_index", corpus)
    assert set(index) == set(count)
    for w in ("the", "的", "model"):
        assert index[w] == [d for d in range(40) if w in words(corpus[d])]
    # M splits cover the documents once; partial results reduce to the whole
    parts = splits(40, 7)
    assert [d for s in parts for d in s] == list(range(40))
    maps = [combine("word_count", map_task("word_count", corpus, s)) for s in parts]
    assert reduce_task("word_count", maps) == count
    # each key goes to the one reducer hash(key) mod R names, whichever map task has it
    split = partitions(map_task("word_count", corpus, range(40)), 4)
    assert all(partition_of(k, 4) == r for r, part in enumerate(split) for k, _ in part)
    assert partition_of("the", 4) == zlib.crc32(b"the") % 4


@pytest.mark.parametrize(("workers", "job", "corpus", "m", "r"), [
    (1, "word_count", "en", 3, 2), (3, "word_count", "mixed", 6, 3),
    (4, "inverted_index", "zh", 8, 5), (2, "inverted_index", "mixed", 5, 1)])
def test_the_output_is_the_one_process_jobs(workers: int, job: str, corpus: str, m: int,
                                            r: int) -> None:
    events = _run(workers, steps=2, options={"job": job, "corpus": corpus,
                                             "map_tasks": m, "reduce_tasks": r})
    results = of(events, "mr_result")
    assert [e["step"] for e in results] == [1, 2]  # one job per step
    assert all(e["correct"] and e["mismatched"] == 0 for e in results)
    for e in results:  # the master's check is against this, computed here again
        want = reference(job, make_corpus(corpus, OPTS["documents"], 0 + e["step"] - 1))
        assert e["keys"] == len(want)
    tasks = of(events, "mr_task")
    for step in (1, 2):
        done = [e for e in tasks if e["step"] == step]
        assert sorted(e["task"] for e in done if e["kind"] == "map") == list(range(m))
        assert sorted(e["task"] for e in done if e["kind"] == "reduce") == list(range(r))
    steps = of(events, "step")
    assert {(e["rank"], e["step"]) for e in steps} == {
        (w, s) for w in range(1, workers + 1) for s in (1, 2)}
    assert all(e["loss"] is None for e in steps)  # nothing is trained


def test_the_combiner_cuts_the_shuffle_and_the_bytes_are_the_messages() -> None:
    shuffled = {}
    for combiner in (False, True):
        events = _run(3, detail=True, options={"combiner": combiner})
        maps = [e for e in of(events, "mr_task") if e["kind"] == "map"]
        reduces = [e for e in of(events, "mr_task") if e["kind"] == "reduce"]
        messages = [e for e in of(events, "comm") if e["op"] == "shuffle"]
        # every partition that left its map worker is one message, of its measured size
        # (a reducer's own map output does not travel)
        assert sum(e["bytes"] for e in messages) == sum(e["bytes_in"] for e in reduces)
        assert sum(e["bytes"] for e in messages) <= sum(sum(e["bytes"]) for e in maps)
        assert sum(e["bytes_sent"] for e in of(events, "step")) == sum(
            e["bytes"] for e in messages)
        if combiner:
            assert all(e["emitted"] < e["pairs"] for e in maps)
        else:
            assert all(e["emitted"] == e["pairs"] for e in maps)
        shuffled[combiner] = sum(sum(e["bytes"]) for e in maps)
    assert shuffled[True] < shuffled[False] / 2


def test_backup_tasks_copy_the_stragglers_task() -> None:
    events = _run(3, straggler="one", straggler_rank=0, straggler_factor=20.0,
                  options={"task_ms": 40, "backup_tasks": True, "map_tasks": 4,
                           "reduce_tasks": 2})
    [result] = of(events, "mr_result")
    assert result["correct"]
    assigned = [e for e in of(events, "mr_assign") if e["state"] == "assigned"]
    backups = [e for e in assigned if e["backup"]]
    # Worker 1, the straggler (20× slower: 800 ms a task), got the first map task; the
    # others ran the rest and, idle, a copy of its task.
    first = assigned[0]
    assert (first["worker"], first["kind"], first["backup"]) == (1, "map", False)
    copies = [e for e in backups if (e["kind"], e["task"]) == ("map", first["task"])]
    assert copies and all(e["worker"] != 1 for e in copies)


def test_a_killed_worker_s_tasks_and_map_output_are_done_again() -> None:
    run = Run(strategy="mapreduce", workers=3, steps=1, recovery="continue",
              options={**OPTS, "task_ms": 150, "map_tasks": 9, "reduce_tasks": 3})
    # Kill worker 2 once it holds a finished map task's output (its "local disk").
    deadline = time.monotonic() + 60
    while not any(e["type"] == "mr_assign" and e["state"] == "done" and e["kind"] == "map"
                  and e["worker"] == 2 for e in list(run.log)):
        assert time.monotonic() < deadline, "worker 2 never finished a map task"
        time.sleep(0.01)
    run.sup.inject("kill", 2)
    final = run.finish(timeout=120)
    assert final["status"] == "finished", final
    [result] = run.of("mr_result")
    assert result["correct"] and result["mismatched"] == 0
    lost = [e for e in run.of("mr_assign") if e["state"] == "lost"]
    # at least the finished map task's output was lost with it
    assert any(e["kind"] == "map" for e in lost) and all(e["worker"] == 2 for e in lost)
    done = {(e["kind"], e["task"]): e["worker"] for e in run.of("mr_assign")
            if e["state"] == "done"}
    assert all(done[(e["kind"], e["task"])] in (1, 3) for e in lost)  # done again


def _wait_for(run: Run, what: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(what(e) for e in list(run.log)):
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


def test_a_slow_fault_slows_the_worker_s_next_tasks_and_stop_ends_the_job() -> None:
    run = Run(strategy="mapreduce", workers=2, steps=50,
              options={**OPTS, "task_ms": 40, "map_tasks": 8, "reduce_tasks": 2})
    _wait_for(run, lambda e: e["type"] == "mr_task" and e["rank"] == 2)
    run.sup.inject("slow", 2, 3.0)
    # a task worker 2 started after the fault: its emulated work is 3 × 40 ms
    _wait_for(run, lambda e: e["type"] == "mr_task" and e["rank"] == 2
              and e["emulated_ms"] >= 119)
    run.sup.stop()  # in the middle of the run (50 jobs): it ends now, not after them
    final = run.finish(timeout=30)
    assert final["status"] == "stopped", final
    assert final["summary"]["steps_completed"] < 50
    slowed = [e for e in run.of("mr_task") if e["rank"] == 2 and e["emulated_ms"] >= 119]
    assert slowed and all(e["emulated_ms"] <= 121 for e in slowed)
