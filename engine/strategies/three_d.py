"""3-D parallelism: data × pipeline × tensor, the three at once on dp · pp · tp processes.

The processes form a mesh of dp × pp × tp. Each process sits at coordinates (d, p, t)
and belongs to three groups, one along each axis of the mesh:

- its **tensor** group (same d and p, every t): together they hold one pipeline stage,
  every transformer block of it split Megatron-style (tensor_parallel.py), with the f/g
  all-reduces of the activations in every block, forward and backward;
- its **pipeline** group (same d and t, every p): stage p receives the activations of
  stage p − 1 and sends its own on, micro-batch by micro-batch, in the GPipe or 1F1B
  order (pipeline.py, pipeline_schedules.py) — each stage talks to the process of the
  *same* t in the next stage, whose slice of the activations' gradient it matches;
- its **data** group (same p and t, every d): dp replicas of the whole pipeline, each
  training on its share of the step's batch; after the backward, each process averages
  its gradients with the processes holding the same slice of the same stage in the other
  replicas (one all-reduce over the data group), and all replicas take the same step.

Rank layout, as in Megatron-LM: tensor innermost, then pipeline, then data,
``rank = (d · pp + p) · tp + t``. The tensor all-reduces are the most frequent and the
largest (four per block per micro-batch), so their group gets neighbouring ranks — on a
cluster, the GPUs of one server joined by NVLink; the data all-reduce happens once per
step and can cross servers (Narayanan et al. 2021, §3.3 and Fig. 13).

``batch_size`` is the whole step's batch: each data replica takes batch_size / dp of it
(dealt out as DistributedSampler does, engine/data.py), and cuts its share into the
micro-batches. So the run computes what one process computes on the whole batch
(tests/test_three_d.py).

References: Narayanan et al., "Efficient Large-Scale Language Model Training on GPU
Clusters Using Megatron-LM", SC 2021 (PTD-P: pipeline, tensor and data parallelism);
Shoeybi et al., "Megatron-LM", 2019; Huang et al., "GPipe", NeurIPS 2019.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from engine.comms import Group
from engine.data import batch_indices
from engine.options import choice, integer
from engine.strategies.base import StepResult, WorkerContext
from engine.strategies.pipeline import Pipeline
from engine.strategies.pipeline_schedules import SCHEDULES
from engine.strategies.spec import StrategySpec, parts_checkpoint
from engine.strategies.tensor_parallel import ShardComms, ShardedBlock

KINDS = ("data", "pipeline", "tensor")  # the three axes of the mesh, outermost first


@dataclass(frozen=True, slots=True)
class Mesh:
    """Who is where: computed once from the sizes, the same on every process (like
    torchtitan's ``ParallelDims``). Tensor innermost, then pipeline, then data."""

    dp: int
    pp: int
    tp: int

    @property
    def size(self) -> int:
        return self.dp * self.pp * self.tp

    def rank_of(self, d: int, p: int, t: int) -> int:
        return (d * self.pp + p) * self.tp + t

    def coords(self, rank: int) -> tuple[int, int, int]:
        d, rest = divmod(rank, self.pp * self.tp)
        p, t = divmod(rest, self.tp)
        return d, p, t

    def group_of(self, kind: str, rank: int) -> list[int]:
        """The ranks of ``rank``'s group of this kind: the others differ along one axis."""
        d, p, t = self.coords(rank)
        if kind == "data":
            return [self.rank_of(i, p, t) for i in range(self.dp)]
        if kind == "pipeline":
            return [self.rank_of(d, i, t) for i in range(self.pp)]
        assert kind == "tensor", kind
        return [self.rank_of(d, p, i) for i in range(self.tp)]

    def groups(self, kind: str) -> list[list[int]]:
        """Every group of this kind, each once, in rank order."""
        seen: list[list[int]] = []
        for rank in range(self.size):
            group = self.group_of(kind, rank)
            if group not in seen:
                seen.append(group)
        return seen

    def describe(self) -> list[dict[str, Any]]:
        """For the ``mesh`` event: every rank's coordinates and its three groups."""
        return [{"rank": r, "coords": list(self.coords(r)),
                 "groups": {kind: self.group_of(kind, r) for kind in KINDS}}
                for r in range(self.size)]


@dataclass(frozen=True, kw_only=True)
class ThreeDOptions:
    dp: int = integer(
        2, 1, 8, label={"en": "Data-parallel size dp", "zh": "数据并行规模 dp"},
        help={"en": "How many replicas of the whole pipeline, each on its share of the "
                    "batch; their gradients are all-reduced after the backward.",
              "zh": "整条流水线有几个副本，各自处理批次的一部分；反向之后对梯度做全归约。"})
    pp: int = integer(
        2, 1, 8, label={"en": "Pipeline stages pp", "zh": "流水线阶段数 pp"},
        help={"en": "How many stages the transformer's layers are cut into.",
              "zh": "Transformer 的层切成几个阶段。"})
    tp: int = integer(
        2, 1, 8, label={"en": "Tensor-parallel size tp", "zh": "张量并行规模 tp"},
        help={"en": "How many processes share every block of a stage (attention by heads, "
                    "the MLP by columns then rows). dp × pp × tp must equal workers.",
              "zh": "每个阶段的每个块由几个进程分担（注意力按头，MLP 先按列再按行）。"
                    "dp × pp × tp 必须等于进程数。"})
    schedule: str = choice(
        "1f1b", tuple(SCHEDULES), label={"en": "Schedule", "zh": "调度"},
        help={"en": "The pipeline's order of forwards and backwards: GPipe or 1F1B.",
              "zh": "流水线中前向与反向的顺序：GPipe 或 1F1B。"},
        labels={"gpipe": {"en": "GPipe", "zh": "GPipe"},
                "1f1b": {"en": "1F1B (PipeDream-Flush)", "zh": "1F1B（PipeDream-Flush）"}})
    micro_batches: int = integer(
        2, 1, 32, label={"en": "Micro-batches m", "zh": "微批次数 m"},
        help={"en": "How many pieces each replica's share of the batch is cut into.",
              "zh": "每个副本分到的批次切成几份。"})


def _check(config: Any) -> None:
    o = config.opts
    if o.dp * o.pp * o.tp != config.workers:
        raise ValueError(f"options: dp × pp × tp = {o.dp} × {o.pp} × {o.tp} = "
                         f"{o.dp * o.pp * o.tp}, but workers is {config.workers}: the mesh "
                         "must hold every process exactly once")
    if config.batch_size % (o.dp * o.micro_batches):
        raise ValueError(f"batch_size ({config.batch_size}) must split into dp × "
                         f"micro_batches = {o.dp} × {o.micro_batches} equal pieces")
    if config.layers < o.pp:
        raise ValueError(f"options.pp: {o.pp} stages need at least as many transformer "
                         f"blocks (layers is {config.layers})")
    if config.heads % o.tp:
        raise ValueError(f"options.tp: {o.tp} processes must share the {config.heads} "
                         "attention heads evenly")


class ThreeD(Pipeline):
    """A pipeline stage (``Pipeline``) made of tensor-parallel blocks, in one of dp
    data-parallel replicas. What is new here: the groups, the share of the batch, the
    data all-reduce, the loss and the report."""

    def setup(self, ctx: WorkerContext) -> None:
        o = ctx.config.opts
        self.mesh = Mesh(o.dp, o.pp, o.tp)
        assert self.mesh.size == ctx.topo.world_size
        rank = ctx.topo.rank
        self.d, p, t = self.mesh.coords(rank)
        self.groups = {kind: self._new_group(kind, rank) for kind in KINDS}
        self.group = self.groups["pipeline"]  # Pipeline sends its messages over it
        self.tp = ShardComms(ctx.comms, ctx.clock, group=self.groups["tensor"])
        full = ctx.model
        # Every block sliced for this t; ``place`` keeps those of stage p.
        blocks = [ShardedBlock(b, i + 1, t, o.tp, self.tp) for i, b in enumerate(full.blocks)]
        ring = self.group.ranks
        self.place(ctx, stages=o.pp, stage=p, prev=ring[p - 1] if p > 0 else -1,
                   next=ring[p + 1] if p < o.pp - 1 else -1,
                   pieces=[full.embed, *blocks, full.head])
        self.sharded = [w for b in self.stage if isinstance(b, ShardedBlock)
                        for w in b.sharded_parameters()]
        if ctx.topo.is_leader:
            ctx.emit("mesh", rank=ctx.topo.me, dp=o.dp, pp=o.pp, tp=o.tp,
                     order=["tensor", "pipeline", "data"], ranks=self.mesh.describe())

    def _new_group(self, kind: str, rank: int) -> Group:
        # Every process creates every group of the kind, in the same order (a
        # collective call); each keeps the one it belongs to.
        pg, _ = dist.new_subgroups_by_enumeration(self.mesh.groups(kind))
        return Group(kind, tuple(self.mesh.group_of(kind, rank)), pg)

    def batch_of(self, step: int) -> torch.Tensor:
        """Replica d's share of the step's batch (the union over d is the whole batch)."""
        c = self.ctx.config
        return batch_indices(c.num_samples, step, c.batch_size // self.mesh.dp, c.seed,
                             self.d, self.mesh.dp)

    def reduce_gradients(self) -> None:
        """The data-parallel all-reduce: each replica's gradient is the mean loss's over
        its share; their average is the mean loss's over the whole batch. One bucket
        (all of this process's gradients flattened), averaged over its data group."""
        if self.mesh.dp == 1:
            return  # one replica: nothing to average
        grads = [w.grad for w in self.stage.parameters()]
        flat = torch.cat([g.flatten() for g in grads])
        start = self.ctx.clock()
        self.ctx.comms.all_reduce_sum(flat, op="dp_all_reduce", group=self.groups["data"])
        self.dp_record = [flat.numel() * flat.element_size(), round(start, 5),
                          round(self.ctx.clock(), 5)]
        flat /= self.mesh.dp
        for g, averaged in zip(grads, flat.split([g.numel() for g in grads]), strict=True):
            g.copy_(averaged.view_as(g))

    def share_loss(self, loss_sum: float) -> float:
        """The loss is known on the last stage of each replica, by all tp processes of
        it: one of them (t = 0) per replica contributes, and the sum over the run is the
        replicas' losses added up (control plane: its time is wait, its bytes no traffic)."""
        t = self.mesh.coords(self.ctx.topo.rank)[2]
        loss = torch.tensor([loss_sum if self.last and t == 0 else 0.0], dtype=torch.float64)
        start = self.ctx.clock()
        dist.all_reduce(loss)
        self.ctx.comms.stats.wait_ms += (self.ctx.clock() - start) * 1e3
        return float(loss) / self.mesh.dp

    def train_step(self, step: int) -> StepResult:
        self.tp.record, self.dp_record = [], []
        result = super().train_step(step)
        # The tensor all-reduces ran inside the stage's passes: communication, not compute.
        tp_ms = sum((r[5] - r[4]) * 1e3 for r in self.tp.record)
        result.compute_ms = max(0.0, result.compute_ms - tp_ms)
        result.extra = (result.extra or {}) | {
            "coords": list(self.mesh.coords(self.ctx.topo.rank)),
            "tp_allreduces": self.tp.record, "dp_allreduce": self.dp_record,
            "sent_by_group": {k: self.ctx.comms.stats.sent_by_group.get(k, 0)
                              for k in KINDS},
            "shard_checksum": float(sum(w.detach().double().sum() for w in self.sharded))}
        return result

    def _write(self, step: int) -> None:
        """The model writes through each replica's pipelines at once (Pipeline._write):
        every stage's tensor group computes its slices together, each pipeline's last
        stage tells its own stages the character; replica 0, slice 0 reports it."""
        d, _, t = self.mesh.coords(self.ctx.topo.rank)
        self.speaks_for_run = d == 0 and t == 0
        self.tp.counting = False  # not training traffic
        try:
            super()._write(step)
        finally:
            self.tp.counting = True

    def share_token(self, token: torch.Tensor) -> None:
        dist.broadcast(token, src=self.group.ranks[-1], group=self.group.pg)


SPEC = StrategySpec(
    name="three_d",
    title={"en": "3-D parallelism (data × pipeline × tensor)",
           "zh": "三维并行（数据 × 流水线 × 张量）"},
    summary={"en": "dp replicas of a pp-stage pipeline whose every stage is split across tp "
                   "processes: tensor all-reduces inside a stage, activations between stages, "
                   "a gradient all-reduce between replicas.",
             "zh": "流水线有 pp 个阶段，每个阶段切分到 tp 个进程上，整条流水线有 dp 个副本："
                   "阶段内做张量全归约，阶段间传递激活值，副本间对梯度做全归约。"},
    implementation=ThreeD,
    options=ThreeDOptions,
    workers=(1, 8),
    models=("transformer",),
    replicas=False,
    batch_per_worker=False,
    faults={"kill": None, "freeze": None, "slow": None},
    recoveries={"none": None, "restart": None},
    restart_state=parts_checkpoint,  # each process saves and reloads its own part
    views=("mesh", "schedule", "timeline", "loss", "sample"),
    # Its stages also send pipeline_stage, the type pipeline.py declares (one owner each).
    events={"mesh": {"dp": "int", "pp": "int", "tp": "int",
                     "order": "list: the axes from innermost (tensor) to outermost (data)",
                     "ranks": "list: per rank, {rank, coords: [d, p, t], groups: {data, "
                              "pipeline, tensor: [ranks]}}"}},
    check=_check,
    references=("Narayanan et al., Efficient Large-Scale Language Model Training on GPU "
                "Clusters Using Megatron-LM, SC 2021",
                "Shoeybi et al., Megatron-LM: Training Multi-Billion Parameter Language "
                "Models Using Model Parallelism, 2019",
                "Huang et al., GPipe: Efficient Training of Giant Neural Networks using "
                "Pipeline Parallelism, NeurIPS 2019"),
)
