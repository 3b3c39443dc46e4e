"""A preset run: a name, English and Chinese words on what to look at, and its config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.config import RunConfig


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: dict[str, str]
    description: dict[str, str]
    config: RunConfig

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description,
                "config": self.config.to_dict()}
