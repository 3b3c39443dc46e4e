"""What the supervisor asks of a parameter-server run (the hooks of its ``SPEC``).

Its workers do not move in lock step, so the run's progress, its end and a restart are
told differently from data parallelism's:

- progress is counted in the steps the user asked for: in sync and backup mode, one
  version per step, the furthest worker's iteration (a straggler among backup workers
  legitimately completes fewer); in async and SSP mode `steps` means steps × workers
  gradients in all, whoever computed them, so progress is versions / workers (a fast
  worker does more iterations than `steps`, a straggler fewer);
- the run's version is server 0's parameter version, and the run did all its work once
  the servers applied every update it was going to;
- a restart rebuilds each server from its own checkpoint plus its update log, and the
  workers resume at the iteration the servers have on record for them;
- recovery ``continue`` goes on while enough workers remain to make progress.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import updatelog
from engine.strategies.spec import RestartPoint


def version_of(event: dict[str, Any]) -> int | None:
    return event["version"] if event["type"] == "ps_update" and event["rank"] == 0 else None


def progress(config: Any, worker_steps: list[int], versions: int) -> int:
    if config.opts.ps_mode in ("async", "ssp"):
        return versions // config.workers  # one version per gradient
    return max(worker_steps, default=0)


def reached_end(config: Any, _steps_done: int, versions: int) -> bool:
    per_step = 1 if config.opts.ps_mode in ("sync", "backup") else config.workers
    return versions >= config.steps * per_step


def restart_state(config: Any, directory: Path, progress: int) -> RestartPoint:
    # Each server rebuilds its shard from its checkpoint plus its update log (a
    # server_restored event); workers resume at the iteration on record.
    return RestartPoint({"ps": True, "until": _common_version(config, directory)},
                        from_step=progress, redo_until=0)


def _common_version(config: Any, directory: Path) -> int | None:
    """Sync and backup servers must restart at one version: the newest every server's
    log holds (one may have applied a round the crash kept another from applying)."""
    if config.opts.ps_mode not in ("sync", "backup"):
        return None
    return min(updatelog.last_version(directory / f"server{i}" / "updates.log")
               for i in range(config.num_servers))


def min_workers(config: Any) -> int:
    """Backup mode fills each round with the first N = workers − b gradients; the other
    modes go on with anyone."""
    opts = config.opts
    return config.workers - opts.backup_workers if opts.ps_mode == "backup" else 1
