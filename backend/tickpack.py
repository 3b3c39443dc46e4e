"""A live tick's events packed into columns for the wire — losslessly.

A tick of a 4-worker ring with every view on holds ~24 ``comm`` events per step, alike but
for a few numbers. As a JSON array each repeats its keys, the run's id and absolute
times; deflate shortens the repeats but not the digits. Packed, the events of one type
(and one set of keys) become one *group*: each key once, then a column of its values;
``seq`` as the steps from the previous event of the group, and times (``t``, ``t_start``:
seconds with at most six decimals, as the engine rounds them) as the microseconds from
the previous value. Small, alike numbers next to each other are what deflate shrinks best:
at pace 20 this halves what a viewer downloads for the comm events (bench/wire.py).

The keys of the events that go every step (``KEYS``: the envelope, ``comm``, ``step``,
``boundary``, a parameter server's updates) are named by their place in that list, not
spelled out: each tick is deflated on its own, so their names cost every tick again —
~110 B a tick at pace 20, a tenth of what a viewer downloads (bench/wire.py). Any other key
goes by its name. The page holds the same list (``KEYS`` in core/wire.js; the shared
fixture tests/js/fixtures/packed-tick.json holds it too, and both sides' tests check it).
It only grows, at its end: a number, once given to a key, stays that key's.

Nothing is lost: ``unpack(pack(events)) == events`` for every tick, in the same order (the
events are put back in ``seq`` order, which is the order they were published in). A tick
that cannot be packed that way (events without a rising ``seq``, or of several runs) goes
as the plain array; clients read both (frontend/static/js/core/wire.js).

Packed tick: ``{"packed": 2, "run_id": "…", "seq0": <seq before the first event>,
"groups": [{"type": "comm", "n": 24, "keys": [0, …], "us": [0], "cols": [[…], …]}]}``
(``keys`` and ``us``: a key's number in ``KEYS``, or its name; version 1 named them all).
"""

from __future__ import annotations

import math
from typing import Any

Event = dict[str, Any]
# Keys that hold seconds since the run began, at most six decimals (engine/events.py).
TIME_KEYS = ("t", "t_start")
# Keys a packed tick names by their place here (append only; the page's copy must match).
KEYS = (
    # the envelope (``type`` and ``run_id`` are the group's and the tick's own)
    "t", "rank", "step", "seq",
    # comm
    "op", "src", "dst", "bytes", "chunk", "algo", "duration_ms", "modelled_ms",
    "modelled_start_ms", "dropped",
    # step
    "loss", "grad_norm", "compute_ms", "comm_ms", "wait_ms", "comm_modelled_ms",
    "bytes_sent", "bytes_recv", "param_checksum", "param_hash", "lr", "samples", "t_start",
    "phases", "emulated_ms", "slowed", "blocked_ms", "pull_ms", "read_version",
    "read_versions", "events_dropped", "skipped", "slow_factor", "payload_bytes",
    "compress_ratio", "compress_error", "residual_norm",
    # boundary; a parameter server's ps_update and gradient_dropped
    "grid", "version", "applied", "shard", "worker",
)
_NUMBER = {key: number for number, key in enumerate(KEYS)}


def pack(events: list[Event]) -> list[Event] | dict[str, Any]:
    """The tick as it goes on the wire: packed in columns, or as it is where it cannot be."""
    if not _packable(events):
        return events
    groups: dict[tuple[str, tuple[str, ...]], list[Event]] = {}
    for event in events:
        keys = tuple(k for k in event if k not in ("type", "run_id"))
        groups.setdefault((event["type"], keys), []).append(event)
    seq0 = events[0]["seq"] - 1
    packed = []
    for (kind, keys), members in groups.items():
        cols, in_us = [], []
        for key in keys:
            column = [e[key] for e in members]
            if key == "seq":
                column = _deltas(column, seq0)
            elif key in TIME_KEYS and _whole_microseconds(column):
                column = _deltas([round(v * 1e6) for v in column], 0)
                in_us.append(key)
            cols.append(column)
        packed.append({"type": kind, "n": len(members), "keys": _numbered(keys),
                       "us": _numbered(in_us), "cols": cols})
    return {"packed": 2, "run_id": events[0]["run_id"], "seq0": seq0, "groups": packed}


def unpack(tick: list[Event] | dict[str, Any]) -> list[Event]:
    """The events of a tick as it came off the wire (the inverse of ``pack``)."""
    if isinstance(tick, list):
        return tick
    events = []
    for group in tick["groups"]:
        keys = _named(group["keys"])
        cols = dict(zip(keys, group["cols"], strict=True))
        if "seq" in cols:
            cols["seq"] = _sums(cols["seq"], tick["seq0"])
        for key in _named(group["us"]):
            cols[key] = [v / 1e6 for v in _sums(cols[key], 0)]
        for i in range(group["n"]):
            event: Event = {"type": group["type"]}
            event.update((key, cols[key][i]) for key in keys)
            event["run_id"] = tick["run_id"]
            events.append(event)
    events.sort(key=lambda e: e["seq"])
    return events


def _numbered(keys: list[str] | tuple[str, ...]) -> list[int | str]:
    return [_NUMBER.get(key, key) for key in keys]


def _named(keys: list[int | str]) -> list[str]:
    return [KEYS[key] if isinstance(key, int) else key for key in keys]


def _packable(events: list[Event]) -> bool:
    """Every event of one run, each with a ``seq`` above the one before (and a type)."""
    if not events:
        return False
    run_id, previous = events[0].get("run_id"), None
    for event in events:
        seq = event.get("seq")
        if (not isinstance(seq, int) or isinstance(seq, bool) or event.get("run_id") != run_id
                or not isinstance(event.get("type"), str) or "run_id" not in event
                or (previous is not None and seq <= previous)):
            return False
        previous = seq
    return isinstance(run_id, str)


def _whole_microseconds(column: list[Any]) -> bool:
    """Every value a number of seconds that microseconds give back exactly."""
    return all(isinstance(v, float) and math.isfinite(v) and round(v * 1e6) / 1e6 == v
               for v in column)


def _deltas(values: list[int], start: int) -> list[int]:
    out, previous = [], start
    for v in values:
        out.append(v - previous)
        previous = v
    return out


def _sums(deltas: list[int], start: int) -> list[int]:
    out, total = [], start
    for d in deltas:
        total += d
        out.append(total)
    return out
