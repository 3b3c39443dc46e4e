"""ZeRO with PyTorch's own library (``options.implementation = "torch"``): what people use
in place of the stages written out in ``zero.py``.

- stage 1: ``DistributedDataParallel`` all-reduces the gradients (in buckets, during the
  backward pass) and ``torch.distributed.optim.ZeroRedundancyOptimizer`` wraps
  ``torch.optim.Adam``: each process keeps Adam's state for its own parameters only,
  steps them, and broadcasts them to the others. DDP rather than our flat all-reduce,
  because DDP is what the library's documentation pairs it with and what a student will
  meet; it also broadcasts rank 0's weights at the start, as ours does. Two differences
  from ours that the memory view shows: the optimizer shares out *whole parameters*
  (largest first, each to the process holding least so far), not equal slices of one
  flat vector, so the shares are uneven (and a process may get none); and its broadcasts,
  one per parameter from its owner, do the work of our all-gather.
- stage 3: FSDP2, ``torch.distributed.fsdp.fully_shard`` (FSDP1 does not run on a CPU):
  every parameter becomes a DTensor sharded along its first dimension (``torch.chunk``:
  the last processes may get a smaller piece, or none). The model is gathered *unit by
  unit* — each transformer block, each of the MLP's layers, and the root with what is
  left — just before the unit's forward, freed after it, gathered again for its backward,
  and its gradient reduce-scattered: the paper's 1.5× data parallelism's bytes, where
  ours gathers the whole model once and keeps it (1×, more memory at the peak).
- stage 2: FSDP2 with ``reshard_after_forward=False``, the library's nearest thing
  (FSDP1 called it SHARD_GRAD_OP, "ZeRO-2-like"). Each unit is gathered once, kept from
  its forward through its backward, and the gradients are reduce-scattered: the bytes and
  the peak of ZeRO-2 (one all-gather and one reduce-scatter a step). But it is not
  ZeRO-2 between steps: FSDP2 frees the gathered parameters after the backward pass and
  updates only its shard, so a process holds 1/N of the parameters at rest (ZeRO-3's
  memory), where ZeRO-2 keeps the whole model. The memory view shows exactly that.

The optimizer is ``torch.optim.Adam``: the same formula as ours (``optimizers.Adam``) with the
operations in another order, so float32 rounding apart (tests/test_torch_zero.py).

What the library hides, and how this file still reports it:

- its collectives do not go through DistLab's ``comms``. A ``TorchDispatchMode`` (as in
  ``tensor_parallel_torch.py``; CommDebugMode is built on the same hook) sees every
  c10d collective the library issues, with its tensors: each is reported as ``comm``
  traffic under its own name, counted as a ring algorithm would move it (gloo's own
  algorithms are inside the library), and timed: the mode waits for it at once, where
  the library would wait at first use. FSDP2's all-gathers include its padding (a shard
  is ``ceil(rows / N)`` rows). DDP's own bookkeeping is counted too: on the second step
  it broadcasts the bucket order it settled on (a few bytes of indices).
- memory by kind is read from the DTensors' local shards (parameters, gradients, Adam's
  ``exp_avg`` and ``exp_avg_sq``; its scalar ``step`` is left out). ``gathered_params``
  is the most parameter bytes unsharded at once, looked at as each unit's forward begins
  (the backward pass, with its prefetch of the next unit, is not looked at). Activations
  are counted as for ours, by the address of what autograd saves; at stage 3 FSDP2 frees
  a unit's gathered weights after its forward, and a tensor saved later at the same
  address is taken for one already counted: an undercount of up to a unit's weights,
  which may differ from process to process.
- the whole model, for the decision boundary and the writing: the leader copies each
  unit's parameters while the library has them gathered (a forward pre-hook), into a
  plain copy of the model it shows — a display copy, not counted as training memory.

What it will not do here: a network model cannot delay messages it does not carry
(``zero.py``'s check refuses it).

References: the ``ZeroRedundancyOptimizer`` and ``torch.distributed.fsdp.fully_shard``
documentation (PyTorch 2.x); Rajbhandari et al., "ZeRO", SC 2020; Zhao et al.,
"PyTorch FSDP", VLDB 2023; torchtitan's ``apply_fsdp``.
"""

from __future__ import annotations

import contextlib
import copy
import time
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.optim import ZeroRedundancyOptimizer
from torch.distributed.tensor import DTensor
from torch.nn.parallel import DistributedDataParallel
from torch.utils._python_dispatch import TorchDispatchMode

from engine.memory import SavedActivations, memory_due
from engine.strategies.base import StepResult, WorkerContext, grad_norm_of, loss_of

