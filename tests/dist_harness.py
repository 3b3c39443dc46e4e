"""Run a function on every rank of a real gloo process group and collect the results."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from engine.comms import Comms
from engine.supervisor import _CTX  # the forkserver with torch preloaded
from engine.topology import Topology


def _rank_main(fn: Callable[..., Any], rank: int, world: int, port: int, args: tuple,
               out: Any) -> None:
    store = dist.TCPStore("127.0.0.1", port, world, is_master=False,
                          timeout=timedelta(seconds=30))
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world,
                            timeout=timedelta(seconds=30))
    try:
        comms = Comms(Topology(rank=rank, world_size=world, backend="gloo", device="cpu"))
        out.send(_by_value(fn(comms, *args)))
    finally:
        dist.destroy_process_group()


def _by_value(obj: Any) -> Any:
    """Tensors as numpy arrays: torch would share their memory by passing a file
    descriptor, which fails once this process has exited (a flaky "connection reset")."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy().copy()
    if isinstance(obj, dict):
        return {k: _by_value(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_by_value(v) for v in obj)
    return obj


def run_in_group(fn: Callable[..., Any], world: int, *args: Any,
                 timeout: float = 60) -> list[Any]:
    """``fn(comms, *args)`` on ranks 0..world-1; returns their results in rank order.

    ``fn`` must be a module-level function (it is pickled by reference).
    """
    store = dist.TCPStore("127.0.0.1", 0, world, is_master=True, wait_for_workers=False)
    pipes = [_CTX.Pipe(duplex=False) for _ in range(world)]
    procs = [_CTX.Process(target=_rank_main, args=(fn, r, world, store.port, args, pipes[r][1]),
                          daemon=True) for r in range(world)]
    for p in procs:
        p.start()
    try:
        results = []
        for r, (recv, _) in enumerate(pipes):
            if not recv.poll(timeout):
                raise TimeoutError(f"rank {r} produced no result in {timeout} s")
            results.append(recv.recv())
        return results
    finally:
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
