"""Tensor parallelism with PyTorch's own library: DTensor and
``torch.distributed.tensor.parallel`` (``options.implementation = "torch"``), the same
split as ``tensor_parallel.py`` (Megatron-LM) without writing it out.

What the library does for us:

- ``init_device_mesh("cpu", (t,))``: the t processes as a one-dimensional mesh (on the
  run's gloo process group);
- ``parallelize_module(block, mesh, plan)`` turns each Linear's weight and bias into
  DTensors — tensors that know how they are laid out over the mesh. ``ColwiseParallel``
  on query, key, value and the MLP's ``up``: each process keeps rows of the weight
  (``Shard(0)``), i.e. its heads and its slice of the hidden layer. ``RowwiseParallel`` on
  ``out`` and ``down``: the matching columns (``Shard(1)``), the bias whole
  (``Replicate``). The slices are scattered from rank 0 (every rank built the same model);
- Megatron's two conjugate operations are conversions between layouts: a row-parallel
  layer's output is a partial sum (``Partial``), which it all-reduces into a whole
  (``Replicate``) in the forward pass (``g``); the gradient of a column-parallel layer's
  whole input is a partial sum, which it all-reduces in the backward pass (``f``).

One line of the plan is ours to get right: query, key and value all read the block's
normalized input. If each of the three made it a DTensor itself, the backward pass would
all-reduce three input gradients instead of their sum (6 all-reduces per block, not 4).
``PrepareModuleInput`` on the attention module makes it a DTensor once, so autograd adds
the three partial gradients first and the library all-reduces once, as Megatron's ``f``.

What it does not do for us:

- the heads: ``SelfAttention.mix`` views the query as (batch, time, heads, head_dim), and
  after the split each process holds ``heads / t`` of them, so we set ``attention.heads``
  to that (as torchtitan divides ``n_heads`` by the tensor-parallel degree);
- the SGD step: it is ours (``sgd_update``), on each parameter's local tensor — the whole
  parameter where it is replicated, this process's slice where it is sharded.

What it hides, and how this file still reports it: its all-reduces do not go through
DistLab's ``comms``. A ``TorchDispatchMode`` — PyTorch's own hook below autograd, the one
``CommDebugMode`` is built on — sees every all-reduce DTensor issues, with its tensor:
its bytes (counted as ours, as a ring all-reduce), its block and part (forward: the
attention or MLP module running; backward: the same in reverse order) and its time.
DTensor launches an all-reduce and waits for it where the result is first used; the mode
waits at once so that its time is the all-reduce's own (on a CPU the next operation uses
the result anyway). The step event has the same ``tp_allreduces`` and ``shard_checksum``
as ours.

References: Shoeybi et al., "Megatron-LM", 2019; the ``torch.distributed.tensor.parallel``
documentation (PyTorch 2.x); torchtitan's ``parallelize_llama``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import DTensor, Replicate
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    PrepareModuleInput,
    RowwiseParallel,
    parallelize_module,
)
from torch.utils._python_dispatch import TorchDispatchMode

from engine.data import batch_indices
from engine.memory import SavedActivations, memory_due, memory_of
from engine.sampling import write_sample, writing_due
from engine.strategies.base import StepResult, Stopwatch, WorkerContext, loss_of, sgd_update

ALL_REDUCE = torch.ops._c10d_functional.all_reduce.default
WAIT = torch.ops._c10d_functional.wait_tensor.default


def block_plan() -> dict[str, Any]:
    """How one transformer block is split (module name → its parallel style)."""
    return {
        # The block's normalized input becomes a DTensor once, for query, key and value.
        "attention": PrepareModuleInput(input_layouts=(Replicate(),),
                                        desired_input_layouts=(Replicate(),),
                                        use_local_output=False),
        "attention.query": ColwiseParallel(),
        "attention.key": ColwiseParallel(),
        "attention.value": ColwiseParallel(),
        "attention.out": RowwiseParallel(),
        "mlp.up": ColwiseParallel(),
        "mlp.down": RowwiseParallel(),
    }


class AllReduces(TorchDispatchMode):
    """Sees the all-reduces DTensor issues during one forward and backward pass: each
    as ``[block, part, direction, bytes, start, end]``, like ours."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self.clock = clock
        self.record: list[list[Any]] = []
        self.where: tuple[int, str] = (0, "")  # set by the blocks' forward pre-hooks
        self.forward_places: list[tuple[int, str]] = []
        self.direction = "forward"

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        if DTensor in types:  # as CommDebugMode: a DTensor operation first becomes the
            return NotImplemented  # operations on local tensors (and collectives) it runs
        if func is not ALL_REDUCE:
            return func(*args, **(kwargs or {}))
        start = self.clock()
        out = func(*args, **(kwargs or {}))
        WAIT(out)  # now rather than at first use: its time is its own
        if self.direction == "forward":
            place = self.where
            self.forward_places.append(place)
        else:  # backward runs the blocks' parts in reverse order
            place = self.forward_places.pop() if self.forward_places else (0, "")
        tensor = args[0]
        self.record.append([place[0], place[1], self.direction,
                            tensor.numel() * tensor.element_size(), round(start, 5),
                            round(self.clock(), 5)])
        return out


