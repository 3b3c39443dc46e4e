"""The one shape every strategy has: a ``StrategySpec`` declared next to its code.

A strategy module (``engine/strategies/data_parallel.py``, …) ends with ``SPEC =
StrategySpec(...)``. The spec says, in one place, everything the rest of DistLab needs to
know about the strategy:

- its name and titles (English and Chinese) and the papers it follows;
- its own options (a dataclass of ``engine.options`` settings): the engine validates
  them, the API documents them, the browser builds its form from them;
- the role of every process (``worker``, ``server``, …) and how many workers it runs with;
- how it runs: ``loop="step"`` (the worker's loop calls ``train_step`` once per step) or
  ``loop="own"`` (``run(ctx, runtime)`` owns the loop, as the parameter server does);
- the faults and recovery policies it supports, each perhaps only for some options;
- the event types it adds and the views the browser should show for it;
- how the supervisor reads its progress and restarts it (hooks, with defaults for
  strategies whose workers move in lock step): ``progress``, ``version_of``,
  ``reached_end``, ``restart_state`` and ``min_workers``.

The registry (``engine/strategies/registry.py``) collects the specs; ``GET
/api/strategies`` publishes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, Literal

from engine.options import Text, describe, parse


@dataclass(frozen=True, slots=True)
class Needs:
    """Allowed only while the strategy's options have one of these values."""

    values: dict[str, tuple[Any, ...]]
    because: Text  # in English and Chinese: the page shows it next to the disabled choice

    def unmet(self, opts: Any) -> bool:
        return any(getattr(opts, k) not in v for k, v in self.values.items())


@dataclass(frozen=True, slots=True)
class FaultEffect:
    """What a fault action does to a process of this strategy, where that is not what it
    does to a training worker (the page's default words: ``corrupt`` makes the next
    gradient NaN). GFS's ``corrupt`` flips a byte of a chunk file on disk instead."""

    text: Text
    """One clause, in English and Chinese: the fault menu's hint, the log, the narration."""
    glyph: str
    """The mark on the process's node while the fault is on it (a few characters)."""


@dataclass(frozen=True, slots=True)
class _NoOptions:
    """A strategy without options of its own."""


def _all_workers(_opts: Any, workers: int) -> list[str]:
    return ["worker"] * workers


@dataclass(frozen=True, slots=True)
class RestartPoint:
    """Where a restart from a checkpoint resumes (``recovery="restart"``)."""

    resume: dict[str, Any] | None
    """What every new process is told (``WorkerSpec.resume``); ``None``: from scratch."""
    from_step: int
    """The step the run goes on from (``recovery.from_step``)."""
    redo_until: int
    """Steps ``from_step + 1 .. redo_until`` are executed again (``recovery.lost_steps``)."""
    refused: list[str] = field(default_factory=list)
    """Newer checkpoints refused (truncated or tampered), with why."""


def replicas_checkpoint(_config: Any, directory: Path, progress: int) -> RestartPoint:
    """Every rank loads the newest good checkpoint of the replicas (identical in a
    lock-step run, so the leader's copy is the run's state); the steps done since it are
    done again."""
    from engine import checkpoint  # imports torch: a spec is also read without it (the API)

    ckpt, refused = checkpoint.load_latest(directory)
    resume = None if ckpt is None else {
        "file": ckpt.path.name, "step": ckpt.step,
        "sha256": hashlib.sha256(ckpt.path.read_bytes()).hexdigest()}
    return RestartPoint(resume, ckpt.step if ckpt else 0, progress, refused)


def parts_checkpoint(config: Any, directory: Path, progress: int) -> RestartPoint:
    """A model split across the processes (``replicas=False``: pipeline stages,
    tensor-parallel slices, ZeRO's shards): each process saved its own part; every process
    loads its part of the newest step all of them saved, never parts of different steps."""
    from engine import checkpoint

    step, files, refused = checkpoint.load_latest_parts(directory, config.world_size)
    resume = {"step": step, "ranks": files} if files else None
    return RestartPoint(resume, step, progress, refused)


