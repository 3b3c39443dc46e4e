"""What a process's training holds in memory, measured: parameters, their gradients and
the activations autograd keeps for the backward pass.

Parameters and gradients are the bytes of the tensors this process holds (a pipeline
stage or a tensor-parallel slice holds only its part). Activations are counted as
autograd saves them (``torch.autograd.graph.saved_tensors_hooks``): every tensor saved
for backward, a storage saved twice counted once, released when its backward has run.
SGD keeps no optimizer state; Adam two numbers per parameter it updates. The ``memory``
field of a step event carries these numbers on the steps ``memory_due`` picks: they
hardly change from step to step, and counting costs a Python call per saved tensor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

MEMORY_EVERY = 50


def memory_due(step: int, last: int | None = None) -> bool:
    """Measure on the first step, every MEMORY_EVERY-th and the last (``last``): some state
    only fills up as the run goes (L-BFGS's history), and what a finished run is compared
    by is its memory at the end."""
    return step == 1 or step % MEMORY_EVERY == 0 or step == last


class SavedActivations:
    """Counts the bytes autograd saves for backward, per micro-batch (a tensor saved
    twice counts once), and the most held at once."""

    def __init__(self, local: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        self.by_micro: dict[int, dict[int, int]] = {}
        self.held = self.peak = 0
        # Where a saved tensor keeps its data, for tensors that wrap another (a DTensor's
        # local tensor: tensor parallelism by the library); None: in itself.
        self.local = local

    def hooks(self, micro: int = 0) -> torch.autograd.graph.saved_tensors_hooks:
        seen = self.by_micro.setdefault(micro, {})

        def pack(t: torch.Tensor) -> torch.Tensor:
            storage = (t if self.local is None else self.local(t)).untyped_storage()
            key = storage.data_ptr()
            if key not in seen:
                seen[key] = storage.nbytes()
                self.held += seen[key]
                self.peak = max(self.peak, self.held)
            return t

        return torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t)

    def release(self, micro: int = 0) -> None:
        self.held -= sum(self.by_micro.pop(micro, {}).values())


def memory_of(module: nn.Module, activations_peak: int, optimizer: Any = None
              ) -> dict[str, Any]:
    """The step event's ``memory``: bytes by kind for this process (``optimizer``: an
    optimizer with ``state_bytes()``, e.g. ``optimizers.Adam``; None: SGD keeps none)."""
    params = list(module.parameters())
    return {"params": sum(p.numel() * p.element_size() for p in params),
            "grads": sum(p.grad.numel() * p.grad.element_size() for p in params
                         if p.grad is not None),
            "optimizer": optimizer.state_bytes() if optimizer is not None else 0,
            "activations": activations_peak}
