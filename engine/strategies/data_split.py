"""Data that is not the same everywhere: the non-IID option of the strategies whose workers
train replicas of their own between averages (decentralized SGD, local SGD / DiLoCo).

- ``iid``: each worker's batch is its share of one shuffled global batch (``ctx.batch``);
- ``dirichlet``: each worker draws from its own samples, each class shared among the
  workers in Dirichlet(α) proportions (Hsu et al., "Measuring the Effects of Non-Identical
  Data Distribution for Federated Visual Classification", 2019): α → ∞ is IID, α → 0 one
  class each;
- ``one_class``: worker r holds class r mod C only — the extreme case.

With skewed data each replica is pulled towards its own classes between averages: the
sparser the graph or the rarer the averaging, the further apart they drift (engine/data.py
cuts the shards; the same on every process, seeded).
"""

from __future__ import annotations

from typing import Any

import torch

from engine.data import dataset_for, shard_batch_indices, skewed_shards
from engine.options import choice, number
from engine.strategies.base import WorkerContext

SPLITS = ("iid", "dirichlet", "one_class")


def data_split_option() -> Any:
    """The ``data_split`` field of a strategy's options."""
    return choice(
        "iid", SPLITS,
        label={"en": "Data per worker", "zh": "各工作进程的数据"},
        help={"en": "IID: each worker's batch is its share of one global batch. Skewed "
                    "(non-IID): each worker draws from its own samples, mostly of some "
                    "classes — Dirichlet(α) shares per class, or one class per worker.",
              "zh": "独立同分布：每个工作进程的批次是同一全局批次中的一份。偏斜（非独立同分布）："
                    "每个工作进程只从自己的样本中取数据，且主要是某些类别——按类别以 "
                    "Dirichlet(α) 分配，或每个工作进程只有一个类别。"},
        labels={"iid": {"en": "IID (shuffled for all)", "zh": "独立同分布（统一打乱）"},
                "dirichlet": {"en": "Skewed: Dirichlet(α)", "zh": "偏斜：Dirichlet(α)"},
                "one_class": {"en": "Skewed: one class per worker",
                              "zh": "偏斜：每个工作进程一个类别"}})


def dirichlet_alpha_option() -> Any:
    """The ``dirichlet_alpha`` field, shown with the Dirichlet split only."""
    return number(
        0.3, 0.01, 100.0, label={"en": "Dirichlet α", "zh": "Dirichlet α"},
        help={"en": "Small α: each worker sees mostly one class; large α: close to IID.",
              "zh": "α 越小，每个工作进程越集中于一个类别；α 越大，越接近独立同分布。"},
        shown_when={"data_split": ("dirichlet",)})


def check_data_split(config: Any) -> None:
    """Refuse, with the reason, a skewed split that cannot be made."""
    if config.opts.data_split == "iid":
        return
    if config.model != "mlp":
        raise ValueError("options.data_split: a skewed split is by class, and only the "
                         "points data sets have classes to skew; use 'iid' for text")
    shards_of(config)  # a worker left without a batch: refused with the reason


def shards_of(config: Any) -> list[torch.Tensor]:
    """Every worker's own samples for a skewed split (the same on every process)."""
    return skewed_shards(dataset_for(config).y, config.workers, config.seed,
                         config.opts.data_split, config.opts.dirichlet_alpha,
                         min_size=config.batch_size)


class WorkerData:
    """A worker's batches under the run's split. A worker keeps its own samples by its
    id, which an elastic regroup does not change."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self.shards = None if ctx.config.opts.data_split == "iid" else shards_of(ctx.config)
        self.shard = None if self.shards is None else self.shards[ctx.topo.me]

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        ctx = self.ctx
        if self.shard is None:
            return ctx.batch(step)
        idx = shard_batch_indices(self.shard, step, ctx.config.batch_size, ctx.config.seed,
                                  ctx.topo.me)
        return ctx.data.x[idx].to(ctx.topo.device), ctx.data.y[idx].to(ctx.topo.device)

    def class_counts(self) -> list[list[int]] | None:
        """Per worker, its samples of each class (None for IID): what the page shows."""
        if self.shards is None:
            return None
        labels, classes = self.ctx.data.y, self.ctx.data.num_classes
        return [[int((labels[s] == c).sum()) for c in range(classes)] for s in self.shards]
