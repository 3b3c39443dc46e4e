"""A full disk: refuse new runs, end the run whose events could not be saved, and keep
every stored run readable.

A run writes its events to the store as it goes; on a full disk SQLite refuses the write
(``SQLITE_FULL``) and the events would be lost while the run carried on, so:

- a new run is refused (HTTP 507, cause ``disk_full``) while the store's disk has less
  free than ``DISTLAB_MIN_FREE_MB``, or after a write failed for want of space until some
  space has come back (1 MB more than just after the failure);
- a live run whose events the store could not write is ended at once with cause
  ``store_failed`` (its viewers see why; the record is not silently cut short);
- reads need no space, so stored runs open, replay and export as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil

from fastapi import HTTPException

from backend.runs import RunManager
from backend.store import Store, WriteFailure
from engine.causes import Cause, cause_text, make

MB = 1024 * 1024


class DiskFullError(HTTPException):
    """507 Insufficient Storage, with the cause the page renders in its language."""

    def __init__(self, cause: Cause) -> None:
        super().__init__(status_code=507, detail=cause_text(cause))
        self.cause = cause


def why_full(store: Store, min_free_mb: float) -> Cause | None:
    """``disk_full`` when a new run must be refused, else None."""
    free = shutil.disk_usage(store.data_dir).free
    failed = store.write_failure
    if free < min_free_mb * MB or (failed is not None and failed.disk
                                   and free <= failed.free_bytes + MB):
        return make("disk_full", free_mb=round(free / MB, 1))
    return None


def refuse_when_full(manager: RunManager) -> None:
    """Raise ``DiskFullError`` (→ 507) when there is no room for a new run."""
    cause = why_full(manager.store, manager.settings.min_free_mb)
    if cause is not None:
        raise DiskFullError(cause)


def end_runs_on_store_failure(manager: RunManager, loop: asyncio.AbstractEventLoop) -> None:
    """When the store cannot write a live run's events, end that run (``store_failed``)."""

    def on_loop(run_id: str, failure: WriteFailure) -> None:
        run = manager.runs.get(run_id)
        if run is not None and run.live and run.supervisor is not None:
            run.supervisor.kill(make("store_failed", message=failure.message[:200]),
                                status="failed")

    def from_writer(run_id: str | None, failure: WriteFailure) -> None:
        if run_id is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: server exiting
                loop.call_soon_threadsafe(on_loop, run_id, failure)

    manager.store.on_write_failed = from_writer

