"""3-D parallelism with a bug on purpose, to show that the one-process reference catches
it (tests/test_three_d.py): the data-parallel all-reduce is forgotten, so each replica
steps on the gradient of its own share of the batch — the replicas drift apart, yet the
run finishes, its loss goes down, and nothing crashes."""

from __future__ import annotations

import dataclasses

from engine.strategies.three_d import SPEC as THREE_D
from engine.strategies.three_d import ThreeD


class DataAllReduceForgotten(ThreeD):
    def reduce_gradients(self) -> None:
        self.dp_record = []  # nothing sent over the data group


SPEC = dataclasses.replace(THREE_D, name="broken_three_d",
                           implementation=DataAllReduceForgotten)
