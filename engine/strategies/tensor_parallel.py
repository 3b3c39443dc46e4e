"""Tensor parallelism (Megatron-LM): every transformer block split across t processes.

Each process holds all the blocks, but only a slice of each (Shoeybi et al. 2019, §3):

- attention: its share of the heads — the columns of the query, key and value
  projections that make those heads — and the matching rows of the output projection;
- MLP: a slice of the hidden layer — columns of the first matrix ("column-parallel"),
  the matching rows of the second ("row-parallel").

A column-parallel matrix needs the whole input and gives a slice of the output; the
row-parallel one after it takes that slice and gives a *partial sum* of the whole output.
So per attention and per MLP, in every block:

- forward: one all-reduce adds the partial sums (``g`` in the paper), then the bias;
- backward: one all-reduce adds the gradients of the input that each slice produced
  (``f``: identity in the forward pass, all-reduce in the backward pass).

Four all-reduces per block per step, each of the activations' size (batch × context ×
d_model floats). Everything else — the embedding, the layer norms, the head, the biases
after a sum — is replicated and sees the same inputs everywhere, so its gradient is the
same on every process without any communication. Every process trains on the same batch
(no data parallelism here), and ends each step exactly where one process would.

``options.implementation = "torch"`` makes the same split with PyTorch's own library
(DTensor, ``ColwiseParallel`` / ``RowwiseParallel``): ``tensor_parallel_torch.py``.

Reference: Shoeybi et al., "Megatron-LM: Training Multi-Billion Parameter Language Models
Using Model Parallelism", 2019.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from engine.comms import Comms, Group
from engine.data import batch_indices
from engine.memory import SavedActivations, memory_due, memory_of
from engine.options import choice
from engine.sampling import write_sample, writing_due
from engine.strategies.base import StepResult, Stopwatch, WorkerContext, loss_of, sgd_update
from engine.strategies.spec import StrategySpec, chosen_by, parts_checkpoint
from engine.transformer import Block, SelfAttention


class ShardComms:
    """The two conjugate operations of Megatron-LM, with each all-reduce recorded as
    ``[block, part, direction, bytes, start, end]`` for the step event. ``group``: the
    tensor-parallel group when it is not the whole run (3-D parallelism, three_d.py)."""

    def __init__(self, comms: Comms, clock: Any, group: Group | None = None) -> None:
        self.comms, self.clock, self.group = comms, clock, group
        self.record: list[list[Any]] = []

    counting = True  # False while the model writes its sample: not training traffic

    def all_reduce(self, tensor: torch.Tensor, label: tuple[int, str], direction: str
                   ) -> None:
        if not self.counting:
            dist.all_reduce(tensor, group=None if self.group is None else self.group.pg)
            return
        start = self.clock()
        self.comms.all_reduce_sum(tensor, op=f"tp_{direction}", chunk=label[0],
                                  group=self.group)
        self.record.append([label[0], label[1], direction,
                            tensor.numel() * tensor.element_size(), round(start, 5),
                            round(self.clock(), 5)])

    def into_shards(self, x: torch.Tensor, label: tuple[int, str]) -> torch.Tensor:
        """``f``: the whole input goes to every slice; in backward, the slices' input
        gradients are summed."""
        return _IntoShards.apply(x, self, label)

    def sum_shards(self, x: torch.Tensor, label: tuple[int, str]) -> torch.Tensor:
        """``g``: the slices' partial outputs are summed; in backward, the gradient of the
        sum goes to every slice as it is."""
        return _SumShards.apply(x, self, label)


class _IntoShards(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, tp: ShardComms, label: tuple[int, str]
                ) -> torch.Tensor:
        ctx.tp, ctx.label = tp, label
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        grad = grad.contiguous().clone()
        ctx.tp.all_reduce(grad, ctx.label, "backward")
        return grad, None, None


class _SumShards(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, tp: ShardComms, label: tuple[int, str]
                ) -> torch.Tensor:
        out = x.contiguous().clone()
        tp.all_reduce(out, label, "forward")
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return grad, None, None


def _slice_linear(full: nn.Linear, rows: slice | None = None, cols: slice | None = None,
                  bias: bool = True) -> nn.Linear:
    """A Linear holding ``full``'s weight rows (output features) or columns (inputs)."""
    w = full.weight.detach()
    w = w[rows] if rows is not None else w[:, cols]
    part = nn.Linear(w.shape[1], w.shape[0], bias=bias)
    with torch.no_grad():
        part.weight.copy_(w)
        if bias:
            part.bias.copy_(full.bias.detach()[rows])
    return part


