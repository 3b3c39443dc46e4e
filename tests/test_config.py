from __future__ import annotations

import math

import pytest

from engine.config import RunConfig
from engine.data import shard_indices


@pytest.mark.parametrize(("field", "value", "message"), [
    ("workers", 0, "workers must be between 1 and 8"),
    ("workers", True, "workers must be an integer"),
    ("lr", math.nan, "lr must be a finite number"),
    ("lr", math.inf, "lr must be a finite number"),
    ("lr", -1.0, "lr must be greater than 0"),
    ("pace", 0.0, "pace must be at least"),
    ("strategy", "ring", "strategy must be one of"),
    ("extra", {"x": 1}, "unknown extra settings"),
])
def test_invalid_configs_raise_value_error(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunConfig(**{field: value})


def test_from_dict_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown config fields"):
        RunConfig.from_dict({"workers": 2, "gpus": 8})


@pytest.mark.parametrize("world", [1, 3, 4, 8])
def test_shards_are_disjoint_and_cover_the_data(world: int) -> None:
    shards = [set(shard_indices(1000, r, world, seed=5).tolist()) for r in range(world)]
    assert sum(len(s) for s in shards) == 1000
    assert set().union(*shards) == set(range(1000))
