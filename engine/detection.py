"""Detection: noticing that a worker failed, and naming the one that caused it.

A worker fails by itself (``root``) when it is killed by a signal, exits, or stops
sending heartbeats (frozen); an exception a worker reports may also just be the echo of
a peer's death (its collective broke), so it is not a root cause by itself. When one
rank goes down its peers soon fail too: the supervisor waits a moment before
``judge_failure`` names the root cause(s), each reported once — 20 ms once a root cause
is known, up to 0.3 s while it has only echoes (``settle_deadline``).

Every cause is a code with fields (engine/causes.py). The functions here are the
supervisor's monitor's; they run on its thread.
"""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING, Any

from engine import causes
from engine.events import make_event
from engine.processes import GRACE_S, WorkerHandle

if TYPE_CHECKING:
    from engine.supervisor import RunSupervisor

HEARTBEAT_TIMEOUT_S = 5.0  # workers say "alive" every 0.5 s; this much silence is a hang
# After a first failure, how long to collect the others' news before judging: only a
# moment when a root cause is known (to catch ranks that died at the same instant), longer
# while all we have are echoes (peers whose collective broke), to wait for the root cause.
ROOT_SETTLE_S = 0.02
ECHO_SETTLE_S = 0.3
STALL_MIN_S = 60.0  # no step for this long (and not paused) ends a run as stuck


def fail(w: WorkerHandle, cause: causes.Cause, *, root: bool) -> None:
    """Record why a rank failed. ``root``: it failed by itself (a signal, a hang, an
    exit); an exception may also just be the echo of a peer's death."""
    if w.status == "failed":
        return
    w.status, w.cause, w.root_cause = "failed", cause, root
    w.detected_at = time.monotonic()


def check_heartbeats(sup: RunSupervisor) -> None:
    now = time.monotonic()
    limit = min(HEARTBEAT_TIMEOUT_S, sup.config.timeout_s)
    for w in sup.workers:
        if w.status == "running" and w.last_seen and now - w.last_seen > limit:
            fail(w, causes.make("frozen", silent_s=round(now - w.last_seen, 1)), root=True)


def on_eof(w: WorkerHandle) -> None:
    """Its event pipe closed: unless it said it was done, it died."""
    w.events_open = False
    if w.status in ("done", "failed", "left"):
        return
    said = getattr(w.process, "end_cause", None)  # a remote worker's last word (host lost)
    if said is not None:
        fail(w, said, root=True)
        return
    w.process.join(timeout=1.0)
    code = w.process.exitcode
    if code is not None and code < 0:
        fail(w, causes.make("signal", signal=signal.Signals(-code).name), root=True)
    else:
        fail(w, causes.make("exit", exit_code=code), root=True)


def on_peer_lost(sup: RunSupervisor, w: WorkerHandle, message: dict[str, Any]) -> None:
    """Elastic: a worker's group broke; it waits for the supervisor to form a new one."""
    if message.get("generation", 0) < sup.group_generation:
        return  # about a group already replaced (its regroup is on the way)
    w.peer_lost = message["cause"]
    w.peer_lost_at = w.peer_lost_at or time.monotonic()


def check_lost_peers(sup: RunSupervisor) -> None:
    """Ranks whose group broke (or never formed) although nobody failed.

    Elastic runs first form the same group again, a few times: a join can time out
    while a member is still leaving the previous group. If that does not help, a rank
    whose collective keeps breaking with nobody failed is itself the problem.
    """
    lost = [w for w in sup.workers
            if w.peer_lost_at is not None and w.status in ("running", "starting")]
    if not lost:
        return
    now = time.monotonic()
    first = min(w.peer_lost_at for w in lost if w.peer_lost_at is not None)
    if sup.policy.retry_lost_group(sup, now - first):
        return
    limit = sup.config.timeout_s + GRACE_S
    for w in lost:
        if w.status == "running" and now - first > limit:
            fail(w, w.peer_lost or {"code": "collective"}, root=False)


def stalled(sup: RunSupervisor) -> bool:
    """A safety net: a run that is not paused yet makes no progress for much longer
    than any step could take is stuck (a bug, or a peer waiting for a lost message
    without a timeout). End it, rather than hang a lecture."""
    config = sup.config
    step_s = ((config.emulated_compute_ms / 1e3) * config.straggler_factor
              + (1.0 / config.pace if config.pace else 0.0))
    limit = max(STALL_MIN_S, 6 * config.timeout_s, 3 * step_s)
    if sup.paused or time.monotonic() - sup.last_progress < limit:
        return False
    if sup.outcome.error is None:
        sup.outcome.error = causes.make("stalled", limit_s=round(limit))
    return True


def settle_deadline(sup: RunSupervisor, current: float | None) -> float | None:
    """When to judge the failure (``None``: nothing has failed yet): a moment after the
    first root cause was detected, or a while after the first echo if there is none yet;
    never later than already decided."""
    failed = [w for w in sup.workers if w.status == "failed"]
    if not failed:
        return current
    detected = lambda ws: min(w.detected_at or time.monotonic() for w in ws)
    roots = [w for w in failed if w.root_cause]
    target = (detected(roots) + ROOT_SETTLE_S if roots
              else detected(failed) + ECHO_SETTLE_S)
    return target if current is None else min(current, target)


def judge_failure(sup: RunSupervisor) -> None:
    """Name the rank(s) that caused the failure, each reported once."""
    if sup.outcome.error is not None:
        return  # the run was abandoned (server shutdown): its workers did not fail
    failed = [w for w in sup.workers if w.status == "failed"]
    roots = [w for w in failed if w.root_cause] or failed[:1]
    link = sup.link_fault
    if link is not None and link[2] == "drop" and not any(w.root_cause for w in failed):
        # Nobody died: the receiver of the dropped message timed out waiting for it.
        waiting = next((w for w in failed if w.rank == link[1]), roots[0])
        waiting.cause = causes.make("link_drop", src=link[0], dst=link[1])
        roots = [waiting]
    for w in roots:
        detection = (round((w.detected_at - w.fault_at) * 1e3, 1)
                     if w.fault_at is not None and w.detected_at is not None else None)
        sup.emit([make_event("worker_failed", t=sup.now(), rank=w.rank,
                             cause=w.cause, detection_ms=detection, pid=w.pid)])
    sup.failure = roots[0]
