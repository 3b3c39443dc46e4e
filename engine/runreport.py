"""What the supervisor says about a run as a whole: ``run_started``'s description of it,
the progress it follows in the workers' events, and ``run_finished``'s summary.

Progress is counted the way the run's strategy says (its spec, never its name): the
slowest worker's steps where workers move in lock step, the furthest worker's where some
legitimately do fewer (a parameter server's stragglers), and the run's version where the
strategy counts versions apart from steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine import data as datasets
from engine.causes import Cause, make
from engine.events import SCHEMA_VERSION, make_event
from engine.model import model_for, num_params
from engine.network import build_network
from engine.processes import WorkerHandle

if TYPE_CHECKING:
    from engine.supervisor import RunSupervisor


@dataclass(slots=True)
class Outcome:
    status: str | None = None
    error: Cause | None = None  # why the run ended badly
    first_step_t: float | None = None
    last_step_t: float | None = None
    versions: int = 0  # the run's version, for strategies that count them (version_of)
    # decentralized SGD: the consensus distance of each step (every worker reports the same)
    consensus: dict[int, float] = field(default_factory=dict)


def run_started(sup: RunSupervisor) -> dict[str, Any]:
    config = sup.config
    dataset = datasets.dataset_for(config)
    model = model_for(config, dataset.num_classes)
    size = config.node_size
    network = build_network(config.network, world_size=config.world_size,
                            latency_us=config.latency_us,
                            bandwidth_gbps=config.bandwidth_gbps, links=config.links,
                            nodes=[r // size if size else 0
                                   for r in range(config.world_size)])
    return make_event(
        "run_started", t=sup.now(), config=config.to_dict(),
        world_size=config.world_size, num_servers=config.num_servers,
        backend=sup.backend, num_params=num_params(model),
        schema_version=SCHEMA_VERSION, strategy=config.strategy,
        network=network.describe() if network else None,
        dataset=describe_dataset(dataset, config),
    )


def describe_dataset(dataset: datasets.Dataset | datasets.TextDataset, config: Any
                     ) -> dict[str, Any]:
    """What the page draws of the data: the points and who trains on them, or the text."""
    if isinstance(dataset, datasets.TextDataset):
        return {"name": dataset.name, "kind": "text", "num_classes": dataset.num_classes,
                "chars": len(dataset.text), "excerpt": dataset.text[:160]}
    return {"name": dataset.name, "kind": "points", "num_classes": dataset.num_classes,
            "extent": [round(v, 4) for v in dataset.extent()],
            "points": datasets.points_for_ui(dataset, config.workers, config.seed,
                                             rank_offset=config.num_servers)}


def observe(sup: RunSupervisor, w: WorkerHandle, event: dict[str, Any]) -> None:
    """Follow a worker's state and the run's progress in one of its events."""
    if event["type"] == "worker_started":
        w.status = "running"
        w.joining = False
        w.role = event["role"]
    elif event["type"] == "step":
        sup.last_progress = time.monotonic()
        sup.regroup_retries = 0
        w.last_step = event["step"]
        w.last_loss = event["loss"]
        w.dropped = event["events_dropped"]
        out = sup.outcome
        if out.first_step_t is None:
            out.first_step_t = event["t_start"]
        out.last_step_t = event["t"]
        if isinstance(event.get("consensus"), int | float):
            out.consensus[event["step"]] = float(event["consensus"])
    elif sup.spec.version_of is not None:
        version = sup.spec.version_of(event)
        if version is not None:
            sup.outcome.versions = version


def steps_done(sup: RunSupervisor) -> int:
    """The run's progress as its strategy counts it (``StrategySpec.progress``): steps
    every worker completed, the furthest worker's, or the strategy's own count."""
    # A newcomer that died before its first step does not hold the run back.
    steps = [w.last_step for w in sup.active() if w.role == "worker"
             and (w.last_step > 0 or w.status in ("running", "done"))]
    return sup.spec.steps_done(sup.config, steps, sup.outcome.versions)


def reached_the_end(sup: RunSupervisor) -> bool:
    return sup.spec.reached_end(sup.config, steps_done(sup), sup.outcome.versions)


def summary(sup: RunSupervisor) -> dict[str, Any]:
    out = sup.outcome
    losses = [w.last_loss for w in sup.active() if w.last_loss is not None]
    done = steps_done(sup)
    train_s = ((out.last_step_t or 0) - (out.first_step_t or 0)) if done else 0
    return {
        "steps_completed": done,
        "wall_s": round(sup.now(), 4),
        "startup_s": round(out.first_step_t, 4) if out.first_step_t else None,
        "steps_per_s": round(done / train_s, 2) if train_s > 0 else None,
        "final_loss": round(sum(losses) / len(losses), 6) if losses else None,
        "events_dropped": sum(w.dropped for w in sup.workers),
        **({"versions": out.versions} if sup.spec.version_of is not None else {}),
        **({"consensus": consensus_summary(out.consensus)} if out.consensus else {}),
    }


def consensus_summary(by_step: dict[int, float]) -> dict[str, Any]:
    """The consensus distance of the last step and its mean over the run's steps."""
    values = [by_step[k] for k in sorted(by_step)]
    return {"last": values[-1], "mean": sum(values) / len(values), "steps": len(values)}


def blame_failure(sup: RunSupervisor) -> None:
    """A failure no policy recovered from fails the run, naming the rank that caused it."""
    failure = sup.failure
    if failure is not None and sup.outcome.error is None:
        lost_host = (failure.cause or {}).get("code") == "host_lost"
        # A lost host takes all its ranks with it: the host, not one rank, is the cause.
        sup.outcome.error = failure.cause if lost_host else make(
            "rank_failed", rank=failure.rank, pid=failure.pid, cause=failure.cause)
        sup.outcome.status = "failed"


def final_status(sup: RunSupervisor) -> tuple[str, Cause | None]:
    """How the run ended, once its processes are gone, and why if badly."""
    out = sup.outcome
    if out.status is None:
        stopped_early = sup.stop_requested and not reached_the_end(sup)
        out.status = "failed" if out.error else ("stopped" if stopped_early else "finished")
    return out.status, out.error
