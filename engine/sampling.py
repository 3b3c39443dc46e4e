"""The transformer's writing: a short continuation of a fixed prompt, shown on the page
while the model trains, so students watch it go from noise to words.

Greedy (the most likely next character each time), so the same model always writes the
same text and a replay shows exactly what the live run showed.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from engine.transformer import generate

SAMPLE_CHARS = {"text-en": 80, "text-zh": 40}  # about two lines of the page
PROMPT_CHARS = {"text-en": 14, "text-zh": 6}  # the text's first characters
WRITINGS_PER_RUN = 10  # at full speed; at a human pace about one a second


def writing_due(config: Any, step: int) -> bool:
    """Whether the model writes after ``step``: decided from the run's settings and the
    step alone, so every process of a split model (a pipeline) agrees without asking."""
    if step in (1, config.steps):
        return True
    every = max(1, math.ceil(config.pace)) if config.pace else max(
        1, config.steps // WRITINGS_PER_RUN)
    return step % every == 0


def prompt_of(dataset: Any) -> str:
    return dataset.text[:PROMPT_CHARS.get(dataset.name, 10)]


def write_sample(model: nn.Module, dataset: Any, context: int) -> dict[str, Any]:
    """The ``sample`` event's fields: the prompt and what the model wrote after it."""
    prompt = prompt_of(dataset)
    was_training = model.training
    model.eval()
    ids = generate(model, dataset.encode(prompt).to(next(model.parameters()).device),
                   SAMPLE_CHARS.get(dataset.name, 60), context)
    model.train(was_training)
    return {"prompt": prompt, "text": dataset.decode(ids)}


def sample_fields(prompt: str, ids: torch.Tensor, dataset: Any) -> dict[str, Any]:
    return {"prompt": prompt, "text": dataset.decode(ids)}
