"""The event log: everything the engine says, typed and versioned.

The UI is a pure function of this log, so live view, replay, scrubbing and export all come
from one mechanism. Every event carries the envelope ``seq`` (per run, from 1, gapless),
``type``, ``run_id``, ``t`` (seconds since run start), ``rank`` and ``step``.

Workers build events without ``seq``/``run_id``; the supervisor stamps those on arrival,
which is what makes ``seq`` gapless across all ranks.
"""

from __future__ import annotations

import math
from typing import Any

from engine.strategies import registry

SCHEMA_VERSION = 2  # 2: a strategy's options moved under config.options

# Numbers that are not finite (a diverged loss) travel as "NaN", "Infinity", "-Infinity".
ENVELOPE: dict[str, str] = {
    "seq": "int: per run, from 1, gapless, strictly increasing",
    "type": "str: one of the event types below",
    "run_id": "str",
    "t": "float: seconds since the run started",
    "rank": "int | null: the rank that emitted it (null for run-level events)",
    "step": "int | null: the training step it belongs to (from 1)",
}

EVENT_TYPES: dict[str, dict[str, str]] = {
    "run_started": {
        "config": "object: the run configuration",
        "world_size": "int: number of ranks (processes), servers included",
        "num_servers": "int: parameter servers among them (ranks 0..num_servers-1)",
        "backend": "str: gloo | nccl (launcher torchrun: as asked, auto | gloo | nccl, until "
        "hosts_joined says which)",
        "num_params": "int: model parameters per replica",
        "schema_version": "int",
        "strategy": "str",
        "dataset": "object: name, kind (points | text), num_classes; points: extent "
        "[xmin,xmax,ymin,ymax], points [[x, y, label, shard_rank], ...]; text: chars (its "
        "length), excerpt (its beginning)",
        "network": "object | null: the modelled network (name, latency_us, bandwidth_gbps, "
        "links); null when only wall time is measured",
    },
    "worker_started": {
        "pid": "int: OS process id of the worker",
        "role": "str: worker | server",
        "device": "str: cpu | cuda:N",
        "host": "str",
        "shard_size": "int: samples in this rank's shard",
        "node": "int (launcher torchrun): the node rank of its host (see hosts_joined)",
    },
    "hosts_waiting": {
        "nnodes": "int: hosts the run waits for (launcher torchrun)",
        "nproc_per_node": "int: processes each host's torchrun starts",
        "rendezvous": "str: HOST:PORT of the run's store, the agents' c10d rendezvous (the "
        "command to paste, with its join token, is GET /api/runs/{id}/hosts)",
    },
    "hosts_joined": {
        "hosts": "list: [{node, host, address, ranks}] by node rank: every host and the "
        "ranks torchrun started there",
        "backend": "str: gloo | nccl, chosen now: nccl where every worker has a GPU",
    },
    "join_refused": {
        "address": "str: where the refused process connected from (ip:port)",
        "host": "str | null: the host it said it is on (null: it did not get that far)",
        "reason": "str: why, in English (a wrong join token, a rank already there, …)",
    },
    "step": {
        "loss": "float: this rank's loss on its own batch",
        "grad_norm": "float: L2 norm of the gradient this rank applied",
        "compute_ms": "float: forward + backward + update",
        "comm_ms": "float: time inside communication calls",
        "wait_ms": "float: time waiting for peers where the ranks agree on their controls "
        "(before every step at a human pace; at full speed only every 20 steps, and the "
        "wait for peers is then inside the step's communication)",
        "comm_modelled_ms": "float | null: communication time on the modelled network",
        "bytes_sent": "int", "bytes_recv": "int",
        "param_checksum": "float: float64 sum of all parameters after the update",
        "param_hash": "str: hash of the raw parameter bytes (bitwise identity)",
        "bytes_across_nodes": "int (with node_size): bytes this rank sent to processes on "
        "other nodes this step (what crosses the slow links)",
        "lr": "float", "samples": "int: samples this rank processed this step",
        "t_start": "float: when this rank started the step (s since run start)",
        "phases": "list (optional): the step's measured phases in order, [[name, ms], …] "
        "with ms > 0; names: wait (for peers), compute, emulated (slept: straggler model), "
        "comm; parameter server: pull | wait (for the version) | blocked (staleness "
        "bound), compute, emulated, push. Left out when they are exactly the step's own "
        "timings in the usual order: then they are wait_ms, compute_ms, emulated_ms, "
        "comm_ms as wait, compute, emulated, comm, those > 0 (derive them so when absent)",
        "emulated_ms": "float (optional): emulated extra compute slept (straggler model)",
        "slowed": "bool (optional): this step was slowed by the straggler model",
        "blocked_ms": "float (parameter server): pull held back by the staleness bound",
        "pull_ms": "float (parameter server): time to pull the parameters",
        "read_version": "int (parameter server): version read from server 0",
        "read_versions": "list (parameter server): version read from each server",
        "events_dropped": "int: events this rank could not queue so far",
        "schedule": "list (pipeline): the passes this stage ran, [kind F|B, micro-batch, "
        "start s, end s] on the run's clock, in order",
        "stage": "int (pipeline): the stage this process is",
        "in_flight_peak": "int (pipeline): most micro-batches whose activations it held",
        "activation_bytes_peak": "int (pipeline): most bytes autograd held for backward",
        "memory": "object (step 1 and every 50th; single, data parallel, pipeline, tensor "
        "parallel): bytes this process holds by kind, {params, grads, optimizer, "
        "activations} (activations: the most autograd held for backward; engine/memory.py)",
        "tp_allreduces": "list (tensor parallel): the step's all-reduces, [block, part "
        "attention|mlp, direction forward|backward, bytes of the tensor, start s, end s]",
        "shard_checksum": "float (tensor parallel): float64 sum of this process's slices "
        "(param_checksum also counts the replicated parameters)",
        "coords": "list (3-D parallelism): this process's place in the mesh, [d, p, t]",
        "sent_by_group": "object (3-D parallelism): bytes this process sent over each of its "
        "groups this step, {data, pipeline, tensor}",
        "dp_allreduce": "list (3-D parallelism): the gradients' all-reduce over the data "
        "group, [bytes of the tensor, start s, end s] ([] when dp is 1)",
        "skipped": "bool (optional): the update was skipped because a gradient was NaN",
        "slow_factor": "float (optional): > 1 while a 'slow' fault slows this rank",
        "payload_bytes": "int (only with compression): size of this rank's encoded gradient",
        "compress_ratio": "float (only with compression): raw bytes / encoded bytes",
        "compress_error": "float (only with compression): ‖x − Q(x)‖² / ‖x‖²",
        "residual_norm": "float | null (only with compression): error-feedback residual ‖e‖",
    },
    "comm": {
        "op": "str: all_reduce | broadcast | reduce | reduce_scatter | all_gather | gossip "
              "| scatter | gather | all_to_all | barrier",
        "src": "int", "dst": "int | null",
        "bytes": "int", "chunk": "int | null",
        "algo": "str: builtin (the process group's own algorithm) | ring | tree | naive "
                "(and the collectives playground's: rs_ag | binomial | linear | pairwise | "
                "dissemination)",
        "round": "int (optional): the round of a hand-written collective, from 0, the same "
                 "numbering on every rank",
        "duration_ms": "float: measured wall time of the exchange, to 10 µs (2 decimals)",
        "modelled_ms": "float (only with a network model): α + bytes/β of this message",
        "modelled_start_ms": "float (only with a network model): departure on the "
        "sender's modelled clock, from the start of the step's communication",
        "dropped": "bool (optional): a 'drop' fault discarded this message",
        "group": "str (optional): the subgroup it went over — data | pipeline | tensor "
        "(3-D parallelism)",
    },
    "fault": {
        "action": "str: kill (SIGKILL) | freeze (SIGSTOP) | slow | corrupt (next gradient "
        "NaN) | delay (emulated extra latency on the link src→dst) | drop (the link "
        "loses its next message and, like a broken connection, all after it)",
        "factor": "float | null: slow-down factor (slow only)",
        "pid": "int | null: the target worker's process id (rank faults)",
        "src": "int (link faults)", "dst": "int (link faults)",
        "ms": "float (delay only): extra milliseconds per message",
        "scheduled": "bool (optional): planned before the run (config.faults)",
        "not_applied": "str (optional): why a scheduled fault could not be applied",
    },
    "worker_failed": {
        "cause": "object: why it failed, a code with fields (engine/causes.py): "
        "{code: signal, signal} | {code: frozen, silent_s} (no heartbeat for that long) | "
        "{code: exit, exit_code} | {code: exception, type, message} (its own error) | "
        "{code: collective, type, message} (its group broke and no new one formed) | "
        "{code: link_drop, src, dst} (it waited for a message dropped on that link). "
        "Runs stored before codes have a plain English string",
        "detection_ms": "float | null: from the injected fault to its detection",
        "pid": "int",
    },
    "nan_detected": {
        "ranks": "list: ranks whose own gradient was not finite",
        "action": "str: skipped (no replica applied the step) | spread (demo: all-reduced "
        "into every replica)",
        "server": "int (optional): the parameter server that refused it",
    },
    "checkpoint_saved": {
        "file": "str", "bytes": "int",
        "duration_ms": "float: measured cost of writing it (atomically, fsynced)",
    },
    "recovery": {
        "policy": "str: restart (everyone from the last checkpoint) | shrink (the survivors "
        "go on as a smaller group) | rejoin (a worker that left is added back) | continue "
        "(parameter server: training goes on without the dead worker)",
        "failed_rank": "int", "from_step": "int: the checkpoint the run restarts from "
        "(0 = the start)",
        "lost_steps": "[first, last]: steps done since that checkpoint, executed again",
        "generation": "int: 1 for the first restart, 2 for the second, …",
        "refused": "list: newer checkpoints refused (truncated or tampered), with why",
        "members": "list (shrink, rejoin, continue): the ranks still in the run (for shrink "
        "and rejoin in group-rank order)",
    },
    "sample": {
        "prompt": "str: the beginning of the text the transformer continues",
        "text": "str: what it wrote after the prompt (greedy: the same model always writes "
        "the same). About once a second at a human pace, ~10 per run at full speed, and at "
        "the first and last step",
    },
    "boundary": {
        "grid": "object: nx, ny, extent, d8 (ny*nx P(class 1) × 255 as bytes, row-major "
        "from ymin, each byte the difference mod 256 from the cell on its left, a row's "
        "first as it is; base64; runs recorded before have q8, the bytes themselves, or "
        "probs, a list of floats). Sent a "
        "few times a second at a human pace, every step while paused, 4 a second of the "
        "run at full speed (by the clock), and at the last step",
    },
    "control": {
        "action": "str: pause | resume | step | stop | set_pace (faults are `fault` events)",
        "pace": "float | null: steps per second after the action",
    },
    "run_finished": {
        "status": "str: finished | stopped | failed | interrupted (the server shut down)",
        "error": "str | null: why it ended badly, in English (the sentence of `cause`)",
        "cause": "object | null (optional): the same as a code with fields: {code: "
        "rank_failed, rank, pid, cause} (a worker_failed cause) | {code: stalled, limit_s} | "
        "{code: stop_timeout} | {code: start_failed, type, message} | {code: internal, "
        "type, message} | {code: abandoned} | {code: shutdown}",
        "summary": "object: steps_completed (parameter server: the furthest worker's), "
        "wall_s, startup_s, steps_per_s, final_loss, events_dropped, versions (parameter "
        "server: server 0's last version), consensus (decentralized: {last, mean, steps}, "
        "the consensus distance of the last step and its mean over the run)",
    },
}

