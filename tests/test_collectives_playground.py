"""The MPI collectives playground (engine/mpi_collectives.py,
engine/strategies/collectives_playground.py) on real gloo processes.

- Every collective with every algorithm, on 2, 3 and 4 processes (and roots 0 and n−1),
  leaves in every rank's buffer what a one-process computation (written here, apart from
  the engine's) says it must.
- The bytes each rank sends and receives are the algorithm's known totals (ring all-reduce
  2(n−1)/n·N per rank, a binomial broadcast's root ⌈log2 n⌉·N, …).
- The rounds are honest: each rank sends at most one message and receives at most one per
  round (the single-port model of the α–β analyses), there are as many rounds as the α–β
  formula has α's, and the largest message of each round adds up to its β bytes.
- A reduce-scatter followed by an all-gather gives exactly the all-reduce's result.
- The strategy end to end (run_headless): its events, "loss" 0 (the check against the
  one-process result), the step's bytes; and the combinations it refuses, with why.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.testing import assert_close

from engine.comms import Comms
from engine.config import RunConfig
from engine.costmodel import collective_cost
from engine.mpi_collectives import ALGORITHMS, RUN, all_gather_blocks, reduce_scatter_blocks
from engine.runner import run_headless
from tests.dist_harness import run_in_group

COMBOS = [(c, a) for c, algos in ALGORITHMS.items() for a in algos]
ROOTED = {"broadcast", "scatter", "gather", "reduce"}
STEP = 3


def vectors(n: int, elements: int, step: int = STEP) -> torch.Tensor:
    """Rank r, element i, step s → 1000·(s−1) + 100·r + i (the playground's inputs)."""
    return torch.tensor([[1000.0 * (step - 1) + 100 * r + i for i in range(elements)]
                         for r in range(n)])


def block(v: torch.Tensor, j: int, n: int) -> torch.Tensor:
    b = v.numel() // n
    return v[j * b:(j + 1) * b]


def reference(collective: str, x: torch.Tensor, rank: int, root: int) -> torch.Tensor | None:
    """What rank ``rank`` must hold afterwards, in one process, by the definitions."""
    n = x.shape[0]
    if collective == "broadcast":
        return x[root]
    if collective == "scatter":
        return block(x[root], rank, n)
    if collective == "gather":
        return torch.cat([block(x[i], i, n) for i in range(n)]) if rank == root else None
    if collective == "reduce":
        return x.sum(0) if rank == root else None
    if collective == "all_gather":
        return torch.cat([block(x[i], i, n) for i in range(n)])
    if collective == "reduce_scatter":
        return block(x.sum(0), rank, n)
    if collective == "all_reduce":
        return x.sum(0)
    if collective == "all_to_all":
        return torch.cat([block(x[i], rank, n) for i in range(n)])
    return x[rank]  # barrier


def start(collective: str, x: torch.Tensor, rank: int) -> torch.Tensor:
    """gather and all-gather start from the rank's own block, the others from its vector."""
    return block(x[rank], rank, x.shape[0]) if collective in ("gather", "all_gather") \
        else x[rank]


def _run_everything(comms: Comms, elements: int, roots: list[int]) -> dict[str, Any]:
    """On one rank: every collective and algorithm (rooted ones from every root given),
    with the bytes and messages of each; then reduce-scatter → all-gather."""
    rank, n = comms.topo.rank, comms.topo.world_size
    x = vectors(n, elements)
    messages: list[dict[str, Any]] = []
    comms._emit_comm = lambda **m: messages.append(m)
    out: dict[str, Any] = {}
    for collective, algorithm in COMBOS:
        for root in roots if collective in ROOTED else [0]:
            messages.clear()
            comms.take_stats()
            comms.algo = algorithm
            after = RUN[(collective, algorithm)](comms, start(collective, x, rank).clone(),
                                                 root)
            stats = comms.take_stats()
            out[f"{collective}/{algorithm}/{root}"] = {
                "after": after, "sent": stats.bytes_sent, "recv": stats.bytes_recv,
                "messages": [dict(m) for m in messages]}
    mine = reduce_scatter_blocks(comms, x[rank].clone(), 0)
    out["rs_then_ag"] = all_gather_blocks(comms, mine, 0)
    return out


def expected_bytes(collective: str, algorithm: str, n: int, num_bytes: int, rank: int,
                   root: int) -> tuple[int, int] | None:
    """(sent, received) by ``rank`` where the algorithm fixes it for every rank."""
    b = num_bytes // n  # a block
    depth = (n - 1).bit_length()
    is_root = rank == root
    per_rank = {
        ("scatter", "linear"): ((n - 1) * b, 0) if is_root else (0, b),
        ("gather", "linear"): (0, (n - 1) * b) if is_root else (b, 0),
        ("broadcast", "linear"): ((n - 1) * num_bytes, 0) if is_root else (0, num_bytes),
        ("reduce", "linear"): (0, (n - 1) * num_bytes) if is_root else (num_bytes, 0),
        ("all_gather", "ring"): ((n - 1) * b, (n - 1) * b),
        ("reduce_scatter", "ring"): ((n - 1) * b, (n - 1) * b),
        ("all_reduce", "ring"): (2 * (n - 1) * b, 2 * (n - 1) * b),
        ("all_reduce", "rs_ag"): (2 * (n - 1) * b, 2 * (n - 1) * b),
        ("all_to_all", "pairwise"): ((n - 1) * b, (n - 1) * b),
        ("barrier", "dissemination"): (depth, depth),  # one-byte tokens
        # the naive all-reduce funnels through rank 0
        ("all_reduce", "naive"): ((n - 1) * num_bytes,) * 2 if rank == 0
        else (num_bytes, num_bytes),
    }
    if (collective, algorithm) in per_rank:
        return per_rank[(collective, algorithm)]
    # trees: the root sends (broadcast) or receives (reduce) ⌈log2 n⌉ whole vectors, and
    # every other rank receives (broadcast) or sends (reduce) exactly one
    if (collective, algorithm) == ("broadcast", "binomial"):
        return (depth * num_bytes, 0) if is_root else None
    if (collective, algorithm) == ("reduce", "binomial"):
        return (0, depth * num_bytes) if is_root else (num_bytes, None)  # type: ignore[return-value]
    return None  # the tree all-reduce: checked by its totals below


@pytest.mark.parametrize("n", [2, 3, 4])
def test_every_collective_gives_the_one_process_result_with_the_known_bytes(n: int) -> None:
    elements = 2 * n
    roots = sorted({0, n - 1})
    results = run_in_group(_run_everything, n, elements, roots, timeout=120)
    x = vectors(n, elements)
    num_bytes = elements * 4
    for collective, algorithm in COMBOS:
        for root in roots if collective in ROOTED else [0]:
            key = f"{collective}/{algorithm}/{root}"
            runs = [torch.as_tensor(r[key]["after"]) for r in results]
            for rank, after in enumerate(runs):
                want = reference(collective, x, rank, root)
                if want is not None:
                    assert_close(after, want, msg=f"{key} rank {rank}")
            sent = [r[key]["sent"] for r in results]
            recv = [r[key]["recv"] for r in results]
            assert sum(sent) == sum(recv), key  # every byte sent arrives
            for rank in range(n):
                known = expected_bytes(collective, algorithm, n, num_bytes, rank, root)
                if known is not None:
                    got = (sent[rank], recv[rank])
                    assert all(k is None or g == k for g, k in zip(got, known, strict=True)), \
                        (key, rank, got, known)
                # each message is reported once, by its sender, and adds up to its bytes
                msgs = results[rank][key]["messages"]
                assert all(m["src"] == rank for m in msgs)
                assert sum(m["bytes"] for m in msgs) == sent[rank]
            if collective in ("broadcast", "reduce") or algorithm == "tree":
                # trees and the linear ones: n−1 whole vectors each way
                hops = 2 * (n - 1) if collective == "all_reduce" else n - 1
                assert sum(sent) == hops * num_bytes, key
            _check_rounds(key, collective, algorithm, n, num_bytes,
                          [m for r in results for m in r[key]["messages"]])
    for r in results:  # reduce-scatter then all-gather is the all-reduce
        assert_close(torch.as_tensor(r["rs_then_ag"]), x.sum(0))
        assert_close(torch.as_tensor(r["rs_then_ag"]),
                     torch.as_tensor(r["all_reduce/ring/0"]["after"]), rtol=0, atol=0)


def _check_rounds(key: str, collective: str, algorithm: str, n: int, num_bytes: int,
                  messages: list[dict[str, Any]]) -> None:
    cost = collective_cost(collective, algorithm, n, num_bytes)
    rounds: dict[int, list[dict[str, Any]]] = {}
    for m in messages:
        assert isinstance(m["round"], int) and m["round"] >= 0, (key, m)
        rounds.setdefault(m["round"], []).append(m)
    assert sorted(rounds) == list(range(len(rounds))), key  # no round left out
    assert len(rounds) == cost["alpha_terms"], (key, len(rounds), cost)
    for msgs in rounds.values():  # single port: one message out, one in, per rank
        assert len({m["src"] for m in msgs}) == len(msgs), key
        assert len({m["dst"] for m in msgs}) == len(msgs), key
    if collective != "barrier":  # the critical path: the largest message of each round
        assert sum(max(m["bytes"] for m in msgs) for msgs in rounds.values()) == \
            pytest.approx(cost["beta_bytes"]), key


def _odd_lengths(comms: Comms) -> dict[str, Any]:
    """The collectives that do not cut the vector into blocks, on 5 elements."""
    x = vectors(comms.topo.world_size, 5)
    out = {}
    for key in [("broadcast", "binomial"), ("broadcast", "linear"), ("reduce", "binomial"),
                ("reduce", "linear"), ("all_reduce", "tree"), ("all_reduce", "naive")]:
        out["/".join(key)] = RUN[key](comms, x[comms.topo.rank].clone(), 1)
    return out


def test_whole_vector_collectives_take_any_length() -> None:
    results = run_in_group(_odd_lengths, 3)
    x = vectors(3, 5)
    for rank, r in enumerate(results):
        assert_close(torch.as_tensor(r["broadcast/binomial"]), x[1])
        assert_close(torch.as_tensor(r["broadcast/linear"]), x[1])
        assert_close(torch.as_tensor(r["all_reduce/tree"]), x.sum(0))
        assert_close(torch.as_tensor(r["all_reduce/naive"]), x.sum(0))
        if rank == 1:
            assert_close(torch.as_tensor(r["reduce/binomial"]), x.sum(0))
            assert_close(torch.as_tensor(r["reduce/linear"]), x.sum(0))


# ---------------------------------------------------------------- the strategy, end to end

def _run(n: int, steps: int = 2, **options: Any) -> list[dict[str, Any]]:
    events = run_headless(RunConfig(strategy="collectives", workers=n, steps=steps,
                                    detail=True, options=options), timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    return events


@pytest.mark.parametrize(("n", "options"), [
    (4, {"collective": "all_reduce", "algorithm": "rs_ag"}),
    (3, {"collective": "all_to_all"}),
    (3, {"collective": "scatter", "root": 2, "elements": 6}),
    (2, {"collective": "barrier"}),
])
def test_the_strategy_shows_every_buffer_and_checks_itself(n: int, options: dict[str, Any]
                                                          ) -> None:
    events = _run(n, **options)
    info = [e for e in events if e["type"] == "collective"]
    assert len(info) == 1
    collective, algorithm = info[0]["collective"], info[0]["algorithm"]
    elements, root = info[0]["elements"], info[0]["root"] or 0
    assert collective == options["collective"] and elements == options.get("elements", 2 * n)
    num_bytes = elements * 4
    assert info[0]["bytes"] == num_bytes
    assert info[0] | collective_cost(collective, algorithm, n, num_bytes) == info[0]
    buffers = [e for e in events if e["type"] == "buffers"]
    assert len(buffers) == 2 * n
    for e in buffers:
        x = vectors(n, elements, e["step"])
        assert e["before"] == start(collective, x, e["rank"]).tolist()
        assert e["after"] == reference(collective, x, e["rank"], root).tolist()
        assert e["error"] == 0 and e["defined"]
        if algorithm == "rs_ag":  # the middle: the rank's block of the sum
            assert e["middle"] == block(x.sum(0), e["rank"], n).tolist()
    after = {(e["rank"], e["step"]): e["after"] for e in buffers}
    for s in (e for e in events if e["type"] == "step"):
        assert s["loss"] == 0 and s["max_error"] == 0
        # what a rank holds is its result: Σ on the page is the sum of its after-buffer
        assert s["param_checksum"] == pytest.approx(sum(after[(s["rank"], s["step"])]))
        known = expected_bytes(collective, algorithm, n, num_bytes, s["rank"], root)
        assert (s["bytes_sent"], s["bytes_recv"]) == known
        comms = [c for c in events if c["type"] == "comm" and c["rank"] == s["rank"]
                 and c["step"] == s["step"]]
        assert sum(c["bytes"] for c in comms) == s["bytes_sent"]
        assert all(c["algo"] == algorithm and isinstance(c["round"], int) for c in comms)


def test_on_a_network_model_the_ring_takes_its_alpha_beta_time() -> None:
    """With a modelled network every message is charged α + bytes/β on the modelled
    clock: a ring all-reduce's 2(n−1) rounds of N/n bytes add up to the formula."""
    from engine.costmodel import collective_ms
    from engine.network import PRESETS
    events = run_headless(RunConfig(strategy="collectives", workers=4, steps=1,
                                    network="1gbe", options={"collective": "all_reduce",
                                                             "algorithm": "ring"}),
                          timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    link = PRESETS["1gbe"]
    want = collective_ms("all_reduce", "ring", 4, 32, link.latency_us, link.bandwidth_gbps)
    for s in (e for e in events if e["type"] == "step"):
        assert s["comm_modelled_ms"] == pytest.approx(want, rel=1e-6)


def test_a_reduce_leaves_the_other_ranks_undefined_but_says_so() -> None:
    events = _run(3, steps=1, collective="reduce", algorithm="binomial", root=1)
    by_rank = {e["rank"]: e for e in events if e["type"] == "buffers"}
    assert by_rank[1]["defined"] and by_rank[1]["after"] == vectors(3, 6, step=1).sum(0).tolist()
    assert not by_rank[0]["defined"] and not by_rank[2]["defined"]


@pytest.mark.parametrize(("options", "workers", "why"), [
    ({"collective": "all_to_all", "algorithm": "ring"}, 4, "all_to_all runs with pairwise"),
    ({"collective": "broadcast", "algorithm": "rs_ag"}, 4, "binomial or linear"),
    ({"collective": "scatter", "elements": 5}, 2, "multiple of the workers"),
    ({"collective": "all_reduce", "algorithm": "ring", "elements": 6}, 4, "multiple"),
    ({"collective": "gather", "root": 3}, 3, "rank 3 does not exist"),
    ({"collective": "barrier"}, 9, "workers"),
    ({"collective": "all_reduce", "elements": 17}, 2, "options.elements"),
    ({"collective": "allreduce"}, 2, "options.collective must be one of"),
])
def test_combinations_that_do_not_fit_are_refused_with_the_reason(
        options: dict[str, Any], workers: int, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        RunConfig(strategy="collectives", workers=workers, options=options)


def test_whole_vector_collectives_accept_any_length() -> None:
    for collective, algorithm in [("broadcast", "binomial"), ("reduce", "linear"),
                                  ("all_reduce", "tree"), ("all_reduce", "naive")]:
        RunConfig(strategy="collectives", workers=3,
                  options={"collective": collective, "algorithm": algorithm, "elements": 5})


def test_the_all_reduce_costs_are_the_cost_models() -> None:
    from engine.costmodel import ALGORITHMS as ALL_REDUCES
    from engine.costmodel import all_reduce_ms, collective_ms
    for algorithm in ALL_REDUCES:
        for n in (2, 3, 4, 8):
            assert collective_ms("all_reduce", algorithm, n, 4872, 50.0, 1.0) == \
                pytest.approx(all_reduce_ms(algorithm, n, 4872, 50.0, 1.0))
    assert collective_ms("all_reduce", "rs_ag", 4, 4872, 50.0, 1.0) == \
        pytest.approx(all_reduce_ms("ring", 4, 4872, 50.0, 1.0))


def test_the_api_refuses_what_does_not_fit_with_the_reason(client: Any) -> None:
    body = {"strategy": "collectives", "workers": 3, "steps": 1,
            "options": {"collective": "reduce_scatter", "elements": 4}}
    res = client.post("/api/runs", json=body)
    assert res.status_code == 422
    assert "multiple of the workers (3)" in res.text
    spec = next(s for s in client.get("/api/strategies").json() if s["name"] == "collectives")
    assert spec["trains"] is False and "buffers" in spec["events"]
    assert {o["name"] for o in spec["options"]} == {"collective", "algorithm", "elements", "root"}
