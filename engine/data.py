"""Seeded data sets, and which samples each rank trains on at each step.

Two kinds: synthetic 2-D points (spirals, moons, blobs) for the MLP, whose decision
boundary the page draws, and text (``text-en``, ``text-zh``: ``engine/corpus/``, shipped
with DistLab) for the tiny transformer, one sample being a window of characters and its
next characters. Nothing is downloaded: every rank (and the one-process reference in the
tests) rebuilds exactly the same data set from the seed on its own.

Sampling follows PyTorch's ``DistributedSampler``: every epoch one seeded order of all
samples, dealt out among the ranks (``batch_indices``), so the ranks' batches are
disjoint and together form the global batch a single process would take.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

EXTENT_MARGIN = 0.3
CORPUS_DIR = Path(__file__).parent / "corpus"
CORPUS_FILES = {"text-en": "en.txt", "text-zh": "zh.txt"}  # RunConfig's TEXT_DATASETS


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    x: torch.Tensor  # (n, 2) float32
    y: torch.Tensor  # (n,) int64 labels in {0, 1}
    kind = "points"

    @property
    def num_classes(self) -> int:
        return 2

    def extent(self) -> tuple[float, float, float, float]:
        xmin, ymin = (self.x.min(0).values - EXTENT_MARGIN).tolist()
        xmax, ymax = (self.x.max(0).values + EXTENT_MARGIN).tolist()
        return (xmin, xmax, ymin, ymax)


@dataclass(frozen=True, slots=True)
class TextDataset:
    """Windows of a text: sample i is ``context`` characters (``x[i]``) and the same
    window shifted by one (``y[i]``), so the model learns to predict each next character."""

    name: str
    text: str
    vocab: str  # every character of the text, sorted: token id = position here
    x: torch.Tensor  # (n, context) int64 token ids
    y: torch.Tensor  # (n, context) int64: the next character of each position
    kind = "text"

    @property
    def num_classes(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.vocab)}
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def decode(self, ids: torch.Tensor) -> str:
        return "".join(self.vocab[i] for i in ids.tolist())


def read_corpus(name: str) -> str:
    return (CORPUS_DIR / CORPUS_FILES[name]).read_text(encoding="utf-8").strip()


def make_text_dataset(name: str, num_samples: int, seed: int, context: int) -> TextDataset:
    text = read_corpus(name)
    if len(text) <= context + 1:
        raise ValueError(f"context ({context}) must be shorter than the text ({len(text)})")
    vocab = "".join(sorted(set(text)))
    ids = TextDataset(name, text, vocab, torch.empty(0), torch.empty(0)).encode(text)
    # Windows start at seeded random places: more samples than places simply repeat some.
    gen = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, len(ids) - context, (num_samples,), generator=gen)
    window = starts[:, None] + torch.arange(context)
    return TextDataset(name, text, vocab, ids[window], ids[window + 1])


def dataset_for(config: Any) -> Dataset | TextDataset:
    """The run's data set (``config.dataset``), the same on every rank."""
    return make_dataset(config.dataset, config.num_samples, config.seed, config.context)


def make_dataset(name: str, num_samples: int, seed: int, context: int = 64
                 ) -> Dataset | TextDataset:
    if name in CORPUS_FILES:
        return make_text_dataset(name, num_samples, seed, context)
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


# ---- data that is not the same everywhere (decentralized training, issue 17)
#
# With IID data every worker's gradient estimates the same thing; with a *skewed* split
# each worker sees mostly some classes, its local gradient pulls its replica its own way,
# and only the averaging over the graph pulls the replicas back together (Hsieh et al.,
# "The Non-IID Data Quagmire of Decentralized Machine Learning", ICML 2020).

def skewed_shards(labels: torch.Tensor, world: int, seed: int, split: str,
                  alpha: float = 0.5, min_size: int = 1) -> list[torch.Tensor]:
    """Each worker's own samples (indices into the data set), skewed by class:

    - ``one_class``: worker r holds class r mod C only (C classes), each class's samples
      shared evenly among the workers that hold it — the extreme "k = 1 class per
      worker";
    - ``dirichlet``: for each class, the shares of the workers are drawn from
      Dirichlet(α, …, α) (Hsu et al. 2019): α → ∞ is IID, α → 0 one class each.

    Seeded: every worker computes the same split. Every worker gets at least
    ``min_size`` samples (a batch), or a ``ValueError`` says why not."""

    classes = sorted({int(c) for c in labels.tolist()})
    rng = np.random.default_rng(seed)
    by_class = {c: (labels == c).nonzero().flatten().numpy() for c in classes}
    for _attempt in range(100):
        shards: list[list[int]] = [[] for _ in range(world)]
        for c in classes:
            idx = rng.permutation(by_class[c])
            if split == "one_class":
                holders = [r for r in range(world) if r % len(classes) == c]
                for part, r in zip(np.array_split(idx, len(holders)), holders, strict=True):
                    shards[r].extend(part.tolist())
            elif split == "dirichlet":
                shares = rng.dirichlet([alpha] * world)
                cuts = np.round(np.cumsum(shares)[:-1] * len(idx)).astype(int)
                for r, part in enumerate(np.split(idx, cuts)):
                    shards[r].extend(part.tolist())
            else:
                raise ValueError(f"unknown split {split!r}")
        if min(len(s) for s in shards) >= min_size:
            return [torch.tensor(sorted(s), dtype=torch.long) for s in shards]
        if split == "one_class":
            break  # deterministic: another draw gives the same
    raise ValueError(f"a {split} split of {len(labels)} samples over {world} workers leaves "
                     f"a worker fewer than {min_size} samples (a batch): use more samples, "
                     "fewer workers or a larger α")


def shard_batch_indices(shard: torch.Tensor, step: int, batch_size: int, seed: int,
                        rank: int) -> torch.Tensor:
    """Step ``step``'s batch of a worker that draws from its own ``shard``: each epoch of
    the shard in a seeded order of its own, cut into batches (a partial one dropped)."""
    per_epoch = len(shard) // batch_size
    assert per_epoch >= 1, "a shard smaller than one batch"
    epoch, pos = divmod(step - 1, per_epoch)
    gen = torch.Generator().manual_seed((seed * 1_000_003 + epoch) * 64 + rank)
    order = torch.randperm(len(shard), generator=gen)
    return shard[order[pos * batch_size:(pos + 1) * batch_size]]
