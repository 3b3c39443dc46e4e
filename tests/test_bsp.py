"""BSP (engine/strategies/bsp.py, engine/bsp_graph.py) on real gloo processes.

- The graphs are the same in every process (seeded), without loops or duplicate edges.
- PageRank on 1–4 workers, both partitions, both graphs, with and without the combiner:
  the ranks after the last superstep equal a one-process power iteration written here
  (not the engine's), every superstep's L1 change too; the ranks sum to 1.
- Connected components: the labels equal a union-find labelling.
- The vertex messages each worker reports equal a one-process count of the edges that
  cross from its vertices to another worker's (with the combiner: of the distinct
  destination vertices), and every message went out as a real ``comm`` event; for
  connected components only from the vertices whose label changed (vote to halt).
- A 10× straggler makes every other worker wait at every superstep's barrier.
- Bad options are refused with a clear error.
"""

from __future__ import annotations

import statistics
from typing import Any

import pytest
import torch
from torch.testing import assert_close

from engine import bsp_graph
from engine.config import RunConfig
from engine.runner import run_headless


def _run(workers: int, steps: int, **options: Any) -> list[dict[str, Any]]:
    extra = {k: options.pop(k) for k in ("straggler", "straggler_rank", "straggler_factor",
                                         "emulated_compute_ms", "detail") if k in options}
    events = run_headless(RunConfig(strategy="bsp", workers=workers, steps=steps,
                                    options=options, **extra), timeout=180)
    assert events[-1]["status"] == "finished", events[-1].get("error")
    return events


def _values(events: list[dict[str, Any]], n: int) -> torch.Tensor:
    """The whole vector from the workers' ``bsp_values`` events (each vertex once)."""
    out = torch.full((n,), float("nan"), dtype=torch.float64)
    seen = 0
    for e in events:
        if e["type"] == "bsp_values":
            out[torch.tensor(e["vertices"], dtype=torch.int64)] = torch.tensor(
                e["values"], dtype=torch.float64)
            seen += len(e["vertices"])
    assert seen == n
    # each worker checked itself against the same supersteps in one process
    assert all(e["error"] < 1e-12 for e in events if e["type"] == "bsp_values")
    return out


def _power_iteration(edges: list[tuple[int, int]], n: int, d: float, steps: int
                     ) -> tuple[list[float], list[float]]:
    """PageRank by the book, in plain Python: dangling rank spread over all vertices."""
    out: dict[int, list[int]] = {}
    for u, v in edges:
        out.setdefault(u, []).append(v)
    r = [1.0 / n] * n
    changes = []
    for _ in range(steps):
        spill = sum(r[u] for u in range(n) if u not in out)
        new = [(1 - d) / n + d * spill / n] * n
        for u, targets in out.items():
            for v in targets:
                new[v] += d * r[u] / len(targets)
        changes.append(sum(abs(a - b) for a, b in zip(new, r, strict=True)))
        r = new
    return r, changes


def _edges(graph: str, n: int, seed: int = 0, degree: float = 4.0) -> list[tuple[int, int]]:
    src, dst = bsp_graph.make_graph(graph, n, seed, degree)
    return list(zip(src.tolist(), dst.tolist(), strict=True))


@pytest.mark.parametrize("graph", bsp_graph.GRAPHS)
def test_the_graph_is_the_same_everywhere_and_simple(graph: str) -> None:
    edges = _edges(graph, 300)
    assert edges == _edges(graph, 300)
    assert edges != _edges(graph, 300, seed=1)
    assert len(set(edges)) == len(edges) and all(u != v for u, v in edges)
    if graph == "power_law":  # each new vertex links to 2 older ones
        assert len(edges) == 2 * (300 - 2) and all(u > v for u, v in edges)
    else:
        assert len(edges) == 4 * 300


@pytest.mark.parametrize(("workers", "partition", "graph", "combiner"), [
    (w, p, g, (w + len(p) + len(g)) % 2 == 0)
    for w in (1, 2, 3, 4) for p in bsp_graph.PARTITIONS for g in bsp_graph.GRAPHS])
