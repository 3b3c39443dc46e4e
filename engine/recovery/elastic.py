"""What the elastic policies share (shrink, rejoin, continue): a new group for a new
membership, and the ``recovery`` event that tells who is still in the run.

Elastic runs keep their processes and their state: no checkpoint, so no lost steps.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from engine.events import make_event
from engine.processes import WorkerHandle, new_store

if TYPE_CHECKING:
    from engine.supervisor import RunSupervisor


class RecoveryInProgress(ValueError):
    """An elastic change asked for while the group is still changing."""


def new_group(sup: RunSupervisor, members: list[int]) -> dict[str, Any]:
    """A fresh rendezvous for a new membership (the old group cannot be reused)."""
    if sup.store is not None:
        sup.old_stores.append(sup.store)  # kept alive until teardown
    sup.store = new_store(len(members), sup.config.timeout_s)
    sup.group_generation += 1
    return {"generation": sup.group_generation, "members": members,
            "store_port": sup.store.port}


def regroup_now(sup: RunSupervisor) -> list[WorkerHandle]:
    """Out of band (the old group is broken): tell the running workers, and any being
    added back, to form a new group. Returns its members, in group-rank order.

    Those being added back come last, whatever their rank: group rank 0 broadcasts its
    parameters and its step to the others, and a newcomer has neither yet (were it first,
    the whole run would start again from step 1 with fresh parameters)."""
    members = ([w for w in sup.workers if w.status == "running"]
               + [w for w in sup.workers if w.status == "starting" and w.joining])
    message = new_group(sup, [w.rank for w in members])
    for w in members:
        w.peer_lost = w.peer_lost_at = None
        with contextlib.suppress(OSError):  # that worker is dying: the monitor sees it
            w.control.send({"type": "regroup", **message})
    return members


def emit_recovery(sup: RunSupervisor, policy: str, rank: int, from_step: int,
                  members: list[int]) -> None:
    """A ``recovery`` event of an elastic policy (no checkpoint, so no lost steps)."""
    sup.emit([make_event(
        "recovery", t=sup.now(), rank=rank, step=from_step, policy=policy,
        failed_rank=rank, from_step=from_step, lost_steps=None,
        generation=sup.group_generation, refused=[], members=members)])
