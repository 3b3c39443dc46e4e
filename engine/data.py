"""Seeded synthetic 2-D data sets, sharded disjointly across ranks.

Nothing is downloaded: the points are generated from the seed, so every rank (and the
one-process reference in the tests) rebuilds exactly the same data set on its own.

Sharding follows the idea of PyTorch's ``DistributedSampler``: one seeded permutation of
all samples, rank ``r`` owning every ``world_size``-th sample starting at ``r``. Shards
are disjoint and fixed for the whole run, so the UI can colour each point by its owner.
"""

from __future__ import annotations

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


def shard_indices(num_samples: int, rank: int, world_size: int, seed: int) -> torch.Tensor:
    """The samples rank ``rank`` owns: disjoint across ranks, identical for every caller."""
    assert 0 <= rank < world_size
    perm = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed + 1))
    return perm[rank::world_size]


def batch_indices(
    shard: torch.Tensor, step: int, batch_size: int, seed: int, rank: int
) -> torch.Tensor:
    """Indices of the batch rank ``rank`` trains on at ``step`` (from 1).

    Each epoch walks the shard in a fresh seeded order; the order depends only on
    (seed, rank, epoch), so a restarted or reference run draws exactly the same batches.
    """
    per_epoch = len(shard) // batch_size
    assert per_epoch >= 1, "shard smaller than one batch"
    epoch, pos = divmod(step - 1, per_epoch)
    gen = torch.Generator().manual_seed(seed * 1_000_003 + rank * 7_919 + epoch)
    order = shard[torch.randperm(len(shard), generator=gen)]
    return order[pos * batch_size : (pos + 1) * batch_size]


def points_for_ui(data: Dataset, world_size: int, seed: int, rank_offset: int = 0
                  ) -> list[list[float]]:
    """``[[x, y, label, owner_rank], ...]`` for drawing the data set, by owner.

    ``rank_offset``: process rank of the first data shard's owner (servers come first).
    """
    owner = torch.empty(len(data.y), dtype=torch.long)
    for rank in range(world_size):
        owner[shard_indices(len(data.y), rank, world_size, seed)] = rank + rank_offset
    return [
        [round(px, 4), round(py, 4), int(label), int(r)]
        for (px, py), label, r in zip(data.x.tolist(), data.y.tolist(), owner.tolist(), strict=True)
    ]
