"""Pipeline parallelism: the transformer cut by layers into one stage per process.

Stage 0 holds the embedding and the first blocks, the last stage the last blocks and the
head (which computes the loss), the stages between them the blocks between. One step:

1. the step's batch is cut into m micro-batches;
2. each stage runs the forward (F) and backward (B) passes of the micro-batches in the
   order its schedule gives (``pipeline_schedules.py``: GPipe, 1F1B or interleaved
   1F1B). A forward
   receives the activations of the stage before (stage 0 reads the data) and sends its
   output on; a backward receives the gradient of its output from the stage after and
   sends the gradient of its input back;
3. every stage has now accumulated the gradient of the mean loss over the whole batch
   for its own layers (each micro-batch's loss is divided by m), and takes its SGD step.

Interleaved 1F1B (``options.schedule = "interleaved"``): each process holds v chunks
(``options.virtual_stages``) instead of one stage: the model is cut into v·p pieces,
piece c·p + s on process s, so a micro-batch goes round the processes v times (the last
process's chunk c sends on to process 0's chunk c + 1, and gradients go back the same
way). Every op of the schedule names its chunk; each chunk has its own inputs, outputs
and message tags.

So p stages with m micro-batches compute exactly what one process computes on the whole
batch (checked in tests/test_pipeline.py) — only faster when the stages overlap, and
with idle time (the bubble) at the start and end of every step.

What a stage reports each step, beside the usual fields: ``schedule``, its cells
``[kind, micro_batch, start, end]`` (interleaved: ``[…, chunk]``) on the run's clock
(seconds; the page draws the process × time grid from them), and the activations it
held for backward — the most micro-batches at once (``in_flight_peak``) and the most
bytes (``activation_bytes_peak``, measured from the tensors autograd saved).

``options.implementation = "torch"`` runs the same stages with PyTorch's own library,
``torch.distributed.pipelining``, instead of this loop: ``pipeline_torch.py``.

References: Huang et al., "GPipe", NeurIPS 2019; Narayanan et al., "PipeDream", SOSP 2019
and "Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM",
SC 2021.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from engine.data import batch_indices
from engine.memory import SavedActivations, memory_due, memory_of
from engine.model import num_params
from engine.sampling import writing_due
from engine.strategies.base import StepResult, WorkerContext, loss_of, sgd_update
from engine.strategies.pipeline_options import PipelineOptions, check_pipeline
from engine.strategies.pipeline_schedules import ops_of, peak_in_flight
from engine.strategies.pipeline_writing import write_through_stages
from engine.strategies.spec import StrategySpec, chosen_by, parts_checkpoint

FORWARD_TAG, BACKWARD_TAG = 10, 11  # activations travel forward, gradients backward
# (+ 2 × the receiving chunk, so an interleaved run's chunks never take each other's)


def stage_pieces(layers: int, stages: int, stage: int) -> range:
    """Which of the model's pieces (embedding, blocks 1..layers, head) a stage holds:
    the blocks dealt out as evenly as they go, the embedding to the first stage and the
    head to the last."""
    first = 1 + layers * stage // stages
    last = 1 + layers * (stage + 1) // stages
    return range(0 if stage == 0 else first, last + 1 if stage == stages - 1 else last)


class Pipeline:
    group = None  # the pipeline's subgroup when it is not the whole run (three_d.py)

    def setup(self, ctx: WorkerContext) -> None:
        pieces = ctx.model.pieces()
        p, rank = ctx.topo.world_size, ctx.topo.rank
        # Neighbours round a ring: interleaved, the last process sends on to the first.
        self.place(ctx, stages=p, stage=rank, prev=(rank - 1) % p, next=(rank + 1) % p,
                   pieces=pieces)

    def place(self, ctx: WorkerContext, *, stages: int, stage: int, prev: int, next: int,
              pieces: list[nn.Module]) -> None:
        """Make this process stage ``stage`` of ``stages``, from the model's ``pieces``,
        with the process-group ranks of the stages before and after it."""
        self.ctx = ctx
        config = ctx.config
        self.opts = config.opts
        self.p, self.s, self.prev, self.next = stages, stage, prev, next
        self.first, self.last = self.s == 0, self.s == self.p - 1
        name = getattr(self.opts, "schedule", "1f1b")
        # v chunks: chunk c is the model's piece c·p + s of v·p (interleaved); else one.
        self.v = self.opts.virtual_stages if name == "interleaved" else 1
        owned = [stage_pieces(config.layers, self.v * self.p, c * self.p + self.s)
                 for c in range(self.v)]
        self.chunks = [nn.Sequential(*(pieces[i] for i in piece)) for piece in owned]
        mine = [i for piece in owned for i in piece]
        self.stage = self.chunks[0] if self.v == 1 else nn.ModuleList(self.chunks)
        self.context, self.d_model = config.context, config.d_model
        self.schedule = ops_of(name, self.p, self.opts.micro_batches, self.s, self.v)
        # From here on this process's model is its stage: its parameters are what it
        # reports, updates and checksums (the rest of the model it built is not used).
        ctx.model = self.stage
        ctx.emit("pipeline_stage", rank=ctx.topo.me, stage=self.s, pieces=mine,
                 params=num_params(self.stage),
                 in_flight_expected=peak_in_flight(self.schedule),
                 **({"chunks": [list(piece) for piece in owned]} if self.v > 1 else {}))

    def batch_of(self, step: int) -> torch.Tensor:
        """The samples this pipeline trains on: the whole batch (three_d.py: a share)."""
        return batch_indices(self.ctx.config.num_samples, step, self.ctx.config.batch_size,
                             self.ctx.config.seed)

    def reduce_gradients(self) -> None:
        """After the schedule, before the update: nothing for one pipeline (three_d.py
        all-reduces over its data-parallel group here)."""

    def share_loss(self, loss_sum: float) -> float:
        """The loss is known on the last stage only: it tells the others (control plane)."""
        loss = torch.tensor([loss_sum], dtype=torch.float64)
        self.ctx.comms.announce(loss, src=self.p - 1)
        return float(loss)

    def train_step(self, step: int) -> StepResult:
        ctx, m = self.ctx, self.opts.micro_batches
        idx = self.batch_of(step)
        self.rows = len(idx) // m  # of every micro-batch
        x = ctx.data.x[idx].chunk(m) if self.first else None
        y = ctx.data.y[idx].chunk(m) if self.last else None
        self.stage.zero_grad(set_to_none=False)
        # (micro-batch, chunk) → what its forward received, and its output (or its loss)
        inputs: dict[tuple[int, int], torch.Tensor] = {}
        outputs: dict[tuple[int, int], torch.Tensor] = {}
        sends: list[dist.Work] = []
        saved = SavedActivations()
        cells, loss_sum, compute_ms, emulated_ms = [], 0.0, 0.0, 0.0
        v = self.v
        for kind, i, c in self.schedule:
            # The model's first piece is chunk 0 of stage 0, its last chunk v−1 of stage p−1.
            first, last = self.first and c == 0, self.last and c == v - 1
            emulated_before = emulated_ms
            if kind == "F":
                received = x[i] if first else self._receive(i, FORWARD_TAG + 2 * c, self.prev)
                start = ctx.clock()
                if not first:
                    received.requires_grad_(True)
                with saved.hooks(i * v + c):
                    out = self.chunks[c](received)
                    if last:  # each micro-batch's share of the whole batch's mean loss
                        out = loss_of(out, y[i]) / m
                        loss_sum += float(out.detach())
                emulated_ms += self._emulate(1 / 3 / v)
                end = ctx.clock()  # before sending: the next stage starts after this
                inputs[i, c], outputs[i, c] = received, out
                if not last:
                    sends.append(self.send_activation(out.detach(), i, c))
            else:
                grad = None if last else self._receive(i, BACKWARD_TAG + 2 * c, self.next)
                start = ctx.clock()
                outputs.pop((i, c)).backward(grad)
                emulated_ms += self._emulate(2 / 3 / v)
                end = ctx.clock()
                saved.release(i * v + c)
                received = inputs.pop((i, c))
                if not first:
                    sends.append(self.send_input_gradient(received.grad, i, c))
            compute_ms += (end - start) * 1e3 - (emulated_ms - emulated_before)
            cells.append([kind, i, round(start, 5), round(end, 5), *([c] if v > 1 else [])])
        for request in sends:  # everything sent must have left before buffers are reused
            request.wait()
        self.reduce_gradients()
        start = ctx.clock()
        grad_norm = sgd_update(self.stage, ctx.config.lr)
        compute_ms += (ctx.clock() - start) * 1e3
        loss = self.share_loss(loss_sum)
        if writing_due(ctx.config, step):
            self._write(step)
        return StepResult(
            loss=float(loss), grad_norm=grad_norm, compute_ms=compute_ms,
            samples=len(idx),
            extra={"schedule": cells, "stage": self.s,
                   **({"emulated_ms": round(emulated_ms, 4)} if emulated_ms else {}),
                   "in_flight_peak": peak_in_flight([(c[0], c[1]) for c in cells]),
                   "activation_bytes_peak": saved.peak,
                   **({"chunks": v} if v > 1 else {}),
                   **({"memory": memory_of(self.stage, saved.peak)}
                      if memory_due(step, ctx.config.steps) else {})})

    def _emulate(self, share: float) -> float:
        """Sleep as if this pass computed a bigger model: ``emulated_compute_ms`` is one
        stage's work per step, a third of it forward and two thirds backward (a backward
        pass costs about twice a forward), spread over the micro-batches. Our stages are
        tiny and share two cores; with it the grid looks as on a cluster (the UI says
        the compute is emulated)."""
        ms = self.ctx.config.emulated_compute_ms * share / self.opts.micro_batches
        if ms > 0:
            time.sleep(ms / 1e3)
        return ms

    def send_activation(self, activation: torch.Tensor, micro: int, chunk: int = 0
                        ) -> dist.Work:
        """Forward: this stage's output goes on to the next stage (interleaved: from the
        last process, on to chunk + 1 of the first)."""
        to_chunk = chunk + 1 if self.last else chunk
        return self.ctx.comms.post_send(activation, self.next, tag=FORWARD_TAG + 2 * to_chunk,
                                        op="activation", chunk=micro, group=self.group)

    def send_input_gradient(self, grad: torch.Tensor, micro: int, chunk: int = 0
                            ) -> dist.Work:
        """Backward: the gradient of the loss with respect to this stage's input is what
        the stage before needs to run its own backward (the chain rule, across processes;
        interleaved: from the first process, back to chunk − 1 of the last)."""
        to_chunk = chunk - 1 if self.first else chunk
        return self.ctx.comms.post_send(grad, self.prev, tag=BACKWARD_TAG + 2 * to_chunk,
                                        op="gradient", chunk=micro, group=self.group)

    def _receive(self, micro: int, tag: int, src: int) -> torch.Tensor:
        buffer = torch.empty(self.rows, self.context, self.d_model)
        self.ctx.comms.recv(buffer, src, tag=tag)
        return buffer

    def _write(self, step: int) -> None:
        write_through_stages(self, step)  # pipeline_writing.py: one forward per character

    speaks_for_run = True  # its last stage reports the writing (three_d.py: one of many)

    def share_token(self, token: torch.Tensor) -> None:
        """The character the last stage chose, to every stage."""
        dist.broadcast(token, src=self.p - 1)


def _torch_pipeline() -> Any:  # imported only when chosen: the library is big
    from engine.strategies.pipeline_torch import TorchPipeline

    return TorchPipeline()


SPEC = StrategySpec(
    name="pipeline",
    title={"en": "Pipeline parallelism (GPipe, 1F1B, interleaved)",
           "zh": "流水线并行（GPipe、1F1B、交错式）"},
    summary={"en": "The transformer is cut by layers into one stage per process; each step's "
                   "batch flows through the stages in micro-batches, forward and then back.",
             "zh": "Transformer 按层切分，每个进程一个阶段；每一步的批次切成微批次，"
                   "依次流过各阶段，先前向，再反向。"},
    implementation=chosen_by("implementation", ours=Pipeline, torch=_torch_pipeline),
    options=PipelineOptions,
    workers=(2, 8),
    models=("transformer",),
    replicas=False,
    batch_per_worker=False,
    faults={"kill": None, "freeze": None, "slow": None},
    recoveries={"none": None, "restart": None},
    restart_state=parts_checkpoint,
    views=("pipeline_chain", "timeline", "loss", "schedule", "sample"),
    events={"pipeline_stage": {"stage": "int: the stage this process is (0 = first)",
                               "pieces": "list: the model's pieces it holds (0 = embedding, "
                                         "1..layers = blocks, layers+1 = head)",
                               "params": "int: its number of parameters",
                               "in_flight_expected": "int: micro-batches its schedule holds "
                                                     "at most (interleaved: micro-batch × "
                                                     "chunk activations)",
                               "chunks": "list: interleaved only, the pieces of each of its "
                                         "v chunks"}},
    check=check_pipeline,
    references=("Huang et al., GPipe: Efficient Training of Giant Neural Networks using "
                "Pipeline Parallelism, NeurIPS 2019",
                "Narayanan et al., PipeDream: Generalized Pipeline Parallelism for DNN "
                "Training, SOSP 2019",
                "Narayanan et al., Efficient Large-Scale Language Model Training on GPU "
                "Clusters Using Megatron-LM, SC 2021"),
)