C10D = torch.ops.c10d
COLLECTIVES = {C10D.allreduce_.default: "all_reduce",
               C10D._allgather_base_.default: "all_gather",
               C10D._reduce_scatter_base_.default: "reduce_scatter",
               C10D.broadcast_.default: "broadcast"}
RING_SHARE = {"all_reduce": 2, "all_gather": 1, "reduce_scatter": 1, "broadcast": 1}
"""A ring moves (n − 1)/n of the whole tensor per process for an all-gather or a
reduce-scatter, twice that for an all-reduce; a broadcast from each owner in turn adds up
to an all-gather, so each counts (n − 1)/n of its tensor."""


def _nbytes(tensors: Any) -> int:
    tensors = tensors if isinstance(tensors, list | tuple) else [tensors]
    return sum(t.numel() * t.element_size() for t in tensors)


class Collectives(TorchDispatchMode):
    """Sees the c10d collectives issued while it is on: each as ``[op, bytes, start,
    end]``, ``bytes`` being the whole tensor (an all-gather's output, a reduce-scatter's
    input)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self.clock = clock
        self.record: list[list[Any]] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        if DTensor in types:  # a DTensor operation first becomes operations on local
            return NotImplemented  # tensors (and the collectives it runs)
        op = COLLECTIVES.get(func)
        if op is None:
            return func(*args, **(kwargs or {}))
        start = self.clock()
        out = func(*args, **(kwargs or {}))
        out[-1].wait()  # the Work: now rather than at first use, so its time is its own
        whole = args[1] if op == "reduce_scatter" else args[0]
        self.record.append([op, _nbytes(whole), start, self.clock()])
        return out


def units_of(model: nn.Module) -> list[nn.Module]:
    """What FSDP2 gathers one at a time (torchtitan's choice): each transformer block,
    or each layer of the MLP that has parameters; the root takes the rest."""
    blocks = getattr(model, "blocks", None)
    if blocks is not None:
        return list(blocks)
    return [m for m in model.children() if any(True for _ in m.parameters())]


class LocalShards(nn.Module):
    """This process's share of the model as plain tensors (each DTensor parameter's local
    shard, the same memory): what the worker checksums. FSDP2 keeps its parameter
    objects and updates them in place, so these stay current."""

    def __init__(self, params: list[nn.Parameter]) -> None:
        super().__init__()
        with torch.no_grad():
            self.local = nn.ParameterList(nn.Parameter(p.to_local(), requires_grad=False)
                                          for p in params)


def _local(t: torch.Tensor) -> torch.Tensor:
    if isinstance(t, DTensor):
        with torch.no_grad():
            return t.to_local()
    return t


def _bytes_of(tensors: Any) -> int:
    return sum(_local(t).numel() * _local(t).element_size() for t in tensors)


def adam_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Adam's m and v held by this process (``exp_avg``, ``exp_avg_sq``)."""
    return _bytes_of(t for state in optimizer.state.values()
                     for key, t in state.items() if key in ("exp_avg", "exp_avg_sq"))


