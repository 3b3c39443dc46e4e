"""Recovery policies, one module each, behind one small interface (``policy.Policy``):

- ``none`` — a failed worker fails the run;
- ``restart`` (restart.py) — everyone starts again from the last checkpoint;
- ``shrink`` (shrink.py) — the survivors go on as a smaller group; a worker can rejoin;
- ``continue`` (continue_.py) — training goes on without the dead worker.

Which ones a strategy supports is in its spec (``SPEC.recoveries``).
"""

from __future__ import annotations

from engine.recovery import continue_, restart, shrink
from engine.recovery.policy import NONE, Policy

POLICIES: dict[str, Policy] = {p.name: p for p in (NONE, restart.POLICY, shrink.POLICY,
                                                   continue_.POLICY)}


def policy_for(name: str) -> Policy:
    """The policy of ``config.recovery`` (validated by the config already)."""
    return POLICIES[name]
