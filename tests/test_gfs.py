"""GFS (engine/strategies/gfs.py) on real processes: a master and chunkservers.

- Every epoch reads the whole data set back, every sample exactly once and equal to the
  data set (torch.equal, by the master; checked here again from the read events).
- The initial write goes along each chunk's chain: r stored copies, as real messages.
- r = 3 and a chunkserver killed mid-epoch (recovery "continue"): reads fail over, every
  sample is still read exactly once, and re-replication brings every chunk back to 3.
- With the chunkservers reading (option ``reader``), each reads its share, from its own
  disk where it holds a replica (data locality), else from another server.
- A corrupt fault flips a byte in a chunk file on disk: the checksum catches it, the bad
  replica is never served, the reader gets the true data from another replica, and a
  good copy replaces the bad one.
- Bad settings are refused with a message.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import torch

from engine.config import RunConfig
from engine.data import make_dataset
from engine.runner import run_headless
from engine.strategies.gfs_chunks import (
    bad_blocks,
    block_sums,
    chunks_of,
    decode,
    encode,
    placement,
)
from tests.test_faults import Run

OPTS: dict[str, Any] = {"read_ms": 0}


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def _run(workers: int, steps: int = 2, **kw: Any) -> list[dict[str, Any]]:
    options = {**OPTS, **kw.pop("options", {})}
    events = run_headless(RunConfig(strategy="gfs", workers=workers, steps=steps,
                                    options=options, **kw), timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    return events


def _read_once_per_epoch(events: list[dict[str, Any]], samples: int) -> None:
    """From the events: each epoch's successful reads cover every sample exactly once."""
    for epoch in of(events, "gfs_epoch"):
        assert epoch["exactly_once"] and epoch["equal"], epoch
        assert epoch["samples"] == epoch["expected"] == samples
        seen = torch.zeros(samples, dtype=torch.int64)
        for e in of(events, "gfs_read"):
            if e["step"] == epoch["step"] and e["status"] == "ok":
                seen[e["first"]:e["first"] + e["samples"]] += 1
        assert bool((seen == 1).all()), f"epoch {epoch['step']}: not every sample once"


def test_chunks_round_trip_and_checksums_catch_a_flipped_byte() -> None:
    data = make_dataset("spirals", 100, seed=1)
    chunks = chunks_of(100, 32)
    assert [(c.first, c.count) for c in chunks] == [(0, 32), (32, 32), (64, 32), (96, 4)]
    for c in chunks:
        raw = encode(data.x, data.y, c)
        x, y = decode(raw, data.x, data.y, c.count)
        assert torch.equal(x, data.x[c.first:c.first + c.count])
        assert torch.equal(y, data.y[c.first:c.first + c.count])
    raw = bytearray(encode(data.x, data.y, chunks[0]))
    sums = block_sums(bytes(raw))
    assert len(sums) == 2 and bad_blocks(bytes(raw), sums) == []
    raw[300] ^= 0xFF
    assert bad_blocks(bytes(raw), sums) == [1]
    # placement: r distinct servers per chunk, the round robin evenly
    rr = placement(8, [1, 2, 3, 4], 3, "round_robin", 0)
    assert rr[0] == [1, 2, 3] and all(len(set(p)) == 3 for p in rr)
    assert sorted(s for p in rr for s in p) == sorted([1, 2, 3, 4] * 6)
    rnd = placement(8, [1, 2, 3, 4], 3, "random", 5)
    assert rnd == placement(8, [1, 2, 3, 4], 3, "random", 5)
    assert all(len(set(p)) == 3 for p in rnd)


@pytest.mark.parametrize(("workers", "replicas", "how", "chunk", "reader"), [
    (1, 1, "round_robin", 64, "master"), (3, 2, "random", 100, "master"),
    (4, 3, "round_robin", 64, "master"), (4, 2, "random", 32, "chunkservers"),
    (3, 3, "round_robin", 64, "chunkservers")])
