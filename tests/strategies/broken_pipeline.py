"""A pipeline with a bug on purpose, to show that the one-process reference catches it
(tests/test_pipeline.py): the gradient of a stage's input never reaches the stage before
(zeros travel instead), so every stage but the last learns nothing — yet the run
finishes, its loss goes down, and nothing crashes."""

from __future__ import annotations

import dataclasses

import torch
import torch.distributed as dist

from engine.strategies.pipeline import SPEC as PIPELINE
from engine.strategies.pipeline import Pipeline


class GradientsLostOnTheWayBack(Pipeline):
    def send_input_gradient(self, grad: torch.Tensor, micro: int, chunk: int = 0
                            ) -> dist.Work:
        return super().send_input_gradient(torch.zeros_like(grad), micro, chunk)


SPEC = dataclasses.replace(PIPELINE, name="broken_pipeline",
                           implementation=GradientsLostOnTheWayBack)
