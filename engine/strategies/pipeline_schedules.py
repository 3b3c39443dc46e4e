"""Pipeline schedules: in which order each stage runs the forward (F) and backward (B)
passes of the m micro-batches of one step.

A schedule is a list of ``(kind, micro_batch)`` per stage. It says nothing about time:
a stage runs its list in order, and waits whenever the activation (for F) or the
gradient (for B) it needs has not arrived yet. That waiting is the *bubble*.

GPipe (Huang et al., 2019): every stage first runs all m forwards, then all m backwards.
Simple, but every stage holds the activations of all m micro-batches at the peak.

1F1B, "one forward, one backward" (PipeDream-Flush; Narayanan et al., 2019/2021): stage
s of p first runs ``p - s - 1`` forwards (the warm-up, enough to fill the pipe behind
it), then alternates one forward and one backward, then runs the remaining backwards.
The bubble is the same as GPipe's, ``(p - 1) / (m + p - 1)`` of the time when F and B
are the same size on every stage, but a stage never holds more than ``p - s`` micro-
batches' activations (at most p, on stage 0) instead of m.

Interleaved 1F1B (Narayanan et al., 2021, §2.2.2): each process holds v model *chunks*
instead of one stage, so the model is cut into v·p pieces and a micro-batch goes round
the processes v times. Its ops carry the chunk: ``(kind, micro_batch, chunk)``. Every
pass is 1/v of a stage's, so the pipe fills and drains v times faster: the bubble is
``(p − 1)/(v·m + p − 1)``, at the cost of v times as many messages.
"""

from __future__ import annotations

Op = tuple[str, int]  # ("F" | "B", micro-batch index from 0)
ChunkOp = tuple[str, int, int]  # ("F" | "B", micro-batch, chunk): interleaved schedules


def gpipe(stages: int, micro_batches: int, stage: int) -> list[Op]:
    """All forwards, then all backwards (in the same order: micro-batch 0 first)."""
    return ([("F", i) for i in range(micro_batches)]
            + [("B", i) for i in range(micro_batches)])


def one_f_one_b(stages: int, micro_batches: int, stage: int) -> list[Op]:
    """Warm-up forwards, then one forward and one backward in turn, then the rest of the
    backwards."""
    warmup = min(stages - stage - 1, micro_batches)
    ops: list[Op] = [("F", i) for i in range(warmup)]
    for i in range(micro_batches - warmup):
        ops += [("F", warmup + i), ("B", i)]
    ops += [("B", i) for i in range(micro_batches - warmup, micro_batches)]
    return ops


SCHEDULES = {"gpipe": gpipe, "1f1b": one_f_one_b}  # one chunk per process


def interleaved_1f1b(stages: int, micro_batches: int, stage: int,
                     chunks: int) -> list[ChunkOp]:
    """Interleaved 1F1B, as Megatron-LM runs it: process ``stage`` of p holds ``chunks``
    (v) chunks of the model; chunk c is *virtual stage* c·p + stage, so the forward of a
    micro-batch visits processes 0, 1, …, p−1 with chunk 0, then 0, 1, …, p−1 again with
    chunk 1, and so on; its backward goes the same way in reverse. m must be a multiple
    of p.

    Each process runs v·m forwards and v·m backwards, taken in *rounds* of p micro-
    batches: forward number k (from 0) is micro-batch ``(k // (p·v))·p + k % p`` on chunk
    ``(k // p) % v``: p micro-batches through chunk 0, the same p through chunk 1, …,
    then the next p micro-batches. Backward number k is the same micro-batch on the
    chunks in reverse order (the last chunk first: it is the nearest to the loss).

    - warm-up: ``(p − stage − 1)·2 + (v − 1)·p`` forwards (all of them, if there are
      fewer): enough that the backward this process needs next is under way. Stage 0
      waits longest for its first gradient, so it warms up the most;
    - steady state: one forward, then one backward, in turn;
    - cool-down: the backwards that are left.
    """
    p, m, v = stages, micro_batches, chunks
    total = m * v

    def op(kind: str, k: int) -> ChunkOp:
        round_, within = divmod(k, p * v)
        chunk = within // p
        if kind == "B":
            chunk = v - 1 - chunk
        return (kind, round_ * p + within % p, chunk)

    warmup = min((p - stage - 1) * 2 + (v - 1) * p, total)
    ops = [op("F", k) for k in range(warmup)]
    for k in range(total - warmup):
        ops += [op("F", warmup + k), op("B", k)]
    ops += [op("B", k) for k in range(total - warmup, total)]
    return ops


def ops_of(name: str, stages: int, micro_batches: int, stage: int,
           chunks: int = 1) -> list[ChunkOp]:
    """The schedule ``name`` ("gpipe", "1f1b", "interleaved") of one process, every op
    with its chunk (0 when a process holds one stage)."""
    if name == "interleaved":
        return interleaved_1f1b(stages, micro_batches, stage, chunks)
    return [(kind, i, 0) for kind, i in SCHEDULES[name](stages, micro_batches, stage)]


def bubble_formula(stages: int, micro_batches: int, chunks: int = 1) -> float:
    """The idle fraction of a pipeline step with equal-sized stages: (p − 1)/(m + p − 1);
    interleaved with v chunks per process, (p − 1)/(v·m + p − 1)."""
    return (stages - 1) / (chunks * micro_batches + stages - 1)


def peak_in_flight(schedule: list[Op] | list[ChunkOp]) -> int:
    """Most micro-batches whose forward is done and backward is not, over the schedule:
    how many micro-batches' activations the stage holds at its peak (interleaved: how
    many micro-batch × chunk activations, each a chunk's, 1/v of a stage's)."""
    held = peak = 0
    for kind, *_ in schedule:
        held += 1 if kind == "F" else -1
        peak = max(peak, held)
    return peak


def measured_bubble(cells_by_stage: list[list[list]]) -> float | None:
    """The idle fraction of one step, measured: each stage's cells ``[kind, micro, start,
    end]`` (seconds) inside the step's span from the first cell's start to the last
    cell's end, over all stages. The page computes the same (strategies/pipeline/)."""
    cells = [c for stage in cells_by_stage for c in stage]
    if not cells or not cells_by_stage:
        return None
    span = max(c[3] for c in cells) - min(c[2] for c in cells)
    if span <= 0:
        return None
    busy = sum(c[3] - c[2] for c in cells)
    return max(0.0, 1 - busy / (span * len(cells_by_stage)))
