"""Synchronous data parallelism (synchronous SGD with all-reduce).

Every rank holds a full replica of the model and its own shard of the data. One step:

1. each rank computes the gradient of the mean loss on its own batch;
2. the gradients are summed over all ranks with an all-reduce and divided by N, so every
   rank now holds the gradient of the mean loss over the *global* batch;
3. every rank applies the same SGD update, so the replicas stay identical.

That is why N workers with batch b each compute exactly what one process would compute on
the concatenated batch of N·b samples (checked in tests/test_equivalence.py).

``DataParallelNaive`` packs all gradients into one flat buffer and all-reduces it once
after the whole backward pass. Real systems (PyTorch DDP) split the buffer into buckets and
start each bucket's all-reduce while backward is still running, to overlap communication
with compute; the naive version exists because it shows the algorithm without that
optimisation in the way.

With ``compression`` set, step 2 changes: each rank encodes its gradient (QSGD, top-k,
…; see engine/compression.py), the encoded gradients are all-gathered, and every rank
decodes and averages all of them — still the same update on every rank.

References: Li et al., "PyTorch Distributed: Experiences on Accelerating Data Parallel
Training", VLDB 2020; Goyal et al., "Accurate, Large Minibatch SGD", 2017.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from engine.collectives import ALGORITHMS, all_reduce
from engine.compression import METHODS, CompressedAveraging, PowerSgdAveraging, make_compressor
from engine.memory import SavedActivations, memory_due, memory_of
from engine.model import load_flat, num_params
from engine.options import choice, flag, integer, number
from engine.strategies.base import (
    StepResult,
    Stopwatch,
    WorkerContext,
    emulate_work,
    grad_norm_of,
    local_gradients,
    sgd_update,
)
from engine.strategies.optimizers import make_optimizer
from engine.strategies.spec import Needs, StrategySpec


@dataclass(frozen=True, kw_only=True)
class DataParallelOptions:
    allreduce: str = choice(
        "builtin", ALGORITHMS,
        label={"en": "All-reduce algorithm", "zh": "全归约算法"},
        help={"en": "How gradients are summed: the process group's own algorithm, or one "
                    "written out over point-to-point messages (engine/collectives.py).",
              "zh": "梯度如何求和：进程组自带的算法，或用点对点消息写出的算法"
                    "（engine/collectives.py）。"},
        labels={"builtin": {"en": "Built-in (process group)", "zh": "内置（进程组）"},
                "ring": {"en": "Ring", "zh": "环形"},
                "tree": {"en": "Tree", "zh": "树形"},
                "naive": {"en": "Naive (via rank 0)", "zh": "朴素（经由 0 号进程）"},
                "hierarchical": {"en": "Hierarchical (inside each node, then between nodes)",
                                 "zh": "分层（先节点内，再节点间）"}})
    compression: str | None = choice(
        None, METHODS, nullable=True,
        label={"en": "Gradient compression", "zh": "梯度压缩"},
        help={"en": "Compress gradients before they travel (engine/compression.py); the "
                    "encoded gradients are all-gathered.",
              "zh": "梯度发送前先压缩（engine/compression.py）；编码后的梯度通过 all-gather "
                    "交换。"},
        labels={"fp16": {"en": "fp16 (half precision)", "zh": "fp16（半精度）"},
                "qsgd": {"en": "QSGD (quantised)", "zh": "QSGD（量化）"},
                "topk": {"en": "top-k (largest values)", "zh": "top-k（最大值）"},
                "randk": {"en": "random-k", "zh": "随机 k"},
                "sign": {"en": "sign (1 bit)", "zh": "符号（1 比特）"},
                "powersgd": {"en": "PowerSGD (low rank)", "zh": "PowerSGD（低秩）"}})
    qsgd_levels: int = integer(
        7, 1, 127, label={"en": "QSGD levels s", "zh": "QSGD 量化级数 s"},
        help={"en": "Quantization levels (7 levels + sign = 4 bits per value).",
              "zh": "量化级数（7 级加符号位 = 每个值 4 比特）。"},
        shown_when={"compression": ("qsgd",)})
    compress_fraction: float = number(
        0.01, 0.0, 1.0, low_open=True, label={"en": "Fraction sent", "zh": "发送比例"},
        help={"en": "Top-k / random-k: fraction of the gradient's values that are sent.",
              "zh": "top-k / 随机 k：发送的梯度值所占比例。"},
        shown_when={"compression": ("topk", "randk")})
    powersgd_rank: int = integer(
        1, 1, 16, label={"en": "PowerSGD rank", "zh": "PowerSGD 秩"},
        help={"en": "Rank of the low-rank approximation of each weight gradient.",
              "zh": "每个权重梯度的低秩近似的秩。"},
        shown_when={"compression": ("powersgd",)})
    error_feedback: bool = flag(
        False, label={"en": "Error feedback", "zh": "误差反馈"},
        help={"en": "Add what compression dropped to the next step's gradient "
                    "(Karimireddy et al. 2019).",
              "zh": "把压缩丢掉的部分加到下一步的梯度上（Karimireddy 等，2019）。"},
        shown_when={"compression": ("qsgd", "topk", "randk", "sign", "fp16")})


def _check(config: Any) -> None:
    opts = config.opts
    if opts.allreduce == "hierarchical" and config.node_size is None:
        raise ValueError("options.allreduce: 'hierarchical' sums inside each node first; "
                         "set node_size (processes per node)")
    if opts.compression is None:
        if opts.error_feedback:
            raise ValueError("options.error_feedback needs a compression method")
    elif opts.compression == "powersgd":
        if opts.error_feedback:
            raise ValueError("options.error_feedback: PowerSGD always uses error feedback; "
                             "leave it off")
    elif opts.allreduce != "builtin":
        raise ValueError("options.allreduce: with compression the encoded gradients are "
                         "all-gathered; leave allreduce at 'builtin'")


class DataParallelNaive:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        config = ctx.config
        self.opts = opts = config.opts
        self.compressed = None
        if opts.compression == "powersgd":
            self.compressed = PowerSgdAveraging(
                [p.shape for p in ctx.model.parameters()], rank=opts.powersgd_rank,
                seed=config.seed, algorithm=opts.allreduce)
        elif opts.compression is not None:
            compressor = make_compressor(opts.compression, levels=opts.qsgd_levels,
                                         fraction=opts.compress_fraction)
            self.compressed = CompressedAveraging(
                compressor, numel=num_params(ctx.model), error_feedback=opts.error_feedback,
                seed=config.seed, rank=ctx.topo.rank)
        # Replicas must start identical. They are built from the same seed already, but
        # real systems do not rely on that: rank 0's weights are broadcast to everyone.
        flat = torch.cat([p.detach().reshape(-1) for p in ctx.model.parameters()])
        ctx.comms.broadcast(flat, src=0)
        load_flat([p.data for p in ctx.model.parameters()], flat)
        # The gradients live in one flat buffer, each p.grad a view into it (PyTorch DDP's
        # gradient_as_bucket_view): backward accumulates into it in place, and the
        # all-reduce works on it directly — no copying the gradients out and back each step.
        self.params = list(ctx.model.parameters())
        # None (plain SGD), Adam or SGD with momentum: every replica applies the same one
        self.optimizer = make_optimizer(config.optimizer, self.params, config.lr)
        self.grads = torch.zeros(sum(p.numel() for p in self.params), device=flat.device)
        offset = 0
        for p in self.params:
            p.grad = self.grads[offset:offset + p.numel()].view_as(p)
            offset += p.numel()

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        x, y = ctx.batch(step)
        saved = SavedActivations() if memory_due(step, ctx.config.steps) else None
        with Stopwatch() as compute:
            loss = local_gradients(ctx.model, x, y, saved)
            flat = self.grads  # every p.grad, in one tensor (see setup)
            if ctx.control.take_corruption():  # a "corrupt" fault aimed at this rank
                flat.fill_(float("nan"))
        emulated_ms, slowed = emulate_work(ctx.config, ctx.data_rank, step, compute.ms,
                                           ctx.control.slow_factor, ctx.control.pace)
        extra: dict[str, Any] = {"emulated_ms": round(emulated_ms, 4)} if emulated_ms else {}
        if slowed:  # a straggler by design, not by a busy core (the narration tells them apart)
            extra["slowed"] = True
        if ctx.control.slow_factor > 1:
            extra["slow_factor"] = ctx.control.slow_factor
        if saved is not None:  # a full replica on every rank: the memory data parallelism costs
            extra["memory"] = memory_of(ctx.model, saved.peak, self.optimizer)
        local_sum = flat.sum()  # not finite when a local value is not (read only then)
        if self.compressed is None:
            # Timed and counted by comms, not compute; the allreduce option picks the
            # algorithm.
            all_reduce(ctx.comms, flat, self.opts.allreduce)
            flat /= ctx.topo.world_size  # sum of means → mean over the global batch
        else:
            flat, metrics = self.compressed.average(ctx.comms, flat.clone(), step)
            extra.update(metrics)
        # One NaN anywhere makes the averaged gradient NaN on every rank alike, so every
        # rank takes the same decision here — before the NaN reaches any parameter.
        if not torch.isfinite(flat).all():
            extra.update(self._on_nan(step, local_ok=bool(torch.isfinite(local_sum))))
            if ctx.config.nan_policy == "skip":
                return StepResult(loss=loss, grad_norm=float("nan"), compute_ms=compute.ms,
                                  samples=len(y), extra=extra)
        with compute:
            if flat is not self.grads:  # compression decoded the average into a new tensor
                self.grads.copy_(flat)
            if self.optimizer is None:
                grad_norm = sgd_update(ctx.model, ctx.config.lr, self.params)
            else:  # every replica takes the same step from the same averaged gradient
                grads = [p.grad for p in self.params]
                grad_norm = grad_norm_of(grads)
                self.optimizer.step(self.params, grads)
        return StepResult(loss=loss, grad_norm=grad_norm, compute_ms=compute.ms,
                          samples=len(y), extra=extra)

    # ---- its checkpoint (the parameters are saved by the worker's loop)

    def optimizer_state(self) -> dict[str, Any]:
        """Adam's m, v and t, or the momentum buffer (the same on every replica, so the
        leader's copy is saved with the parameters); plain SGD keeps no state."""
        if self.optimizer is None:
            return {}
        return {self.ctx.config.optimizer: self.optimizer.state_dict()}

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        """Without Adam's state a restarted run would begin again from m = v = 0, t = 0 and
        not end where an unbroken one ends."""
        if self.optimizer is None:
            return
        name = self.ctx.config.optimizer
        if name not in state:
            raise ValueError(f"the checkpoint holds no {name} state (it was saved by a run "
                             "with another optimizer)")
        self.optimizer.load_state_dict(state[name])

    def _on_nan(self, step: int, local_ok: bool) -> dict[str, Any]:
        """Name the ranks whose own gradient was not finite (a rare, extra collective)."""
        ctx = self.ctx
        bad = torch.zeros(ctx.topo.world_size, dtype=torch.int32, device=ctx.topo.device)
        bad[ctx.topo.rank] = int(not local_ok)
        ctx.comms.agree_max(bad)
        ranks = [ctx.topo.id_of(r) for r, flag in enumerate(bad.tolist()) if flag]
        action = "skipped" if ctx.config.nan_policy == "skip" else "spread"
        if ctx.topo.is_leader:
            ctx.emit("nan_detected", rank=None, step=step, ranks=ranks, action=action)
        return {"skipped": action == "skipped"}



