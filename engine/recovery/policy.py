"""The one shape of a recovery policy (``config.recovery``).

After the supervisor's monitor has judged a failure (``sup.failure`` names the root
cause), it asks the run's policy ``should_apply(sup)``; if so, ``apply(sup)`` recovers
and the monitor goes on watching, else the run fails. ``retry_lost_group(sup, waited_s)``
lets an elastic policy form a broken group again before anyone is blamed for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.supervisor import RunSupervisor


def _no(_sup: RunSupervisor, *_args: object) -> bool:
    return False


def _nothing(_sup: RunSupervisor) -> None:
    raise AssertionError("a policy that never applies was applied")


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    should_apply: Callable[[RunSupervisor], bool]
    """Whether this failure (``sup.failure``) can be recovered from now."""
    apply: Callable[[RunSupervisor], None]
    """Recover: afterwards ``sup.failure`` is ``None`` and the run goes on."""
    retry_lost_group: Callable[[RunSupervisor, float], bool] = _no
    """A group broke with nobody failed, ``waited_s`` ago: form it again (``True``)?"""


NONE = Policy("none", should_apply=_no, apply=_nothing)
"""``recovery="none"``: a failed worker fails the run."""
