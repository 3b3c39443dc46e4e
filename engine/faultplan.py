"""Faults a user may aim at a run, and the one place that says which are valid.

A fault is ``{"action": a, ...}``: ``kill``/``freeze``/``slow``/``corrupt``/``rejoin``
aim at one process (``rank``; ``slow`` takes a ``factor``), ``delay``/``drop`` at the
link ``src → dst`` (``delay`` takes ``ms``). Planned before the run, a fault also has
``after_step``: it fires once the first worker has finished that step.

Both ways in — the schedule in the config and a click in the page during the run — are
checked by ``check_fault``, so they accept and refuse exactly the same things. Which
actions a strategy supports is part of its spec (``SPEC.faults``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.options import check_choice, check_int, check_number

if TYPE_CHECKING:
    from engine.config import RunConfig
    from engine.strategies.spec import StrategySpec

RANK_FAULTS = ("kill", "freeze", "slow", "corrupt")  # aimed at one process
LINK_FAULTS = ("delay", "drop")  # aimed at the link src→dst
FAULT_ACTIONS = (*RANK_FAULTS, "rejoin", *LINK_FAULTS)
MAX_SCHEDULED_FAULTS = 20


def fields_of(action: str) -> set[str]:
    """The fields a fault with this action takes (besides ``after_step``)."""
    if action in LINK_FAULTS:
        return {"action", "src", "dst"} | ({"ms"} if action == "delay" else set())
    return {"action", "rank"} | ({"factor"} if action == "slow" else set())


def check_fault(config: RunConfig, spec: StrategySpec, fault: dict[str, Any],
                where: str = "fault") -> None:
    """Raise ``ValueError`` (naming ``where``) unless ``fault`` can hit this run."""
    action = fault.get("action")
    check_choice(f"{where}.action", action, FAULT_ACTIONS)
    why_not = spec.why_not("fault", action, config.opts)
    if why_not:
        raise ValueError(f"{where}: {action} — {why_not}")
    if action in LINK_FAULTS:
        for end in ("src", "dst"):
            _check_rank(f"{where}.{end}", fault.get(end), config.world_size)
        if fault["src"] == fault["dst"]:
            raise ValueError(f"{where}: a link joins two different ranks")
        if action == "delay":
            check_number(f"{where}.ms", fault.get("ms"), 0.0, 10_000.0)
        return
    # Servers come first (ranks 0..num_servers-1): they can be killed or frozen; the
    # other faults act on a worker's training loop.
    rank = fault.get("rank")
    _check_rank(f"{where}.rank", rank, config.world_size)
    if action == "freeze" and config.launcher == "torchrun":
        raise ValueError(f"{where}: freeze — a torchrun run's workers are on other hosts: "
                         "a frozen one could not be reached to end it (kill works)")
    if action not in ("kill", "freeze") and rank < config.num_servers:
        raise ValueError(f"{where}.rank: rank {rank} is a {config.roles[rank]}: it can be "
                         f"killed or frozen, not {action}ed" if action != "rejoin" else
                         f"{where}.rank: rank {rank} is a {config.roles[rank]}, not a worker")
    why = spec.fault_target(config, action, rank) if spec.fault_target else None
    if why:
        raise ValueError(f"{where}.rank: {why}")
    if action == "slow":
        check_number(f"{where}.factor", fault.get("factor"), 1.0, 100.0)
    if action == "rejoin" and config.recovery != "shrink":
        raise ValueError(f"{where}: rejoin needs recovery 'shrink'")


def check_schedule(config: RunConfig, spec: StrategySpec) -> None:
    """The faults planned in ``config.faults``: each valid, and in an order that can
    happen (a rank rejoins only after a planned kill or freeze took it out)."""
    faults = config.faults
    if not isinstance(faults, list):
        raise ValueError("faults must be a list of {after_step, action, …}")
    if len(faults) > MAX_SCHEDULED_FAULTS:
        raise ValueError(f"at most {MAX_SCHEDULED_FAULTS} scheduled faults")
    left: set[int] = set()  # workers a scheduled kill/freeze takes out, in step order
    for i, fault in enumerate(sorted(faults, key=_after_step)):
        where = f"faults[{i}]"
        if not isinstance(fault, dict) or "action" not in fault or "after_step" not in fault:
            raise ValueError(f"{where} needs after_step and action")
        check_int(f"{where}.after_step", fault["after_step"], 1, max(1, config.steps - 1))
        allowed = fields_of(fault["action"]) | {"after_step"} \
            if fault["action"] in FAULT_ACTIONS else None
        if allowed is not None and set(fault) != allowed:
            raise ValueError(f"{where} ({fault['action']}) takes exactly: "
                             f"{', '.join(sorted(allowed))}")
        check_fault(config, spec, {k: v for k, v in fault.items() if k != "after_step"},
                    where)
        action, rank = fault["action"], fault.get("rank")
        if action == "rejoin":
            if rank not in left:
                raise ValueError(f"{where}: rank {rank} can rejoin only after a "
                                 "scheduled kill or freeze has taken it out")
            left.discard(rank)
        elif action in ("kill", "freeze"):
            left.add(rank)


def _check_rank(name: str, rank: object, world_size: int) -> None:
    check_int(name, rank, 0, 10**6)  # an integer, not negative
    if rank >= world_size:  # type: ignore[operator]
        raise ValueError(f"{name}: rank {rank} does not exist: this run has ranks "
                         f"0–{world_size - 1}")


def _after_step(fault: Any) -> int:
    step = fault.get("after_step") if isinstance(fault, dict) else None
    return step if isinstance(step, int) else 0
