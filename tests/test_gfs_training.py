"""Training that reads its data through GFS (engine/strategies/gfs_train.py), on real
processes: a master, chunkservers and data-parallel trainers.

- The sampler deals out exactly what torch.utils.data.DistributedSampler deals out.
- A run that reads through the store ends with the same parameters as one that reads the
  same samples from memory, and both as one process doing SGD on the global batches.
- Every sample is read exactly once an epoch: with ``tail="pad"`` the padded repeats a
  second time, counted; with ``tail="drop"`` the dropped tail never, counted.
- A chunk a fault corrupted on disk is caught by its checksum and never served; the
  samples come from another replica and training is unchanged.
- A chunkserver killed mid-run (r = 2, recovery "continue") loses no sample and stops
  nothing: reads fail over, the master re-replicates to r copies, and training ends with
  the same parameters as from memory. Killing a trainer or the master is refused with the
  reason, naming the chunkservers; bad settings name their field.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.data import DistributedSampler

from engine.config import RunConfig
from engine.data import make_dataset
from engine.faultplan import check_fault
from engine.model import build_model
from engine.runner import run_headless
from engine.strategies.base import local_gradients, sgd_update
from engine.strategies.gfs_sampler import plan_epoch, steps_per_epoch

# 200 samples over 3 workers: 66⅔ each — the tail matters
BASE: dict[str, Any] = {"strategy": "gfs_train", "workers": 3, "num_samples": 200,
                        "batch_size": 16, "seed": 7}


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def _run(steps: int, options: dict[str, Any] | None = None, **kw: Any) -> list[dict[str, Any]]:
    config = RunConfig(**{**BASE, **kw}, steps=steps, options={"read_ms": 0, **(options or {})})
    events = run_headless(config, timeout=180)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    return events


def _checksums(events: list[dict[str, Any]]) -> dict[tuple[int, int], float]:
    return {(e["rank"], e["step"]): e["param_checksum"] for e in of(events, "step")}


@pytest.mark.parametrize("tail", ["pad", "drop"])
@pytest.mark.parametrize(("n", "workers"), [(200, 3), (10, 4), (12, 4), (5, 4)])
def test_sampler_deals_what_distributed_sampler_deals(tail: str, n: int, workers: int) -> None:
    for epoch in range(3):
        plan = plan_epoch(n, workers, 7, epoch, tail)
        for r in range(workers):
            ref = DistributedSampler(range(n), num_replicas=workers, rank=r, shuffle=True,
                                     seed=7, drop_last=tail == "drop")
            ref.set_epoch(epoch)
            assert plan.per_worker[r] == list(ref)
        dealt = sorted(s for w in plan.per_worker for s in w)
        if tail == "pad":
            assert set(dealt) == set(range(n)) and plan.dropped == []
            assert plan.num_padded == len(dealt) - n == -n % workers
        else:
            assert len(set(dealt)) == len(dealt) == n - n % workers
            assert sorted(plan.dropped + dealt) == list(range(n))


def _one_process_reference(steps: int, config: RunConfig) -> list[float]:
    """SGD in one process on each step's global batch (every worker's batch together)."""
    data = make_dataset(config.dataset, config.num_samples, config.seed)
    model = build_model("mlp", config.hidden, config.seed)
    per_epoch = steps_per_epoch(config.num_samples, config.workers, config.batch_size,
                                config.opts.tail)
    sums = []
    for step in range(1, steps + 1):
        epoch, pos = divmod(step - 1, per_epoch)
        plan = plan_epoch(config.num_samples, config.workers, config.seed, epoch,
                          config.opts.tail)
        idx = torch.tensor([s for w in range(config.workers)
                            for s in plan.batch(w, pos, config.batch_size)[0]])
        local_gradients(model, data.x[idx], data.y[idx])
        sgd_update(model, config.lr)
        sums.append(float(torch.cat([p.detach().reshape(-1)
                                     for p in model.parameters()]).double().sum()))
    return sums


def test_reading_through_the_store_trains_as_reading_from_memory() -> None:
    steps = 7  # 67 padded samples a worker, 16 a batch: 5 steps an epoch, then 2 more
    store = _run(steps)
    memory = _run(steps, {"source": "memory"})
    assert of(store, "gfs_batch") and not of(memory, "gfs_batch")
    a, b = _checksums(store), _checksums(memory)
    assert set(a) == set(b) == {(r, s) for r in (1, 2, 3) for s in range(1, steps + 1)}
    torch.testing.assert_close(torch.tensor([a[k] for k in sorted(a)], dtype=torch.float64),
                               torch.tensor([b[k] for k in sorted(a)], dtype=torch.float64))
    reference = _one_process_reference(steps, RunConfig(**BASE, steps=steps))
    torch.testing.assert_close(torch.tensor([a[(1, s)] for s in range(1, steps + 1)],
                                            dtype=torch.float64),
                               torch.tensor(reference, dtype=torch.float64),
                               rtol=1e-5, atol=1e-5)


def _reads_per_epoch(events: list[dict[str, Any]]) -> dict[int, torch.Tensor]:
    seen: dict[int, torch.Tensor] = {}
    for e in of(events, "gfs_batch"):
        if e["status"] == "ok":
            counts = seen.setdefault(e["epoch"], torch.zeros(200, dtype=torch.int64))
            for s in e["samples"]:
                counts[s] += 1
    return seen


def test_pad_reads_every_sample_once_and_the_repeats_twice() -> None:
    events = _run(5, {"tail": "pad"})  # one whole epoch
    (sampler,) = of(events, "gfs_sampler")
    assert sampler["num_padded"] == 1 and sampler["num_dropped"] == 0
    assert [len(a) for a in sampler["assignment"]] == [67, 67, 67]
    (padded,) = [s for w in sampler["padded"] for s in w]
    counts = _reads_per_epoch(events)[1]
    assert int(counts[padded]) == 2
    assert bool((counts[torch.arange(200) != padded] == 1).all())
    marked = [s for e in of(events, "gfs_batch") for s in e["padded"] if e["status"] == "ok"]
    assert marked == [padded]  # the repeat's read says it is one
    (epoch,) = of(events, "gfs_train_epoch")
    assert epoch["complete"] and epoch["exactly_once"]
    assert (epoch["samples"], epoch["padded"], epoch["dropped"]) == (201, 1, 0)
    assert (epoch["read_once"], epoch["read_twice"], epoch["not_read"]) == (199, 1, 0)
    assert epoch["local"] + epoch["remote"] == epoch["ok"] > 0


def test_drop_leaves_the_tail_unread_and_counts_it() -> None:
    events = _run(5, {"tail": "drop"})  # 66 a worker: one epoch of 5 steps
    (sampler,) = of(events, "gfs_sampler")
    assert sampler["num_dropped"] == 2 and sampler["num_padded"] == 0
    counts = _reads_per_epoch(events)[1]
    dropped = torch.tensor(sampler["dropped"])
    assert bool((counts[dropped] == 0).all())
    assert int((counts == 1).sum()) == 198 and int(counts.max()) == 1
    (epoch,) = of(events, "gfs_train_epoch")
    assert epoch["exactly_once"] and (epoch["samples"], epoch["dropped"]) == (198, 2)
    assert epoch["not_read"] == 2


def test_a_corrupt_chunk_is_never_served_and_training_is_unchanged() -> None:
    # Two workers, two chunkservers (ranks 3 and 4), r = 2: every host holds every
    # chunk, so worker 0 reads from its own chunkserver 3 — until a fault flips a byte of
    # chunk 0 there. Slow reads (read_ms) leave the later steps many reads of chunk 0.
    opts = {"replicas": 2, "read_ms": 3}
    kw = {"workers": 2, "batch_size": 32}
    hit = _run(16, opts, faults=[{"after_step": 1, "action": "corrupt", "rank": 3}], **kw)
    clean = _run(16, {**opts, "source": "memory"}, **kw)
    (corrupted,) = of(hit, "gfs_corrupted")
    c, server = corrupted["chunk"], corrupted["server"]
    # (the chunkserver's event and the master's reach the log from two processes: they
    # are ordered by the run's clock, t, not by seq; the master's own events by seq)
    reads = [e for e in of(hit, "gfs_batch") if e["chunk"] == c]
    caught = [e for e in reads if e["server"] == server and e["status"] == "corrupt"]
    assert len(caught) == 1, "no read found the flipped byte"
    assert caught[0]["t"] >= corrupted["t"]
    (back,) = [e for e in of(hit, "gfs_rereplicate") if e["chunk"] == c]
    assert back["dst"] == server and back["seq"] > caught[0]["seq"]
    # nothing came from the bad replica until a good copy replaced it; the batch's
    # samples came from the other replica instead
    assert not [e for e in reads if caught[0]["seq"] < e["seq"] < back["seq"]
                and e["server"] == server]
    retry = [e for e in reads if e["seq"] > caught[0]["seq"]
             and (e["worker"], e["batch"]) == (caught[0]["worker"], caught[0]["batch"])]
    assert retry[0]["status"] == "ok" and retry[0]["server"] != server
    assert retry[0]["failed_over"] and retry[0]["samples"] == caught[0]["samples"]
    # and no flipped byte reached a trainer: it trained exactly as from memory
    a, b = _checksums(hit), _checksums(clean)
    torch.testing.assert_close(torch.tensor([a[k] for k in sorted(b)], dtype=torch.float64),
                               torch.tensor([b[k] for k in sorted(b)], dtype=torch.float64))


def test_a_killed_chunkserver_loses_no_sample_and_training_is_unchanged() -> None:
    # 3 trainers (ranks 1-3), chunkservers 4-6, r = 2: 4 chunks of 64 samples. Slow reads
    # (read_ms) keep a read in flight most of the time, so the kill after step 2 usually
    # lands on one; 12 steps: two whole epochs and a part of the third.
    opts = {"replicas": 2, "read_ms": 150}
    killed = 5
    hit = _run(12, opts, recovery="continue",
               faults=[{"after_step": 2, "action": "kill", "rank": killed}])
    clean = _run(12, {**opts, "source": "memory"})
    assert [e["rank"] for e in of(hit, "fault")] == [killed]
    # every epoch read each sample as often as the sampler dealt it, once its reads
    # that failed are set aside
    epochs = of(hit, "gfs_train_epoch")
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert [e["complete"] for e in epochs] == [True, True, False]
    assert all(e["exactly_once"] for e in epochs[:2])
    assert epochs[2]["samples"] == epochs[2]["read_once"] == 3 * 2 * 16  # 2 of its steps
    for sampler in of(hit, "gfs_sampler"):
        dealt = torch.zeros(200, dtype=torch.int64)
        for s in (s for w in sampler["assignment"] for s in w):
            dealt[s] += 1
        if sampler["epoch"] < 3:  # (the third epoch is cut short by the last step)
            assert torch.equal(_reads_per_epoch(hit)[sampler["epoch"]], dealt)
    # the master stopped choosing the dead server: no good read from it after its death
    (dead,) = [m for m in of(hit, "gfs_map") if m["reason"] == "server_dead"]
    assert dead["server"] == killed and dead["under"]
    assert not [e for e in of(hit, "gfs_batch") if e["server"] == killed
                and e["status"] == "ok" and e["seq"] > dead["seq"]]
    # a read the kill caught is read again, the same samples, from another replica
    for lost in [e for e in of(hit, "gfs_batch") if e["status"] == "unreachable"]:
        assert lost["server"] == killed
        (again,) = [e for e in of(hit, "gfs_batch") if e["seq"] > lost["seq"]
                    and (e["worker"], e["batch"], e["chunk"]) == (lost["worker"],
                                                                  lost["batch"],
                                                                  lost["chunk"])]
        assert again["status"] == "ok" and again["failed_over"]
        assert again["server"] != killed and again["samples"] == lost["samples"]
    # the store is back to r copies of every chunk, none on the dead server
    copies = of(hit, "gfs_rereplicate")
    assert {e["chunk"] for e in copies} == set(dead["under"])
    last = of(hit, "gfs_map")[-1]
    assert last["under"] == [] and last["dead"] == [killed]
    assert all(len(set(h)) == 2 and killed not in h for h in last["chunks"])
    # the same data, from elsewhere: the same training as from memory
    a, b = _checksums(hit), _checksums(clean)
    assert set(a) == set(b) == {(r, s) for r in (1, 2, 3) for s in range(1, 13)}
    torch.testing.assert_close(torch.tensor([a[k] for k in sorted(b)], dtype=torch.float64),
                               torch.tensor([b[k] for k in sorted(b)], dtype=torch.float64))


@pytest.mark.parametrize(("fields", "words"), [
    ({"faults": [{"after_step": 1, "action": "kill", "rank": 1}]}, "ranks 4–6"),
    ({"faults": [{"after_step": 1, "action": "kill", "rank": 0}]}, "master"),
    ({"faults": [{"after_step": 1, "action": "kill", "rank": 4}], "options": {"replicas": 1}},
     "at least 2 replicas"),
    ({"faults": [{"after_step": 1, "action": "corrupt", "rank": 1}]}, "faults[0].rank"),
    ({"options": {"replicas": 4}}, "options.replicas"),
    ({"options": {"tail": "wrap"}}, "options.tail"),
])
def test_bad_settings_are_refused_with_their_field(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        RunConfig(**{**BASE, "steps": 4, **fields})


def test_a_live_corrupt_fault_must_aim_at_a_chunkserver() -> None:
    # a click in the page goes through the same check as a planned fault
    config = RunConfig(**BASE, steps=4)
    check_fault(config, config.spec, {"action": "corrupt", "rank": 4})  # a chunkserver
    for rank in (1, 0):  # a trainer, the master
        with pytest.raises(ValueError, match=f"rank {rank}"):
            check_fault(config, config.spec, {"action": "corrupt", "rank": rank})
    check_fault(config, config.spec, {"action": "kill", "rank": 4})  # a chunkserver
    with pytest.raises(ValueError, match=r"rank 2 is a trainer.*all-reduce.*ranks 4–6"):
        check_fault(config, config.spec, {"action": "kill", "rank": 2})