class LocalTensors(nn.Module):
    """This process's share of the model as plain tensors: each parameter, or a DTensor
    parameter's local tensor (the same memory). What the worker checksums and saves."""

    def __init__(self, params: list[nn.Parameter]) -> None:
        super().__init__()
        self.params = params
        with torch.no_grad():
            self.local = nn.ParameterList(
                nn.Parameter(p.to_local(), requires_grad=False) if isinstance(p, DTensor)
                else p for p in params)

    def take_gradients(self) -> None:
        for held, p in zip(self.local, self.params, strict=True):
            if held is not p:
                held.grad = p.grad.to_local()


def _local(t: torch.Tensor) -> torch.Tensor:
    """Where a tensor autograd saved keeps its data: a DTensor's is its local tensor."""
    if isinstance(t, DTensor):
        with torch.no_grad():
            return t.to_local()
    return t


class TorchTensorParallel:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        t = ctx.topo.world_size
        mesh = init_device_mesh("cpu", (t,))
        self.model = ctx.model
        self.watch = AllReduces(ctx.clock)
        for i, block in enumerate(self.model.blocks):
            parallelize_module(block, mesh, block_plan())
            block.attention.heads //= t  # the library splits weights, not the model's code
            for part in ("attention", "mlp"):
                getattr(block, part).register_forward_pre_hook(self._entering(i + 1, part))
        params = list(self.model.parameters())
        self.held = LocalTensors(params)
        ctx.model = self.held  # what this process holds: replicated parts + its slices
        with torch.no_grad():
            self.sharded = [p.to_local() for p in params if isinstance(p, DTensor)
                            and any(pl.is_shard() for pl in p.placements)]

    def _entering(self, block: int, part: str) -> Callable[..., None]:
        def hook(_module: nn.Module, _args: Any) -> None:
            self.watch.where = (block, part)
        return hook

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        idx = batch_indices(ctx.config.num_samples, step, ctx.config.batch_size,
                            ctx.config.seed)  # the same whole batch on every process
        x, y = ctx.data.x[idx], ctx.data.y[idx]
        self.watch.record, self.watch.forward_places = [], []
        saved = SavedActivations(local=_local) if memory_due(step, ctx.config.steps) else None
        with Stopwatch() as compute:
            self.model.zero_grad(set_to_none=False)
            with self.watch:
                self.watch.direction = "forward"
                with saved.hooks() if saved is not None else contextlib.nullcontext():
                    loss = loss_of(self.model(x), y)
                self.watch.direction = "backward"
                loss.backward()
            self.held.take_gradients()
            grad_norm = sgd_update(self.held, ctx.config.lr)
        record = self.watch.record
        n = ctx.topo.world_size
        for block, _, direction, size, start, end in record:  # as Comms.all_reduce_sum
            ring = 2 * (n - 1) * size // n
            ctx.comms.library(f"tp_{direction}", sent=ring, recv=ring,
                              peer=ctx.topo.ring_next, chunk=block,
                              elapsed_ms=(end - start) * 1e3)
        comm_ms = sum((r[5] - r[4]) * 1e3 for r in record)
        shard_sum = float(sum(p.double().sum() for p in self.sharded))
        if writing_due(ctx.config, step):  # every process computes its slices of it
            fields = write_sample(self.model, ctx.data, ctx.config.context)
            if ctx.topo.is_leader:
                ctx.emit("sample", rank=ctx.topo.me, step=step, **fields)
        return StepResult(
            loss=float(loss.detach()), grad_norm=grad_norm,
            compute_ms=max(0.0, compute.ms - comm_ms), samples=len(idx),
            extra={"tp_allreduces": record, "shard_checksum": shard_sum,
                   **({"memory": memory_of(self.held, saved.peak)} if saved else {})})
