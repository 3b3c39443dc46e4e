"""The small interface every strategy implements: ``setup(ctx)`` and ``train_step(step)``."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from engine.comms import Comms
from engine.config import RunConfig
from engine.control import ControlState
from engine.data import Dataset, batch_indices
from engine.topology import Topology


@dataclass(slots=True)
class WorkerContext:
    """Everything a strategy may use, built once by the worker."""

    config: RunConfig
    topo: Topology
    comms: Comms
    model: nn.Module
    data: Dataset
    shard: torch.Tensor  # indices of the samples this rank owns
    data_rank: int  # which data shard this rank trains on (workers only count, not servers)
    control: ControlState  # the user's controls, and faults aimed at this rank
    emit: Callable[..., None]  # emit(type, **fields): an event from a strategy

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = batch_indices(self.shard, step, self.config.batch_size, self.config.seed,
                            self.data_rank)
        return self.data.x[idx].to(self.topo.device), self.data.y[idx].to(self.topo.device)


@dataclass(slots=True)
class StepResult:
    loss: float
    grad_norm: float
    compute_ms: float
    samples: int
    extra: dict[str, Any] | None = None
    """Strategy-specific fields added to the step event (e.g. compression metrics)."""


class Strategy(Protocol):
    def setup(self, ctx: WorkerContext) -> None: ...

    def train_step(self, step: int) -> StepResult: ...


def local_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Forward and backward on one batch; leaves the mean-loss gradient in ``p.grad``."""
    model.zero_grad(set_to_none=False)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return float(loss.detach())


@torch.no_grad()
def sgd_update(model: nn.Module, lr: float) -> float:
    """Plain SGD, ``p ← p − lr·g``; returns the norm of the gradient applied."""
    sq = 0.0
    for p in model.parameters():
        sq += float(p.grad.double().pow(2).sum())
        p.add_(p.grad, alpha=-lr)
    return sq**0.5


class Stopwatch:
    """Accumulates milliseconds across several timed sections of one step."""

    def __init__(self) -> None:
        self.ms = 0.0
        self._start = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ms += (time.perf_counter() - self._start) * 1e3


def emulate_work(config: RunConfig, worker_index: int, step: int, real_ms: float,
                 injected_factor: float = 1.0) -> tuple[float, bool]:
    """Sleep as if the step's compute were heavier, and slower on a straggler.

    Returns the milliseconds slept and whether this step was slowed. Sleeping is an
    emulation (the UI labels it): our models are tiny, real clusters' are not.
    """
    factor = 1.0
    if config.straggler == "one" and worker_index == config.straggler_rank:
        factor = config.straggler_factor
    elif config.straggler == "random":
        draw = random.Random(config.seed * 1_000_003 + worker_index * 7_919 + step).random()
        if draw < config.straggler_prob:
            factor = config.straggler_factor
    factor *= injected_factor  # a "slow" fault from the instructor
    sleep_ms = config.emulated_compute_ms + (factor - 1) * (real_ms + config.emulated_compute_ms)
    if sleep_ms > 0:
        time.sleep(sleep_ms / 1e3)
    return sleep_ms, factor > 1
