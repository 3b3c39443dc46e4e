"""Pipeline parallelism with PyTorch's own library, ``torch.distributed.pipelining``: the
same stages as ``pipeline.py``, run by ``PipelineStage`` and ``ScheduleGPipe`` /
``Schedule1F1B`` / ``ScheduleInterleaved1F1B`` instead of our loop
(``options.implementation = "torch"``).

What the library does for us:

- it cuts the step's batch into m micro-batches (``schedule.step(x, target=y)``, along
  the batch dimension: the same pieces as ours);
- it runs each stage's forwards (F) and backwards (B) in its schedule's order: GPipe, or
  1F1B (PipeDream-Flush). The orders are ours (``pipeline_schedules.py``): its 1F1B warms
  up with p − s forwards and then starts with a backward, ours warms up with p − s − 1
  and starts with a forward — the same list. Interleaved, each process hands the
  schedule v ``PipelineStage``s, our chunks: chunk c of process s is the library's stage
  c·p + s of v·p (its default placement, "loop"), and it runs them in Megatron-LM's order,
  the same as ours (tests/test_torch_parallel.py);
- it sends the activations forward and the gradients of the inputs back (``isend`` /
  ``irecv`` into buffers it allocates), after learning their shapes on the first step:
  each stage runs a forward on the first micro-batch's shapes and sends the shapes of
  what came out, pickled, to the next stage;
- it scales the loss: ``loss_fn`` is each micro-batch's mean cross-entropy, and after the
  last backward the schedule divides the gradients by m (``scale_grads=True``, its
  default). Ours divides each micro-batch's loss by m before its backward. Both give the
  gradient of the whole batch's mean loss (bit for bit when m is a power of two: dividing
  by 2^k is exact).

What it hides, and how this file still reports what the page draws:

- when each pass ran: the schedule calls the stage's ``forward_one_chunk`` and
  ``backward_one_chunk`` once per micro-batch, so a subclass of ``PipelineStage`` times
  them: the step event has the same ``schedule`` cells as ours (the last stage's loss,
  which the schedule computes right after the forward, counts in that forward's cell, as
  in ours). The activations autograd saves are counted in the same two calls.
- what it sends: the same subclass reads the tensors of the send and receive operations
  it hands to the schedule (``get_fwd_send_ops`` …) and counts their bytes, one ``comm``
  event per message, as ours. It cannot time them: the schedule waits for its messages
  inside ``step``, between our cells. What the step took beyond the stage's passes is
  that waiting, and it is reported as the step's ``comm_ms`` (on the first step it also
  holds the shape discovery above, whose few hundred pickled bytes are not counted).

What it will not do here: ``Schedule1F1B`` needs at least as many micro-batches as
stages (ours shortens the warm-up), and a network model cannot delay messages it does
not carry; ``pipeline.py``'s check refuses both. The SGD step is ours (``sgd_update``),
and so is the model's writing (``Pipeline._write``): each new character is a forward
pass over a window that grows, and the library's stage expects the shapes it learnt.

References: the ``torch.distributed.pipelining`` documentation (PyTorch 2.x); Huang et
al., "GPipe", NeurIPS 2019; Narayanan et al., "PipeDream", SOSP 2019.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.pipelining import (
    PipelineStage,
    Schedule1F1B,
    ScheduleGPipe,
    ScheduleInterleaved1F1B,
)

from engine.comms import Comms
from engine.data import batch_indices
from engine.memory import SavedActivations, memory_due, memory_of
from engine.model import num_params
from engine.sampling import writing_due
from engine.strategies.base import StepResult, WorkerContext, loss_of, sgd_update
from engine.strategies.pipeline import Pipeline, stage_pieces
from engine.strategies.pipeline_schedules import ops_of, peak_in_flight

LIBRARY_SCHEDULES = {"gpipe": ScheduleGPipe, "1f1b": Schedule1F1B,
                     "interleaved": ScheduleInterleaved1F1B}


class StepLog:
    """What a process's stages (one, or v chunks when interleaved) saw in one step."""

    def __init__(self) -> None:
        self.cells: list[list[Any]] = []
        self.saved = SavedActivations()
        self.emulated_ms = 0.0
        self.awaiting_loss: int | None = None  # last stage: the forward whose loss is next


