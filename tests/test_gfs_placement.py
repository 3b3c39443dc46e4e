"""GFS placement policies and membership changes (engine/strategies/gfs_placement.py,
gfs_membership.py; chapter 7's 表7).

- Pure: every policy gives each chunk r distinct servers; consistent hashing moves about
  1/(n+1) of the replicas when a server joins, all of them onto the new server, and when
  one leaves exactly the replicas it held — plain hash mod n moves most of them.
- Real runs (4 chunkservers + 1 spare, r = 2, 64 chunks): the spare joins, chunkserver 1
  is decommissioned; the chunks really move between the processes (each copy's crc32
  checked), the count is the pure placement's, the scrub finds every chunk with r
  verified replicas, the retired server holds nothing, and every epoch still reads every
  sample exactly once.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.config import RunConfig
from engine.runner import run_headless
from engine.strategies.gfs_placement import POLICIES, balance, moves, place

FOUR, FIVE, AFTER_LEAVE = [1, 2, 3, 4], [1, 2, 3, 4, 5], [2, 3, 4, 5]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("replicas", [1, 2, 3])
def test_every_chunk_gets_r_distinct_servers(policy: str, replicas: int) -> None:
    out = place(policy, 100, FIVE, replicas, vnodes=16, seed=3)
    assert len(out) == 100
    assert all(len(h) == replicas == len(set(h)) and set(h) <= set(FIVE) for h in out)
    assert out == place(policy, 100, FIVE, replicas, vnodes=16, seed=3)  # a pure function


def test_consistent_hashing_moves_about_one_nth_on_join_and_hash_moves_most() -> None:
    chunks, r = 2000, 2
    total = chunks * r
    ring_before = place("consistent", chunks, FOUR, r, vnodes=64)
    ring_after = place("consistent", chunks, FIVE, r, vnodes=64)
    ring_moved = moves(ring_before, ring_after)
    # the new server takes about 1/(n+1) of every replica position, nothing else moves
    assert 0.14 < len(ring_moved) / total < 0.26, len(ring_moved) / total
    assert {s for _, s in ring_moved} == {5}
    hash_moved = moves(place("hash", chunks, FOUR, r), place("hash", chunks, FIVE, r))
    assert len(hash_moved) / total > 0.5
    assert len(hash_moved) > 2.5 * len(ring_moved)
    # the check can fail: a "consistent" ring rebuilt with other points moves most too
    reshuffled = place("hash", chunks, FIVE, r)
    assert len(moves(ring_before, reshuffled)) > 2 * len(ring_moved)


def test_consistent_hashing_on_leave_moves_exactly_what_the_server_held() -> None:
    before = place("consistent", 500, FIVE, 2, vnodes=32)
    after = place("consistent", 500, AFTER_LEAVE, 2, vnodes=32)
    held = sum(1 in h for h in before)
    assert len(moves(before, after)) == held
    assert all(set(b) - {1} <= set(a) for b, a in zip(before, after, strict=True))


def test_balance_counts_replicas_per_server() -> None:
    even = balance(place("range", 64, FOUR, 2), FOUR)
    assert even["counts"] == [[1, 32], [2, 32], [3, 32], [4, 32]] and even["ratio"] == 1.0
    # more virtual nodes, a more even ring (Karger et al.: O(log n) points per server)
    one = balance(place("consistent", 4000, FIVE, 2, vnodes=1), FIVE)["ratio"]
    many = balance(place("consistent", 4000, FIVE, 2, vnodes=256), FIVE)["ratio"]
    assert many < one and many < 1.15


# ------------------------------------------------ real runs: chunks really move


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


@pytest.fixture(scope="module")
def runs() -> dict[str, list[dict[str, Any]]]:
    out = {}
    for policy in ("range", "hash", "consistent"):
        events = run_headless(RunConfig(
            strategy="gfs", workers=5, steps=4, num_samples=1024,
            options={"replicas": 2, "chunk_samples": 16, "read_ms": 0, "placement": policy,
                     "join_at": 2, "leave_at": 3}), timeout=180)
        assert events[-1]["status"] == "finished", events[-1]["error"]
        out[policy] = events
    return out


@pytest.mark.parametrize("policy", ["range", "hash", "consistent"])
def test_a_join_and_a_leave_move_real_chunks(runs: dict[str, list[dict[str, Any]]],
                                             policy: str) -> None:
    events = runs[policy]
    written = place(policy, 64, FOUR, 2, vnodes=32)
    joined = place(policy, 64, FIVE, 2, vnodes=32)
    left = place(policy, 64, AFTER_LEAVE, 2, vnodes=32)
    assert of(events, "gfs_map")[0]["chunks"] == written  # the spare held nothing
    members = of(events, "gfs_members")
    assert [(e["reason"], e["members"], e["step"]) for e in members] == [
        ("start", FOUR, 0), ("join", FIVE, 2), ("leave", AFTER_LEAVE, 3)]
    join, leave = of(events, "gfs_rebalance")
    for change, old, new in ((join, written, joined), (leave, joined, left)):
        want = moves(old, new)
        assert change["moved"] == change["planned"] == len(want) > 0
        copies = [e for e in of(events, "gfs_move") if e["step"] == change["step"]]
        assert sorted((e["chunk"], e["dst"]) for e in copies) == sorted(want)
        assert all(e["verified"] and e["bytes"] > 0 for e in copies)
        assert change["bytes"] == sum(e["bytes"] for e in copies)
        assert change["deleted"] == change["moved"]  # r copies again, no more
    # after both: the map is the policy's placement on the members left, and the scrub
    # re-read every replica from the chunkservers' disks: r good copies of every chunk
    final = [m for m in of(events, "gfs_map") if m["reason"] == "rebalanced"][-1]
    assert [sorted(h) for h in final["chunks"]] == [sorted(h) for h in left]
    assert not any(1 in h for h in final["chunks"])
    for scrub in of(events, "gfs_scrub"):
        assert scrub["full"] and scrub["bad"] == [] and scrub["verified"] == 128
    # every epoch, before and after the moves, read every sample once and equal
    epochs = of(events, "gfs_epoch")
    assert len(epochs) == 4 and all(e["exactly_once"] and e["equal"] for e in epochs)
    balances = of(events, "gfs_balance")
    assert [b["reason"] for b in balances] == ["written", "join", "leave"]
    assert balances[1]["counts"] == balance(joined, FIVE)["counts"]


def test_consistent_moves_fewer_than_hash_in_real_runs(
        runs: dict[str, list[dict[str, Any]]]) -> None:
    moved = {p: [e["moved"] for e in of(ev, "gfs_rebalance")] for p, ev in runs.items()}
    assert moved["consistent"][0] < moved["hash"][0]
    assert moved["consistent"][1] < moved["hash"][1]
    assert moved["consistent"][0] <= 0.3 * 128  # about 1/5 of 128 replicas


@pytest.mark.parametrize(("kw", "says"), [
    ({"workers": 2, "options": {"replicas": 2, "join_at": 1}}, "options.join_at"),
    ({"workers": 2, "options": {"replicas": 2, "leave_at": 1}}, "options.leave_at"),
    ({"workers": 3, "options": {"placement": "consistent", "vnodes": 0}}, "vnodes")])
def test_bad_membership_settings_are_refused(kw: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        RunConfig(strategy="gfs", **kw)