class ChosenImplementation:
    """A strategy with more than one implementation, picked by one of its options (the
    pipeline's and tensor parallelism's ``implementation``: ours, or PyTorch's library).
    The worker makes the strategy before it has a context (``spec.implementation()``),
    so the choice is made in ``setup``, from the run's options."""

    def __init__(self, option: str, makers: dict[str, Callable[[], Any]]) -> None:
        self.option, self.makers = option, makers

    def setup(self, ctx: Any) -> None:
        self.chosen = self.makers[getattr(ctx.config.opts, self.option)]()
        self.chosen.setup(ctx)

    def train_step(self, step: int) -> Any:
        return self.chosen.train_step(step)

    def __getattr__(self, name: str) -> Any:
        # What else the worker asks of a strategy (its optimizer state for a checkpoint,
        # its restart hooks) is the chosen implementation's. Only called for names this
        # object lacks; before setup there is no choice yet, so nothing else is offered.
        chosen = self.__dict__.get("chosen")
        if chosen is None:
            raise AttributeError(name)
        return getattr(chosen, name)


def chosen_by(option: str, **makers: Callable[[], Any]) -> Callable[[], Any]:
    """``implementation=chosen_by("implementation", ours=Pipeline, torch=…)``: one maker
    (a class, or a function that imports one) per value of the option."""
    return lambda: ChosenImplementation(option, makers)


def _every_step_done(config: Any, steps_done: int, _versions: int) -> bool:
    return steps_done >= config.steps


def _one_worker(_config: Any) -> int:
    return 1


