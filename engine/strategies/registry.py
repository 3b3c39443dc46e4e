"""Every strategy DistLab knows: the built-in ones, and any named in ``DISTLAB_STRATEGIES``.

A strategy is a module with a ``SPEC`` (``engine/strategies/spec.py``). To add one
without touching DistLab, put it in an importable module and list the module in the
environment variable ``DISTLAB_STRATEGIES`` (comma-separated), for the server and its
workers alike: ``DISTLAB_STRATEGIES=my_lab.local_sgd distlab serve``.

Modules are imported the first time a spec is asked for, not when this module is
imported, so that ``engine.config`` can validate against the registry while the strategy
modules themselves use ``engine.config``.
"""

from __future__ import annotations

import importlib
import os
import threading

from engine.strategies.spec import StrategySpec

BUILTIN = (
    "engine.strategies.single",
    "engine.strategies.data_parallel",
    "engine.strategies.parameter_server",
    "engine.strategies.pipeline",
    "engine.strategies.tensor_parallel",
    "engine.strategies.zero",
    "engine.strategies.three_d",
    "engine.strategies.decentralized",
    "engine.strategies.local_sgd",
    "engine.strategies.lbfgs",
    "engine.strategies.mapreduce",
    "engine.strategies.gfs",
    "engine.strategies.gfs_train",
    "engine.strategies.collectives_playground",
    "engine.strategies.bsp",
)
PLUGINS_ENV = "DISTLAB_STRATEGIES"
_specs: dict[str, StrategySpec] | None = None
_lock = threading.RLock()


def module_names() -> list[str]:
    extra = [m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",") if m.strip()]
    return [*BUILTIN, *extra]


def specs() -> dict[str, StrategySpec]:
    """Name → spec, in the order the form should offer them."""
    global _specs
    with _lock:
        if _specs is None:
            _specs = {}
            try:
                for module_name in module_names():
                    add_module(module_name)
            except Exception:
                _specs = None  # a broken plugin: say so again next time, not half a list
                raise
        return _specs


def add_module(module_name: str) -> StrategySpec:
    """Import a strategy module and register its ``SPEC`` (a second time: nothing)."""
    with _lock:
        known = specs()
        spec = getattr(importlib.import_module(module_name), "SPEC", None)
        if not isinstance(spec, StrategySpec):
            raise TypeError(f"{module_name} has no SPEC (a StrategySpec)")
        if known.get(spec.name) is spec:
            return spec
        if spec.name in known:
            raise ValueError(f"two strategies are called {spec.name!r}")
        known[spec.name] = spec
        return spec


def get(name: object) -> StrategySpec:
    known = specs()
    if name not in known:
        raise ValueError(f"strategy must be one of {', '.join(known)} (got {name!r})")
    return known[name]  # type: ignore[index]


def names() -> tuple[str, ...]:
    return tuple(specs())
