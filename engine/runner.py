"""Run a config to the end in this process and collect its events (CLI, tests, benches)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from engine.config import RunConfig
from engine.supervisor import RunSupervisor


def run_headless(
    config: RunConfig,
    *,
    run_id: str | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    timeout: float | None = None,
    on_start: Callable[[RunSupervisor], None] | None = None,
) -> list[dict[str, Any]]:
    """Start the run, wait for it to end, and return its whole event log. ``on_start``
    sees the supervisor once the run has started (e.g. a torchrun run's command)."""
    log: list[dict[str, Any]] = []

    def collect(events: list[dict[str, Any]]) -> None:
        log.extend(events)
        if on_event is not None:
            for event in events:
                on_event(event)

    sup = RunSupervisor(config, run_id=run_id or uuid.uuid4().hex[:12], on_events=collect)
    sup.start()
    try:
        if on_start is not None:
            on_start(sup)
        if not sup.wait(timeout):
            raise TimeoutError(f"run did not finish within {timeout} s")
    finally:
        if not sup.finished:
            sup.kill()
            sup.wait(10)
    return log
