"""``recovery="shrink"``: elastic training. The survivors of a failure form a smaller
group and go on from their own state, without a checkpoint (as elastic Horovod does);
later a worker that left can be added back (``rejoin``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.processes import take_out_failed
from engine.recovery.elastic import RecoveryInProgress, emit_recovery, new_group, regroup_now
from engine.recovery.policy import Policy

if TYPE_CHECKING:
    from engine.supervisor import RunSupervisor

REGROUP_RETRY_S = 1.0  # a group that broke with nobody failed is formed again…
REGROUP_RETRIES = 3  # …this many times before the rank that reports it is failed


def should_apply(sup: RunSupervisor) -> bool:
    survivors = [w for w in sup.workers if w.status == "running"]
    return (sup.failure is not None and sup.outcome.error is None
            and sup.restarts < sup.config.max_restarts
            and bool(survivors) and not sup.stop_requested)


def apply(sup: RunSupervisor) -> None:
    """The survivors are waiting for this: their collectives broke when the failed rank
    went away."""
    with sup.lock:
        failed = sup.failure
        assert failed is not None
        take_out_failed(sup.workers)
        members = regroup_now(sup)
        sup.restarts += 1
        sup.failure = None
        emit_recovery(sup, "shrink", failed.rank, members[0].last_step,
                      [w.rank for w in members])


def retry_lost_group(sup: RunSupervisor, waited_s: float) -> bool:
    """A join can time out while a member is still leaving the previous group: form the
    same group again, a few times, before blaming the rank that reports it."""
    if (sup.regroup_retries < REGROUP_RETRIES and waited_s > REGROUP_RETRY_S
            and not any(w.status == "failed" for w in sup.workers)):
        sup.regroup_retries += 1
        with sup.lock:
            regroup_now(sup)
        return True
    return False


def rejoin(sup: RunSupervisor, rank: int) -> None:
    """Add a worker that left back: a new process for its rank joins the survivors at
    the next step boundary and receives the current parameters before its first step.
    Called with the supervisor's lock held."""
    if sup.config.recovery != "shrink":
        raise ValueError("rejoin needs recovery 'shrink' (an elastic run)")
    if (sup.failure is not None
            or any(x.status in ("failed", "starting") or x.peer_lost_at is not None
                   for x in sup.workers)):
        raise RecoveryInProgress("the group is still changing (a failure or another "
                                 "rejoin in progress); try again in a moment")
    w = sup.workers[rank]
    if w.status != "left":
        raise ValueError(f"rank {rank} is {w.status}: only a rank that has left the "
                         "group can rejoin")
    survivors = [x for x in sup.workers if x.status == "running"]
    if not survivors:
        raise ValueError("no running workers to rejoin")
    # Survivors keep group ranks 0..k-1 (rank 0 holds the state to broadcast); the
    # newcomer comes last.
    message = new_group(sup, [x.rank for x in survivors] + [rank])
    sup.send_control({"action": "regroup", **message})  # agreed at a step boundary
    sup.add_worker(rank, regroup=message)
    emit_recovery(sup, "rejoin", rank, survivors[0].last_step, message["members"])


POLICY = Policy("shrink", should_apply=should_apply, apply=apply,
                retry_lost_group=retry_lost_group)
