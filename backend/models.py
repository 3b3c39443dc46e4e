"""What the browser sends, what the API returns. The engine gets ``engine.config.RunConfig``.

Limits come from ``engine.config`` so the API and the engine never disagree.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine import config as limits

Strategy = Literal["single", "data_parallel", "parameter_server"]
Dataset = Literal["spirals", "moons", "blobs"]
Action = Literal["pause", "resume", "step", "stop", "set_pace",
                 "kill", "freeze", "slow", "corrupt", "delay", "drop", "rejoin"]
FAULTS = ("kill", "freeze", "slow", "corrupt", "rejoin")  # aimed at one rank

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
    ``after_step``. Which fields an action takes is checked by the engine."""

    model_config = _STRICT

    after_step: int = Field(ge=1, le=limits.MAX_STEPS)
    action: Literal["kill", "freeze", "slow", "corrupt", "delay", "drop", "rejoin"]
    rank: int | None = Field(None, ge=0, le=limits.MAX_WORKERS + limits.MAX_SERVERS - 1)
    factor: float | None = Field(None, ge=1, le=100)
    src: int | None = Field(None, ge=0, le=limits.MAX_WORKERS - 1)
    dst: int | None = Field(None, ge=0, le=limits.MAX_WORKERS - 1)
    ms: float | None = Field(None, ge=0, le=10_000)


class RunCreate(BaseModel):
    """A run as the browser asks for it."""

    model_config = _STRICT

    strategy: Strategy = "data_parallel"
    workers: int = Field(4, ge=1, le=limits.MAX_WORKERS)
    steps: int = Field(200, ge=1, le=limits.MAX_STEPS)
    batch_size: int = Field(32, ge=1, le=limits.MAX_BATCH_SIZE)
    lr: float = Field(0.5, gt=0, le=limits.MAX_LR)
    seed: int = Field(0, ge=0, le=limits.MAX_SEED)
    pace: float | None = Pace
    model: Literal["mlp"] = "mlp"
    dataset: Dataset = "spirals"
    backend: Literal["auto", "gloo", "nccl"] = "auto"
    detail: bool = False
    allreduce: Literal["builtin", "ring", "tree", "naive"] = "builtin"
    compression: Literal["fp16", "qsgd", "topk", "randk", "sign", "powersgd"] | None = None
    qsgd_levels: int = Field(7, ge=1, le=127)
    compress_fraction: float = Field(0.01, gt=0, le=1)
    powersgd_rank: int = Field(1, ge=1, le=16)
    error_feedback: bool = False
    nan_policy: Literal["skip", "spread"] = "skip"
    checkpoint_every: int | None = Field(None, ge=1, le=limits.MAX_STEPS)
    recovery: Literal["none", "restart", "shrink", "continue"] = "none"
    max_restarts: int = Field(3, ge=0, le=20)
    servers: int = Field(1, ge=1, le=limits.MAX_SERVERS)
    ps_mode: Literal["sync", "backup", "async", "ssp"] = "sync"
    backup_workers: int = Field(0, ge=0, le=limits.MAX_WORKERS - 1)
    staleness_bound: int = Field(2, ge=0, le=100)
    emulated_compute_ms: float = Field(0.0, ge=0, le=10_000)
    straggler: Literal["none", "one", "random"] = "none"
    straggler_factor: float = Field(5.0, ge=1, le=100)
    straggler_rank: int = Field(0, ge=0, le=limits.MAX_WORKERS - 1)
    straggler_prob: float = Field(0.1, ge=0, le=1)
    network: Literal["1gbe", "10gbe", "100g_ib", "slow_link", "custom"] | None = None
    latency_us: float | None = Field(None, ge=0, le=1e7)
    bandwidth_gbps: float | None = Field(None, gt=0, le=1e5)
    links: list[LinkOverride] = Field(default_factory=list, max_length=64)
    faults: list[ScheduledFault] = Field(default_factory=list,
                                         max_length=limits.MAX_SCHEDULED_FAULTS)

    @model_validator(mode="after")
    def _engine_rules(self) -> RunCreate:
        # Cross-field rules (single ⇒ 1 worker, enough samples, …) live in the engine.
        self.to_engine()
        return self

    def to_engine(self) -> limits.RunConfig:
        fields = self.model_dump()
        fields["faults"] = [f.model_dump(exclude_none=True) for f in self.faults]
        return limits.RunConfig(**fields)


class ControlRequest(BaseModel):
    """A control action, or a fault aimed at one rank (``rank``; ``factor`` for slow)."""

    model_config = _STRICT

    action: Action
    pace: float | None = Pace
    rank: int | None = Field(None, ge=0, le=limits.MAX_WORKERS + limits.MAX_SERVERS - 1)
    factor: float | None = Field(None, ge=1, le=100)
    src: int | None = Field(None, ge=0, le=limits.MAX_WORKERS - 1)
    dst: int | None = Field(None, ge=0, le=limits.MAX_WORKERS - 1)
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
