"""``python -m engine.strategies.<name>``: run a few steps and print the events."""

from __future__ import annotations

import json

from engine.config import RunConfig
from engine.runner import run_headless


def run_demo(strategy: str, workers: int) -> None:
    config = RunConfig(strategy=strategy, workers=workers, steps=3, batch_size=8,
                       detail=True)
    for event in run_headless(config):
        if event["type"] != "run_started":
            print(json.dumps(event))
