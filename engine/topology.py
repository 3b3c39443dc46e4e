"""Who is who in a run, computed once and passed in (no process-group globals)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topology:
    rank: int
    world_size: int
    backend: str  # "gloo" | "nccl"
    device: str  # "cpu" | "cuda:N"

    def __post_init__(self) -> None:
        assert 0 <= self.rank < self.world_size, (self.rank, self.world_size)

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
