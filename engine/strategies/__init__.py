"""Training strategies: one small, readable module each, behind one interface."""

from __future__ import annotations

from collections.abc import Callable

from engine.strategies.base import Strategy
from engine.strategies.data_parallel import DataParallelNaive
from engine.strategies.parameter_server import ParameterServer
from engine.strategies.single import SingleProcess

STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "single": SingleProcess,
    "data_parallel": DataParallelNaive,
    "parameter_server": ParameterServer,
}