class SeenStage(PipelineStage):
    """A ``PipelineStage`` whose work we can see: each forward and backward the schedule
    asks of it becomes a cell ``[kind, micro_batch, start, end]``, and each message it
    sends or receives is counted in ``comms``. Everything else is the library's."""

    def __init__(self, module: nn.Module, stage: int, stages: int, *, clock: Callable[[], float],
                 emulate: Callable[[float], float], comms: Comms, log: StepLog,
                 chunk: int = 0, chunks: int = 1) -> None:
        super().__init__(module, stage, stages, torch.device("cpu"))
        self.clock, self.emulate, self.comms = clock, emulate, comms
        self.log, self.chunk, self.chunks = log, chunk, chunks  # chunk c of v (interleaved)

    def _key(self, micro: int) -> int:  # the activations of one micro-batch in one chunk
        return micro * self.chunks + self.chunk

    def _cell(self, kind: str, micro: int, start: float) -> list[Any]:
        return [kind, micro, start, self.clock(), *([self.chunk] if self.chunks > 1 else [])]

    def forward_one_chunk(self, fwd_chunk_id: int, *args: Any, **kwargs: Any) -> Any:
        start = self.clock()
        with self.log.saved.hooks(self._key(fwd_chunk_id)):
            out = super().forward_one_chunk(fwd_chunk_id, *args, **kwargs)
        self.log.emulated_ms += self.emulate(1 / 3 / self.chunks)
        self.log.cells.append(self._cell("F", fwd_chunk_id, start))
        self.log.awaiting_loss = self._key(fwd_chunk_id) if self.is_last else None
        return out

    def backward_one_chunk(self, bwd_chunk_id: int, *args: Any, **kwargs: Any) -> None:
        start = self.clock()
        super().backward_one_chunk(bwd_chunk_id, *args, **kwargs)
        self.log.emulated_ms += self.emulate(2 / 3 / self.chunks)
        self.log.cells.append(self._cell("B", bwd_chunk_id, start))
        self.log.saved.release(self._key(bwd_chunk_id))

    # The messages: the library builds them here and sends them in the schedule. Their
    # bytes are the tensors' own; their time is not seen (see the module's docstring).
    def get_fwd_send_ops(self, fwd_chunk_id: int) -> list[dist.P2POp]:
        return self._count(super().get_fwd_send_ops(fwd_chunk_id), "activation",
                           fwd_chunk_id, sending=True)

    def get_bwd_send_ops(self, bwd_chunk_id: int) -> list[dist.P2POp]:
        return self._count(super().get_bwd_send_ops(bwd_chunk_id), "gradient",
                           bwd_chunk_id, sending=True)

    def get_fwd_recv_ops(self, fwd_chunk_id: int) -> list[dist.P2POp]:
        return self._count(super().get_fwd_recv_ops(fwd_chunk_id), "activation",
                           fwd_chunk_id, sending=False)

    def get_bwd_recv_ops(self, bwd_chunk_id: int) -> list[dist.P2POp]:
        return self._count(super().get_bwd_recv_ops(bwd_chunk_id), "gradient",
                           bwd_chunk_id, sending=False)

    def _count(self, ops: list[dist.P2POp], what: str, micro: int, *, sending: bool
               ) -> list[dist.P2POp]:
        for op in ops:
            size = op.tensor.numel() * op.tensor.element_size()
            if sending:
                self.comms.library(what, sent=size, peer=op.peer, chunk=micro)
            else:
                self.comms.library(what, recv=size)
        return ops


