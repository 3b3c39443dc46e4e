"""What DistLab's instrumentation costs at full speed: the same training as a bare
``torch`` DDP loop and as a DistLab data-parallel run, side by side in one command.

Same workload on both sides: the MLP 2-64-64-2, batch 32 per worker, SGD, gloo on CPU,
the same data and sampler. The bare loop has no events, no controls, no checksums; its
processes are started before the clock starts, as DistLab's steps/s excludes start-up.
Rounds are interleaved so that drift in machine load hits both alike; read the ratio.

    .venv/bin/python bench/overhead.py --workers 2 4 [--detail]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from engine.config import RunConfig
from engine.data import batch_indices, make_dataset
from engine.model import build_model
from engine.runner import run_headless
from engine.supervisor import warm_up

HIDDEN, BATCH, WARMUP = 64, 32, 20


def _bare_rank(rank: int, world: int, port: int, steps: int, out: mp.SimpleQueue) -> None:
    torch.set_num_threads(1)  # as DistLab's workers do
    store = dist.TCPStore("127.0.0.1", port, world, is_master=rank == 0,
                          timeout=timedelta(seconds=60))
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world)
    data = make_dataset("spirals", 1024, 0)
    model = DistributedDataParallel(build_model("mlp", HIDDEN, 0))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for step in range(1, WARMUP + steps + 1):
        if step == WARMUP + 1:
            dist.barrier()
            started = time.perf_counter()
        idx = batch_indices(1024, step, BATCH, 0, rank, world)
        opt.zero_grad(set_to_none=False)
        F.cross_entropy(model(data.x[idx]), data.y[idx]).backward()
        opt.step()
    if rank == 0:
        out.put(steps / (time.perf_counter() - started))
    dist.destroy_process_group()


def bare_steps_per_s(world: int, steps: int) -> float:
    ctx = mp.get_context("spawn")
    out = ctx.SimpleQueue()
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = [ctx.Process(target=_bare_rank, args=(r, world, port, steps, out))
             for r in range(world)]
    for p in procs:
        p.start()
    rate = out.get()
    for p in procs:
        p.join(timeout=30)
    return rate


def distlab_steps_per_s(world: int, steps: int, detail: bool) -> float:
    log = run_headless(RunConfig(strategy="data_parallel", workers=world, steps=steps,
                                 batch_size=BATCH, hidden=HIDDEN, detail=detail),
                       timeout=600)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    return log[-1]["summary"]["steps_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--detail", action="store_true", help="DistLab with comm events")
    args = parser.parse_args()
    warm_up()
    bare: dict[int, list[float]] = {w: [] for w in args.workers}
    ours: dict[int, list[float]] = {w: [] for w in args.workers}
    for _ in range(args.rounds):
        for w in args.workers:
            bare[w].append(bare_steps_per_s(w, args.steps))
            ours[w].append(distlab_steps_per_s(w, args.steps, args.detail))
    print(f"{'workers':>7} {'bare steps/s':>13} {'DistLab steps/s':>16} {'bare / DistLab':>15}")
    for w in args.workers:
        b, d = statistics.median(bare[w]), statistics.median(ours[w])
        print(f"{w:>7} {b:>13.1f} {d:>16.1f} {b / d:>14.2f}×")
    print(f"(median of {args.rounds} interleaved rounds, {args.steps} steps, batch {BATCH}, "
          f"MLP 2-{HIDDEN}-{HIDDEN}-2, detail {'on' if args.detail else 'off'})")


if __name__ == "__main__":
    main()
