"""ZeRO with PyTorch's own library (engine/strategies/zero_torch.py) on real processes:
stage 1 as DDP + ZeroRedundancyOptimizer(Adam), stages 2 and 3 as FSDP2's fully_shard.

- On the same seed, data and global batch, each ends every step where our stage and
  plain data parallelism with Adam end (float32 rounding only: see ``_close``).
- What it moves is what the page says it moves: stage 1 an all-reduce and the owners'
  broadcasts (ZeRO-1's 3 ring passes), stage 2 one all-gather and one reduce-scatter per
  unit (ZeRO-2's 2), stage 3 a second all-gather for the backward pass (FSDP's 1.5×).
- What a process holds, measured from the DTensors' local shards: stage 3's parameters
  fall to 1/n per process, as ours do; stage 2 keeps 1/n at rest too (FSDP2 frees the
  gathered parameters after the backward pass: not ZeRO-2, said in the option's help).
- What it cannot do is refused through the API with the reason.
"""

from __future__ import annotations

from functools import cache

import pytest
import torch
from fastapi.testclient import TestClient
from torch.testing import assert_close

from engine.config import RunConfig
from engine.model import model_for
from engine.runner import run_headless
from engine.strategies import registry
from tests.helpers import assert_gapless, steps_by_rank

BASE: dict[str, object] = dict(steps=8, lr=0.01, seed=4, optimizer="adam", dataset="moons",
                               detail=True)  # as tests/test_zero.py
GLOBAL_BATCH = 32


