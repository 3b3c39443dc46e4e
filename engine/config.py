"""Run configuration: what a user may ask the engine to do, with its allowed ranges.

A run has *common* settings (how many workers, steps, the data, the pace, the network
model, faults and recovery) and the *options of its strategy*, which live under
``options`` and are declared by the strategy itself (``engine/strategies/*.py``, its
``SPEC``). Every setting is declared once, with ``engine.options`` helpers: the engine
validates from that declaration, the API builds its request model from it, and the
browser builds its form from it (``GET /api/schema/config``, ``GET /api/strategies``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from engine.faultplan import check_schedule
from engine.network import NETWORKS
from engine.options import (
    check_fields,
    check_int,
    check_number,
    choice,
    describe,
    flag,
    integer,
    number,
    options_of,
)
from engine.strategies import registry

MAX_WORKERS = 8
MAX_SERVERS = 4  # the parameter server's limit; counted here for the largest process rank
MAX_STEPS = 5000
MAX_BATCH_SIZE = 512
MAX_LR = 10.0
MIN_PACE = 0.2  # steps per second; slower than this is indistinguishable from paused
MAX_PACE = 50.0  # faster than this, a human cannot follow; use pace=None (full speed)
MAX_SEED = 2**31 - 1
MIN_TIMEOUT_S = 2.0
MAX_TIMEOUT_S = 120.0
MAX_LINK_OVERRIDES = 64
RECOVERIES = ("none", "restart", "shrink", "continue")
LAUNCHERS = ("local", "torchrun")  # torchrun: workers on other hosts (engine/remote_workers.py)
MODELS = ("mlp", "transformer")
OPTIMIZERS = ("sgd", "adam", "momentum", "lbfgs")  # L-BFGS: the lbfgs strategy (full batch)
POINT_DATASETS = ("spirals", "moons", "blobs")  # engine/data.py generates them
TEXT_DATASETS = ("text-en", "text-zh")  # engine/corpus/, read by engine/data.py

# Stored configs from before strategy options moved under ``options`` (schema 1):
# these flat fields belonged to a strategy. ``migrate`` moves them.
LEGACY_STRATEGY_FIELDS = {
    "data_parallel": ("allreduce", "compression", "qsgd_levels", "compress_fraction",
                      "powersgd_rank", "error_feedback"),
    "parameter_server": ("servers", "ps_mode", "backup_workers", "staleness_bound"),
}
_LEGACY_DROPPED = ("extra",)


@dataclass(kw_only=True, slots=True)
class RunConfig:
    """One training run. Every field is validated in ``__post_init__``."""

    strategy: str = "data_parallel"
    """Name of the training strategy (``GET /api/strategies``)."""
    options: dict[str, Any] = field(default_factory=dict)
    """The strategy's own options (its ``SPEC.options``); missing ones take defaults."""
    workers: int = integer(4, 1, MAX_WORKERS, label="Workers",
                           help="Worker processes (ranks) that train.")
    steps: int = integer(200, 1, MAX_STEPS, label="Steps",
                         help="Optimizer steps every worker takes.")
    batch_size: int = integer(32, 1, MAX_BATCH_SIZE, label="Batch per worker",
                              help="Samples per worker per step; the global batch is "
                                   "workers × batch_size (a strategy that splits the model, "
                                   "whose spec says batch_per_worker false: the whole "
                                   "batch).")
    lr: float = number(0.5, 0.0, MAX_LR, low_open=True, label="Learning rate",
                       help="SGD learning rate.")
    optimizer: str = choice("sgd", OPTIMIZERS, label="Optimizer",
                            help="sgd: p ← p − lr·g; adam: Adam (β 0.9, 0.999), two numbers "
                                 "of state per parameter (try lr 0.01). Which strategies "
                                 "offer Adam is in their spec.")
    seed: int = integer(0, 0, MAX_SEED, label="Seed",
                        help="Seeds data, sampling and initial weights: same seed, same run.")
    pace: float | None = number(None, MIN_PACE, MAX_PACE, nullable=True, label="Pace",
                                help="Steps per second, coordinated across ranks; null runs "
                                     "at full speed.")
    model: str = choice("mlp", MODELS, label="Model",
                        help="mlp: a small MLP on 2-D points (the page draws its decision "
                             "boundary); transformer: a tiny character-level GPT on text "
                             "(the page shows what it writes).")
    dataset: str = choice("spirals", (*POINT_DATASETS, *TEXT_DATASETS), label="Data set",
                          help="2-D points generated from the seed (for the mlp), or a "
                               "text shipped with DistLab, English or Chinese (for the "
                               "transformer).")
    backend: str = choice("auto", ("auto", "gloo", "nccl"), label="Backend",
                          help="gloo (CPU), nccl (one GPU per worker) or auto.")
    launcher: str = choice("local", LAUNCHERS, label="Launcher",
                           help="local: the server starts the workers; torchrun: the "
                                "workers run on nnodes hosts, started there by the command "
                                "the run prints (torchrun, c10d rendezvous at the run's "
                                "store), each host's agent joining with the run's token.")
    nnodes: int = integer(1, 1, MAX_WORKERS, label="Hosts (nnodes)",
                          help="torchrun: how many hosts share the run's processes "
                               "(each starts processes ÷ nnodes of them).",
                          shown_when={"launcher": ("torchrun",)})
    detail: bool = flag(False, label="Per-message events",
                        help="Emit one comm event per message (for animation).")
    network: str | None = choice(None, NETWORKS, nullable=True, label="Network model",
                                 help="Also charge every message to a modelled network "
                                      "(engine/network.py); null: wall time only.")
    latency_us: float | None = number(None, 0.0, 1e7, nullable=True, label="Latency α (µs)",
                                      help="Custom network: per-message latency.")
    bandwidth_gbps: float | None = number(None, 0.0, 1e5, low_open=True, nullable=True,
                                          label="Bandwidth β (Gb/s)",
                                          help="Custom network: link bandwidth.")
    links: list[dict[str, Any]] = field(default_factory=list)
    """Per-link overrides ``{src, dst, latency_us, bandwidth_gbps}`` on top of the network."""
    node_size: int | None = integer(None, 1, MAX_WORKERS, nullable=True,
                                    label="Processes per node",
                                    help="Group the processes into nodes (hosts) of this "
                                         "many, by rank: the two_level network is fast "
                                         "inside a node and slow between nodes, and the "
                                         "hierarchical all-reduce sums inside each node "
                                         "first. null: no nodes.")
    emulated_compute_ms: float = number(0.0, 0.0, 10_000.0, label="Emulated compute (ms)",
                                        help="Extra work per step, emulated by sleeping, as "
                                             "if the model were bigger (the UI says so).")
    straggler: str = choice("none", ("none", "one", "random"), label="Stragglers",
                            help="one: worker straggler_rank is straggler_factor× slower; "
                                 "random: any worker is, with probability straggler_prob.")
    straggler_factor: float = number(5.0, 1.0, 100.0, label="Slow-down (×)",
                                     help="How many times slower a straggler computes.")
    straggler_rank: int = integer(0, 0, MAX_WORKERS - 1, label="Slow worker",
                                  help="Which worker is slow (from 0) when straggler is one.")
    straggler_prob: float = number(0.1, 0.0, 1.0, label="Probability",
                                   help="Chance per step that a worker straggles (random).")
    checkpoint_every: int | None = integer(None, 1, MAX_STEPS, nullable=True,
                                           label="Checkpoint every",
                                           help="Save a checkpoint every this many steps.")
    recovery: str = choice("none", RECOVERIES, label="Recovery",
                           help="When a worker fails: none (the run fails), restart (from "
                                "the last checkpoint), shrink (the survivors go on), or "
                                "continue (the parameter server stops waiting for it). "
                                "Which ones a strategy supports is in its spec.")
    max_restarts: int = integer(3, 0, 20, label="Max restarts",
                                help="Restarts allowed before the run is declared failed.")
    faults: list[dict[str, Any]] = field(default_factory=list)
    """Faults scheduled before the run (``engine/faultplan.py``)."""
    nan_policy: str = choice("skip", ("skip", "spread"), label="Non-finite gradient",
                             help="skip the step on every rank, or spread it (a demo).")
    num_samples: int = integer(1024, 16, 100_000, label="Samples",
                               help="Size of the synthetic data set.")
    hidden: int = integer(32, 1, 1024, label="Hidden width",
                          help="Width of the MLP's two hidden layers.")
    d_model: int = integer(64, 8, 256, label="Model width (d_model)",
                           help="Transformer: width of every token's vector.")
    layers: int = integer(4, 1, 16, label="Transformer blocks",
                          help="Transformer: how many blocks (attention + MLP).")
    heads: int = integer(4, 1, 16, label="Attention heads",
                         help="Transformer: heads per attention layer (divides d_model).")
    context: int = integer(64, 4, 256, label="Context (characters)",
                           help="Transformer: characters it reads to predict the next one; "
                                "one sample is one such window of the text.")
    timeout_s: float = number(10.0, MIN_TIMEOUT_S, MAX_TIMEOUT_S, label="Timeout (s)",
                              help="A collective waiting longer than this fails the run.")
    boundary_every: int | None = integer(None, 1, MAX_STEPS, nullable=True,
                                         label="Boundary every",
                                         help="Emit the decision boundary every this many "
                                              "steps; null picks a sensible value.")

    def __post_init__(self) -> None:
        spec = registry.get(self.strategy)  # ValueError naming the strategies there are
        clash = set(options_of(spec.options)) & set(self.__dataclass_fields__)
        if clash:  # a strategy's bug, not the user's: the page keeps both in one URL
            raise TypeError(f"strategy {spec.name}: options {sorted(clash)} reuse the "
                            "names of common settings")
        check_fields(self)
        # Fill in the strategy's defaults, so a stored config says everything it ran with.
        self.options = spec.options_dict(self.options)
        low, high = spec.workers
        if not low <= self.workers <= high:
            raise ValueError(f"workers: strategy '{self.strategy}' runs with "
                             f"{low if low == high else f'{low} to {high}'} worker(s) "
                             f"(got {self.workers})")
        self._check_model(spec)
        self._check_recovery(spec)
        self._hosts_are_nodes()
        self._check_network()
        self._check_launcher()
        check_int("straggler_rank", self.straggler_rank, 0, self.workers - 1)
        if spec.batch_per_worker and self.num_samples < self.workers * self.batch_size:
            raise ValueError(
                f"num_samples ({self.num_samples}) must be at least workers × batch_size "
                f"({self.workers * self.batch_size}) so every rank has a full batch")
        if self.num_samples < self.batch_size:
            raise ValueError(f"num_samples ({self.num_samples}) must be at least batch_size "
                             f"({self.batch_size})")
        spec.check(self)
        check_schedule(self, spec)

    def _check_model(self, spec: registry.StrategySpec) -> None:
        if self.model not in spec.models:
            raise ValueError(f"model '{self.model}': the {spec.name} strategy trains "
                             f"{' or '.join(spec.models)}")
        text = self.dataset in TEXT_DATASETS
        if text != (self.model == "transformer"):
            raise ValueError(
                f"dataset '{self.dataset}': the {self.model} learns from "
                + ("text: choose text-en or text-zh" if self.model == "transformer"
                   else "2-D points: choose spirals, moons or blobs"))
        if self.optimizer not in spec.optimizers:
            raise ValueError(f"optimizer '{self.optimizer}': the {spec.name} strategy "
                             f"uses {' or '.join(spec.optimizers)}")
        if self.model == "transformer" and self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")

    def _check_recovery(self, spec: registry.StrategySpec) -> None:
        why_not = spec.why_not("recovery", self.recovery, self.opts)
        if why_not:
            others = [s.name for s in registry.specs().values()
                      if self.recovery in s.recoveries]
            hint = f" (it is for {', '.join(others)})" if others and self.strategy not in \
                others else ""
            raise ValueError(f"recovery '{self.recovery}': {why_not}{hint}")
        if self.recovery == "restart" and self.checkpoint_every is None:
            raise ValueError("recovery 'restart' needs checkpoints: set checkpoint_every")
        if self.recovery == "shrink" and self.workers < 2:
            raise ValueError("recovery 'shrink' needs at least 2 workers (someone must survive)")

    def _hosts_are_nodes(self) -> None:
        """A torchrun run's nodes are its real hosts (torchrun numbers a host's processes
        one after another), so the network model's slow links are the real host boundary."""
        if self.launcher != "torchrun" or self.nnodes < 2 or self.world_size % self.nnodes:
            return  # (_check_launcher names an uneven split)
        per_host = self.world_size // self.nnodes
        if self.node_size is None:
            self.node_size = per_host
        elif self.node_size != per_host:
            raise ValueError(f"node_size: a torchrun run's nodes are its {self.nnodes} hosts "
                             f"of {per_host} processes each (got {self.node_size})")

    def _check_launcher(self) -> None:
        if self.launcher == "local":
            if self.nnodes != 1:
                raise ValueError("nnodes: a local run is one host; more hosts need "
                                 "launcher 'torchrun'")
            return
        if self.world_size % self.nnodes:
            raise ValueError(f"nnodes: the run's {self.world_size} processes must split "
                             f"evenly over the hosts ({self.nnodes} does not divide them)")
        # The processes belong to the torchrun agents on their hosts: DistLab cannot start
        # them again, nor keep files on their disks.
        if self.recovery != "none":
            raise ValueError(f"recovery '{self.recovery}': a torchrun run's processes are "
                             "started by the agents on their hosts, and DistLab cannot "
                             "start them again: use recovery 'none'")
        if self.checkpoint_every is not None:
            raise ValueError("checkpoint_every: checkpoints are written to the server's "
                             "disk, and a torchrun run's workers are on other hosts")

    def _check_network(self) -> None:
        custom = self.network == "custom"
        for name in ("latency_us", "bandwidth_gbps"):
            value = getattr(self, name)
            if custom and value is None:
                raise ValueError(f"network 'custom' needs {name}")
            if not custom and value is not None:
                raise ValueError(f"{name} is only used with network 'custom'")
        if not isinstance(self.links, list):
            raise ValueError("links must be a list of {src, dst, latency_us, bandwidth_gbps}")
        if self.links and self.network is None:
            raise ValueError("links need a network to modify (choose a network preset)")
        if self.network == "two_level" and self.node_size is None:
            raise ValueError("network 'two_level' needs node_size (processes per node): "
                             "it is fast inside a node and slow between nodes")
        if len(self.links) > MAX_LINK_OVERRIDES:
            raise ValueError(f"at most {MAX_LINK_OVERRIDES} link overrides")
        for i, link in enumerate(self.links):
            where = f"links[{i}]"
            if not isinstance(link, dict) or set(link) != {"src", "dst", "latency_us",
                                                           "bandwidth_gbps"}:
                raise ValueError(f"{where} must have exactly src, dst, latency_us, "
                                 f"bandwidth_gbps")
            for end in ("src", "dst"):
                check_int(f"{where}.{end}", link[end], 0, self.workers - 1)
            if link["src"] == link["dst"]:
                raise ValueError(f"{where}: a link joins two different ranks")
            check_number(f"{where}.latency_us", link["latency_us"], 0.0, 1e7)
            check_number(f"{where}.bandwidth_gbps", link["bandwidth_gbps"], 0.0, 1e5,
                         low_open=True)

    @property
    def spec(self) -> registry.StrategySpec:
        return registry.get(self.strategy)

    @property
    def opts(self) -> Any:
        """The strategy's options as its typed dataclass (``opts.ps_mode``, …)."""
        return self.spec.parse_options(self.options)

    @property
    def roles(self) -> list[str]:
        """The role of every process, by process rank (e.g. servers first, then workers)."""
        return self.spec.roles_of(self.opts, self.workers)

    @property
    def num_servers(self) -> int:
        """Processes before the first worker (parameter servers), 0 for most strategies."""
        return self.roles.index("worker") if "worker" in self.roles else 0

    @property
    def world_size(self) -> int:
        """Processes in the process group: the workers, plus any servers."""
        return len(self.roles)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        data = migrate(data)
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown config fields: {sorted(unknown)}")
        return cls(**data)


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """A stored config in today's shape: strategy fields that used to sit at the top level
    (before version 2) move under ``options``; those of other strategies are dropped."""
    if not isinstance(data, dict) or "options" in data:
        return data
    legacy = {name for names in LEGACY_STRATEGY_FIELDS.values() for name in names}
    if not legacy & set(data) and not set(_LEGACY_DROPPED) & set(data):
        return data
    mine = LEGACY_STRATEGY_FIELDS.get(data.get("strategy", "data_parallel"), ())
    out = {k: v for k, v in data.items() if k not in legacy and k not in _LEGACY_DROPPED}
    out["options"] = {k: data[k] for k in mine if k in data}
    return out


def config_schema() -> dict[str, Any]:
    """The common settings, as the browser and API documents read them."""
    return {"fields": describe(RunConfig),
            "strategy": {"default": RunConfig.__dataclass_fields__["strategy"].default,
                         "choices": list(registry.names())},
            # Which data sets each model learns from (the form offers only those).
            "datasets": {"mlp": list(POINT_DATASETS), "transformer": list(TEXT_DATASETS)},
            "limits": {
        "max_workers": MAX_WORKERS, "max_servers": MAX_SERVERS, "max_steps": MAX_STEPS,
        "max_link_overrides": MAX_LINK_OVERRIDES}}