def test_every_epoch_reads_the_data_set_back(workers: int, replicas: int, how: str,
                                             chunk: int, reader: str) -> None:
    events = _run(workers, steps=2, num_samples=300,
                  options={"replicas": replicas, "placement": how, "chunk_samples": chunk,
                           "reader": reader})
    [setup] = of(events, "gfs_setup")
    assert setup["chunks"] == -(-300 // chunk) and setup["replicas"] == replicas
    writes = of(events, "gfs_write")
    assert len(writes) == setup["chunks"]
    assert all(len(set(w["chain"])) == replicas for w in writes)
    # the chain: the primary got the bytes from the client, each next server from the
    # one before it (real messages, counted), the master counted what it pushed
    first_map = of(events, "gfs_map")[0]
    assert first_map["reason"] == "written"
    assert first_map["chunks"] == [w["chain"] for w in writes]
    assert [e["step"] for e in of(events, "gfs_epoch")] == [1, 2]
    _read_once_per_epoch(events, 300)
    steps = of(events, "step")
    assert {(e["rank"], e["step"]) for e in steps} == {
        (s, n) for s in range(1, workers + 1) for n in (1, 2)}
    assert all(e["loss"] is None for e in steps)  # nothing is trained
    assert sum(e["samples"] for e in steps) == 2 * 300  # served by the chunkservers
    reads = [e for e in of(events, "gfs_read") if e["status"] == "ok"]
    if reader == "master":
        assert all(e["reader"] == 0 and not e["local"] for e in reads)
        return
    # chunk c is read by the c-th server, from its own disk when it holds a replica
    for e in reads:
        assert e["reader"] == 1 + e["chunk"] % workers
        holders = of(events, "gfs_write")[e["chunk"]]["chain"]
        assert e["local"] == (e["reader"] in holders)
        assert e["server"] == (e["reader"] if e["local"] else holders[0])
    for epoch in of(events, "gfs_epoch"):
        assert epoch["local"] + epoch["remote"] == epoch["ok"] == setup["chunks"]
        assert epoch["local"] > 0
        if replicas == workers:
            assert epoch["remote"] == 0  # every server holds every chunk
        else:
            assert epoch["remote"] > 0


def test_the_write_pushes_along_the_chain() -> None:
    events = _run(3, steps=1, num_samples=128, detail=True,
                  options={"replicas": 3, "chunk_samples": 64})
    comms = [e for e in of(events, "comm") if e["op"] in ("write", "forward")]
    per_chunk = of(events, "gfs_write")[0]["bytes"]
    # each chunk: client → primary, primary → second, second → third
    for w in of(events, "gfs_write"):
        chain = w["chain"]
        hops = {(0, chain[0]), (chain[0], chain[1]), (chain[1], chain[2])}
        assert hops <= {(e["src"], e["dst"]) for e in comms}
    assert all(e["bytes"] >= per_chunk for e in comms)


def test_a_killed_chunkserver_is_failed_over_and_re_replicated() -> None:
    run = Run(strategy="gfs", workers=4, steps=3, recovery="continue", num_samples=256,
              options={"replicas": 3, "chunk_samples": 32, "read_ms": 200})
    deadline = time.monotonic() + 60
    # Kill chunkserver 2 during epoch 2, while it reads chunk 1 (it is its primary: the
    # master reads chunk 0 from server 1, then asks server 2 for chunk 1 and waits 200 ms)
    while not any(e["type"] == "gfs_read" and e["step"] == 2 and e["chunk"] == 0
                  for e in list(run.log)):
        assert time.monotonic() < deadline, "epoch 2 never started reading"
        time.sleep(0.005)
    run.sup.inject("kill", 2)
    final = run.finish(timeout=120)
    assert final["status"] == "finished", final
    assert [e["step"] for e in run.of("gfs_epoch")] == [1, 2, 3]
    _read_once_per_epoch(run.log, 256)
    # the read in flight failed over to the next replica of chunk 1
    [lost] = [e for e in run.of("gfs_read") if e["status"] != "ok"]
    assert (lost["step"], lost["chunk"], lost["server"], lost["status"]) == (
        2, 1, 2, "unreachable")
    [again] = [e for e in run.of("gfs_read") if e["step"] == 2 and e["chunk"] == 1
               and e["status"] == "ok"]
    assert again["failed_over"] and again["server"] == 3
    maps = run.of("gfs_map")
    dead = [m for m in maps if m["reason"] == "server_dead"]
    assert dead and dead[0]["server"] == 2 and dead[0]["under"]
    copies = run.of("gfs_rereplicate")
    assert {e["chunk"] for e in copies} == set(dead[0]["under"])
    assert all(e["dst"] != 2 and e["src"] != 2 for e in copies)
    last = maps[-1]
    assert last["under"] == [] and last["dead"] == [2]
    assert all(len(set(h)) == 3 and 2 not in h for h in last["chunks"])
    assert sorted(map(tuple, last["copies"])) == sorted((e["chunk"], e["dst"]) for e in copies)


def test_a_reader_killed_mid_read_leaves_its_chunk_to_another() -> None:
    run = Run(strategy="gfs", workers=4, steps=3, recovery="continue", num_samples=256,
              options={"replicas": 3, "chunk_samples": 32, "read_ms": 200,
                       "reader": "chunkservers"})
    deadline = time.monotonic() + 60
    # chunk 1 is chunkserver 2's share, read from its own disk: kill it meanwhile
    while not any(e["type"] == "gfs_read" and e["step"] == 2 and e["chunk"] == 0
                  for e in list(run.log)):
        assert time.monotonic() < deadline, "epoch 2 never started reading"
        time.sleep(0.005)
    run.sup.inject("kill", 2)
    final = run.finish(timeout=120)
    assert final["status"] == "finished", final
    _read_once_per_epoch(run.log, 256)
    [again] = [e for e in run.of("gfs_read") if e["step"] == 2 and e["chunk"] == 1]
    assert again["status"] == "ok" and again["reader"] != 2 and again["local"]
    last = run.of("gfs_map")[-1]
    assert last["under"] == [] and last["dead"] == [2]
    assert all(len(h) == 3 for h in last["chunks"])


@pytest.mark.parametrize("reader", ["master", "chunkservers"])
def test_a_corrupted_chunk_is_caught_never_served_and_replaced(reader: str) -> None:
    # (with the chunkservers reading, chunk 0 is server 1's share: it reads its own disk)
    run = Run(strategy="gfs", workers=3, steps=4, pace=4.0, num_samples=256,
              options={"replicas": 3, "chunk_samples": 32, "read_ms": 0, "reader": reader})
    deadline = time.monotonic() + 60
    while not run.of("gfs_epoch"):
        assert time.monotonic() < deadline, "no epoch finished"
        time.sleep(0.01)
    run.sup.inject("corrupt", 1)
    final = run.finish(timeout=120)
    assert final["status"] == "finished", final
    [hit] = run.of("gfs_corrupted")
    chunk = hit["chunk"]
    assert hit["server"] == 1 and chunk == 0  # server 1 is chunk 0's primary
    _read_once_per_epoch(run.log, 256)  # the true data, every epoch
    reads = [e for e in run.log if e["type"] in ("gfs_read", "gfs_corrupted")
             and e.get("chunk") == chunk]
    after = reads[reads.index(hit) + 1:]
    bad = [e for e in after if e["status"] == "corrupt"]
    assert bad and bad[0]["server"] == 1
    # never served: no good read of it from server 1 before it was caught
    assert all(e["server"] != 1 for e in after[:after.index(bad[0])] if e["status"] == "ok")
    # the same read failed over to a good replica
    ok = after[after.index(bad[0]) + 1]
    assert ok["status"] == "ok" and ok["server"] != 1 and ok["failed_over"]
    [copy] = [e for e in run.of("gfs_rereplicate") if e["chunk"] == chunk]
    assert copy["src"] != 1 and copy["copies"] == 3
    assert run.of("gfs_map")[-1]["under"] == []


@pytest.mark.parametrize(("kw", "says"), [
    ({"workers": 2, "options": {"replicas": 3}}, "replicas: 3 copies"),
    ({"workers": 3, "options": {"replicas": 0}}, "replicas"),
    ({"workers": 3, "num_samples": 256, "options": {"chunk_samples": 300}}, "chunk_samples"),
    ({"workers": 3, "options": {"placement": "racks"}}, "placement"),
    ({"workers": 3, "model": "cnn"}, "model")])
def test_bad_settings_are_refused(kw: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        RunConfig(strategy="gfs", **kw)


def test_a_corrupt_fault_on_the_master_is_refused() -> None:
    from engine.faultplan import check_fault
    config = RunConfig(strategy="gfs", workers=3)
    with pytest.raises(ValueError, match="master"):
        check_fault(config, config.spec, {"action": "corrupt", "rank": 0})
    check_fault(config, config.spec, {"action": "corrupt", "rank": 1})