@cache
def _run(strategy: str, workers: int, stage: str = "", implementation: str = "") -> list[dict]:
    options = {"stage": stage, "implementation": implementation} if stage else {}
    events = run_headless(RunConfig(strategy=strategy, workers=workers, options=options,
                                    batch_size=GLOBAL_BATCH // workers, **BASE),  # type: ignore[arg-type]
                          timeout=120)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    assert_gapless(events)
    return events


def _replicas(events: list[dict]) -> list[float]:
    by_rank = steps_by_rank(events)
    return [by_rank[0][k]["param_checksum"] for k in range(len(by_rank[0]))]


def _shards(events: list[dict]) -> list[float]:
    by_rank = steps_by_rank(events)
    return [sum(by_rank[r][k]["param_checksum"] for r in by_rank)
            for k in range(len(by_rank[0]))]


def _losses(events: list[dict]) -> list[float]:
    by_rank = steps_by_rank(events)
    return [sum(by_rank[r][k]["loss"] for r in by_rank) / len(by_rank)
            for k in range(len(by_rank[0]))]


def _close(got: list[float], want: list[float]) -> None:
    """The checksums step by step. The sums run in another order (DDP's bucket, FSDP2's
    reduce-scatter, our ring) and torch.optim.Adam orders its arithmetic differently from
    optimizers.Adam (√v / √(1−β2ᵗ) + ε rather than √(v / (1−β2ᵗ)) + ε): float32 rounding,
    which Adam's division by √v can grow a little — the tolerance of tests/test_zero.py."""
    assert_close(torch.tensor(got, dtype=torch.float64),
                 torch.tensor(want, dtype=torch.float64), rtol=1e-5, atol=1e-5)


def _shapes() -> list[torch.Size]:
    config = RunConfig(strategy="zero", workers=2, batch_size=16, **BASE)  # type: ignore[arg-type]
    return [p.shape for p in model_for(config, 2).parameters()]


def _psi_bytes() -> int:
    return sum(s.numel() for s in _shapes()) * 4


def _fsdp2_share(n: int, rank: int) -> int:
    """Bytes of FSDP2's shard on ``rank``: every parameter cut along its first dimension
    as ``torch.chunk`` cuts it (the last processes may get less, or nothing)."""
    total = 0
    for shape in _shapes():
        pieces = torch.zeros(shape).chunk(n, dim=0)
        total += pieces[rank].numel() * 4 if rank < len(pieces) else 0
    return total


def _padded_bytes(n: int) -> int:
    """What FSDP2 all-gathers: each parameter padded to n × ⌈rows / n⌉ rows."""
    return sum(-(-s[0] // n) * n * (s.numel() // s[0]) * 4 for s in _shapes())


@pytest.mark.parametrize("stage", ["1", "2", "3"])
def test_each_torch_stage_ends_where_ours_and_data_parallel_adam_end(stage: str) -> None:
    n = 2
    dp = _run("data_parallel", n)
    ours = _run("zero", n, stage, "ours")
    lib = _run("zero", n, stage, "torch")
    want = _replicas(dp)
    _close(_shards(ours) if stage == "3" else _replicas(ours), want)
    # Stage 1 keeps replicas (every process the whole model); FSDP2 keeps shards.
    got = _replicas(lib) if stage == "1" else _shards(lib)
    _close(got, want)
    _close(got, _shards(ours) if stage == "3" else _replicas(ours))
    assert_close(torch.tensor(_losses(lib)), torch.tensor(_losses(dp)), rtol=1e-5, atol=1e-6)

    # What it moved on step 1, as the library issued it (detail mode: one comm event per
    # collective), counted as a ring would move it.
    psi = _psi_bytes()
    ring = (n - 1) * psi // n
    padded_ring = (n - 1) * _padded_bytes(n) // n
    comms = [e for e in lib if e["type"] == "comm" and e["step"] == 1 and e["src"] == 0]
    ops = [e["op"] for e in comms]
    first = {e["rank"]: e for e in lib if e["type"] == "step" and e["step"] == 1}
    units = 3  # the MLP's three layers (the root holds no parameters of its own)
    if stage == "1":
        assert ops[0] == "all_reduce" and set(ops[1:]) == {"broadcast"}
        assert len(ops) == 1 + len(_shapes())  # DDP's one bucket; a broadcast per parameter
        expected = 3 * ring
    else:
        gathers = units * (2 if stage == "3" else 1)  # stage 3 gathers again for backward
        assert sorted(ops) == ["all_gather"] * gathers + ["reduce_scatter"] * units
        expected = (3 if stage == "3" else 2) * padded_ring
    for e in first.values():
        assert e["bytes_sent"] == pytest.approx(expected, abs=4 * len(comms))

    # Memory by kind, measured on every process.
    for r, e in first.items():
        m = e["memory"]
        if stage == "1":
            assert (m["params"], m["grads"], m["gathered_params"]) == (psi, psi, 0)
        else:
            assert m["params"] == m["grads"] == _fsdp2_share(n, r)
            assert m["optimizer"] == 2 * m["params"]
        assert m["activations"] > 0
    # ZeroRedundancyOptimizer shares out whole parameters: Adam's m and v for all of
    # them, once, but in uneven parts (ours: equal slices of the flat vector).
    optimizer = [first[r]["memory"]["optimizer"] for r in sorted(first)]
    assert sum(optimizer) == 2 * psi
    if stage == "1":
        assert optimizer[0] != optimizer[1]
    biggest_unit = max(s.numel() for s in _shapes()) * 4
    gathered = {e["memory"]["gathered_params"] for e in first.values()}
    if stage == "2":
        assert gathered == {psi}  # every unit kept gathered until its backward
    if stage == "3":
        assert max(gathered) < psi and min(gathered) >= biggest_unit  # one unit at a time


def test_fsdp2_stage_3_holds_a_1_over_n_share_as_ours_does() -> None:
    psi = _psi_bytes()
    held: dict[str, dict[int, list[int]]] = {"ours": {}, "torch": {}}
    for n in (2, 4):
        for impl in held:
            events = _run("zero", n, "3", impl)
            first = sorted((e["rank"], e["memory"]["params"]) for e in events
                           if e["type"] == "step" and e["step"] == 1)
            held[impl][n] = [b for _, b in first]
        assert held["torch"][n] == [_fsdp2_share(n, r) for r in range(n)]
        assert sum(held["torch"][n]) == sum(held["ours"][n]) == psi
        for mine, theirs in zip(held["torch"][n], held["ours"][n], strict=True):
            assert mine == pytest.approx(psi / n, rel=0.1)
            assert theirs == pytest.approx(psi / n, abs=4)
    assert max(held["torch"][4]) < min(held["torch"][2])  # more processes, less each
    # And it still ends where ours does on 4 processes.
    _close(_shards(_run("zero", 4, "3", "torch")), _shards(_run("zero", 4, "3", "ours")))


# --- the option and what it refuses -----------------------------------------------------

def test_the_implementation_option_is_declared_in_english_and_chinese() -> None:
    described = {o["name"]: o for o in registry.get("zero").describe()["options"]}
    option = described["implementation"]
    assert option["default"] == "ours"
    assert [c["value"] for c in option["choices"]] == ["ours", "torch"]
    assert option["label"]["zh"] and option["help"]["zh"]
    assert all(c["label"]["en"] and c["label"]["zh"] for c in option["choices"])
    assert "ZeRO-2" in option["help"]["en"]  # stage 2's difference is said
    for stage in ("1", "2", "3"):  # every stage is offered by the library
        assert RunConfig(strategy="zero", workers=2, optimizer="adam", options={
            "stage": stage, "implementation": "torch"}).opts.implementation == "torch"


@pytest.mark.parametrize(("body", "mentions"), [
    ({"network": "10gbe"}, "outside DistLab's network model"),
    ({"options": {"implementation": "deepspeed"}},
     "options.implementation must be one of ours, torch"),
    ({"optimizer": "sgd"}, "the zero strategy uses adam"),
    ({"recovery": "restart", "checkpoint_every": 5}, "choose implementation 'ours'"),
])
def test_what_the_library_cannot_do_is_refused_through_the_api(
        client: TestClient, body: dict, mentions: str) -> None:
    run = {"strategy": "zero", "workers": 2, "optimizer": "adam",
           "options": {"stage": "3", "implementation": "torch"}}
    options = run["options"] | body.pop("options", {})  # type: ignore[operator]
    r = client.post("/api/runs", json=run | body | {"options": options})
    assert r.status_code == 422, r.text
    assert mentions in r.json()["detail"]
    if "network" in body:  # ours sends through DistLab's comms: the model can delay it
        RunConfig(strategy="zero", workers=2, optimizer="adam", network="10gbe",
                  options={"stage": "3"})
    if "recovery" in body:  # our stages save their shards: a restart loads them
        RunConfig(strategy="zero", workers=2, optimizer="adam", recovery="restart",
                  checkpoint_every=5, options={"stage": "3"})
