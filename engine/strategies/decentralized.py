"""Decentralized parallel SGD (D-PSGD): no server, no all-reduce — neighbours average.

Lian et al., "Can Decentralized Algorithms Outperform Centralized Algorithms? A Case
Study for Decentralized Parallel Stochastic Gradient Descent", NeurIPS 2017, Algorithm 1.

Every worker i keeps its own model x_i. One step k, on worker i:

1. compute the gradient g_i = ∇F_i(x_{k,i}) on its own batch, *at its own model*;
2. send x_{k,i} to each neighbour j on the graph and receive theirs (real point-to-point
   messages; engine/graphs.py builds the graphs);
3. x_{k+1,i} = Σ_j W[i][j]·x_{k,j} − γ·g_i  (mix, and take the step from the gradient of
   step 1 — the form of the paper, where computing and gossiping can overlap).

W is symmetric and doubly stochastic (Metropolis–Hastings weights), so the *average* of
the replicas moves exactly as one SGD step on the averaged gradient:

    x̄_{k+1} = x̄_k − γ · mean_i g_i        (the invariant the tests check)

while the replicas themselves drift apart and are pulled together again. How far apart
they are is the *consensus distance*, (1/n)·Σ_i ‖x_i − x̄‖², reported every step. It is
measured with a sum over all workers that training does not need (not counted as traffic:
the event says so with ``consensus_measured``).

What each worker sends per step is one model per neighbour: on a ring two, whatever the
number of workers — where an all-reduce's bytes per worker approach 2·model. On the
complete graph the mixing is the exact average, and the replicas differ only by the last
step's local gradients.

When a worker dies (recovery "shrink"), the survivors form a smaller group and build the
same kind of graph over themselves: the hole is closed, and each goes on with its own
replica (only the dead worker's is lost, so the average jumps once). A survivor that had
finished the step the failure cut short takes it again with the others (it is one local
step ahead; the invariant holds again from the next step). A worker added back starts
from the first member's replica, and the gossip pulls it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from engine.graphs import GRAPHS, mixing_matrix, neighbours
from engine.memory import SavedActivations, memory_due, memory_of
from engine.options import choice
from engine.strategies.base import (
    StepResult,
    Stopwatch,
    WorkerContext,
    flat_parameters,
    grad_norm_of,
    local_gradients,
)
from engine.strategies.data_split import (
    WorkerData,
    check_data_split,
    data_split_option,
    dirichlet_alpha_option,
)
from engine.strategies.spec import StrategySpec, parts_checkpoint


@dataclass(frozen=True, kw_only=True)
class DecentralizedOptions:
    graph: str = choice(
        "ring", GRAPHS,
        label={"en": "Graph", "zh": "通信图"},
        help={"en": "Whom each worker averages with (engine/graphs.py): its two ring "
                    "neighbours, its four on a 2-D torus, those 1, 2, 4, … away "
                    "(exponential), or everyone (complete: the exact average).",
              "zh": "每个工作进程和谁做平均（engine/graphs.py）：环上的两个邻居、二维环面上的"
                    "四个邻居、距离为 1、2、4……的进程（指数图），或所有进程（完全图：精确平均）。"},
        labels={"ring": {"en": "Ring", "zh": "环"},
                "torus": {"en": "2-D torus", "zh": "二维环面"},
                "exponential": {"en": "Exponential graph", "zh": "指数图"},
                "complete": {"en": "Complete graph", "zh": "完全图"}})
    data_split: str = data_split_option()
    dirichlet_alpha: float = dirichlet_alpha_option()


def _check(config: Any) -> None:
    check_data_split(config)


def consensus_distance(replicas: torch.Tensor) -> float:
    """(1/n)·Σ_i ‖x_i − x̄‖² for replicas stacked as rows (the one-process form of what
    the workers measure together)."""
    mean = replicas.mean(dim=0, keepdim=True)
    return float(((replicas - mean) ** 2).sum(dim=1).mean())


class Decentralized:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        # The graph is over the group's members: after a worker dies (recovery "shrink")
        # the survivors form a smaller group and the same kind of graph is built over
        # them — the hole is closed (a ring of 8 that lost one is a ring of 7).
        n, rank = ctx.topo.world_size, ctx.topo.rank
        self.peers = neighbours(ctx.config.opts.graph, n)[rank]
        w = mixing_matrix(ctx.config.opts.graph, n)
        self.self_weight = float(w[rank, rank])
        self.peer_weights = [float(w[rank, j]) for j in self.peers]
        # The model as one flat vector (each parameter a view into it): it is what a
        # worker sends, and what the mixing adds up.
        self.params = list(ctx.model.parameters())
        self.flat, self.grads = flat_parameters(self.params)
        if not ctx.regrouped:
            ctx.comms.broadcast(self.flat, src=0)  # x_{0,i} = x_0 on every worker (Lian)
        else:
            # The survivors keep their own replicas (only the dead worker's is lost); a
            # worker added back has none yet and starts from the first member's.
            first = self.flat.clone()
            ctx.comms.broadcast(first, src=0)
            if ctx.joining:
                self.flat.copy_(first)
        ctx.comms.algo = "gossip"
        # IID: the worker's share of each global batch; skewed: its own samples.
        self.data = WorkerData(ctx)
        if rank == 0:
            ctx.emit("graph", rank=ctx.topo.me, graph=ctx.config.opts.graph,
                     members=[ctx.topo.id_of(i) for i in range(n)],
                     neighbours=[[ctx.topo.id_of(j) for j in near]
                                 for near in neighbours(ctx.config.opts.graph, n)],
                     weights=[[round(float(v), 6) for v in row] for row in w],
                     data_split=ctx.config.opts.data_split,
                     classes=self.data.class_counts())

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        x, y = self.data.batch(step)
        saved = SavedActivations() if memory_due(step, ctx.config.steps) else None
        with Stopwatch() as compute:
            loss = local_gradients(ctx.model, x, y, saved)  # 1. g_i at x_{k,i}
            grad_norm = grad_norm_of([self.grads])
            grad_checksum = float(self.grads.sum(dtype=torch.float64))
        theirs = ctx.comms.with_neighbours(self.flat, self.peers, op="gossip")  # 2.
        with compute:  # 3. mix, then step with the gradient taken before the mixing
            mixed = self.flat * self.self_weight
            for weight, model in zip(self.peer_weights, theirs, strict=True):
                mixed.add_(model, alpha=weight)
            mixed.add_(self.grads, alpha=-ctx.config.lr)
            self.flat.copy_(mixed)
        if ctx.topo.rank == 0:  # worker 0 shows its own replica (they differ)
            ctx.show_model(ctx.model, step)
        extra: dict[str, Any] = {"consensus": self._consensus(), "consensus_measured": True,
                                 "grad_checksum": grad_checksum, "peers": len(self.peers)}
        if saved is not None:
            extra["memory"] = memory_of(ctx.model, saved.peak, None)
        return StepResult(loss=loss, grad_norm=grad_norm, compute_ms=compute.ms,
                          samples=len(y), extra=extra)

    def _consensus(self) -> float:
        """(1/n)·Σ_i ‖x_i − x̄‖², from the real replicas: one sum of the models for x̄ and
        one of the squared distances (measurement, not training traffic)."""
        n = self.ctx.topo.world_size
        mean = self.flat.to(torch.float64)
        self.ctx.comms.measure_sum(mean)
        mean /= n
        dist2 = ((self.flat.to(torch.float64) - mean) ** 2).sum().reshape(1)
        self.ctx.comms.measure_sum(dist2)
        return float(dist2) / n


SPEC = StrategySpec(
    name="decentralized",
    title={"en": "Decentralized SGD (D-PSGD)", "zh": "去中心化 SGD（D-PSGD）"},
    summary={"en": "No server and no all-reduce: each worker steps on its own data and "
                   "averages its model with its neighbours' on a graph (ring, torus, "
                   "exponential, complete). The replicas differ, and are pulled together.",
             "zh": "没有服务器，也没有全归约：每个工作进程在自己的数据上更新，并与图上的邻居"
                   "（环、环面、指数图、完全图）对模型求平均。各副本彼此不同，又被不断拉近。"},
    implementation=Decentralized,
    options=DecentralizedOptions,
    workers=(2, 8),
    models=("mlp", "transformer"),
    optimizers=("sgd",),
    replicas=False,  # every worker's model is its own: each saves and shows its own
    own_replicas=True,
    faults={"kill": None, "freeze": None, "slow": None, "rejoin": None},
    recoveries={"none": None, "restart": None, "shrink": None},
    restart_state=parts_checkpoint,  # each worker reloads its own replica
    views=("gossip_graph", "gossip", "timeline", "loss", "boundary", "sample"),
    events={"graph": {"graph": "str: ring | torus | exponential | complete",
                      "members": "list: the workers in the graph (all of them, or the "
                                 "survivors after a shrink), in the order of the rows",
                      "neighbours": "list: per member, the workers it averages with",
                      "weights": "list: the mixing matrix W over the members (rows sum "
                                 "to 1, symmetric)",
                      "data_split": "str: iid | dirichlet | one_class",
                      "classes": "list | null: per worker, its samples of each class "
                                 "(skewed splits; null for IID)"}},
    check=_check,
    references=("Lian et al., Can Decentralized Algorithms Outperform Centralized "
                "Algorithms? A Case Study for Decentralized Parallel Stochastic Gradient "
                "Descent, NeurIPS 2017",
                "Xiao & Boyd, Fast Linear Iterations for Distributed Averaging, 2004"),
)