@dataclass(frozen=True, kw_only=True)
class StrategySpec:
    name: str
    title: Text
    summary: Text
    implementation: Callable[[], Any]
    """Makes the object a worker process runs (see ``engine/strategies/base.py``)."""
    loop: Literal["step", "own"] = "step"
    options: type = _NoOptions
    workers: tuple[int, int] = (1, 8)
    models: tuple[str, ...] = ("mlp",)
    """The models (``RunConfig.model``) it can train."""
    optimizers: tuple[str, ...] = ("sgd",)
    """The optimizers (``RunConfig.optimizer``) it offers."""
    batch_per_worker: bool = True
    """``batch_size`` is each worker's share of the step's batch (data parallelism: the
    global batch is workers × batch_size); False: it is the whole batch, which every
    process works on together (a pipeline's stages, tensor-parallel slices)."""
    replicas: bool = True
    """Every worker holds the whole model (the leader's copy is the run's: its decision
    boundary, its writing, its checkpoint). False when the model is split across the
    processes (pipeline, tensor parallelism): the strategy reports and saves it itself."""
    own_replicas: bool = False
    """With ``replicas=False``: every worker holds a whole model of its own, and they differ
    by design until they are averaged (decentralized SGD, local SGD) — not a split model.
    The page says "each worker its own replica" rather than "model split"."""
    trains: bool = True
    """False for a strategy that trains no model (a MapReduce job, the collectives
    playground): the page hides the training settings (learning rate, batch, optimizer,
    model, data set), the decision boundary and the replicas badge; its step events carry
    no loss, or a check of its own as their "loss" (the playground's largest error)."""
    step_label: Text | None = None
    """What one step of the run is, where it is not a training step (MapReduce: a job):
    the form's label for ``steps``."""
    optimizer_state: bool = False
    """Its optimizer keeps state a restart needs, and its implementation saves and loads
    it (``SavesOptimizerState`` in base.py): every checkpoint a process writes carries its
    optimizer's state beside its parameters (ZeRO: each process its own shard of Adam's)."""
    roles: Callable[[Any, int], list[str]] = _all_workers
    """``roles(opts, workers)``: the role of every process, by process rank."""
    faults: dict[str, Needs | None] = field(default_factory=dict)
    """Fault actions it supports (``engine/faultplan.py``), perhaps only for some options."""
    fault_effects: dict[str, FaultEffect] = field(default_factory=dict)
    """What an action of ``faults`` does here, where the page's default words are wrong."""
    fault_target: Callable[[Any, str, int], str | None] | None = None
    """``fault_target(config, action, rank)``: why an action of ``faults`` cannot hit this
    process (its role has nothing the action acts on), or ``None``. Checked for planned
    and live faults alike (engine/faultplan.py)."""
    recoveries: dict[str, Needs | None] = field(default_factory=lambda: {"none": None})
    """Recovery policies it supports (``RunConfig.recovery``)."""
    views: tuple[str, ...] = ("topology", "timeline", "loss", "boundary")
    events: dict[str, dict[str, str]] = field(default_factory=dict)
    """Event types this strategy adds, with their fields (merged into the event schema)."""
    check: Callable[[Any], None] = lambda config: None
    """Rules that tie its options to the common settings; raise ``ValueError``."""
    references: tuple[str, ...] = ()
    # What the supervisor asks of a run of this strategy (engine/supervisor.py):
    progress: Literal["slowest", "furthest"] | Callable[[Any, list[int], int], int] = "slowest"
    """The run's progress in the steps the user asked for (``summary.steps_completed``,
    the run list): the slowest worker's steps (lock step: every worker did them), the
    furthest worker's (workers that legitimately do fewer steps than others, e.g. a
    straggler among backup workers), or ``progress(config, worker_steps, versions)`` for a
    strategy whose step is not any one worker's (an asynchronous parameter server)."""
    version_of: Callable[[dict[str, Any]], int | None] | None = None
    """For a strategy that counts model versions apart from steps: the run's version an
    event reports, or ``None``. The run's summary then reports ``versions``."""
    reached_end: Callable[[Any, int, int], bool] = _every_step_done
    """``reached_end(config, steps_done, versions)``: whether a run stopped now did all
    its work (a stop at the very end is ``finished``, not ``stopped``)."""
    restart_state: Callable[[Any, Path, int], RestartPoint] = replicas_checkpoint
    """``restart_state(config, checkpoint_dir, progress)``: where a restart resumes, read
    once every old process is dead; ``progress`` is the furthest step any rank reported."""
    min_workers: Callable[[Any], int] = _one_worker
    """``min_workers(config)``: workers a run needs to go on without failed ones
    (recovery ``continue``)."""

    def __post_init__(self) -> None:
        if not is_dataclass(self.options):
            raise TypeError(f"strategy {self.name}: options must be a dataclass")
        if self.loop not in ("step", "own"):
            raise TypeError(f"strategy {self.name}: loop must be 'step' or 'own'")
        if not callable(self.progress) and self.progress not in ("slowest", "furthest"):
            raise TypeError(f"strategy {self.name}: progress must be 'slowest', 'furthest' "
                            "or a function")
        if not set(self.fault_effects) <= set(self.faults):
            raise TypeError(f"strategy {self.name}: fault_effects names an action it does "
                            "not support")

    def steps_done(self, config: Any, worker_steps: list[int], versions: int) -> int:
        """The run's progress (see ``progress``) from each worker's newest step and the
        run's version."""
        if callable(self.progress):
            return self.progress(config, worker_steps, versions)
        return (max if self.progress == "furthest" else min)(worker_steps, default=0)

    def parse_options(self, values: dict[str, Any]) -> Any:
        """The options as the strategy's typed dataclass (validated; defaults filled)."""
        return parse(self.options, values, "options.")

    def options_dict(self, values: dict[str, Any]) -> dict[str, Any]:
        return asdict(self.parse_options(values))

    def roles_of(self, opts: Any, workers: int) -> list[str]:
        return self.roles(opts, workers)

    def why_not(self, kind: Literal["fault", "recovery"], name: str, opts: Any) -> str | None:
        """Why a fault action or a recovery policy is not available, or ``None``."""
        table = self.faults if kind == "fault" else self.recoveries
        if name not in table:
            return f"the {self.name} strategy does not support it"
        needs = table[name]
        return needs.because["en"] if needs is not None and needs.unmet(opts) else None

    def describe(self) -> dict[str, Any]:
        """What ``GET /api/strategies`` says about this strategy."""
        def needs(table: dict[str, Needs | None]) -> dict[str, Any]:
            return {k: None if v is None else {"values": {n: list(a) for n, a in
                                                          v.values.items()},
                                               "because": v.because}
                    for k, v in table.items()}
        return {
            "name": self.name, "title": self.title, "summary": self.summary,
            "loop": self.loop, "options": describe(self.options),
            "workers": {"min": self.workers[0], "max": self.workers[1]},
            "models": list(self.models), "optimizers": list(self.optimizers),
            "replicas": self.replicas, "own_replicas": self.own_replicas,
            "batch_per_worker": self.batch_per_worker,
            "trains": self.trains, "step_label": self.step_label,
            "roles": sorted(set(self.roles(self.parse_options({}), self.workers[1]))),
            "faults": needs(self.faults), "recoveries": needs(self.recoveries),
            "fault_effects": {k: {"text": v.text, "glyph": v.glyph}
                              for k, v in self.fault_effects.items()},
            "views": list(self.views), "events": self.events,
            "references": list(self.references),
        }
