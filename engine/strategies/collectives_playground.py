"""The MPI collectives playground: one collective a step, on real processes, in the open.

Nothing is trained. Every step, each worker fills a small vector with values a student
can read (rank r, element i, step s → 1000·(s−1) + 100·r + i: 3107 is step 4, rank 1,
element 7), runs the chosen collective with the chosen algorithm over real point-to-point
messages (engine/mpi_collectives.py, every message through ``Comms.exchange``: its bytes
counted, and with Detail one ``comm`` event with its round), and says what its buffer
held before and after (a ``buffers`` event).

Each worker also computes, alone, what its buffer must hold afterwards (the inputs are
known to everyone), and reports the largest difference as the step's "loss": it is 0
when the collective did its job — an honest check, not a training loss.

Rank 0 says once which collective runs and what it costs in the α–β model (the
``collective`` event; engine/costmodel.py owns the formulas): the page sets the formula
beside the bytes each rank really sent. Students see, for instance, that the ring
all-reduce's messages are a reduce-scatter's followed by an all-gather's ("rs_ag" runs
the two halves one after the other and shows the middle).

References: Thakur, Rabenseifner & Gropp, Optimization of collective communication
operations in MPICH, IJHPCA 2005; Patarasuk & Yuan, Bandwidth optimal all-reduce
algorithms for clusters of workstations, JPDC 2009.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from engine.costmodel import collective_cost
from engine.mpi_collectives import (
    ALGORITHMS,
    BLOCK_INPUT,
    BLOCK_OUTPUT,
    COLLECTIVES,
    ROOTED,
    RUN,
    all_reduce_rs_ag,
    expected,
    inputs,
    local_input,
    needs_blocks,
)
from engine.options import choice, integer
from engine.strategies.base import StepResult, WorkerContext
from engine.strategies.spec import StrategySpec

_WORDS = {
    "broadcast": ("Broadcast", "广播"), "scatter": ("Scatter", "散发"),
    "gather": ("Gather", "收集"), "reduce": ("Reduce", "归约"),
    "all_gather": ("All-gather", "全收集"), "reduce_scatter": ("Reduce-scatter", "归约散发"),
    "all_reduce": ("All-reduce", "全归约"), "all_to_all": ("All-to-all", "全交换"),
    "barrier": ("Barrier", "屏障"),
}
_ALGO_WORDS = {
    "auto": ("The collective's usual one", "该集合通信的常用算法"),
    "binomial": ("Binomial tree", "二项树"), "linear": ("Linear (root talks to each)",
                                                    "线性（根进程逐个通信）"),
    "ring": ("Ring", "环"), "rs_ag": ("Reduce-scatter + all-gather", "归约散发 + 全收集"),
    "tree": ("Tree (reduce, then broadcast)", "树（先归约，再广播）"),
    "naive": ("Naive (through rank 0)", "朴素（经由 rank 0）"),
    "pairwise": ("Pairwise exchange", "成对交换"),
    "dissemination": ("Dissemination", "传播（dissemination）"),
}
_CHOICES = ("auto", *dict.fromkeys(a for algos in ALGORITHMS.values() for a in algos))
MAX_ELEMENTS = 16


@dataclass(frozen=True, kw_only=True)
class CollectivesOptions:
    collective: str = choice(
        "all_reduce", COLLECTIVES,
        label={"en": "Collective", "zh": "集合通信"},
        help={"en": "The MPI collective every step runs once, on every worker's small "
                    "vector.",
              "zh": "每一步在每个工作进程的小向量上执行一次的 MPI 集合通信操作。"},
        labels={c: {"en": en, "zh": zh} for c, (en, zh) in _WORDS.items()})
    algorithm: str = choice(
        "auto", _CHOICES,
        label={"en": "Algorithm", "zh": "算法"},
        help={"en": "How the messages go: broadcast and reduce by binomial tree or linear; "
                    "all-reduce by ring, reduce-scatter + all-gather, tree or naive; the "
                    "others have one each (auto picks the usual one).",
              "zh": "消息如何传递：广播和归约可用二项树或线性；全归约可用环、归约散发 + 全收集、"
                    "树或朴素；其余各只有一种（auto 选常用的那种）。"},
        labels={a: {"en": en, "zh": zh} for a, (en, zh) in _ALGO_WORDS.items()})
    elements: int | None = integer(
        None, 1, MAX_ELEMENTS, nullable=True,
        label={"en": "Elements per worker", "zh": "每个工作进程的元素数"},
        help={"en": "The length of every worker's vector (empty: 2 per worker, so that "
                    "it splits into one block per worker).",
              "zh": "每个工作进程向量的长度（留空：每个工作进程 2 个，"
                    "正好每个工作进程分得一块）。"})
    root: int = integer(
        0, 0, 7, label={"en": "Root", "zh": "根进程"},
        help={"en": "The rank that sends (broadcast, scatter) or receives (gather, "
                    "reduce).",
              "zh": "发送（广播、散发）或接收（收集、归约）数据的 rank。"},
        shown_when={"collective": ROOTED})


def chosen(opts: Any, workers: int) -> tuple[str, str, int]:
    """(collective, algorithm, elements) with "auto" and the default length resolved."""
    algorithm = opts.algorithm
    if algorithm == "auto":
        algorithm = ALGORITHMS[opts.collective][0]
    return opts.collective, algorithm, opts.elements or 2 * workers


def _check(config: Any) -> None:
    opts, n = config.opts, config.workers
    collective, algorithm, elements = chosen(opts, n)
    if algorithm not in ALGORITHMS[collective]:
        raise ValueError(f"options.algorithm: {collective} runs with "
                         f"{' or '.join(ALGORITHMS[collective])} (or auto), not {algorithm}")
    if elements > MAX_ELEMENTS:
        raise ValueError(f"options.elements: {n} workers × 2 = {elements} elements is more "
                         f"than the {MAX_ELEMENTS} a row can show; set elements")
    if needs_blocks(collective, algorithm) and elements % n:
        raise ValueError(f"options.elements: {collective} ({algorithm}) cuts every vector "
                         f"into one block per worker, so the elements ({elements}) must be "
                         f"a multiple of the workers ({n})"
                         + ("; or choose the tree or the naive all-reduce, which send the "
                            "whole vector" if collective == "all_reduce" else ""))
    if collective in ROOTED and opts.root >= n:
        raise ValueError(f"options.root: rank {opts.root} does not exist with {n} workers "
                         f"(0 to {n - 1})")


class CollectivesPlayground:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        n = ctx.topo.world_size
        self.collective, self.algorithm, self.elements = chosen(ctx.config.opts, n)
        self.root = ctx.config.opts.root if self.collective in ROOTED else 0
        ctx.comms.algo = self.algorithm  # named in every ``comm`` event
        # What this process "holds" is its buffer after the collective: the step event's
        # param_checksum (Σ on the page) is then the sum of the rank's result — the same
        # on every rank after an all-reduce, different after a scatter.
        part = self.collective in BLOCK_OUTPUT or (self.collective == "gather"
                                                   and ctx.topo.rank != self.root)
        self.held = torch.nn.Parameter(
            torch.zeros(self.elements // n if part else self.elements), requires_grad=False)
        ctx.model = torch.nn.ParameterList([self.held])
        if ctx.topo.rank == 0:
            num_bytes = self.elements * 4  # float32: N is the whole vector
            ctx.emit("collective", rank=ctx.topo.me, collective=self.collective,
                     algorithm=self.algorithm, workers=n, elements=self.elements,
                     root=self.root if self.collective in ROOTED else None,
                     bytes=num_bytes, block_input=self.collective in BLOCK_INPUT,
                     block_output=self.collective in BLOCK_OUTPUT,
                     **collective_cost(self.collective, self.algorithm, n, num_bytes))

    def train_step(self, step: int) -> StepResult:
        ctx = self.ctx
        n, rank = ctx.topo.world_size, ctx.topo.rank
        vectors = inputs(step, n, self.elements)  # everyone's: each rank knows them all
        mine = local_input(vectors, self.collective, rank)
        comm_before = ctx.comms.stats.comm_ms
        start = time.perf_counter()
        middle: list[Any] = []
        if self.algorithm == "rs_ag":
            after = all_reduce_rs_ag(ctx.comms, mine, self.root, middle)
        else:
            after = RUN[(self.collective, self.algorithm)](ctx.comms, mine, self.root)
        total_ms = (time.perf_counter() - start) * 1e3
        # What is not waiting on messages is the local work: copies and the additions.
        compute_ms = max(0.0, total_ms - (ctx.comms.stats.comm_ms - comm_before))
        self.held.data.copy_(after)
        want = expected(vectors, self.collective, rank, self.root)
        error = 0.0 if want is None else float((after - want).abs().max())
        extra: dict[str, Any] = {}
        if middle:
            extra["middle"] = middle[0].tolist()
        ctx.emit("buffers", rank=ctx.topo.me, step=step, collective=self.collective,
                 algorithm=self.algorithm, before=mine.tolist(), after=after.tolist(),
                 defined=want is not None, error=error, **extra)
        return StepResult(loss=error, grad_norm=0.0, compute_ms=compute_ms, samples=0,
                          extra={"max_error": error})


SPEC = StrategySpec(
    name="collectives",
    title={"en": "MPI collectives playground", "zh": "MPI 集合通信演练场"},
    summary={"en": "Broadcast, scatter, gather, reduce, all-gather, reduce-scatter, "
                   "all-reduce, all-to-all and barrier on real processes: every worker's "
                   "small vector before and after, every message round by round, the bytes "
                   "and the α–β cost of the algorithm.",
             "zh": "在真实进程上运行广播、散发、收集、归约、全收集、归约散发、全归约、全交换和"
                   "屏障：每个工作进程的小向量在前后的取值，逐轮的每条消息，字节数，以及该算法的 "
                   "α–β 代价。"},
    implementation=CollectivesPlayground,
    options=CollectivesOptions,
    workers=(2, 8),
    replicas=False,  # no model is trained: nothing to show or save
    trains=False,
    views=("collectives", "topology", "timeline"),
    events={"collective": {"collective": "str: broadcast | scatter | gather | reduce | "
                                         "all_gather | reduce_scatter | all_reduce | "
                                         "all_to_all | barrier",
                           "algorithm": "str: binomial | linear | ring | rs_ag | tree | "
                                        "naive | pairwise | dissemination",
                           "workers": "int", "elements": "int: each vector's length",
                           "root": "int | null: the root of a rooted collective",
                           "bytes": "int: N, the bytes of one whole vector",
                           "block_input": "bool: each rank starts with its block only",
                           "block_output": "bool: each rank ends with one block",
                           "formula": "str: the α–β cost, e.g. 2(n−1)·α + 2(n−1)/n·N·β",
                           "alpha_terms": "float: the α's on the critical path",
                           "beta_bytes": "float: the bytes on the critical path"},
            "buffers": {"collective": "str", "algorithm": "str",
                        "before": "list: this rank's buffer before the collective",
                        "after": "list: its buffer after",
                        "middle": "list (rs_ag only): its block after the reduce-scatter",
                        "defined": "bool: MPI defines this rank's result (false: a "
                                   "non-root rank of reduce or gather)",
                        "error": "float: max |after − the one-process result| (0)"}},
    check=_check,
    references=("Thakur, Rabenseifner & Gropp, Optimization of collective communication "
                "operations in MPICH, IJHPCA 2005",
                "Patarasuk & Yuan, Bandwidth optimal all-reduce algorithms for clusters of "
                "workstations, JPDC 2009"),
)
