"""Why something failed, as a code with fields — rendered, never parsed back.

The engine says why a worker failed (``worker_failed.cause``) and why a run ended badly
(``run_finished.cause``) as a small object: ``{"code": "signal", "signal": "SIGKILL"}``.
Whoever shows it renders it from the code: ``cause_text`` here (English, for logs, the
CLI, the Perfetto export and ``run_finished.error``), the browser from its catalog
(``cause.<code>`` in frontend/static/js/i18n.js, English and Chinese).

Every code, its fields, and the English sentence it renders to, are in ``CAUSES``; a test
checks that the browser's catalogs have a sentence with the same placeholders for each.
"""

from __future__ import annotations

import string
from typing import Any

Cause = dict[str, Any]

# code → (fields, English template). Numbers are formatted by the template.
CAUSES: dict[str, tuple[tuple[str, ...], str]] = {
    # A worker (worker_failed.cause)
    "signal": (("signal",), "killed by signal {signal}"),
    "frozen": (("silent_s",), "frozen: no heartbeat for {silent_s:.1f} s"),
    "exit": (("exit_code",), "exited unexpectedly with code {exit_code}"),
    "exception": (("type", "message"), "{type}: {message}"),
    "collective": (("type", "message"), "its collective broke ({type}: {message})"),
    "link_drop": (("src", "dst"), "timed out waiting for a message from rank {src}, which "
                                  "was dropped on the link {src}→{dst}"),
    # A worker or a run: a host's agent went away (torchrun's, engine/remote_workers.py)
    "host_lost": (("host",), "host {host} was lost: its agent went away"),
    # A run (run_finished.cause; run_finished.error is its sentence)
    "rank_failed": (("rank", "pid", "cause"), "rank {rank} (pid {pid}): {cause}"),
    "stalled": (("limit_s",), "no progress for {limit_s:.0f} s although nobody failed: "
                              "the run is stuck and was ended"),
    "stop_timeout": ((), "workers did not stop in time; killed"),
    "start_failed": (("type", "message"), "could not start the run: {type}: {message}"),
    "internal": (("type", "message"), "supervisor error: {message}"),
    "abandoned": ((), "the run was abandoned"),
    "shutdown": ((), "the server shut down during the run"),
    "store_failed": (("message",), "the server could not save this run's events ({message}), "
                                   "so the run was ended rather than kept going unrecorded"),
    # A new run refused (HTTP 507, backend/diskspace.py)
    "disk_full": (("free_mb",), "the server's disk is full ({free_mb:.1f} MB free): new runs "
                                "are refused until space is freed; stored runs still open"),
}


def make(code: str, **fields: Any) -> Cause:
    """A cause with exactly the fields its code takes."""
    names, _ = CAUSES[code]
    if set(fields) != set(names):
        raise ValueError(f"cause {code!r} takes {names}, got {sorted(fields)}")
    return {"code": code, **fields}


def of_exception(code: str, exc: BaseException, limit: int | None = None) -> Cause:
    """``exception``, ``collective``, ``start_failed`` or ``internal`` from an exception."""
    message = str(exc)
    return make(code, type=type(exc).__name__,
                message=message if limit is None else message[:limit])


class _Fields(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "?"


def cause_text(cause: Cause | str | None) -> str:
    """The English sentence for a cause. A plain string (a run stored before causes had
    codes) is shown as it is; an unknown code as its code and fields."""
    if cause is None:
        return "?"
    if isinstance(cause, str):
        return cause
    code = cause.get("code")
    if code not in CAUSES:
        rest = ", ".join(f"{k}={v}" for k, v in cause.items() if k != "code")
        return f"{code}{f' ({rest})' if rest else ''}"
    fields = _Fields({k: cause_text(v) if isinstance(v, dict) else v
                      for k, v in cause.items() if k != "code"})
    try:
        return string.Formatter().vformat(CAUSES[code][1], (), fields)
    except (ValueError, TypeError):  # a field of an unexpected type: no number format
        plain = CAUSES[code][1].replace(":.1f}", "}").replace(":.0f}", "}")
        return string.Formatter().vformat(plain, (), fields)
