"""Sharded data parallelism: ZeRO stages 1, 2 and 3 (Rajbhandari et al. 2020), with Adam.

Plain data parallelism keeps everything on every worker: the parameters (Ψ numbers), their
gradients (Ψ) and Adam's state (2Ψ: m and v). With N workers that is N copies of all of
it. ZeRO cuts the flat vector of all parameters into N shards; worker r *owns* shard r:

- stage 1 shards the optimizer state: the gradients are all-reduced as before, but each
  worker runs Adam only on its own shard, then the updated shards are all-gathered so
  everyone has the whole model again. Adam's 2Ψ become 2Ψ/N per worker.
- stage 2 also shards the gradients: instead of an all-reduce, a *reduce-scatter* leaves
  each worker with the summed gradient of its own shard only (an all-reduce is a
  reduce-scatter followed by an all-gather, so this moves half the bytes of one); the
  rest of the gradient is dropped. Then Adam on the shard and an all-gather of the
  parameters, as in stage 1.
- stage 3 also shards the parameters: a worker keeps only its shard between steps. Before
  the forward pass the shards are all-gathered into the whole model, used for forward and
  backward, and freed again after the reduce-scatter. PyTorch FSDP does this layer by
  layer, and gathers again for the backward pass (1.5× data parallelism's bytes in the
  paper); here the whole model is gathered once and kept through forward and backward,
  to keep it readable (so 1×, and more memory at the peak: ``gathered_params``).

Checkpoints are sharded too: every process saves its own part (recovery "restart" with
``checkpoint_every``): the parameters it holds (the whole model in stages 1 and 2, its
shard in stage 3) and Adam's m, v and t for its shard alone. A restart loads every
process's part of the newest step all of them saved (``spec.parts_checkpoint``), so a
killed worker costs the steps since that checkpoint and nothing else: Adam goes on with
the m and v it had, and the run ends where an unbroken one ends (tests/test_zero_checkpoint.py).

Every stage applies exactly the Adam step plain data parallelism applies, element by
element, so all three end where data parallelism with Adam ends (tests/test_zero.py).
The collectives are the hand-written ring ones (engine/collectives.py), so every byte is
counted and every chunk can be drawn.

``options.implementation = "torch"`` runs the stages with PyTorch's own library
(ZeroRedundancyOptimizer, FSDP2's ``fully_shard``): ``zero_torch.py``.

References: Rajbhandari, Rasley, Ruwase & He, "ZeRO: Memory Optimizations Toward Training
Trillion Parameter Models", SC 2020; Zhao et al., "PyTorch FSDP", VLDB 2023.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from engine.collectives import all_gather_shards_ring, all_reduce_ring, reduce_scatter_ring
from engine.memory import SavedActivations, memory_due
from engine.options import choice
from engine.strategies.base import (
    StepResult,
    Stopwatch,
    WorkerContext,
    flat_parameters,
    grad_norm_of,
    local_gradients,
)
from engine.strategies.optimizers import Adam
from engine.strategies.spec import Needs, StrategySpec, chosen_by, parts_checkpoint


@dataclass(frozen=True, kw_only=True)
class ZeroOptions:
    stage: str = choice(
        "2", ("1", "2", "3"),
        label={"en": "ZeRO stage", "zh": "ZeRO 阶段"},
        help={"en": "What is sharded across the workers: 1 the optimizer state, 2 also the "
                    "gradients, 3 also the parameters.",
              "zh": "在各工作进程之间分片的内容：1 优化器状态，2 再加梯度，3 再加参数。"},
        labels={"1": {"en": "1: optimizer state", "zh": "1：优化器状态"},
                "2": {"en": "2: + gradients", "zh": "2：+ 梯度"},
                "3": {"en": "3: + parameters", "zh": "3：+ 参数"}})
    implementation: str = choice(
        "ours", ("ours", "torch"),
        label={"en": "Implementation", "zh": "实现"},
        help={"en": "Ours: the stages written out on this page (zero.py). PyTorch: the "
                    "library people use (zero_torch.py): stage 1 is DDP with "
                    "ZeroRedundancyOptimizer, stage 3 FSDP2 (fully_shard), gathering layer "
                    "by layer and again for the backward pass; stage 2 is FSDP2 keeping "
                    "each layer gathered until its backward, ZeRO-2's traffic, but between "
                    "steps it keeps only its shard of the parameters, as stage 3 does.",
              "zh": "我们的：本页逐行写出的各阶段（zero.py）。PyTorch：实际常用的库"
                    "（zero_torch.py）：阶段 1 是 DDP 加 ZeroRedundancyOptimizer，阶段 3 是 "
                    "FSDP2（fully_shard），逐层收集参数、反向传播时再收集一次；阶段 2 是 "
                    "FSDP2 把每层参数保留到其反向传播结束，通信量同 ZeRO-2，但两步之间只保留"
                    "自己那份参数分片，与阶段 3 相同。"},
        labels={"ours": {"en": "Ours (readable)", "zh": "我们的（可读版）"},
                "torch": {"en": "PyTorch (ZeroRedundancyOptimizer / FSDP2)",
                          "zh": "PyTorch（ZeroRedundancyOptimizer / FSDP2）"}})


def _check(config: Any) -> None:
    if config.opts.implementation == "torch" and config.network is not None:
        raise ValueError("network: the library sends its own messages, outside DistLab's "
                         "network model; implementation 'torch' runs without one")


class Zero:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self.stage = int(ctx.config.opts.stage)
        self.n, self.rank = ctx.topo.world_size, ctx.topo.rank
        self.params = list(ctx.model.parameters())
        # All parameters in one flat vector (each parameter a view into it), so that a
        # shard is simply a slice: shard r is the r-th of n nearly equal pieces.
        self.flat, self.grads = flat_parameters(self.params)
        ctx.comms.broadcast(self.flat, src=0)  # replicas start identical (as in DP)
        ctx.comms.algo = "ring"  # our collectives are the ring's: so say the comm events
        # This worker's shard of the parameters, and Adam's state for it alone.
        self.my_params = self.flat.tensor_split(self.n)[self.rank]
        self.shard = self.my_params.clone() if self.stage == 3 else None
        self.adam = Adam([self.my_params], ctx.config.lr)
        self.whole_model = ctx.model
        if self.stage == 3:
            # What this process holds between steps, as its events report it: its shard.
            ctx.model = torch.nn.ParameterList([torch.nn.Parameter(self.shard,
                                                                   requires_grad=False)])
            self._free_full_params()

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        x, y = ctx.batch(step)
        saved = SavedActivations() if memory_due(step, ctx.config.steps) else None
        full_params_peak = 0
        if self.stage == 3:  # gather the whole model for this step's forward and backward
            self._gather_full_params()
            full_params_peak = self.flat.untyped_storage().nbytes()
        with Stopwatch() as compute:
            if self.stage >= 2 and self.grads.untyped_storage().nbytes() == 0:
                self._restore_full_grads()  # backward writes the whole gradient
            loss = local_gradients(self.whole_model, x, y, saved)
        if self.stage == 1:
            all_reduce_ring(ctx.comms, self.grads)  # every worker: the whole summed gradient
            my_grad = self.grads.tensor_split(self.n)[self.rank]
        else:
            my_grad = reduce_scatter_ring(ctx.comms, self.grads).clone()  # own shard only
        with compute:
            my_grad /= self.n  # sum of means → mean over the global batch
            grad_norm = self._global_grad_norm(my_grad)
            if self.stage == 3:
                # Show the whole model now, while it is the one gathered and used in this
                # step: after the update this process knows only its own new shard, and
                # the others' are gathered next step. (So stage 3's picture is one update
                # behind the other stages'; gathering again just to show it would add an
                # all-gather the training does not need.)
                ctx.show_model(self.whole_model, step)
                self.my_params.copy_(self.shard)
            self.adam.step([self.my_params], [my_grad])
            if self.stage == 3:
                self.shard.copy_(self.my_params)
            if self.stage >= 2:
                self._free_full_grads()
        if self.stage == 3:
            self._free_full_params()
        else:
            all_gather_shards_ring(ctx.comms, self.flat)  # everyone gets the new model
            ctx.show_model(self.whole_model, step)
        extra: dict[str, Any] = {"zero_stage": self.stage}
        if saved is not None:
            extra["memory"] = self._memory(saved.peak, full_params_peak)
        return StepResult(loss=loss, grad_norm=grad_norm, compute_ms=compute.ms,
                          samples=len(y), extra=extra)

    # ---- its checkpoint (the parameters are saved by the worker's loop: ctx.model)

    def optimizer_state(self) -> dict[str, Any]:
        """Adam's m, v and t for this worker's shard only. Nobody gathers the whole
        optimizer state to save it: that would put 2Ψ numbers on one process, the very
        memory ZeRO shards away (and send them over the network). Each process writes
        its 2Ψ/N, so saving is as sharded as training (the paper's P_os, §5.1)."""
        return self.adam.state_dict()

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        """Adam's state for this worker's shard, from its own checkpoint; a shard of
        another size (another number of workers) is refused by Adam's check."""
        self.adam.load_state_dict(state)

    # ---- what a worker holds between steps (the memory ZeRO saves)

    def _free_full_grads(self) -> None:
        """Stage 2 and 3: keep no gradient but the own shard's (already used)."""
        self.grads.untyped_storage().resize_(0)

    def _restore_full_grads(self) -> None:
        self.grads.untyped_storage().resize_(self.flat.numel() * self.flat.element_size())
        self.grads.zero_()

    def _free_full_params(self) -> None:
        """Stage 3: between steps a worker keeps its shard (``self.shard``) only."""
        self.flat.untyped_storage().resize_(0)

    def _gather_full_params(self) -> None:
        self.flat.untyped_storage().resize_(self._flat_bytes())
        self.my_params.copy_(self.shard)
        all_gather_shards_ring(self.ctx.comms, self.flat)

    def _flat_bytes(self) -> int:
        return sum(p.numel() for p in self.params) * self.flat.element_size()

    def _global_grad_norm(self, my_grad: torch.Tensor) -> float:
        """The norm of the whole averaged gradient, from the shards' squared norms (a tiny
        all-reduce of n numbers on the control plane; not training traffic)."""
        squares = torch.zeros(self.n, dtype=torch.float64)
        squares[self.rank] = float(grad_norm_of([my_grad])) ** 2
        self.ctx.comms.agree_max(squares)  # each entry is set by one rank: max = gather
        return float(squares.sum().sqrt())

    def _memory(self, activations: int, full_params_peak: int) -> dict[str, Any]:
        params = (self.shard.numel() * self.shard.element_size() if self.stage == 3
                  else self._flat_bytes())
        grads = (self.my_params.numel() * self.my_params.element_size() if self.stage >= 2
                 else self._flat_bytes())
        return {"params": params, "grads": grads, "optimizer": self.adam.state_bytes(),
                "activations": activations, "gathered_params": full_params_peak}


def _torch_zero() -> Any:  # imported only when chosen: the library is big
    from engine.strategies.zero_torch import TorchZero

    return TorchZero()


SPEC = StrategySpec(
    name="zero",
    title={"en": "Sharded data parallelism (ZeRO 1/2/3)", "zh": "分片数据并行（ZeRO 1/2/3）"},
    summary={"en": "Data parallelism that shards what every worker would otherwise copy: "
                   "Adam's state (stage 1), also the gradients (2), also the parameters "
                   "(3). Reduce-scatter and all-gather take the place of the all-reduce.",
             "zh": "对每个工作进程原本都要复制的内容做分片的数据并行：Adam 状态（阶段 1），"
                   "再加梯度（2），再加参数（3）。归约分发与全收集取代了全归约。"},
    implementation=chosen_by("implementation", ours=Zero, torch=_torch_zero),
    options=ZeroOptions,
    workers=(2, 8),
    models=("mlp", "transformer"),
    optimizers=("adam",),
    replicas=False,  # the optimizer state (and from stage 3 the model) is sharded
    faults={"kill": None, "freeze": None, "slow": None},
    # Restart: every process saves its own shard (the pipeline's mechanism: rank-N
    # folders), and a restart loads the newest step every process saved.
    recoveries={"none": None,
                "restart": Needs({"implementation": ("ours",)},
                                 {"en": "restart loads the shards our stages save; "
                                        "PyTorch's ZeroRedundancyOptimizer and FSDP2 keep "
                                        "theirs in their own form: choose implementation 'ours'",
                                  "zh": "重启加载的是我们的实现保存的分片；PyTorch 的 "
                                        "ZeroRedundancyOptimizer 和 FSDP2 以自己的格式保存状态："
                                        "请选择实现“ours”"})},
    restart_state=parts_checkpoint,
    optimizer_state=True,
    views=("topology", "timeline", "loss", "boundary", "sample", "memory", "link_bytes"),
    check=_check,
    references=("Rajbhandari et al., ZeRO: Memory Optimizations Toward Training Trillion "
                "Parameter Models, SC 2020",
                "Zhao et al., PyTorch FSDP: Experiences on Scaling Fully Sharded Data "
                "Parallel, VLDB 2023"),
)
