"""``recovery="continue"``: dead workers are simply left behind (a parameter server
stops waiting for them), as long as no server died and enough workers remain to make
progress — how many is the strategy's to say (``SPEC.min_workers``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.processes import take_out_failed
from engine.recovery.elastic import emit_recovery
from engine.recovery.policy import Policy

if TYPE_CHECKING:
    from engine.supervisor import RunSupervisor


def should_apply(sup: RunSupervisor) -> bool:
    if sup.failure is None or sup.outcome.error is not None or sup.stop_requested:
        return False
    failed = [w for w in sup.workers if w.status == "failed"]
    alive = [w for w in sup.workers if w.role == "worker" and w.status == "running"]
    return (all(w.role == "worker" for w in failed)
            and len(alive) >= sup.spec.min_workers(sup.config))


def apply(sup: RunSupervisor) -> None:
    with sup.lock:
        failed = sup.failure
        assert failed is not None
        for w in take_out_failed(sup.workers):
            # The survivors' control threads pass it on to the servers.
            sup.send_control({"action": "worker_left", "rank": w.rank})
        sup.failure = None
        emit_recovery(sup, "continue", failed.rank, failed.last_step,
                      [w.rank for w in sup.active()])


POLICY = Policy("continue", should_apply=should_apply, apply=apply)
