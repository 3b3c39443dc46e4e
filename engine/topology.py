"""Who is who in a run, computed once and passed in (no process-group globals)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topology:
    rank: int
    world_size: int
    backend: str  # "gloo" | "nccl"
    device: str  # "cpu" | "cuda:N"
    ids: tuple[int, ...] = ()
    """The worker each process-group rank is, when they differ: after an elastic shrink,
    survivors 0, 1, 3 are group ranks 0, 1, 2. Events always name the worker."""
    node_size: int | None = None
    """Processes per node (host), by process rank: ranks 0..k−1 are node 0, and so on
    (``RunConfig.node_size``); None: no nodes."""

    def __post_init__(self) -> None:
        assert 0 <= self.rank < self.world_size, (self.rank, self.world_size)
        assert not self.ids or len(self.ids) == self.world_size, self.ids

    def id_of(self, group_rank: int) -> int:
        """The worker (as events and the UI name it) behind a process-group rank."""
        return self.ids[group_rank] if self.ids else group_rank

    @property
    def me(self) -> int:
        return self.id_of(self.rank)

    def node_of(self, group_rank: int) -> int:
        """The node (host) a process-group rank runs on (0 without nodes)."""
        return self.id_of(group_rank) // self.node_size if self.node_size else 0

    @property
    def is_leader(self) -> bool:
        """Rank 0 speaks for the run (initial broadcast, decision boundary)."""
        return self.rank == 0

    @property
    def ring_next(self) -> int:
        return (self.rank + 1) % self.world_size

    @property
    def ring_prev(self) -> int:
        return (self.rank - 1) % self.world_size
