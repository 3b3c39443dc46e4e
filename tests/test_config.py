from __future__ import annotations

import math

import pytest

from engine.config import RunConfig, migrate
from engine.data import batch_indices


@pytest.mark.parametrize(("field", "value", "message"), [
    ("workers", 0, "workers must be between 1 and 8"),
    ("workers", True, "workers must be an integer"),
    ("lr", math.nan, "lr must be a finite number"),
    ("lr", math.inf, "lr must be a finite number"),
    ("lr", -1.0, "lr must be greater than 0"),
    ("pace", 0.0, "pace must be at least"),
    ("strategy", "ring", "strategy must be one of"),
    ("options", {"x": 1}, "options.x: unknown setting"),
    ("options", {"allreduce": "mesh"}, "options.allreduce must be one of builtin"),
    ("options", {"qsgd_levels": 0}, "options.qsgd_levels must be between 1 and 127"),
])
def test_invalid_configs_raise_value_error(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunConfig(**{field: value})


def test_from_dict_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown config fields"):
        RunConfig.from_dict({"workers": 2, "gpus": 8})


def test_a_strategy_option_is_checked_against_its_own_strategy() -> None:
    # ps_mode is the parameter server's: a data-parallel run does not take it.
    with pytest.raises(ValueError, match=r"options\.ps_mode: unknown setting"):
        RunConfig(strategy="data_parallel", options={"ps_mode": "async"})
    config = RunConfig(strategy="parameter_server", workers=3,
                       options={"ps_mode": "async", "servers": 2})
    assert config.opts.ps_mode == "async" and config.opts.staleness_bound == 2
    assert config.roles == ["server", "server", "worker", "worker", "worker"]
    assert config.world_size == 5 and config.num_servers == 2


def test_stored_configs_are_completed_with_the_strategys_defaults() -> None:
    config = RunConfig(strategy="data_parallel", options={"allreduce": "ring"})
    assert config.to_dict()["options"] == {
        "allreduce": "ring", "compression": None, "qsgd_levels": 7,
        "compress_fraction": 0.01, "powersgd_rank": 1, "error_feedback": False}
    assert RunConfig.from_dict(config.to_dict()) == config


def test_flat_configs_of_older_versions_migrate_under_options() -> None:
    old_ps = {"strategy": "parameter_server", "workers": 3, "servers": 2, "ps_mode": "ssp",
              "staleness_bound": 4, "backup_workers": 0, "allreduce": "builtin",
              "compression": None, "qsgd_levels": 7, "extra": {}}
    config = RunConfig.from_dict(old_ps)
    assert config.options == {"servers": 2, "ps_mode": "ssp", "backup_workers": 0,
                              "staleness_bound": 4}
    old_dp = {"strategy": "data_parallel", "allreduce": "tree", "servers": 1,
              "ps_mode": "sync"}
    assert migrate(old_dp) == {"strategy": "data_parallel", "options": {"allreduce": "tree"}}
    today = config.to_dict()
    assert migrate(today) is today  # nothing to do


@pytest.mark.parametrize(("world", "batch"), [(1, 64), (2, 32), (3, 16), (4, 16), (8, 8)])
def test_each_global_batch_is_dealt_out_among_the_ranks(world: int, batch: int) -> None:
    """The ranks' batches are disjoint and together are the one-process batch of
    world × batch samples, at every step, across epochs."""
    n = 1000
    per_epoch = n // (world * batch)
    for step in (1, 2, per_epoch, per_epoch + 1, 3 * per_epoch + 2):
        parts = [batch_indices(n, step, batch, 5, r, world).tolist() for r in range(world)]
        assert all(len(p) == batch for p in parts)
        union = sorted(i for p in parts for i in p)
        assert len(set(union)) == world * batch
        assert union == sorted(batch_indices(n, step, world * batch, 5).tolist())
    # An epoch visits every sample at most once, and every sample of the first epoch's
    # order that fills whole global batches.
    seen = [i for step in range(1, per_epoch + 1) for r in range(world)
            for i in batch_indices(n, step, batch, 5, r, world).tolist()]
    assert len(seen) == len(set(seen)) == per_epoch * world * batch