class ShardedBlock(nn.Module):
    """One transformer block, this process's slice of it (see the module's docstring)."""

    def __init__(self, full: Block, index: int, rank: int, t: int, tp: ShardComms) -> None:
        super().__init__()
        self.index, self.tp = index, tp
        att = full.attention
        heads = att.heads // t
        cols = slice(rank * heads * att.head_dim, (rank + 1) * heads * att.head_dim)
        self.norm1, self.norm2 = full.norm1, full.norm2  # replicated
        self.attention = SelfAttention(att.query.in_features, heads, att.head_dim)
        self.attention.query = _slice_linear(att.query, rows=cols)
        self.attention.key = _slice_linear(att.key, rows=cols)
        self.attention.value = _slice_linear(att.value, rows=cols)
        self.attention.out = _slice_linear(att.out, cols=cols, bias=False)
        self.attention_bias = nn.Parameter(att.out.bias.detach().clone())  # added once
        hidden = full.mlp.up.out_features // t
        mlp_cols = slice(rank * hidden, (rank + 1) * hidden)
        self.up = _slice_linear(full.mlp.up, rows=mlp_cols)
        self.down = _slice_linear(full.mlp.down, cols=mlp_cols, bias=False)
        self.down_bias = nn.Parameter(full.mlp.down.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        where = (self.index, "attention")
        h = self.tp.into_shards(self.norm1(x), where)
        x = x + self.tp.sum_shards(self.attention.out(self.attention.mix(h)), where) \
            + self.attention_bias
        where = (self.index, "mlp")
        h = self.tp.into_shards(self.norm2(x), where)
        return x + self.tp.sum_shards(self.down(F.gelu(self.up(h))), where) + self.down_bias

    def sharded_parameters(self) -> list[nn.Parameter]:
        """The parameters that are this process's slice (the rest are replicated)."""
        att = self.attention
        return [*att.query.parameters(), *att.key.parameters(), *att.value.parameters(),
                att.out.weight, *self.up.parameters(), self.down.weight]


@dataclass(frozen=True, kw_only=True)
class TensorParallelOptions:
    implementation: str = choice(
        "ours", ("ours", "torch"),
        label={"en": "Implementation", "zh": "实现"},
        help={"en": "Ours: the slices and the two all-reduces written out on this page "
                    "(tensor_parallel.py). PyTorch: the library people use, DTensor with "
                    "ColwiseParallel / RowwiseParallel: the same split, the same numbers, "
                    "the all-reduces done by the library (tensor_parallel_torch.py).",
              "zh": "我们的：本页逐行写出的切片与两次全归约（tensor_parallel.py）。PyTorch："
                    "实际常用的库，DTensor 加 ColwiseParallel / RowwiseParallel：同样的切分、"
                    "同样的结果，全归约由库完成（tensor_parallel_torch.py）。"},
        labels={"ours": {"en": "Ours (readable)", "zh": "我们的（可读版）"},
                "torch": {"en": "PyTorch (DTensor)", "zh": "PyTorch（DTensor）"}})


def _check(config: Any) -> None:
    t = config.workers
    if config.heads % t:
        raise ValueError(f"workers: {t} processes must share the {config.heads} attention "
                         f"heads evenly (heads is {config.heads})")
    if config.opts.implementation == "torch" and config.network is not None:
        raise ValueError("network: the library sends its own messages, outside DistLab's "
                         "network model; implementation 'torch' runs without one")


class TensorParallel:
    shard_comms = ShardComms  # what a subclass may replace (tests/strategies/)

    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        t, rank = ctx.topo.world_size, ctx.topo.rank
        self.tp = self.shard_comms(ctx.comms, ctx.clock)
        full = ctx.model
        self.blocks = nn.ModuleList(ShardedBlock(b, i + 1, rank, t, self.tp)
                                    for i, b in enumerate(full.blocks))
        self.model = nn.Sequential(full.embed, *self.blocks, full.head)
        ctx.model = self.model  # what this process holds: replicated parts + its slices
        self.sharded = [p for b in self.blocks for p in b.sharded_parameters()]

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        idx = batch_indices(ctx.config.num_samples, step, ctx.config.batch_size,
                            ctx.config.seed)  # the same whole batch on every process
        x, y = ctx.data.x[idx], ctx.data.y[idx]
        self.tp.record = []
        saved = SavedActivations() if memory_due(step, ctx.config.steps) else None
        with Stopwatch() as compute:
            self.model.zero_grad(set_to_none=False)
            with saved.hooks() if saved is not None else contextlib.nullcontext():
                loss = loss_of(self.model(x), y)
            loss.backward()
            grad_norm = sgd_update(self.model, ctx.config.lr)
        comm_ms = sum((r[5] - r[4]) * 1e3 for r in self.tp.record)
        shard_sum = float(sum(p.detach().double().sum() for p in self.sharded))
        if writing_due(ctx.config, step):  # every process computes its slices of it
            self.tp.counting = False
            fields = write_sample(self.model, ctx.data, ctx.config.context)
            self.tp.counting = True
            if ctx.topo.is_leader:
                ctx.emit("sample", rank=ctx.topo.me, step=step, **fields)
        return StepResult(
            loss=float(loss.detach()), grad_norm=grad_norm,
            compute_ms=max(0.0, compute.ms - comm_ms), samples=len(idx),
            extra={"tp_allreduces": self.tp.record, "shard_checksum": shard_sum,
                   **({"memory": memory_of(self.model, saved.peak)} if saved else {})})


def _torch_tensor_parallel() -> Any:  # imported only when chosen: the library is big
    from engine.strategies.tensor_parallel_torch import TorchTensorParallel

    return TorchTensorParallel()


SPEC = StrategySpec(
    name="tensor_parallel",
    title={"en": "Tensor parallelism (Megatron-LM)", "zh": "张量并行（Megatron-LM）"},
    summary={"en": "Every transformer block is split across the processes: attention by "
                   "heads, the MLP by columns then rows; an all-reduce per attention and "
                   "per MLP in the forward pass, and one each in the backward pass.",
             "zh": "每个 Transformer 块都切分到各个进程：注意力按头切分，MLP 先按列、再按行"
                   "切分；前向传播中每个注意力和每个 MLP 各做一次全归约，反向传播中也各一次。"},
    implementation=chosen_by("implementation", ours=TensorParallel, torch=_torch_tensor_parallel),
    options=TensorParallelOptions,
    workers=(2, 8),
    models=("transformer",),
    replicas=False,
    batch_per_worker=False,
    faults={"kill": None, "freeze": None, "slow": None},
    recoveries={"none": None, "restart": None},
    restart_state=parts_checkpoint,
    views=("topology", "timeline", "loss", "tp_shards", "sample"),
    events={},
    check=_check,
    references=("Shoeybi et al., Megatron-LM: Training Multi-Billion Parameter Language "
                "Models Using Model Parallelism, 2019",),
)