FINAL_STATUSES = ("finished", "stopped", "failed", "interrupted")


def json_safe(value: Any) -> Any:
    """JSON has no NaN or infinity: send them as the strings "NaN", "Infinity", "-Infinity".

    A diverging run (a large learning rate, a corrupted gradient) must still reach the
    browser, which would reject a bare NaN in JSON.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def all_event_types() -> dict[str, dict[str, str]]:
    """The common event types and those every registered strategy adds (its spec)."""
    types = dict(EVENT_TYPES)
    for spec in registry.specs().values():
        types.update(spec.events)
    return types


# A step event without ``phases`` took these, in this order, from its own timings.
DEFAULT_PHASES = (("wait", "wait_ms"), ("compute", "compute_ms"),
                  ("emulated", "emulated_ms"), ("comm", "comm_ms"))


def phases_of(step: dict[str, Any]) -> list[tuple[str, float]]:
    """The phases of a step event, in order, as (name, ms) with ms > 0: the one rule in
    Python (the trace export draws these; ``stepPhases`` in
    frontend/static/js/views/timeline.js is its mirror for the page).

    As the engine sent them (``phases``), else derived from the step's timings: wait →
    compute → emulated → comm (``DEFAULT_PHASES``). The engine leaves ``phases`` out when
    they are exactly that — the common case, ~100 B per step less for every live viewer —
    and sends them when a strategy has phases of its own (the parameter server). Parameter-
    server runs recorded before steps carried phases (they have ``pull_ms``) get the order
    the page drew then."""
    carried = step.get("phases")
    if isinstance(carried, list):
        return [(str(name), float(ms)) for name, ms in carried]

    def ms(key: str) -> float:
        value = step.get(key)
        return (float(value) if isinstance(value, int | float) and not isinstance(value, bool)
                and value > 0 else 0.0)

    if "pull_ms" in step:
        held = "blocked" if ms("blocked_ms") else "wait" if ms("wait_ms") else "pull"
        pull = ms("pull_ms") if held == "pull" else max(ms("pull_ms"), ms(f"{held}_ms"))
        phases = [(held, pull), ("compute", ms("compute_ms")),
                  ("emulated", ms("emulated_ms")), ("push", ms("comm_ms"))]
    else:
        phases = [(name, ms(key)) for name, key in DEFAULT_PHASES]
    return [(name, d) for name, d in phases if d > 0]


def make_event(
    type_: str, *, t: float, rank: int | None = None, step: int | None = None, **fields: Any
) -> dict[str, Any]:
    """Build an event without ``seq``/``run_id`` (the supervisor adds those)."""
    assert type_ in EVENT_TYPES or type_ in all_event_types(), f"unknown event type {type_!r}"
    return {"type": type_, "t": round(t, 6), "rank": rank, "step": step, **fields}


def schema() -> dict[str, Any]:
    """The schema served at ``GET /api/schema/events``."""
    return {"version": SCHEMA_VERSION, "envelope": ENVELOPE, "types": all_event_types()}