class TorchPipeline(Pipeline):
    """The library's pipeline. ``setup`` and ``train_step`` are new; the emulated compute
    (``_emulate``) and the writing (``_write``) are ``Pipeline``'s."""

    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        config = ctx.config
        self.opts = config.opts
        p = self.p = ctx.topo.world_size
        self.s = ctx.topo.rank
        # for the writing (Pipeline._write): neighbours round the ring
        self.prev, self.next = (self.s - 1) % p, (self.s + 1) % p
        self.first, self.last = self.s == 0, self.s == p - 1
        name = self.opts.schedule
        self.v = v = self.opts.virtual_stages if name == "interleaved" else 1
        pieces = ctx.model.pieces()
        # the same stages as ours: chunk c is the model's piece c·p + s of v·p
        owned = [stage_pieces(config.layers, v * p, c * p + self.s) for c in range(v)]
        self.chunks = [nn.Sequential(*(pieces[i] for i in piece)) for piece in owned]
        self.stage = self.chunks[0] if v == 1 else nn.ModuleList(self.chunks)
        self.context, self.d_model = config.context, config.d_model
        self.log = StepLog()
        self.seen = [SeenStage(chunk, c * p + self.s, v * p, clock=ctx.clock,
                               emulate=self._emulate, comms=ctx.comms, log=self.log,
                               chunk=c, chunks=v) for c, chunk in enumerate(self.chunks)]
        self.pipe = LIBRARY_SCHEDULES[name](
            self.seen if v > 1 else self.seen[0], self.opts.micro_batches,
            loss_fn=self._loss, scale_grads=True)
        ctx.model = self.stage
        schedule = ops_of(name, p, self.opts.micro_batches, self.s, v)
        ctx.emit("pipeline_stage", rank=ctx.topo.me, stage=self.s,
                 pieces=[i for piece in owned for i in piece], params=num_params(self.stage),
                 in_flight_expected=peak_in_flight(schedule),
                 **({"chunks": [list(piece) for piece in owned]} if v > 1 else {}))

    def _loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """One micro-batch's mean cross-entropy (the schedule scales the gradients by 1/m
        afterwards). Also called once on the first step to learn the gradients' shapes."""
        key, self.log.awaiting_loss = self.log.awaiting_loss, None
        if key is None:  # that shape discovery: not a pass of the step
            return loss_of(output, target)
        with self.log.saved.hooks(key):
            loss = loss_of(output, target)
        self.log.cells[-1][3] = self.ctx.clock()  # the loss is its forward's, as in ours
        return loss

    def train_step(self, step: int) -> StepResult:
        ctx, m = self.ctx, self.opts.micro_batches
        idx = batch_indices(ctx.config.num_samples, step, ctx.config.batch_size,
                            ctx.config.seed)  # one pipeline: the whole batch, every stage
        self.stage.zero_grad(set_to_none=False)
        log = self.log = StepLog()
        for seen in self.seen:
            seen.log = log
        losses: list[torch.Tensor] = []
        started = time.perf_counter()
        if self.first:
            self.pipe.step(ctx.data.x[idx])
        elif self.last:
            self.pipe.step(target=ctx.data.y[idx], losses=losses, return_outputs=False)
        else:
            self.pipe.step()
        step_ms = (time.perf_counter() - started) * 1e3
        cells = [[k, i, round(a, 5), round(b, 5), *chunk] for k, i, a, b, *chunk in log.cells]
        busy_ms = sum(c[3] - c[2] for c in log.cells) * 1e3
        # The schedule waited for its messages inside step(), between the cells.
        ctx.comms.library("pipeline_wait", elapsed_ms=max(0.0, step_ms - busy_ms))
        emulated_ms = log.emulated_ms
        start = ctx.clock()
        grad_norm = sgd_update(self.stage, ctx.config.lr)
        compute_ms = busy_ms - emulated_ms + (ctx.clock() - start) * 1e3
        # The loss is known on the last stage only: it tells the others (control plane).
        loss = torch.tensor([sum(float(x.detach()) for x in losses) / m],
                            dtype=torch.float64)
        ctx.comms.announce(loss, src=self.p - 1)
        if writing_due(ctx.config, step):
            self._write(step)
        saved = log.saved
        return StepResult(
            loss=float(loss), grad_norm=grad_norm, compute_ms=compute_ms,
            samples=len(idx),
            extra={"schedule": cells, "stage": self.s,
                   **({"emulated_ms": round(emulated_ms, 4)} if emulated_ms else {}),
                   "in_flight_peak": peak_in_flight([(c[0], c[1]) for c in cells]),
                   "activation_bytes_peak": saved.peak,
                   **({"chunks": self.v} if self.v > 1 else {}),
                   **({"memory": memory_of(self.stage, saved.peak)}
                      if memory_due(step, ctx.config.steps) else {})})
