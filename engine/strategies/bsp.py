"""Bulk-synchronous parallel (BSP) graph computation on real processes: PageRank (or
connected components) in Pregel's supersteps.

Valiant's BSP model ("A bridging model for parallel computation", CACM 1990) cuts a
parallel program into *supersteps*: each process computes on its own data, sends
messages, and waits at a barrier; messages sent in superstep k are read in superstep
k + 1. Pregel (Malewicz et al., "Pregel: a system for large-scale graph processing",
SIGMOD 2010) runs graph algorithms this way, "thinking like a vertex": the graph's
vertices are split over the workers, and in every superstep each vertex reads the
messages sent to it, updates its value and sends messages along its out-edges.

One step of this run is one superstep. On worker w:

1. compute: every vertex w holds sends along each out-edge its rank / out-degree
   (PageRank; Page et al. 1999) or its label (connected components). With the
   *combiner* the messages to one destination vertex are folded into one before they
   leave (a sum for PageRank, a minimum for labels): fewer messages, the same result.
   Connected components follow Pregel's *vote to halt*: after the first superstep only
   a vertex whose label changed sends, so the messages die out as the labels settle.
2. exchange: the messages for vertices another worker holds go to it as real
   point-to-point messages (``Comms.exchange``: one message a worker, batched as Pregel
   batches them, its bytes counted, a ``comm`` event each with Detail). Messages to w's own
   vertices never leave the process. (Where the number of messages varies — components —
   a 16-byte header [superstep, count] goes first, so the receiver knows what follows.)
3. barrier: w receives one message from *every* other worker every superstep (a header
   even when no vertex messages are in it), and a worker sends only after computing — so
   when w has all its messages, every worker has finished computing: the all-to-all
   exchange is itself the barrier. The time w waits there is ``barrier_ms``: a straggler
   stretches it on everyone else, every superstep.
4. update: every vertex combines what arrived; then a tiny all-reduce (Pregel's
   *aggregator*) sums the rank the dangling vertices hold (spread evenly next superstep,
   see engine/bsp_graph.py) and the superstep's change.

The step's "loss" is the superstep's L1 change ‖r_{k+1} − r_k‖₁ (PageRank) — what power
iteration's convergence is judged by, not a training loss — or the number of vertices
whose label changed (connected components; 0 once the labels are final). The last
superstep's ``bsp_values`` events carry every vertex's value, and how far it is from the
same supersteps computed in one process (engine/bsp_graph.py): each worker computes the
whole graph alone once, at the end, only to check itself (the tests compare the values
too, with a power iteration of their own).
"""

from __future__ import annotations

import time
from typing import Any

import torch

from engine.bsp_graph import (
    make_graph,
    message_counts,
    owner_of,
    pagerank,
    propagate_labels,
    undirected,
)
from engine.strategies.base import StepResult, WorkerContext, emulate_work
from engine.strategies.bsp_options import BSPOptions
from engine.strategies.spec import StrategySpec

TOP = 5  # vertices of the highest rank each worker reports every superstep


