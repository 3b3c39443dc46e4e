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
"""

from __future__ import annotations

Op = tuple[str, int]  # ("F" | "B", micro-batch index from 0)


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


SCHEDULES = {"gpipe": gpipe, "1f1b": one_f_one_b}


def bubble_formula(stages: int, micro_batches: int) -> float:
    """The idle fraction of a pipeline step with equal-sized stages: (p − 1)/(m + p − 1)."""
    return (stages - 1) / (micro_batches + stages - 1)


def peak_in_flight(schedule: list[Op]) -> int:
    """Most micro-batches whose forward is done and backward is not, over the schedule:
    how many micro-batches' activations the stage holds at its peak."""
    held = peak = 0
    for kind, _ in schedule:
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
