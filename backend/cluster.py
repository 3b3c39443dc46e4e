"""Runs placed on a Ray cluster (``DISTLAB_RAY_ADDRESS``), so that how many run at once
scales with the cluster, not with the server.

Each run gets a placement group and one actor (engine/run_host.py) that runs the engine
unchanged: the supervisor and its worker processes, forked on the actor's node. The
workers are the actor's children, so they share its node: the group is one bundle with one
CPU per worker (one GPU per worker too for an nccl run), ``STRICT_PACK``. Splitting one
run across hosts is torchrun's job (issue 20, "one run, several hosts"), not this one's.

``RayRunSupervisor`` stands in for ``RunSupervisor`` in the run manager (same methods:
start, control, inject, inject_link, kill, wait, finished). A thread long-polls the actor
for the events its supervisor stamped and hands them to the same ``on_events`` a local run
uses, so the page and the store see a normal run.

A full cluster: the run waits in the server's queue with the reason "Ray cluster is full".
What is free is counted here — the cluster's nodes minus what this server's runs reserve —
and checked by Ray itself when the group is placed; a group Ray cannot place within
``PLACE_WAIT_S`` (the cluster is shared, or a node left) sends the run back to the queue.

Ray is an optional extra (``pip install distlab[cluster]``); it is imported only here and
only when an address is set. Ray: Moritz et al., "Ray: A Distributed Framework for
Emerging AI Applications", OSDI 2018.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from backend.waiting import Waiting
from engine import causes
from engine.config import RunConfig
from engine.events import make_event
from engine.run_host import POLL_WAIT_S, RunHost

FULL = "Ray cluster is full"
PLACE_WAIT_S = 5.0  # how long Ray may take to place a run's group before it counts as full
RETRY_S = 2.0  # after Ray could not place a group: how long every run counts as not fitting
START_TIMEOUT_S = 120.0  # the actor's process starts and imports torch (twice) on its node
NODES_TTL_S = 2.0  # how long the list of nodes is trusted (nodes join and leave)


class ClusterFull(Exception):
    """Ray could not place the run's group now: it goes back to the queue."""


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("DISTLAB_RAY_ADDRESS is set but Ray is not installed: "
                           "pip install 'distlab[cluster]'") from exc
    return ray


def needs(config: RunConfig) -> dict[str, float]:
    """A run's resources: one CPU per process, and one GPU each when it runs on nccl."""
    n = float(config.world_size)
    return {"CPU": n, "GPU": n} if config.backend == "nccl" else {"CPU": n}


class RayCluster:
    def __init__(self, address: str) -> None:
        ray = _ray()
        # The driver's sys.path goes to the workers, so they import this same engine.
        ray.init(address=address, namespace="distlab", log_to_driver=False,
                 logging_level="WARNING")
        self.address = address
        self.reserved: dict[str, tuple[str | None, dict[str, float]]] = {}  # run → node, need
        self._lock = threading.Lock()
        self._nodes: list[dict[str, Any]] = []
        self._nodes_at = -NODES_TTL_S
        self._refused_at = -RETRY_S
        self._remote_host = ray.remote(RunHost)

    def close(self) -> None:
        # The runs' actors and groups belong to this driver: Ray removes them with it.
        _ray().shutdown()

    # ------------------------------------------------------------ room on the cluster
    def nodes(self) -> list[dict[str, Any]]:
        """The alive nodes: their id and total resources (cached for ``NODES_TTL_S``)."""
        if time.monotonic() - self._nodes_at > NODES_TTL_S:
            self._nodes = [{"id": n["NodeID"], "resources": n["Resources"]}
                           for n in _ray().nodes() if n["Alive"]]
            self._nodes_at = time.monotonic()
        return self._nodes

    def why_full(self, config: RunConfig, also: Sequence[RunConfig] = ()) -> Waiting | None:
        """Why the run cannot be placed now (a sentence starting "Ray cluster is full"),
        or None. A run needs its CPUs (GPUs) on one node. ``also``: runs let in but not
        placed yet; where they will land is unknown, so they count against every node."""
        want = needs(config)
        if time.monotonic() - self._refused_at < RETRY_S:
            return Waiting("cluster_retry", f"{FULL}: Ray could not place the last run; "
                           "trying again shortly", {})
        with self._lock:
            taken = list(self.reserved.values())
        taken += [(None, needs(c)) for c in also]
        best = 0.0
        for node in self.nodes():
            free = {k: node["resources"].get(k, 0.0) - sum(
                need.get(k, 0.0) for where, need in taken if where in (node["id"], None))
                for k in want}
            if all(free[k] >= want[k] for k in want):
                return None
            best = max(best, free["CPU"])
        n = config.world_size
        what = ("CPU" if n == 1 else "CPUs") + (" and GPUs" if "GPU" in want else "")
        return Waiting("cluster_full", f"{FULL}: the run needs {n} {what} on one node; the "
                       f"most CPUs free on any node: {best:g}",
                       {"n": n, "gpus": "GPU" in want, "best": float(f"{best:g}")})

    def supervisor(self, config: RunConfig, run_id: str, on_events: Callable[..., None]
                   ) -> RayRunSupervisor:
        return RayRunSupervisor(self, config, run_id, on_events)

    def _reserve(self, run_id: str, node: str | None, need: dict[str, float]) -> None:
        with self._lock:
            self.reserved[run_id] = (node, need)

    def _release(self, run_id: str) -> None:
        with self._lock:
            self.reserved.pop(run_id, None)


