"""Seeded synthetic 2-D data sets, and which samples each rank trains on at each step.

Nothing is downloaded: the points are generated from the seed, so every rank (and the
one-process reference in the tests) rebuilds exactly the same data set on its own.

Sampling follows PyTorch's ``DistributedSampler``: every epoch one seeded order of all
samples, dealt out among the ranks (``batch_indices``), so the ranks' batches are
disjoint and together form the global batch a single process would take.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

EXTENT_MARGIN = 0.3


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    x: torch.Tensor  # (n, 2) float32
    y: torch.Tensor  # (n,) int64 labels in {0, 1}

    @property
    def num_classes(self) -> int:
        return 2

    def extent(self) -> tuple[float, float, float, float]:
        xmin, ymin = (self.x.min(0).values - EXTENT_MARGIN).tolist()
        xmax, ymax = (self.x.max(0).values + EXTENT_MARGIN).tolist()
        return (xmin, xmax, ymin, ymax)


def make_dataset(name: str, num_samples: int, seed: int) -> Dataset:
    gen = torch.Generator().manual_seed(seed)
    makers = {"spirals": _spirals, "moons": _moons, "blobs": _blobs}
    if name not in makers:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(makers)}")
    x, y = makers[name](num_samples, gen)
    return Dataset(name=name, x=x.float(), y=y.long())


def _spirals(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    # Two interleaved arms: not linearly separable, so the boundary visibly bends as the
    # MLP learns.
    y = torch.arange(n) % 2
    r = torch.rand(n, generator=gen) * 0.9 + 0.1
    theta = r * 2 * math.pi + y * math.pi  # one full turn: learnable in ~150 SGD steps
    noise = torch.randn(n, 2, generator=gen) * 0.04
    x = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1) * 2 + noise
    return x, y


def _moons(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.arange(n) % 2
    angle = torch.rand(n, generator=gen) * math.pi
    upper = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    lower = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], dim=1)
    x = torch.where(y[:, None] == 0, upper, lower) + torch.randn(n, 2, generator=gen) * 0.1
    return x - torch.tensor([0.5, 0.25]), y


def _blobs(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.arange(n) % 2
    centres = torch.tensor([[-1.0, -0.6], [1.0, 0.6]])
    return centres[y] + torch.randn(n, 2, generator=gen) * 0.55, y


@functools.lru_cache(maxsize=4)
def epoch_order(num_samples: int, seed: int, epoch: int) -> torch.Tensor:
    """All samples in the seeded order they are visited in during ``epoch`` (from 0).

    Cached: every step of an epoch reads the same order (callers must not modify it)."""
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(num_samples, generator=gen)


def batch_indices(num_samples: int, step: int, batch_size: int, seed: int, rank: int = 0,
                  world: int = 1) -> torch.Tensor:
    """The samples rank ``rank`` of ``world`` trains on at ``step`` (from 1).

    The sampler is global: each epoch visits all samples in one seeded order, cut into
    global batches of ``world × batch_size``, and each global batch is dealt out among
    the ranks, rank r taking every world-th sample from position r (as PyTorch's
    ``DistributedSampler`` does). So one process with batch ``world × batch_size`` trains
    on exactly the union of what the ranks train on — synchronous data parallelism and
    single-process SGD on the global batch compute the same update. A partial global
    batch at the end of an epoch is dropped.
    """
    assert 0 <= rank < world
    global_batch = world * batch_size
    per_epoch = num_samples // global_batch
    assert per_epoch >= 1, "fewer samples than one global batch"
    epoch, pos = divmod(step - 1, per_epoch)
    batch = epoch_order(num_samples, seed, epoch)[pos * global_batch:(pos + 1) * global_batch]
    return batch[rank::world].clone()


def samples_per_epoch(num_samples: int, batch_size: int, world: int) -> int:
    """How many samples one rank trains on in an epoch."""
    return num_samples // (world * batch_size) * batch_size


def points_for_ui(data: Dataset, world_size: int, seed: int, rank_offset: int = 0
                  ) -> list[list[float]]:
    """``[[x, y, label, owner_rank], ...]`` for drawing the data set, by owner: the rank
    that trains on each sample in the first epoch (each epoch deals them out anew).

    ``rank_offset``: process rank of the first worker (servers come first).
    """
    owner = torch.empty(len(data.y), dtype=torch.long)
    owner[epoch_order(len(data.y), seed, 0)] = torch.arange(len(data.y)) % world_size
    owner += rank_offset
    return [
        [round(px, 4), round(py, 4), int(label), int(r)]
        for (px, py), label, r in zip(data.x.tolist(), data.y.tolist(), owner.tolist(), strict=True)
    ]