class BSP:
    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        opts = ctx.config.opts
        self.pagerank, self.combiner = opts.algorithm == "pagerank", opts.combiner
        n, w, me = opts.vertices, ctx.topo.world_size, ctx.topo.rank
        self.n, self.w, self.me, self.d = n, w, me, opts.damping
        src, dst = make_graph(opts.graph, n, ctx.config.seed, opts.degree)
        self.graph = (src, dst)  # as generated: for the check against one process
        if not self.pagerank:
            src, dst = undirected(src, dst)
        owner = owner_of(torch.arange(n), n, w, opts.partition)
        self.mine = torch.nonzero(owner == me).flatten()  # my vertices, ascending
        self.pos = torch.full((n,), -1, dtype=torch.int64)
        self.pos[self.mine] = torch.arange(len(self.mine))
        out_degree = torch.bincount(src, minlength=n).to(torch.float64)
        ours = owner[src] == me
        self.src, self.dst = src[ours], dst[ours]  # my vertices' out-edges
        self.out_degree = out_degree[self.src]
        self.dangling = out_degree[self.mine] == 0
        # Per destination worker: its edges, and (combiner) one slot per distinct vertex.
        self.routes = []
        to = owner[self.dst]
        for j in range(w):
            edges = torch.nonzero(to == j).flatten()
            targets, slot = (torch.unique(self.dst[edges], return_inverse=True)
                             if opts.combiner else (self.dst[edges], None))
            self.routes.append((edges, targets, slot))
        # How many vertex messages each worker gets from each when every vertex sends
        # (PageRank: every superstep): the graph is known to all, so the receiver knows
        # the size of every message before it arrives.
        self.expect = message_counts(src, dst, owner, w, opts.combiner)
        # Connected components: only a vertex whose label changed sends (Pregel's vote to
        # halt; all of them in the first superstep), so the sizes vary: see _exchange.
        self.active = torch.ones(len(self.mine), dtype=torch.bool)
        if self.pagerank:
            self.value = torch.full((len(self.mine),), 1.0 / n, dtype=torch.float64)
            self.spill = float((out_degree == 0).sum()) / n  # D_0: dangling rank at r_0
        else:
            self.value = self.mine.to(torch.float64)  # labels (ids are exact in float64)
        self.held = torch.nn.Parameter(self.value.clone(), requires_grad=False)
        ctx.model = torch.nn.ParameterList([self.held])  # Σ on the page: my vertices' sum
        ctx.comms.algo = "bsp"
        if me == 0:
            ctx.emit("bsp_graph", rank=ctx.topo.me, algorithm=opts.algorithm, graph=opts.graph,
                     partition=opts.partition, combiner=opts.combiner, vertices=n,
                     edges=len(src), workers=[ctx.topo.id_of(i) for i in range(w)],
                     owned=torch.bincount(owner, minlength=w).tolist(),
                     dangling=int((out_degree == 0).sum()) if self.pagerank else 0,
                     messages=self.expect.tolist(),
                     messages_raw=message_counts(src, dst, owner, w, False).tolist())

    def _route(self, j: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """This superstep's edges to worker j's vertices, and the messages' targets."""
        edges, targets, slot = self.routes[j]
        if self.pagerank:
            return edges, targets, slot
        edges = edges[self.active[self.pos[self.src[edges]]]]  # only the changed send
        if self.combiner:
            return edges, *torch.unique(self.dst[edges], return_inverse=True)
        return edges, self.dst[edges], None

    def _outgoing(self, step: int) -> list[torch.Tensor]:
        """Compute: each worker's message — [superstep, count, destination ids…, values…]."""
        if self.pagerank:
            per_edge = self.value[self.pos[self.src]] / self.out_degree
        else:
            per_edge = self.value[self.pos[self.src]]
        out, self.raw = [], []
        for j in range(self.w):
            edges, targets, slot = self._route(j)
            self.raw.append(len(edges))  # vertex messages before the combiner
            values = per_edge[edges]
            if slot is not None:  # the combiner: one message per destination vertex
                folded = torch.zeros(len(targets), dtype=torch.float64)
                values = (folded.index_add_(0, slot, values) if self.pagerank else
                          folded.fill_(float("inf")).scatter_reduce_(0, slot, values, "amin"))
            head = torch.tensor([step, len(targets)], dtype=torch.float64)
            out.append(torch.cat([head, targets.to(torch.float64), values]))
        return out

    def _exchange(self, out: list[torch.Tensor], step: int) -> list[torch.Tensor]:
        """Every other worker's message to me, received while mine go out (pairwise
        rounds: in round r, send to w + r, receive from w − r, so no two wait on each
        other). Returning means every worker has sent: the barrier."""
        got = [out[self.me]]  # to my own vertices: delivered in memory, not sent
        comms = self.ctx.comms
        for r in range(1, self.w):
            dst, src = (self.me + r) % self.w, (self.me - r) % self.w
            expect = int(self.expect[src, self.me])
            if self.pagerank:  # sizes known: one message
                buf = torch.empty(2 + 2 * expect, dtype=torch.float64)
                comms.exchange(send=out[dst], dst=dst, recv=buf, src=src, op="bsp_messages",
                               round_no=r - 1)
            else:  # sizes vary: the header [superstep, count] first, then the body
                head = torch.empty(2, dtype=torch.float64)
                comms.exchange(send=out[dst][:2], dst=dst, recv=head, src=src,
                               op="bsp_header", round_no=2 * r - 2)
                expect = min(expect, int(head[1]))  # never more than every vertex's
                body, mine = torch.empty(2 * expect, dtype=torch.float64), out[dst][2:]
                if len(mine) or expect:
                    comms.exchange(send=mine if len(mine) else None, dst=dst,
                                   recv=body if expect else None, src=src,
                                   op="bsp_messages", round_no=2 * r - 1)
                buf = torch.cat([head, body])
            if int(buf[0]) != step or int(buf[1]) != expect:
                raise RuntimeError(f"superstep {step}: worker {src} sent a message for "
                                   f"superstep {int(buf[0])} with {int(buf[1])} vertex "
                                   f"messages; expected {expect}")
            got.append(buf)
        return got

    def _update(self, got: list[torch.Tensor]) -> tuple[torch.Tensor, float]:
        """Every vertex combines its messages: the new values and the local change."""
        ids = torch.cat([m[2:2 + int(m[1])] for m in got]).to(torch.int64)
        values = torch.cat([m[2 + int(m[1]):] for m in got])
        slots = self.pos[ids]
        if self.pagerank:
            incoming = torch.zeros_like(self.value).index_add_(0, slots, values)
            new = (1 - self.d) / self.n + self.d * (incoming + self.spill / self.n)
            change = float((new - self.value).abs().sum())
        else:
            new = self.value.clone().scatter_reduce_(0, slots, values, "amin")
            self.active = new != self.value  # who sends next superstep
            change = float(self.active.sum())
        return new, change

    def _reference(self, steps: int) -> torch.Tensor:
        """The same supersteps computed in one process (engine/bsp_graph.py), every vertex."""
        src, dst = self.graph
        if self.pagerank:
            return pagerank(src, dst, self.n, self.d, steps)[0]
        return propagate_labels(src, dst, self.n, steps)[0].to(torch.float64)

    def train_step(self, step: int) -> StepResult:
        ctx, config = self.ctx, self.ctx.config
        start = time.perf_counter()
        out = self._outgoing(step)
        compute_ms = (time.perf_counter() - start) * 1e3
        emulated_ms, slowed = emulate_work(config, self.me, step, compute_ms,
                                           ctx.control.slow_factor, ctx.control.pace)
        start = time.perf_counter()
        got = self._exchange(out, step)
        barrier_ms = (time.perf_counter() - start) * 1e3
        start = time.perf_counter()
        new, change = self._update(got)
        update_ms = (time.perf_counter() - start) * 1e3
        # The aggregator: Σ over workers of the change, and of the rank on dangling vertices.
        start = time.perf_counter()
        totals = torch.tensor([change, float(new[self.dangling].sum())], dtype=torch.float64)
        ctx.comms.all_reduce_sum(totals, op="bsp_aggregate")
        aggregate_ms = (time.perf_counter() - start) * 1e3
        change, self.spill = float(totals[0]), float(totals[1])
        self.value = new
        self.held.data.copy_(new)
        sent = [int(o[1]) for o in out]
        local, sent[self.me] = sent[self.me], 0
        extra: dict[str, Any] = {
            "vertices": len(self.mine), "messages_to": sent, "messages": sum(sent),
            "messages_raw": sum(self.raw) - self.raw[self.me], "messages_local": local,
            "barrier_ms": round(barrier_ms, 3), "change": change}
        if self.pagerank and len(self.mine):
            best = torch.topk(new, min(TOP, len(new)))
            extra["top"] = [[int(self.mine[i]), round(float(v), 8)]
                            for v, i in zip(best.values, best.indices, strict=True)]
        if emulated_ms:
            extra["emulated_ms"] = round(emulated_ms, 4)
        if slowed:
            extra["slowed"] = True
        if step == config.steps:  # the result: every vertex's value, checked
            want = self._reference(step)[self.mine]
            error = float((new - want).abs().max()) if len(new) else 0.0
            ctx.emit("bsp_values", rank=ctx.topo.me, step=step, vertices=self.mine.tolist(),
                     values=new.tolist(), error=error)
        return StepResult(
            loss=change, grad_norm=0.0, compute_ms=compute_ms + update_ms, samples=0,
            extra=extra, phases=[("compute", compute_ms), ("emulated", emulated_ms),
                                 ("wait", barrier_ms), ("compute", update_ms),
                                 ("comm", aggregate_ms)])


SPEC = StrategySpec(
    name="bsp",
    title={"en": "BSP: PageRank in supersteps (Pregel)",
           "zh": "BSP：按超步计算 PageRank（Pregel）"},
    summary={"en": "A generated graph split over the workers; every superstep each vertex "
                   "sends messages along its edges, the workers exchange them as real "
                   "messages and meet at a barrier. Count the messages (try the combiner), "
                   "watch a straggler stretch every superstep, and check the ranks against "
                   "one process.",
             "zh": "生成的图被划分到各工作进程；每个超步中每个顶点沿边发送消息，工作进程之间以"
                   "真实消息交换，并在屏障处会合。数一数消息（试试合并器），看一个掉队者如何拉长"
                   "每一个超步，并与单进程的结果核对。"},
    implementation=BSP,
    options=BSPOptions,
    workers=(1, 8),
    replicas=False,  # no model: each worker holds its own vertices' values
    trains=False,
    step_label={"en": "Supersteps", "zh": "超步数"},
    faults={"slow": None},
    views=("bsp", "topology", "timeline"),
    events={
        "bsp_graph": {"algorithm": "str: pagerank | connected_components",
                      "graph": "str: power_law | random", "partition": "str: hash | range",
                      "combiner": "bool", "vertices": "int", "edges": "int",
                      "workers": "list: the workers, in rank order",
                      "owned": "list: vertices each worker holds",
                      "dangling": "int: vertices without out-links (PageRank)",
                      "messages": "list: [i][j] vertex messages worker i sends j in a "
                                  "superstep where every vertex sends (PageRank: each; "
                                  "components: the first), after the combiner when on",
                      "messages_raw": "list: [i][j] the same without the combiner"},
        "bsp_values": {"vertices": "list: the vertices this worker holds",
                       "values": "list: their values after the last superstep (ranks, "
                                 "or component labels)",
                       "error": "float: max |value − the one-process computation's| over "
                                "its vertices (0 up to rounding)"},
    },
    references=("Valiant, A bridging model for parallel computation, CACM 1990",
                "Malewicz et al., Pregel: a system for large-scale graph processing, "
                "SIGMOD 2010",
                "Page, Brin, Motwani & Winograd, The PageRank citation ranking: bringing "
                "order to the web, Stanford 1999"),
)