class TorchZero:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self.stage = int(ctx.config.opts.stage)
        self.n = ctx.topo.world_size
        self.watch = Collectives(ctx.clock)
        self.model = ctx.model
        self.params = list(self.model.parameters())
        self.shown: nn.Module | None = None
        self.measuring, self.gathered_peak = False, 0  # set per step (memory_due)
        if self.stage == 1:
            # gradient_as_bucket_view: the gradients are views into DDP's buckets (as ours
            # into one flat vector), not a second copy.
            self.trained = DistributedDataParallel(self.model, gradient_as_bucket_view=True)
            self.optimizer = ZeroRedundancyOptimizer(
                self.params, optimizer_class=torch.optim.Adam, lr=ctx.config.lr)
            self.local_optimizer = self.optimizer.optim
            self.shown = self.model  # every process holds the whole model
        else:
            self._fully_shard(ctx)
            self.trained = self.model
            self.optimizer = torch.optim.Adam(self.params, lr=ctx.config.lr)
            self.local_optimizer = self.optimizer
            ctx.model = LocalShards(self.params)  # what this process holds between steps

    def _fully_shard(self, ctx: WorkerContext) -> None:
        """FSDP2 on each unit, then the root. Every process built the same seeded model,
        so each keeps its own shard of it (FSDP2 does not broadcast; ours does)."""
        mesh = init_device_mesh("cpu", (self.n,))
        # TinyGPT returns its logits as a view; FSDP2 warns that an in-place change of it
        # would skip a hook. Nothing changes it in place (loss_of flattens and reads it).
        warnings.filterwarnings("ignore", message=r"FSDP2-wrapped module .* returned a view")
        units = units_of(self.model)
        names = {id(p): name for name, p in self.model.named_parameters()}
        owned = {u: [names[id(p)] for p in u.parameters()] for u in units}
        in_units = {name for unit_names in owned.values() for name in unit_names}
        owned[self.model] = [n for n in names.values() if n not in in_units]
        shadow = copy.deepcopy(self.model) if ctx.topo.is_leader else None
        prefix = {u: name for name, u in self.model.named_modules()}
        keep = self.stage == 3  # stage 2: keep each unit gathered through its backward
        for unit in [*units, self.model]:
            fully_shard(unit, mesh=mesh, reshard_after_forward=keep)
        self.params = list(self.model.parameters())  # now DTensors: this process's shards
        # Each unit's own parameters by their names inside it ("0.weight" → "weight").
        inside = {u: [n.removeprefix(prefix[u] + ".") if prefix[u] else n for n in owned[u]]
                  for u in owned}
        self.places = [(u, n) for u in inside for n in inside[u]]
        for unit in owned:  # registered after FSDP2's own: the unit is gathered by then
            unit.register_forward_pre_hook(self._gathered(unit, inside[unit], owned[unit],
                                                          shadow))
        if shadow is not None:
            self.shown = shadow

    def _gathered(self, unit: nn.Module, local: list[str], full: list[str],
                  shadow: nn.Module | None) -> Callable[..., None]:
        def hook(_module: nn.Module, _args: Any) -> None:
            if self.measuring:  # every parameter unsharded right now, in any unit
                held = sum(_nbytes(p) for u, n in self.places
                           if not isinstance(p := u.get_parameter(n), DTensor))
                self.gathered_peak = max(self.gathered_peak, held)
            if shadow is not None:  # every step: a copy of a tiny model costs little
                with torch.no_grad():
                    for mine, whole in zip(local, full, strict=True):
                        shadow.get_parameter(whole).copy_(unit.get_parameter(mine))
        return hook

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        x, y = ctx.batch(step)
        self.watch.record = []
        self.measuring, self.gathered_peak = memory_due(step, ctx.config.steps), 0
        saved = SavedActivations(local=_local) if self.measuring else None
        started = time.perf_counter()
        self.trained.zero_grad(set_to_none=self.stage > 1)  # DDP's views stay in place
        with self.watch:
            with saved.hooks() if saved is not None else contextlib.nullcontext():
                loss = loss_of(self.trained(x), y)
            loss.backward()
        grads = [p.grad for p in self.params if p.grad is not None]
        grads_bytes = _bytes_of(grads)
        norm_started = time.perf_counter()
        grad_norm = self._grad_norm(grads)  # outside the watch: ours, not the library's
        norm_ms = (time.perf_counter() - norm_started) * 1e3  # waiting (wait_ms)
        with self.watch:
            self.optimizer.step()  # stage 1: and the owners' broadcasts
        step_ms = (time.perf_counter() - started) * 1e3
        comm_ms = self._report(self.watch.record)
        if self.shown is not None:  # stage 1: the new model; 2, 3: as used this step
            ctx.show_model(self.shown, step)
        extra: dict[str, Any] = {"zero_stage": self.stage}
        if saved is not None:
            extra["memory"] = {
                "params": _bytes_of(self.params), "grads": grads_bytes,
                "optimizer": adam_state_bytes(self.local_optimizer),
                "activations": saved.peak, "gathered_params": self.gathered_peak}
        return StepResult(loss=float(loss.detach()), grad_norm=grad_norm,
                          compute_ms=max(0.0, step_ms - comm_ms - norm_ms), samples=len(y),
                          extra=extra)

    def _grad_norm(self, grads: list[torch.Tensor]) -> float:
        """The norm of the whole averaged gradient. Stage 1: every process has it all.
        FSDP2: from the shards' squared norms (a tiny exchange on the control plane, as
        ``zero.py`` does; not training traffic)."""
        if self.stage == 1:
            return grad_norm_of(grads)
        squares = torch.zeros(self.n, dtype=torch.float64)
        local = [_local(g) for g in grads if _local(g).numel()]
        squares[self.ctx.topo.rank] = grad_norm_of(local) ** 2 if local else 0.0
        self.ctx.comms.agree_max(squares)  # each entry is set by one rank: max = gather
        return float(squares.sum().sqrt())

    def _report(self, record: list[list[Any]]) -> float:
        """The library's collectives as ``comm`` traffic; returns their milliseconds."""
        n, comms, total = self.n, self.ctx.comms, 0.0
        for op, size, start, end in record:
            moved = RING_SHARE[op] * (n - 1) * size // n
            elapsed = (end - start) * 1e3
            comms.library(op, sent=moved, recv=moved, peer=self.ctx.topo.ring_next,
                          elapsed_ms=elapsed)
            total += elapsed
        return total
