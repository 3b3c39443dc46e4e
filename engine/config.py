"""Run configuration: what a user may ask the engine to do, with its allowed ranges.

This module is deliberately free of torch so the backend can validate configs (and build
its API models from the same limits) without importing the engine's heavy parts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

STRATEGIES = ("single", "data_parallel", "parameter_server")
PS_MODES = ("sync", "backup", "async", "ssp")
STRAGGLERS = ("none", "one", "random")
MAX_SERVERS = 4
DATASETS = ("spirals", "moons", "blobs")
MODELS = ("mlp",)
BACKENDS = ("auto", "gloo", "nccl")
ALL_REDUCE_ALGORITHMS = ("builtin", "ring", "tree", "naive")
COMPRESSIONS = ("fp16", "qsgd", "topk", "randk", "sign", "powersgd")  # engine/compression.py
NETWORKS = ("1gbe", "10gbe", "100g_ib", "slow_link", "custom")  # engine/network.py
MAX_LINK_OVERRIDES = 64
RECOVERIES = ("none", "restart", "shrink", "continue")
RANK_FAULTS = ("kill", "freeze", "slow", "corrupt")  # aimed at one worker
LINK_FAULTS = ("delay", "drop")  # aimed at the link src→dst
SCHEDULED_ACTIONS = (*RANK_FAULTS, *LINK_FAULTS, "rejoin")
MAX_SCHEDULED_FAULTS = 20

# Inclusive limits. The backend builds its request model from these, so the HTTP 422
# messages and the engine's ValueErrors always agree.
MAX_WORKERS = 8
MAX_STEPS = 5000
MAX_BATCH_SIZE = 512
MAX_LR = 10.0
MIN_PACE = 0.2  # steps per second; slower than this is indistinguishable from paused
MAX_PACE = 50.0  # faster than this, a human cannot follow; use pace=None (full speed)
MAX_SEED = 2**31 - 1
MIN_TIMEOUT_S = 2.0
MAX_TIMEOUT_S = 120.0


@dataclass(kw_only=True, slots=True)
class RunConfig:
    """One training run. Every field is validated in ``__post_init__``."""

    strategy: str = "data_parallel"
    """Name of the training strategy (see ``engine.strategies.STRATEGIES``)."""
    workers: int = 4
    """Number of worker processes (ranks) in the process group."""
    steps: int = 200
    """Number of optimizer steps every rank takes."""
    batch_size: int = 32
    """Samples per worker per step; the global batch is ``workers * batch_size``."""
    lr: float = 0.5
    """SGD learning rate."""
    seed: int = 0
    """Seeds data generation, sharding and model initialisation: same seed, same run."""
    pace: float | None = None
    """Steps per second, coordinated across ranks; ``None`` runs at full speed."""
    model: str = "mlp"
    """Model architecture."""
    dataset: str = "spirals"
    """Synthetic 2-D data set."""
    backend: str = "auto"
    """``gloo`` (CPU), ``nccl`` (one GPU per worker) or ``auto`` (nccl when possible)."""
    detail: bool = False
    """Emit one ``comm`` event per message (for animation); costs a little speed."""
    allreduce: str = "builtin"
    """How gradients are all-reduced: the process group's own algorithm (``builtin``) or
    one written out over point-to-point messages (``ring``, ``tree``, ``naive``)."""
    compression: str | None = None
    """Compress gradients before they travel (``engine/compression.py``), or ``None``."""
    qsgd_levels: int = 7
    """QSGD: quantization levels s (7 levels + sign = 4 bits per value)."""
    compress_fraction: float = 0.01
    """Top-k / random-k: fraction of the gradient's values that are sent, in (0, 1]."""
    powersgd_rank: int = 1
    """PowerSGD: rank of the low-rank approximation of each weight gradient."""
    error_feedback: bool = False
    """Add what compression dropped to the next step's gradient (Karimireddy et al. 2019)."""
    network: str | None = None
    """Also charge every message to a modelled network (``engine/network.py``): a preset,
    ``custom`` (with ``latency_us`` and ``bandwidth_gbps``), or ``None`` (wall time only)."""
    latency_us: float | None = None
    """Custom network: per-message latency α in microseconds."""
    bandwidth_gbps: float | None = None
    """Custom network: link bandwidth β in gigabits per second."""
    links: list[dict[str, Any]] = field(default_factory=list)
    """Per-link overrides ``{src, dst, latency_us, bandwidth_gbps}`` on top of the network."""
    servers: int = 1
    """Parameter server: server processes; the parameters are sharded across them."""
    ps_mode: str = "sync"
    """Parameter server consistency: sync (BSP), backup (sync with backup workers),
    async (ASP) or ssp (bounded staleness)."""
    backup_workers: int = 0
    """Mode backup: of the ``workers``, this many are spares; the server applies the first
    ``workers - backup_workers`` gradients of each version and drops the rest."""
    staleness_bound: int = 2
    """Mode ssp: a worker more than this many iterations ahead of the slowest blocks."""
    emulated_compute_ms: float = 0.0
    """Extra work per step, emulated by sleeping, as if the model were bigger (the UI says
    so). Stragglers multiply the whole step's compute."""
    straggler: str = "none"
    """none; one (rank ``straggler_rank`` is ``straggler_factor``× slower); random (every
    worker is ``straggler_factor``× slower with probability ``straggler_prob`` per step)."""
    straggler_factor: float = 5.0
    straggler_rank: int = 0
    """Which worker is slow (counted among workers, from 0) when straggler is ``one``."""
    straggler_prob: float = 0.1
    checkpoint_every: int | None = None
    """Save a checkpoint every this many steps (``None``: never)."""
    recovery: str = "none"
    """When a worker fails: ``none`` (the run fails), ``restart`` (every worker restarts
    from the last checkpoint, as torchrun does; needs ``checkpoint_every``) or ``shrink``
    (the survivors form a smaller group and go on from their own state, as elastic
    Horovod does; a worker can be added back later with ``rejoin``) or ``continue``
    (parameter server, async/ssp/backup: the servers simply stop expecting the dead
    worker's gradients and training goes on without it)."""
    max_restarts: int = 3
    """Restarts allowed before the run is declared failed."""
    faults: list[dict[str, Any]] = field(default_factory=list)
    """Faults scheduled before the run: ``{"after_step": k, "action": a, ...}`` fires once
    the first worker has finished step k. ``action`` is kill/freeze/slow/corrupt (with
    ``rank``; slow with ``factor``), delay/drop (with ``src``, ``dst``; delay with ``ms``)
    or rejoin (with ``rank``: add a worker that left back, under recovery ``shrink``)."""
    nan_policy: str = "skip"
    """A gradient that is not finite: ``skip`` the step on every rank (the NaN never reaches
    a parameter), or ``spread`` it (a demo: one all-reduce puts it into every replica)."""
    num_samples: int = 1024
    """Size of the synthetic data set, shared out disjointly among the ranks."""
    hidden: int = 32
    """Width of the MLP's two hidden layers."""
    timeout_s: float = 10.0
    """Process-group timeout: a collective waiting longer than this fails the run."""
    boundary_every: int | None = None
    """Emit the decision boundary every this many steps; ``None`` picks a sensible value."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Reserved for strategies added later; must be empty for now."""

    def __post_init__(self) -> None:
        _check_choice("strategy", self.strategy, STRATEGIES)
        _check_choice("dataset", self.dataset, DATASETS)
        _check_choice("model", self.model, MODELS)
        _check_choice("backend", self.backend, BACKENDS)
        _check_choice("nan_policy", self.nan_policy, ("skip", "spread"))
        _check_choice("recovery", self.recovery, RECOVERIES)
        _check_int("max_restarts", self.max_restarts, 0, 20)
        if self.checkpoint_every is not None:
            _check_int("checkpoint_every", self.checkpoint_every, 1, MAX_STEPS)
        if self.recovery == "restart" and self.checkpoint_every is None:
            raise ValueError("recovery 'restart' needs checkpoints: set checkpoint_every")
        if self.recovery == "restart" and self.strategy == "single":
            raise ValueError("recovery 'restart' needs a distributed run")
        if self.recovery == "shrink" and self.strategy != "data_parallel":
            raise ValueError("recovery 'shrink' is available for data_parallel runs")
        if self.recovery == "continue" and (self.strategy != "parameter_server"
                                            or self.ps_mode == "sync"):
            raise ValueError("recovery 'continue' is for the parameter server in async, ssp "
                             "or backup mode (sync needs every worker's gradient)")
        if self.recovery == "shrink" and self.workers < 2:
            raise ValueError("recovery 'shrink' needs at least 2 workers (someone must survive)")
        _check_choice("allreduce", self.allreduce, ALL_REDUCE_ALGORITHMS)
        _check_int("workers", self.workers, 1, MAX_WORKERS)
        _check_int("steps", self.steps, 1, MAX_STEPS)
        _check_int("batch_size", self.batch_size, 1, MAX_BATCH_SIZE)
        _check_int("seed", self.seed, 0, MAX_SEED)
        _check_int("num_samples", self.num_samples, 16, 100_000)
        _check_int("hidden", self.hidden, 1, 1024)
        _check_number("lr", self.lr, 0.0, MAX_LR, low_open=True)
        _check_number("timeout_s", self.timeout_s, MIN_TIMEOUT_S, MAX_TIMEOUT_S)
        if self.pace is not None:
            _check_number("pace", self.pace, MIN_PACE, MAX_PACE)
        if self.boundary_every is not None:
            _check_int("boundary_every", self.boundary_every, 1, MAX_STEPS)
        if not isinstance(self.detail, bool):
            raise ValueError("detail must be true or false")
        if self.extra:
            raise ValueError(f"unknown extra settings: {sorted(self.extra)}")
        self._check_network()
        self._check_compression()
        self._check_parameter_server()
        self._check_stragglers()
        self._check_fault_schedule()
        if self.strategy == "single" and self.workers != 1:
            raise ValueError("strategy 'single' is the one-process reference: workers must be 1")
        if self.num_samples < self.workers * self.batch_size:
            raise ValueError(
                f"num_samples ({self.num_samples}) must be at least workers × batch_size "
                f"({self.workers * self.batch_size}) so every rank has a full batch"
            )

    def _check_parameter_server(self) -> None:
        _check_int("servers", self.servers, 1, MAX_SERVERS)
        _check_choice("ps_mode", self.ps_mode, PS_MODES)
        _check_int("backup_workers", self.backup_workers, 0, self.workers - 1)
        _check_int("staleness_bound", self.staleness_bound, 0, 100)
        if self.strategy != "parameter_server":
            return
        if self.backend == "nccl":
            raise ValueError("the parameter server runs on gloo (CPU): it receives from "
                             "any worker, which NCCL cannot do")
        if self.ps_mode == "backup" and self.backup_workers == 0:
            raise ValueError("mode backup needs backup_workers ≥ 1 (spare workers)")
        if self.ps_mode != "backup" and self.backup_workers:
            raise ValueError("backup_workers is only used with ps_mode 'backup'")
        if self.allreduce != "builtin" or self.compression is not None:
            raise ValueError("allreduce and compression apply to data_parallel, not to the "
                             "parameter server")

    def _check_fault_schedule(self) -> None:
        if not isinstance(self.faults, list):
            raise ValueError("faults must be a list of {after_step, action, …}")
        if len(self.faults) > MAX_SCHEDULED_FAULTS:
            raise ValueError(f"at most {MAX_SCHEDULED_FAULTS} scheduled faults")
        if self.faults and self.strategy == "single":
            raise ValueError("faults need a distributed run (not the single-process reference)")
        left: set[int] = set()  # workers a scheduled kill/freeze takes out, in step order
        for i, fault in enumerate(sorted(self.faults, key=_after_step)):
            where = f"faults[{i}]"
            if not isinstance(fault, dict) or "action" not in fault or "after_step" not in fault:
                raise ValueError(f"{where} needs after_step and action")
            action = fault["action"]
            _check_choice(f"{where}.action", action, SCHEDULED_ACTIONS)
            _check_int(f"{where}.after_step", fault["after_step"], 1, max(1, self.steps - 1))
            link = action in LINK_FAULTS
            allowed = ({"after_step", "action", "src", "dst"} | ({"ms"} if action == "delay"
                                                               else set())
                       if link else {"after_step", "action", "rank"} |
                       ({"factor"} if action == "slow" else set()))
            if set(fault) != allowed:
                raise ValueError(f"{where} ({action}) takes exactly: {', '.join(sorted(allowed))}")
            if link:
                for end in ("src", "dst"):
                    _check_int(f"{where}.{end}", fault[end], 0, self.workers - 1)
                if fault["src"] == fault["dst"]:
                    raise ValueError(f"{where}: a link joins two different ranks")
                if self.strategy != "data_parallel":
                    raise ValueError(f"{where}: link faults apply to data_parallel runs")
                if action == "drop" and self.allreduce == "builtin":
                    raise ValueError(f"{where}: drop needs a hand-written all-reduce (ring, "
                                     "tree or naive)")
                if action == "delay":
                    _check_number(f"{where}.ms", fault["ms"], 0.0, 10_000.0)
                continue
            # Parameter servers come first (ranks 0..servers-1): they can be killed or
            # frozen (recovery 'restart' rebuilds them); the other faults aim at workers.
            low = 0 if action in ("kill", "freeze") else self.num_servers
            _check_int(f"{where}.rank", fault["rank"], low, self.num_servers + self.workers - 1)
            if action == "slow":
                _check_number(f"{where}.factor", fault["factor"], 1.0, 100.0)
            if action == "rejoin":
                if self.recovery != "shrink":
                    raise ValueError(f"{where}: rejoin needs recovery 'shrink'")
                if fault["rank"] not in left:
                    raise ValueError(f"{where}: rank {fault['rank']} can rejoin only after a "
                                     "scheduled kill or freeze has taken it out")
                left.discard(fault["rank"])
            elif action in ("kill", "freeze"):
                left.add(fault["rank"])

    def _check_stragglers(self) -> None:
        _check_choice("straggler", self.straggler, STRAGGLERS)
        _check_number("emulated_compute_ms", self.emulated_compute_ms, 0.0, 10_000.0)
        _check_number("straggler_factor", self.straggler_factor, 1.0, 100.0)
        _check_int("straggler_rank", self.straggler_rank, 0, self.workers - 1)
        _check_number("straggler_prob", self.straggler_prob, 0.0, 1.0)

    def _check_compression(self) -> None:
        _check_int("qsgd_levels", self.qsgd_levels, 1, 127)
        _check_int("powersgd_rank", self.powersgd_rank, 1, 16)
        _check_number("compress_fraction", self.compress_fraction, 0.0, 1.0, low_open=True)
        if not isinstance(self.error_feedback, bool):
            raise ValueError("error_feedback must be true or false")
        if self.compression is None:
            if self.error_feedback:
                raise ValueError("error_feedback needs a compression method")
            return
        _check_choice("compression", self.compression, COMPRESSIONS)
        if self.strategy != "data_parallel":
            raise ValueError("compression applies to the data_parallel strategy")
        if self.compression == "powersgd":
            if self.error_feedback:
                raise ValueError("PowerSGD always uses error feedback; leave error_feedback "
                                 "off")
        elif self.allreduce != "builtin":
            raise ValueError("with compression the encoded gradients are all-gathered: "
                             "leave allreduce at 'builtin'")

    def _check_network(self) -> None:
        if self.network is not None:
            _check_choice("network", self.network, NETWORKS)
        custom = self.network == "custom"
        for name in ("latency_us", "bandwidth_gbps"):
            value = getattr(self, name)
            if custom and value is None:
                raise ValueError(f"network 'custom' needs {name}")
            if not custom and value is not None:
                raise ValueError(f"{name} is only used with network 'custom'")
        if custom:
            _check_link("network", self.latency_us, self.bandwidth_gbps)
        if not isinstance(self.links, list):
            raise ValueError("links must be a list of {src, dst, latency_us, bandwidth_gbps}")
        if self.links and self.network is None:
            raise ValueError("links need a network to modify (choose a network preset)")
        if len(self.links) > MAX_LINK_OVERRIDES:
            raise ValueError(f"at most {MAX_LINK_OVERRIDES} link overrides")
        for i, link in enumerate(self.links):
            where = f"links[{i}]"
            if not isinstance(link, dict) or set(link) != {"src", "dst", "latency_us",
                                                           "bandwidth_gbps"}:
                raise ValueError(f"{where} must have exactly src, dst, latency_us, "
                                 f"bandwidth_gbps")
            for end in ("src", "dst"):
                _check_int(f"{where}.{end}", link[end], 0, self.workers - 1)
            if link["src"] == link["dst"]:
                raise ValueError(f"{where}: a link joins two different ranks")
            _check_link(where, link["latency_us"], link["bandwidth_gbps"])

    @property
    def num_servers(self) -> int:
        return self.servers if self.strategy == "parameter_server" else 0

    @property
    def world_size(self) -> int:
        """Processes in the process group: the workers, plus any servers."""
        return self.workers + self.num_servers

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown config fields: {sorted(unknown)}")
        return cls(**data)


def _after_step(fault: Any) -> int:
    step = fault.get("after_step") if isinstance(fault, dict) else None
    return step if isinstance(step, int) else 0


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")


def _check_link(where: str, latency_us: object, bandwidth_gbps: object) -> None:
    _check_number(f"{where} latency_us", latency_us, 0.0, 1e7)
    _check_number(f"{where} bandwidth_gbps", bandwidth_gbps, 0.0, 1e5, low_open=True)


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer (got {value!r})")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high} (got {value})")


def _check_number(
    name: str, value: object, low: float, high: float, *, low_open: bool = False
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number (got {value!r})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number (got {value})")
    too_low = value <= low if low_open else value < low
    if too_low or value > high:
        bound = f"greater than {low}" if low_open else f"at least {low}"
        raise ValueError(f"{name} must be {bound} and at most {high} (got {value})")