class RayRunSupervisor:
    """A run hosted by an actor on the cluster, driven like a local ``RunSupervisor``."""

    def __init__(self, cluster: RayCluster, config: RunConfig, run_id: str,
                 on_events: Callable[[list[dict[str, Any]]], None]) -> None:
        self.cluster, self.config, self.run_id = cluster, config, run_id
        self._on_events = on_events
        self._finished = threading.Event()
        self._seq = 0  # the newest seq handed on
        self._group: Any = None
        self._host: Any = None
        self.where: dict[str, Any] | None = None  # the actor's node and pid, once started

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Place the run's group (``ClusterFull`` if Ray cannot now), start its actor and
        the run in it, and follow its events. Blocking: call it off the event loop."""
        ray = _ray()
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        need = needs(self.config)
        self.cluster._reserve(self.run_id, None, need)  # counted before Ray is asked
        try:
            group = placement_group([need], strategy="STRICT_PACK",
                                    name=f"distlab-{self.run_id}")
            self._group = group
            if not group.wait(timeout_seconds=PLACE_WAIT_S):
                self._free()
                self.cluster._refused_at = time.monotonic()
                raise ClusterFull(f"{FULL}: Ray could not place {self.config.world_size} "
                                  "worker(s) on one node")
            node = ray.util.placement_group_table(group).get("bundles_to_node_id", {}).get(0)
            self.cluster._reserve(self.run_id, node, need)
            self._host = self.cluster._remote_host.options(
                num_cpus=need["CPU"], num_gpus=need.get("GPU", 0.0),
                max_concurrency=8,  # a waiting poll must not hold up a control or a kill
                scheduling_strategy=PlacementGroupSchedulingStrategy(
                    placement_group=group, placement_group_bundle_index=0),
            ).remote(self.config.to_dict(), self.run_id, int(need.get("GPU", 0)))
            self.where = ray.get(self._host.start.remote(), timeout=START_TIMEOUT_S)
        except ClusterFull:
            raise
        except Exception as exc:  # the run's viewers wait for a run_finished: say why
            self._end_here(causes.of_exception("start_failed", _unwrapped(exc)))
            raise
        threading.Thread(target=self._follow, name=f"ray-run-{self.run_id}",
                         daemon=True).start()

    def _follow(self) -> None:
        """Long-poll the actor for events until its run_finished has been handed on."""
        ray = _ray()
        while True:
            try:
                events, _ = ray.get(self._host.events_after.remote(self._seq),
                                    timeout=POLL_WAIT_S + 60)
            except Exception:  # the actor, its node or the poll went away
                self._end_here(causes.make("host_lost", host=self._host_name()))
                return
            if any(e["type"] == "run_finished" for e in events):
                self._free()  # before the manager hears of it: room for the next run
                self._hand_on(events)
                self._finished.set()
                return
            self._hand_on(events)

    def _host_name(self) -> str:
        """The lost actor's node (and pid), as the server last knew it."""
        where = self.where or {}
        return f"{where.get('host', '?')} (Ray actor, pid {where.get('pid', '?')})"

    def _hand_on(self, events: list[dict[str, Any]]) -> None:
        if events:
            self._seq = events[-1]["seq"]
            self._on_events(events)

    def _end_here(self, cause: causes.Cause) -> None:
        """The actor cannot say how the run ended (it is gone): say it here, once."""
        if self._finished.is_set():
            return
        self._free()
        self._hand_on([{**make_event("run_finished", t=0.0, status="failed",
                                     error=causes.cause_text(cause), cause=cause,
                                     summary=None),
                        "seq": self._seq + 1, "run_id": self.run_id}])
        self._finished.set()

    def _free(self) -> None:
        """The actor (its forkserver, and so its workers) and the group go; room is free."""
        ray = _ray()
        from ray.util.placement_group import remove_placement_group

        if self._host is not None:
            with contextlib.suppress(Exception):
                ray.kill(self._host)
        if self._group is not None:
            with contextlib.suppress(Exception):
                remove_placement_group(self._group)
        self.cluster._release(self.run_id)

    # -------------------------------------------------------------------- relayed
    def _call(self, method: str, *args: Any) -> Any:
        if self._finished.is_set() or self._host is None:
            raise RuntimeError("the run has already ended")
        try:
            return _ray().get(getattr(self._host, method).remote(*args), timeout=30)
        except Exception as exc:
            raise _unwrapped(exc) from None

    def control(self, action: str, pace: float | None = None) -> None:
        self._call("control", action, pace)

    def inject(self, action: str, rank: int, factor: float | None = None) -> None:
        self._call("inject", action, rank, factor)

    def inject_link(self, action: str, src: int, dst: int, ms: float | None = None) -> None:
        self._call("inject_link", action, src, dst, ms)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.control("stop")

    def kill(self, reason: causes.Cause | str | None = None, status: str = "stopped") -> None:
        """Abandon the run: the actor SIGKILLs its workers and reports run_finished."""
        if self._host is not None and not self._finished.is_set():
            self._host.kill.remote(reason, status)

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    @property
    def finished(self) -> bool:
        return self._finished.is_set()


def _unwrapped(exc: BaseException) -> BaseException:
    """The exception the actor raised, not Ray's wrapper (its text holds a traceback)."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc
