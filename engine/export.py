"""Export a run's events: JSON lines, CSV of per-step metrics, or a Chrome/Perfetto trace.

All three are built from the same recorded events (the store, or a ``--out`` log), so an
export of a finished run is exactly what the browser replays.

The trace follows the Chrome Trace Event format (open it at https://ui.perfetto.dev or
chrome://tracing): one track ("thread") per rank, a slice per step from its measured
start to its end, and inside it the measured phases laid end to end — the same layout as
the page's timeline. Their durations are measured; their order within a step is the
algorithm's order (wait for peers, compute, communicate), not individually timestamped.
With ``detail`` on, every message is a slice of its own on a "messages" track per rank.
Faults, failures, recoveries and the end are instants; a failure's cause (a code with
fields, engine/causes.py) is rendered into the instant's name and ``args.cause_text``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from engine.causes import cause_text
from engine.events import phases_of

FORMATS = ("jsonl", "csv", "perfetto")
EXTENSIONS = {"jsonl": "jsonl", "csv": "csv", "perfetto": "trace.json"}
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv",
               "perfetto": "application/json"}

CSV_COLUMNS = ["step", "rank", "t", "t_start", "loss", "grad_norm", "compute_ms", "comm_ms",
               "wait_ms", "comm_modelled_ms", "bytes_sent", "bytes_recv", "samples", "lr",
               "param_checksum", "param_hash"]
CSV_OPTIONAL = ["emulated_ms", "slowed", "slow_factor", "skipped", "pull_ms", "blocked_ms",
                "read_version", "payload_bytes", "compress_ratio", "compress_error",
                "residual_norm"]

PID = 1  # one trace "process": the run
MESSAGE_TRACK = 1000  # tid offset of the per-rank message tracks


def export(events: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "jsonl":
        return to_jsonl(events)
    if fmt == "csv":
        return to_csv(events)
    if fmt == "perfetto":
        return json.dumps(to_trace(events), separators=(",", ":"))
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


def to_jsonl(events: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)


def to_csv(events: Iterable[dict[str, Any]]) -> str:
    """One row per step per rank, in step order; columns a run does not have are left out."""
    steps = [e for e in events if e["type"] == "step"]
    steps.sort(key=lambda e: (e["step"], e["rank"]))
    extra = [c for c in CSV_OPTIONAL if any(c in e for e in steps)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS + extra, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(steps)
    return out.getvalue()


def to_trace(events: list[dict[str, Any]]) -> dict[str, Any]:
    started = next((e for e in events if e["type"] == "run_started"), None)
    run_id = events[0]["run_id"] if events else "?"
    servers = started["num_servers"] if started else 0
    trace: list[dict[str, Any]] = [
        {"ph": "M", "pid": PID, "name": "process_name", "args": {"name": f"DistLab run {run_id}"}},
    ]
    ranks = sorted({e["rank"] for e in events if e.get("rank") is not None})
    for rank in ranks:
        role = "server" if rank < servers else "worker"
        trace.append({"ph": "M", "pid": PID, "tid": rank, "name": "thread_name",
                      "args": {"name": f"rank {rank} ({role})"}})
        trace.append({"ph": "M", "pid": PID, "tid": rank, "name": "thread_sort_index",
                      "args": {"sort_index": rank}})

    message_tracks: set[int] = set()
    for e in events:
        us = e["t"] * 1e6
        kind = e["type"]
        if kind == "step":
            start = e.get("t_start", e["t"]) * 1e6
            trace.append(_slice(f"step {e['step']}", "step", start, us - start, e["rank"],
                                {"loss": e.get("loss"), "bytes_sent": e.get("bytes_sent")}))
            at = start
            for name, ms in phases_of(e):
                trace.append(_slice(name, name, at, ms * 1e3, e["rank"], {"step": e["step"]}))
                at += ms * 1e3
        elif kind == "comm":
            tid = MESSAGE_TRACK + e["src"]
            message_tracks.add(e["src"])
            dur = e["duration_ms"] * 1e3
            to = "all" if e.get("dst") is None else f"rank {e['dst']}"
            trace.append(_slice(f"{e['op']} → {to}", "message", us - dur, dur, None,
                                {"bytes": e["bytes"], "step": e.get("step"),
                                 "algo": e.get("algo")}, tid=tid))
        elif kind == "checkpoint_saved":
            dur = e["duration_ms"] * 1e3
            trace.append(_slice("checkpoint", "checkpoint", us - dur, dur, e["rank"],
                                {"bytes": e["bytes"], "step": e["step"]}))
        elif kind in ("fault", "worker_failed", "nan_detected", "recovery", "control",
                      "gradient_dropped", "run_finished"):
            args = {k: v for k, v in e.items() if k not in ("seq", "type", "run_id", "t")}
            name = kind
            if e.get("cause"):  # why it failed, as a sentence (the code stays in args)
                args["cause_text"] = cause_text(e["cause"])
                name = f"{kind}: {args['cause_text']}"
            instant = {"ph": "i", "pid": PID, "ts": us, "name": name, "cat": kind,
                       "args": args, "s": "t" if e.get("rank") is not None else "g"}
            if e.get("rank") is not None:
                instant["tid"] = e["rank"]
            trace.append(instant)
        elif kind == "ps_update":
            trace.append({"ph": "i", "pid": PID, "tid": e["rank"], "ts": us, "s": "t",
                          "name": f"v{e['version']}", "cat": "ps_update",
                          "args": {"applied": e.get("applied")}})
    for rank in sorted(message_tracks):
        trace.append({"ph": "M", "pid": PID, "tid": MESSAGE_TRACK + rank, "name": "thread_name",
                      "args": {"name": f"rank {rank} messages"}})
        trace.append({"ph": "M", "pid": PID, "tid": MESSAGE_TRACK + rank,
                      "name": "thread_sort_index", "args": {"sort_index": MESSAGE_TRACK + rank}})
    return {"traceEvents": trace, "displayTimeUnit": "ms",
            "otherData": {"run_id": run_id, "source": "DistLab",
                          "config": started["config"] if started else None}}


def _slice(name: str, cat: str, ts: float, dur: float, rank: int | None,
           args: dict[str, Any], tid: int | None = None) -> dict[str, Any]:
    return {"ph": "X", "pid": PID, "tid": rank if tid is None else tid, "name": name,
            "cat": cat, "ts": round(ts, 3), "dur": round(max(dur, 0.0), 3), "args": args}
