"""What a strategy's code works with, and the two ways a strategy runs.

- ``StepStrategy`` (``loop="step"`` in its spec): the worker's own loop paces, pauses
  and reports; the strategy only does one step, ``train_step(step)``. Data parallelism.
- ``LoopStrategy`` (``loop="own"``): ``run(ctx, runtime)`` owns the loop, for strategies
  whose processes do not move in lock step (a parameter server serves whoever asks).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from engine.comms import Comms
from engine.control import ControlState
from engine.data import Dataset, batch_indices
from engine.memory import SavedActivations
from engine.topology import Topology

if TYPE_CHECKING:
    from engine.config import RunConfig


@dataclass(slots=True)
class WorkerContext:
    """Everything a strategy may use, built once by the worker."""

    config: RunConfig
    topo: Topology
    comms: Comms
    model: nn.Module
    data: Dataset
    data_rank: int  # which share of each global batch is this rank's (workers only)
    data_world: int  # how many workers share each global batch
    control: ControlState  # the user's controls, and faults aimed at this rank
    emit: Callable[..., None]  # emit(type, **fields): an event from a strategy
    clock: Callable[[], float] = time.monotonic
    """Seconds on the run's clock (events' ``t``): the same on every process of the run."""
    show_model: Callable[[nn.Module, int], None] = lambda _model, _step: None
    """``show_model(model, step)``: show the whole model as of ``step`` (the decision
    boundary, the transformer's writing) when due; the worker's loop does it for
    strategies whose processes hold replicas, a strategy that splits or shards the model
    calls it while it has the whole model in hand."""
    regrouped: bool = False
    """This group replaces an earlier one (an elastic run after a failure or a rejoin):
    the members keep what they learned, ``setup`` must not start them over."""
    joining: bool = False
    """This process was started to join a run that has trained already (a worker added
    back): it holds nothing learned yet, and takes it from the others in ``setup``."""

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's part of step ``step``'s global batch (``engine/data.py``)."""
        idx = batch_indices(self.config.num_samples, step, self.config.batch_size,
                            self.config.seed, self.data_rank, self.data_world)
        return self.data.x[idx].to(self.topo.device), self.data.y[idx].to(self.topo.device)


@dataclass(slots=True)
class StepResult:
    loss: float
    grad_norm: float
    compute_ms: float
    samples: int
    extra: dict[str, Any] | None = None
    """Strategy-specific fields added to the step event (e.g. compression metrics)."""
    phases: list[tuple[str, float]] | None = None
    """The step's phases in order, ``[(name, ms), …]``, when they are not the usual
    wait → compute → emulated → comm (the worker's loop fills those in itself)."""


def step_phases(*phases: tuple[str, float]) -> list[list[Any]]:
    """Phases as the step event carries them: ``[[name, ms], …]`` in order, only those
    that took time (the timeline and the trace export draw exactly these)."""
    return [[name, rounded] for name, ms in phases if (rounded := round(ms, 4)) > 0]


class StepStrategy(Protocol):
    """Runs one step at a time; the worker's loop does the rest (``loop="step"``)."""

    def setup(self, ctx: WorkerContext) -> None:
        """Once per process group (again after an elastic regroup)."""

    def train_step(self, step: int) -> StepResult:
        """One optimizer step (from 1) on this rank."""


class SavesOptimizerState(Protocol):
    """A step strategy whose optimizer keeps state a restart needs (``optimizer_state=True``
    in its spec; ZeRO's Adam): the worker's checkpoints carry what this returns, and a
    restarted worker gives it back after ``setup``. Without it Adam would restart from
    m = v = 0 and t = 0, and the run would not end where an unbroken one ends."""

    def optimizer_state(self) -> dict[str, Any]:
        """This process's optimizer state (copies: tensors, lists of tensors, ints)."""

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        """Take the state back; ``ValueError`` if it does not fit this process."""


class LoopStrategy(Protocol):
    """Owns its loop (``loop="own"``): emits its own step events, waits at ``runtime.gate``
    before each step, and returns when done or stopped."""

    def run(self, ctx: WorkerContext, runtime: Any) -> None: ...


def loss_of(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over every prediction: one per sample (the MLP's class), or one
    per position of every window (the transformer's next character)."""
    return F.cross_entropy(output.flatten(0, -2), y.flatten())


def local_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                    saved: SavedActivations | None = None) -> float:
    """Forward and backward on one batch; leaves the mean-loss gradient in ``p.grad``.
    ``saved``: count the activations autograd keeps for backward (engine/memory.py)."""
    model.zero_grad(set_to_none=False)
    with saved.hooks() if saved is not None else contextlib.nullcontext():
        loss = loss_of(model(x), y)
    loss.backward()
    return float(loss.detach())


@torch.no_grad()
def sgd_update(model: nn.Module, lr: float,
               params: list[nn.Parameter] | None = None) -> float:
    """Plain SGD, ``p ← p − lr·g``; returns the norm of the gradient applied.

    The same arithmetic as a loop of ``p.add_(p.grad, alpha=-lr)``, done as one batched
    ("foreach") operation over all parameters, as ``torch.optim.SGD`` does: at full speed
    the per-parameter Python loop cost more than the update itself."""
    params = list(model.parameters()) if params is None else params
    grads = [p.grad for p in params]
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_add_(params, grads, alpha=-lr)
    return float(norm)


def flat_parameters(params: list[nn.Parameter]) -> tuple[torch.Tensor, torch.Tensor]:
    """All the parameters in one flat vector and their gradients in another, each
    ``p.data`` and ``p.grad`` a view into them (as DDP's gradient_as_bucket_view and FSDP's
    flat parameter): a collective on the model, a shard of it (a slice), or the model sent
    to a neighbour is then one tensor, with nothing copied in or out. Returns
    ``(flat, grads)``; training goes on through the parameters as before."""
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    grads = torch.zeros_like(flat)
    offset = 0
    for p in params:
        p.data = flat[offset:offset + p.numel()].view_as(p)
        p.grad = grads[offset:offset + p.numel()].view_as(p)
        offset += p.numel()
    return flat, grads


@torch.no_grad()
def grad_norm_of(grads: list[torch.Tensor]) -> float:
    return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))))


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
                 injected_factor: float = 1.0,
                 pace: float | None = None) -> tuple[float, bool]:
    """Sleep as if the step's compute were heavier, and slower on a straggler.

    Returns the milliseconds slept and whether this step was slowed. Sleeping is an
    emulation (the UI labels it): our models are tiny, real clusters' are not.

    A k× straggler takes k times as long as a step takes. At a human ``pace`` a step
    takes 1/pace seconds, not the millisecond our tiny model computes in, so the
    straggler is slowed relative to that: otherwise a 5× straggler at 8 steps/s sleeps
    a few milliseconds inside its 125 ms and nobody sees it.
    """
    factor = 1.0
    if config.straggler == "one" and worker_index == config.straggler_rank:
        factor = config.straggler_factor
    elif config.straggler == "random":
        draw = random.Random(config.seed * 1_000_003 + worker_index * 7_919 + step).random()
        if draw < config.straggler_prob:
            factor = config.straggler_factor
    factor *= injected_factor  # a "slow" fault from the instructor
    step_ms = real_ms + config.emulated_compute_ms
    if pace:
        step_ms = max(step_ms, 1e3 / pace)
    sleep_ms = config.emulated_compute_ms + (factor - 1) * step_ms
    if sleep_ms > 0:
        time.sleep(sleep_ms / 1e3)
    return sleep_ms, factor > 1
