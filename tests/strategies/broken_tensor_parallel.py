"""Tensor parallelism with a bug on purpose, to show that the one-process reference
catches it (tests/test_tensor_parallel.py): the backward all-reduce of ``f`` is missing,
so each process's layer norms and embedding learn only from its own slices' gradients —
the replicated parameters drift apart, and nothing crashes."""

from __future__ import annotations

import dataclasses

import torch

from engine.strategies.tensor_parallel import SPEC as TENSOR_PARALLEL
from engine.strategies.tensor_parallel import ShardComms, TensorParallel


class NoBackwardSum(ShardComms):
    def into_shards(self, x: torch.Tensor, label: tuple[int, str]) -> torch.Tensor:
        return x  # forgot: in backward, the slices' input gradients must be summed


class ForgotTheBackwardAllReduce(TensorParallel):
    shard_comms = NoBackwardSum


SPEC = dataclasses.replace(TENSOR_PARALLEL, name="broken_tensor_parallel",
                           implementation=ForgotTheBackwardAllReduce)