def test_pagerank_equals_one_process(workers: int, partition: str, graph: str,
                                     combiner: bool) -> None:
    n, steps = 150, 8
    events = _run(workers, steps, vertices=n, graph=graph, partition=partition,
                  combiner=combiner)
    want, changes = _power_iteration(_edges(graph, n), n, 0.85, steps)
    got = _values(events, n)
    assert_close(got, torch.tensor(want, dtype=torch.float64))
    assert abs(float(got.sum()) - 1.0) < 1e-9
    for step in range(1, steps + 1):  # every worker reports the global change
        losses = {e["loss"] for e in events if e["type"] == "step" and e["step"] == step}
        assert len(losses) == 1
        assert losses.pop() == pytest.approx(changes[step - 1], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(("workers", "partition", "graph", "degree"), [
    (1, "hash", "random", 0.7), (2, "range", "random", 0.9), (3, "hash", "power_law", 4.0),
    (4, "range", "random", 0.8)])
def test_connected_components_equal_union_find(workers: int, partition: str, graph: str,
                                               degree: float) -> None:
    n, steps = 120, 40  # more supersteps than the longest path of these graphs
    events = _run(workers, steps, algorithm="connected_components", vertices=n, graph=graph,
                  partition=partition, degree=degree, combiner=workers % 2 == 0)
    src, dst = bsp_graph.make_graph(graph, n, 0, degree)
    labels = _values(events, n).to(torch.int64)
    assert torch.equal(labels, bsp_graph.components(src, dst, n))
    if graph == "random":  # sparse: many components, so the check is not trivial
        assert len(set(labels.tolist())) > 5
    last = [e["loss"] for e in events if e["type"] == "step" and e["step"] == steps]
    assert last == [0.0] * workers  # no label changes any more


def _owner(v: int, n: int, workers: int, partition: str) -> int:
    return v % workers if partition == "hash" else v // -(-n // workers)


@pytest.mark.parametrize("combiner", [False, True])
@pytest.mark.parametrize("partition", bsp_graph.PARTITIONS)
def test_messages_are_the_cross_partition_edges(combiner: bool, partition: str) -> None:
    n, workers, steps = 200, 3, 3
    events = _run(workers, steps, vertices=n, partition=partition, combiner=combiner,
                  graph="random", detail=True)
    edges = _edges("random", n)
    raw = [[0] * workers for _ in range(workers)]
    targets: list[list[set[int]]] = [[set() for _ in range(workers)] for _ in range(workers)]
    for u, v in edges:
        i, j = _owner(u, n, workers, partition), _owner(v, n, workers, partition)
        raw[i][j] += 1
        targets[i][j].add(v)
    sent = [[len(s) for s in row] for row in targets] if combiner else raw
    steps_seen = 0
    for e in (e for e in events if e["type"] == "step"):
        i = e["rank"]
        want = [0 if j == i else sent[i][j] for j in range(workers)]
        assert e["messages_to"] == want
        assert e["messages"] == sum(want)
        assert e["messages_raw"] == sum(raw[i]) - raw[i][i]
        assert e["messages_local"] == sent[i][i]
        # one real message to every other worker: [superstep, count, ids…, values…]
        comms = [c for c in events if c["type"] == "comm" and c["op"] == "bsp_messages"
                 and c["src"] == i and c["step"] == e["step"]]
        assert sorted((c["dst"], c["bytes"]) for c in comms) == [
            (j, 8 * (2 + 2 * want[j])) for j in range(workers) if j != i]
        steps_seen += 1
    assert steps_seen == workers * steps
    if combiner:
        assert sum(map(sum, sent)) < sum(map(sum, raw))
    graph = next(e for e in events if e["type"] == "bsp_graph")
    assert graph["messages"] == sent and graph["messages_raw"] == raw


def _waits(events: list[dict[str, Any]]) -> dict[int, list[float]]:
    waits: dict[int, list[float]] = {}
    for e in events:
        if e["type"] == "step":
            waits.setdefault(e["rank"], []).append(e["barrier_ms"])
    return waits


@pytest.mark.parametrize("combiner", [False, True])
def test_components_send_only_from_changed_vertices(combiner: bool) -> None:
    """Pregel's vote to halt: a vertex sends only in the first superstep and after its
    label changed, so the messages die out as the labels settle."""
    n, workers, steps, degree = 150, 3, 25, 0.9
    events = _run(workers, steps, algorithm="connected_components", vertices=n,
                  graph="random", degree=degree, combiner=combiner, detail=True)
    src, dst = bsp_graph.undirected(*bsp_graph.make_graph("random", n, 0, degree))
    edges = list(zip(src.tolist(), dst.tolist(), strict=True))
    label, active = list(range(n)), set(range(n))
    totals = []
    for step in range(1, steps + 1):
        raw = [[0] * workers for _ in range(workers)]
        targets: list[list[set[int]]] = [[set() for _ in range(workers)]
                                         for _ in range(workers)]
        new = label[:]
        for u, v in edges:
            if u in active:
                raw[u % workers][v % workers] += 1
                targets[u % workers][v % workers].add(v)
                new[v] = min(new[v], label[u])
        sent = [[len(t) for t in row] for row in targets] if combiner else raw
        for e in (e for e in events if e["type"] == "step" and e["step"] == step):
            i = e["rank"]
            assert e["messages_to"] == [0 if j == i else sent[i][j] for j in range(workers)]
            assert e["messages_raw"] == sum(raw[i]) - raw[i][i]
            assert e["messages_local"] == sent[i][i]
        totals.append(sum(map(sum, sent)))
        active = {v for v in range(n) if new[v] != label[v]}
        label = new
    assert totals[0] > 0 and totals[-1] == 0  # all settled: nobody sends
    # every superstep still has one header to every other worker: the barrier
    heads = [c for c in events if c["type"] == "comm" and c["op"] == "bsp_header"]
    assert len(heads) == steps * workers * (workers - 1)
    assert all(c["bytes"] == 16 for c in heads)


def test_a_straggler_stretches_every_superstep() -> None:
    steps = 6
    even = _waits(_run(3, steps, vertices=200, emulated_compute_ms=30.0))
    events = _run(3, steps, vertices=200, straggler="one", straggler_rank=1,
                  straggler_factor=10.0, emulated_compute_ms=30.0)
    waits = _waits(events)
    for e in events:
        if e["type"] == "step":
            assert e.get("slowed", False) == (e["rank"] == 1)
    # The straggler sleeps ~300 ms a superstep, the others ~30 ms: they wait ~270 ms.
    for rank in (0, 2):
        assert len(waits[rank]) == steps
        assert min(waits[rank]) > 100, waits
        assert statistics.median(waits[rank]) > 180, waits
        # without the straggler the same workers hardly wait
        assert statistics.median(even[rank]) * 3 < statistics.median(waits[rank]), even
    assert statistics.median(waits[1]) < 100, waits  # it is the one everyone waits for


@pytest.mark.parametrize(("options", "message"), [
    ({"vertices": 10}, "options.vertices"),
    ({"algorithm": "sssp"}, "options.algorithm"),
    ({"partition": "metis"}, "options.partition"),
    ({"damping": 1.5}, "options.damping"),
])
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunConfig(strategy="bsp", workers=2, steps=3, options=options)
