"""Which worker reads which samples in an epoch: a distributed sampler, as PyTorch's
``torch.utils.data.DistributedSampler`` deals them out (gfs_train.py reads them through
the store).

Every epoch one seeded shuffle of all samples (the generator seeded with ``seed + epoch``,
as ``DistributedSampler.set_epoch`` does, so every worker draws the same order without a
message), then worker r takes every W-th sample from position r. When the sample count
does not divide by W, option ``tail`` decides:

- ``pad``: repeat samples from the start of the shuffled order until it divides — every
  sample is read at least once, a few twice (``DistributedSampler(drop_last=False)``);
- ``drop``: cut the tail of the shuffled order — every worker reads the same count, a few
  samples are not read this epoch (``drop_last=True``).

Either way every worker has the same number of samples, so the workers take the same
number of steps and none waits at an all-reduce for a batch that never comes.

References: PyTorch, torch/utils/data/distributed.py (DistributedSampler); Goyal et al.,
"Accurate, Large Minibatch SGD", 2017 (each epoch a fresh shuffle, split among workers).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True, slots=True)
class EpochPlan:
    epoch: int  # from 0
    per_worker: list[list[int]]
    """Worker r's samples, in the order it reads them."""
    padded: list[list[bool]]
    """Whether each of them is a repeat added by padding (``tail="pad"``)."""
    dropped: list[int]
    """Samples no worker reads this epoch (``tail="drop"``)."""

    @property
    def num_padded(self) -> int:
        return sum(sum(p) for p in self.padded)

    def batch(self, worker: int, pos: int, batch_size: int) -> tuple[list[int], list[bool]]:
        """Worker ``worker``'s ``pos``-th batch of the epoch (from 0; the last may be short,
        the same length on every worker)."""
        sl = slice(pos * batch_size, (pos + 1) * batch_size)
        return self.per_worker[worker][sl], self.padded[worker][sl]


@functools.lru_cache(maxsize=8)
def plan_epoch(num_samples: int, workers: int, seed: int, epoch: int, tail: str) -> EpochPlan:
    """The epoch's assignment (cached: every step of an epoch asks for it)."""
    if tail not in ("pad", "drop"):
        raise ValueError(f"tail must be 'pad' or 'drop' (got {tail!r})")
    gen = torch.Generator().manual_seed(seed + epoch)  # DistributedSampler's seeding
    order = torch.randperm(num_samples, generator=gen).tolist()
    if tail == "pad":
        total = math.ceil(num_samples / workers) * workers
        # the repeats come from the front of the order, as many times as needed
        extra = (order * math.ceil(total / num_samples))[:total - num_samples]
        order, is_pad = order + extra, [False] * num_samples + [True] * len(extra)
        dropped: list[int] = []
    else:
        total = num_samples // workers * workers
        order, dropped = order[:total], sorted(order[total:])
        is_pad = [False] * total
    return EpochPlan(epoch=epoch,
                     per_worker=[order[r:total:workers] for r in range(workers)],
                     padded=[is_pad[r:total:workers] for r in range(workers)],
                     dropped=dropped)


def samples_per_worker(num_samples: int, workers: int, tail: str) -> int:
    return (math.ceil if tail == "pad" else math.floor)(num_samples / workers)


def steps_per_epoch(num_samples: int, workers: int, batch_size: int, tail: str) -> int:
    return math.ceil(samples_per_worker(num_samples, workers, tail) / batch_size)
