"""What the browser sends, what the API returns. The engine gets ``engine.config.RunConfig``.

Limits come from ``engine.config`` so the API and the engine never disagree.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, model_validator

from engine import config as limits
from engine.faultplan import FAULT_ACTIONS, MAX_SCHEDULED_FAULTS
from engine.options import Option, options_of

Action = Literal["pause", "resume", "step", "stop", "set_pace",
                 "kill", "freeze", "slow", "corrupt", "delay", "drop", "rejoin"]
MAX_RANK = limits.MAX_WORKERS + limits.MAX_SERVERS - 1

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Strict (no "1" for 1), but 2.0 is an integer: JSON Schema's "integer" allows it, and
# JavaScript cannot tell 2.0 from 2.
WholeInt = Annotated[int, BeforeValidator(_whole)]
# The nullable one converts before the union: inside it, pydantic would publish its range
# as "ge"/"le" (not JSON Schema) instead of minimum/maximum.
WholeIntOrNull = Annotated[int | None, BeforeValidator(_whole)]
Pace = Field(default=None, ge=limits.MIN_PACE, le=limits.MAX_PACE,
             description="steps per second; null = full speed")


class LinkOverride(BaseModel):
    """One modelled link that differs from the network's default."""

    model_config = _STRICT

    src: WholeInt = Field(ge=0, le=limits.MAX_WORKERS - 1)
    dst: WholeInt = Field(ge=0, le=limits.MAX_WORKERS - 1)
    latency_us: float = Field(ge=0, le=1e7)
    bandwidth_gbps: float = Field(gt=0, le=1e5)


class ScheduledFault(BaseModel):
    """A fault planned before the run: fires once the first worker has finished
    ``after_step``. Which fields an action takes is checked by the engine
    (``engine/faultplan.py``)."""

    model_config = _STRICT

    after_step: WholeInt = Field(ge=1, le=limits.MAX_STEPS)
    action: Literal[FAULT_ACTIONS]  # type: ignore[valid-type]
    rank: WholeIntOrNull = Field(None, ge=0, le=MAX_RANK)
    factor: float | None = Field(None, ge=1, le=100)
    src: WholeIntOrNull = Field(None, ge=0, le=MAX_RANK)
    dst: WholeIntOrNull = Field(None, ge=0, le=MAX_RANK)
    ms: float | None = Field(None, ge=0, le=10_000)


def _field_for(option: Option) -> tuple[Any, Any]:
    """A pydantic field from an engine setting: the same type, range and default."""
    if option.kind == "choice":
        kind: Any = Literal[option.choices]  # type: ignore[valid-type]
    else:
        kind = {"int": WholeInt, "float": float, "bool": bool}[option.kind]
    if option.nullable:
        kind = WholeIntOrNull if kind is WholeInt else kind | None
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


# What each action takes: its fields, all required (``pace`` may be null: full speed).
# The validator and the published schema (one variant per action) both read this table.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "pause": (), "resume": (), "step": (), "stop": (), "set_pace": ("pace",),
    "kill": ("rank",), "freeze": ("rank",), "corrupt": ("rank",), "rejoin": ("rank",),
    "slow": ("rank", "factor"), "delay": ("src", "dst", "ms"), "drop": ("src", "dst"),
}
_NEEDS = {"pace": "a pace (steps per second, or null)", "rank": "the rank of a worker",
          "factor": "a factor (how many times slower, ≥ 1)",
          "src": "a link: src and dst ranks", "dst": "a link: src and dst ranks",
          "ms": "ms (extra milliseconds per message)"}
_TAKEN_BY = {"rank": "a rank", "factor": "a factor (only slow)",
             "src": "src/dst (only delay and drop)", "dst": "src/dst (only delay and drop)",
             "ms": "ms (only delay)", "pace": "a pace (only set_pace)"}


def _one_variant_per_action(schema: dict[str, Any]) -> None:
    """The published schema: one object per action with exactly the fields it takes."""
    fields = schema.pop("properties")
    schema.pop("required", None)
    schema.pop("additionalProperties", None)
    schema["oneOf"] = [
        {"type": "object", "title": f"{action}",
         "properties": {"action": {"const": action, "type": "string"},
                        **{name: _required(name, fields[name]) for name in taken}},
         "required": ["action", *taken], "additionalProperties": False}
        for action, taken in ACTION_FIELDS.items()]
    # (no OpenAPI "discriminator": it needs each variant as a named component)


