"""``recovery="restart"``: the torchrun model. Stop everyone, start every rank again
from the last checkpoint; the steps done since it are done again.

Where a restart resumes is the strategy's to say (``SPEC.restart_state``): data
parallelism loads the replicas' checkpoint, a parameter server rebuilds each server from
its own checkpoint plus its update log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import make_event
from engine.recovery.policy import Policy

if TYPE_CHECKING:
    from engine.supervisor import RunSupervisor


def should_apply(sup: RunSupervisor) -> bool:
    return (sup.failure is not None and sup.outcome.error is None
            and sup.restarts < sup.config.max_restarts and not sup.stop_requested)


def apply(sup: RunSupervisor) -> None:
    with sup.lock:
        failed = sup.failure
        assert failed is not None and sup.checkpoint_dir is not None
        progress = max(w.last_step for w in sup.workers)
        sup.teardown()
        # Read once every old process is dead: nothing writes a checkpoint or log now.
        point = sup.spec.restart_state(sup.config, sup.checkpoint_dir, progress)
        sup.resume = point.resume
        sup.restarts += 1
        sup.generation += 1
        sup.failure = None
        from_step, until = point.from_step, point.redo_until
        sup.emit([make_event(
            "recovery", t=sup.now(), rank=failed.rank, step=from_step,
            policy="restart", failed_rank=failed.rank, from_step=from_step,
            lost_steps=[from_step + 1, until] if until > from_step else None,
            generation=sup.generation, refused=point.refused)])
        sup.spawn_generation()


POLICY = Policy("restart", should_apply=should_apply, apply=apply)