SPEC = StrategySpec(
    name="data_parallel",
    title={"en": "Data parallelism (all-reduce)", "zh": "数据并行（全归约）"},
    summary={"en": "Every worker holds a full replica and its own part of each batch; an "
                   "all-reduce averages the gradients so all replicas take the same step.",
             "zh": "每个工作进程持有完整的模型副本和每批数据的一部分；all-reduce 对梯度求平均，"
                   "所有副本执行相同的更新。"},
    implementation=DataParallelNaive,
    options=DataParallelOptions,
    workers=(1, 8),
    models=("mlp", "transformer"),
    optimizers=("sgd", "adam", "momentum"),
    faults={"kill": None, "freeze": None, "slow": None, "corrupt": None, "rejoin": None,
            "delay": None,
            "drop": Needs({"allreduce": ("ring", "tree", "naive")},
                          {"en": "drop needs messages we send ourselves: choose a "
                                 "hand-written all-reduce (ring, tree or naive)",
                           "zh": "丢弃消息需要我们自己发送的消息：请选择手写的全归约算法"
                                 "（环形、树形或朴素）"})},
    recoveries={"none": None, "restart": None, "shrink": None},
    optimizer_state=True,  # Adam's m and v travel in the checkpoint (SGD's: nothing)
    views=("topology", "timeline", "loss", "boundary", "compression", "alpha_beta",
           "link_bytes"),
    check=_check,
    ddp_script=True,  # engine/ddp_script.py writes it as torch's DistributedDataParallel
    references=("Li et al., PyTorch Distributed: Experiences on Accelerating Data Parallel "
                "Training, VLDB 2020",
                "Goyal et al., Accurate, Large Minibatch SGD, 2017"),
)