def _required(name: str, field: dict[str, Any]) -> dict[str, Any]:
    """A field as an action that takes it needs it: not null (except pace: full speed)."""
    field = {k: v for k, v in field.items() if k != "default"}  # required: no default
    branches = [b for b in field.get("anyOf", ()) if b.get("type") != "null"]
    if name == "pace" or len(branches) != 1:
        return field
    return {**{k: v for k, v in field.items() if k != "anyOf"}, **branches[0]}


class ControlRequest(BaseModel):
    """A control action, or a fault aimed at one rank (``rank``; ``factor`` for slow) or
    at one link (``src``, ``dst``; ``ms`` for delay). Each action takes exactly its own
    fields (``ACTION_FIELDS``)."""

    model_config = ConfigDict(**_STRICT, json_schema_extra=_one_variant_per_action)

    action: Action
    pace: float | None = Pace
    rank: WholeIntOrNull = Field(None, ge=0, le=MAX_RANK)
    factor: float | None = Field(None, ge=1, le=100)
    src: WholeIntOrNull = Field(None, ge=0, le=MAX_RANK)
    dst: WholeIntOrNull = Field(None, ge=0, le=MAX_RANK)
    ms: float | None = Field(None, ge=0, le=10_000)

    @model_validator(mode="after")
    def _fields_of_action(self) -> ControlRequest:
        taken = ACTION_FIELDS[self.action]
        for name in taken:  # set_pace's pace may be null, so "sent" is what counts
            if name not in self.model_fields_set or (name != "pace"
                                                     and getattr(self, name) is None):
                raise ValueError(f"{self.action} needs {_NEEDS[name]}")
        for name in _NEEDS:
            if name not in taken and getattr(self, name) is not None:
                raise ValueError(f"{self.action} does not take {_TAKEN_BY[name]}")
        return self


class WorkerPublic(BaseModel):
    rank: int
    pid: int | None
    role: str
    device: str
    status: str
    host: str | None = None  # the host it runs on (launcher torchrun: as hosts_joined names it)
    node: int | None = None  # launcher torchrun: its host's node rank


class Retention(BaseModel):
    """When the store would remove a run under the retention policy."""

    policy: str = Field(description="the policy in English words")
    limits: dict[str, float | None] = Field(description="days, runs and mb (null: no limit)")
    kept: Literal["pinned", "room", "live", "all", "newest"] | None = Field(
        description="why it is kept whatever the limits (newest: the student's newest run, "
                    "until their next one ends); null: the limits apply")
    expires_at: float | None = Field(description="when it goes by age (Unix time)")
    runs_left: int | None = Field(description="the student's runs to come before it goes")
    mb_left: float | None = Field(description="MB more of the student's runs before it goes")


class Pinned(BaseModel):
    id: str
    pinned: bool


class RunPublic(BaseModel):
    id: str
    status: str
    config: dict[str, Any]
    created_at: float
    queue_position: int | None = None
    """A queued run's place in the queue (1: next to start)."""
    waiting_for: str | None = None
    """Why a queued run waits (the limit it is held by), in English."""
    waiting_reason: dict[str, Any] | None = None
    """The same as {code, args}: server_runs {live, max}, server_workers {busy, more,
    max}, student_runs {mine, max}, cluster_full {n, gpus, best}, cluster_retry {}."""
    finished_at: float | None = None
    step: int = 0
    workers: list[WorkerPublic] = []
    summary: dict[str, Any] | None = None
    error: str | None = None
    pinned: bool = False
    """An instructor pinned it: retention never removes it (PUT /api/runs/{id}/pin)."""
    retention: Retention | None = None
    """How long the store keeps it (the run list; backend/retention.py)."""


class RunStarted(RunPublic):
    control_token: str
    """Send it as the X-Control-Token header to control this run."""


class ControlDone(BaseModel):
    """The action was handed to the run; its effect shows as a ``control`` event."""

    ok: bool
    action: str
