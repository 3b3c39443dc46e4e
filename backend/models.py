"""What the browser sends, what the API returns. The engine gets ``engine.config.RunConfig``.

Limits come from ``engine.config`` so the API and the engine never disagree.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from engine import config as limits
from engine.faultplan import FAULT_ACTIONS, MAX_SCHEDULED_FAULTS
from engine.options import Option, options_of

Action = Literal["pause", "resume", "step", "stop", "set_pace",
                 "kill", "freeze", "slow", "corrupt", "delay", "drop", "rejoin"]
FAULTS = ("kill", "freeze", "slow", "corrupt", "rejoin")  # aimed at one rank
MAX_RANK = limits.MAX_WORKERS + limits.MAX_SERVERS - 1

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
Pace = Field(default=None, ge=limits.MIN_PACE, le=limits.MAX_PACE,
             description="steps per second; null = full speed")


class LinkOverride(BaseModel):
    """One modelled link that differs from the network's default."""

    model_config = _STRICT

    src: int = Field(ge=0, le=limits.MAX_WORKERS - 1)
    dst: int = Field(ge=0, le=limits.MAX_WORKERS - 1)
    latency_us: float = Field(ge=0, le=1e7)
    bandwidth_gbps: float = Field(gt=0, le=1e5)


class ScheduledFault(BaseModel):
    """A fault planned before the run: fires once the first worker has finished
    ``after_step``. Which fields an action takes is checked by the engine
    (``engine/faultplan.py``)."""

    model_config = _STRICT

    after_step: int = Field(ge=1, le=limits.MAX_STEPS)
    action: Literal[FAULT_ACTIONS]  # type: ignore[valid-type]
    rank: int | None = Field(None, ge=0, le=MAX_RANK)
    factor: float | None = Field(None, ge=1, le=100)
    src: int | None = Field(None, ge=0, le=MAX_RANK)
    dst: int | None = Field(None, ge=0, le=MAX_RANK)
    ms: float | None = Field(None, ge=0, le=10_000)


def _field_for(option: Option) -> tuple[Any, Any]:
    """A pydantic field from an engine setting: the same type, range and default."""
    if option.kind == "choice":
        kind: Any = Literal[option.choices]  # type: ignore[valid-type]
    else:
        kind = {"int": int, "float": float, "bool": bool}[option.kind]
    if option.nullable:
        kind = kind | None
    limits_: dict[str, Any] = {}
    if option.kind in ("int", "float"):
        limits_["gt" if option.low_open else "ge"] = option.low
        limits_["le"] = option.high
    return kind, Field(option.default, description=option.help["en"], **limits_)


class _RunBase(BaseModel):
    model_config = _STRICT

    options: dict[str, Any] = Field(
        default_factory=dict,
        description="the strategy's own options (GET /api/strategies); missing ones take "
                    "their defaults")
    links: list[LinkOverride] = Field(default_factory=list,
                                      max_length=limits.MAX_LINK_OVERRIDES)
    faults: list[ScheduledFault] = Field(default_factory=list,
                                         max_length=MAX_SCHEDULED_FAULTS)

    @model_validator(mode="after")
    def _engine_rules(self) -> _RunBase:
        # Options and cross-field rules (single ⇒ 1 worker, enough samples, …) are the
        # engine's: its ValueError becomes a 422 naming the field.
        self.to_engine()
        return self

    def to_engine(self) -> limits.RunConfig:
        fields = self.model_dump()
        fields["faults"] = [f.model_dump(exclude_none=True) for f in self.faults]
        return limits.RunConfig(**fields)


# The request model is built from the engine's declarations (engine/config.py), so its
# ranges, defaults and documentation are the engine's, never a second copy.
RunCreate = create_model(
    "RunCreate",
    __base__=_RunBase,
    __doc__="A run as the browser asks for it: common settings, a strategy and its options.",
    # A plain string, checked against the registry when the request arrives: strategies
    # may be added after this module is imported (DISTLAB_STRATEGIES, tests).
    strategy=(str, Field("data_parallel", max_length=64,
                         description="a strategy's name: GET /api/strategies lists them")),
    **{name: _field_for(option) for name, option in options_of(limits.RunConfig).items()},
)


class ControlRequest(BaseModel):
    """A control action, or a fault aimed at one rank (``rank``; ``factor`` for slow)."""

    model_config = _STRICT

    action: Action
    pace: float | None = Pace
    rank: int | None = Field(None, ge=0, le=MAX_RANK)
    factor: float | None = Field(None, ge=1, le=100)
    src: int | None = Field(None, ge=0, le=MAX_RANK)
    dst: int | None = Field(None, ge=0, le=MAX_RANK)
    ms: float | None = Field(None, ge=0, le=10_000)

    @model_validator(mode="after")
    def _fault_fields(self) -> ControlRequest:
        link = self.action in ("delay", "drop")
        if link and (self.src is None or self.dst is None):
            raise ValueError(f"{self.action} needs a link: src and dst ranks")
        if not link and (self.src is not None or self.dst is not None):
            raise ValueError(f"{self.action} does not take src/dst (only delay and drop)")
        if (self.action == "delay") != (self.ms is not None):
            raise ValueError("delay needs ms (extra milliseconds per message); only delay "
                             "takes ms")
        if self.action in FAULTS and self.rank is None:
            raise ValueError(f"{self.action} needs the rank of a worker")
        if self.action not in FAULTS and self.rank is not None:
            raise ValueError(f"{self.action} does not take a rank")
        if self.action == "slow" and self.factor is None:
            raise ValueError("slow needs a factor (how many times slower, ≥ 1)")
        if self.action != "slow" and self.factor is not None:
            raise ValueError("only slow takes a factor")
        return self


class WorkerPublic(BaseModel):
    rank: int
    pid: int | None
    role: str
    device: str
    status: str


class RunPublic(BaseModel):
    id: str
    status: str
    config: dict[str, Any]
    created_at: float
    finished_at: float | None = None
    step: int = 0
    workers: list[WorkerPublic] = []
    summary: dict[str, Any] | None = None
    error: str | None = None


class RunStarted(RunPublic):
    control_token: str
    """Send it as the X-Control-Token header to control this run."""
