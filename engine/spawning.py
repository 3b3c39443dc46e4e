"""Starting a run's worker processes: a whole generation, one newcomer, and the warm pool.

``spawn_generation`` starts one process per rank in a fresh process group (at the start,
and again after a restart); ``add_worker`` starts one that joins an elastic group.

The warm pool of a run that restarts from checkpoints (``recovery="restart"``): one spare
process per rank, forked once the run's generation is up; each has built the run's data
set and model and waits on its control pipe for the rank it is to be (engine/processes.py
``Spare``, engine/worker.py ``spare_main``). A restart takes them as its new workers, so
it forks and builds nothing (bench/recovery.py: kill → next step ~110 ms instead of ~190);
a fresh pool is forked once the new generation is up. When the run ends (or is killed, or
fails to start) the spares are killed and reaped: no orphans.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine import processes
from engine.processes import WorkerHandle
from engine.worker import WorkerSpec

if TYPE_CHECKING:
    from engine.supervisor import RunSupervisor


def spawn_generation(sup: RunSupervisor) -> None:
    """One process per rank in a fresh process group: a spare of the pool where there is
    one, else a new one."""
    sup.store = processes.new_store(sup.config.world_size, sup.config.timeout_s)
    sup.workers = []
    for rank in range(sup.config.world_size):
        spare = sup.pool.take(worker_spec(sup, rank, sup.store.port), sup.generation)
        sup.workers.append(spare or _spawn(sup, rank, sup.store.port))
    for w in sup.workers:
        processes.start_reader(w, sup.inbox, f"run-{sup.run_id}-read{w.rank}")


def add_worker(sup: RunSupervisor, rank: int, regroup: dict[str, Any]) -> WorkerHandle:
    """Elastic: a new process for ``rank`` that joins the group ``regroup`` names."""
    newcomer = _spawn(sup, rank, regroup["store_port"], regroup=regroup)
    newcomer.joining = True
    sup.workers[rank] = newcomer
    processes.start_reader(newcomer, sup.inbox,
                           f"run-{sup.run_id}-read{rank}g{sup.group_generation}")
    return newcomer


def worker_spec(sup: RunSupervisor, rank: int, port: int,
                regroup: dict[str, Any] | None = None) -> WorkerSpec:
    """What the process of ``rank`` needs to know: the run as it is now."""
    return WorkerSpec(rank=rank, world_size=sup.config.world_size,
                      config=sup.config.to_dict(), backend=sup.backend,
                      device=sup.devices[rank], store_host=processes.STORE_HOST,
                      store_port=port, t0=sup.t0,
                      checkpoint_dir=str(sup.checkpoint_dir) if sup.checkpoint_dir else None,
                      resume=sup.resume, control_seq=sup.control_seq, paused=sup.paused,
                      regroup=regroup)


def _spawn(sup: RunSupervisor, rank: int, port: int,
           regroup: dict[str, Any] | None = None) -> WorkerHandle:
    return processes.spawn(worker_spec(sup, rank, port, regroup),
                           f"distlab-{sup.run_id}-rank{rank}", sup.generation)


class WarmPool:
    def __init__(self, size: int, config: Callable[[], dict[str, Any]], name: str,
                 lock: threading.RLock) -> None:
        self.size = size
        self._config = config  # the run's config as a dict (data set and model: fixed)
        self._name = name
        self._lock = lock  # the supervisor's: a restart and the filler never interleave
        self.spares: list[processes.Spare] = []
        self._closed = False
        self.filling = False

    def refill_if_needed(self, workers: list[WorkerHandle]) -> None:
        """Fork the missing spares on a thread of their own (a few ms each; the monitor
        goes on), once every worker of the generation runs — not competing with their
        start-up."""
        if (self._closed or self.filling or len(self.spares) >= self.size
                or not all(w.status == "running" for w in workers)):
            return
        self.filling = True
        threading.Thread(target=self._fill, daemon=True, name=f"{self._name}-spares").start()

    def _fill(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closed or len(self.spares) >= self.size:
                        return
                spare = processes.spawn_spare(self._config(),
                                              f"{self._name}-spare{len(self.spares)}")
                with self._lock:
                    if self._closed:  # the run ended meanwhile: no orphan
                        processes.retire([spare])
                        return
                    self.spares.append(spare)
        finally:
            self.filling = False

    def take(self, spec: WorkerSpec, generation: int) -> WorkerHandle | None:
        """A spare made the worker ``spec`` describes; ``None`` when none is left alive."""
        with self._lock:
            while self.spares:
                worker = processes.assign(self.spares.pop(0), spec, generation)
                if worker is not None:
                    return worker
        return None

    def retire(self) -> None:
        """No more spares: those there are killed and reaped."""
        with self._lock:
            self._closed = True
            spares, self.spares = self.spares, []
        processes.retire(spares)
