"""Published training set-ups (course chapter 13): frontend/static/data/cases.json, the
one place their numbers live. The calculator page reads the file itself
(``/calculator?case=ID``); the case-studies lesson names its cases by id and gets them
whole from ``GET /api/lessons/case-studies`` (backend/lessons.py). Validated strictly here,
like the lessons: every text in both languages, every source with the table or section
its numbers come from, every set-up one the calculator can compute (engine/calculator.py).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.lessons import Text
from engine.calculator import ACCELERATORS, MODELS, Setup
from frontend import STATIC_DIR

CASES_FILE = STATIC_DIR / "data" / "cases.json"
_STRICT = ConfigDict(extra="forbid", strict=True)


class Source(BaseModel):
    model_config = _STRICT
    authors: str = Field(min_length=1)
    title: str = Field(min_length=1)
    venue: str = Field(min_length=1)
    year: int = Field(ge=1950, le=2030)
    where: Text  # the table or section the numbers come from


class CaseSetup(BaseModel):
    """The calculator's inputs: a model of MODELS by name, or its shape given here."""

    model_config = ConfigDict(extra="forbid", strict=False)
    model: str | None = None
    params: float | None = Field(None, gt=0)
    layers: int | None = Field(None, ge=1)
    hidden: int | None = Field(None, ge=1)
    heads: int | None = Field(None, ge=1)
    seq: int = Field(ge=1)
    micro_batch: int = Field(ge=1)
    micro_batches: int = Field(ge=1)
    data: int = Field(ge=1)
    pipeline: int = Field(ge=1)
    tensor: int = Field(ge=1)
    zero: int = Field(ge=0, le=3)
    mixed: bool
    recompute: bool

    @model_validator(mode="after")
    def _shape(self) -> CaseSetup:
        shape = (self.params, self.layers, self.hidden, self.heads)
        if self.model is not None:
            if self.model not in MODELS:
                raise ValueError(f"model {self.model!r} is not one of {', '.join(MODELS)}")
            if any(x is not None for x in shape):
                raise ValueError("give a model's name or its shape, not both")
        elif any(x is None for x in shape):
            raise ValueError("without a model name, give params, layers, hidden and heads")
        return self

    def calculator(self) -> Setup:
        """The set-up as engine/calculator.py computes it."""
        fields = self.model_dump(exclude={"model"}, exclude_none=True)
        if self.model is not None:
            m = MODELS[self.model]
            fields |= {"params": m["params"], "layers": int(m["layers"]),
                       "hidden": int(m["hidden"]), "heads": int(m["heads"])}
        return Setup(**fields)


class Case(BaseModel):
    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)
    title: Text
    source: Source
    gpus: int = Field(ge=1, description="the paper's GPU count")
    accelerator: str
    setup: CaseSetup
    story: Text
    assumed: Text

    @model_validator(mode="after")
    def _known_accelerator(self) -> Case:
        if self.accelerator not in ACCELERATORS:
            raise ValueError(f"accelerator {self.accelerator!r} is not one of "
                             f"{', '.join(ACCELERATORS)}")
        return self


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    about: str = Field(alias="_about", min_length=1)
    cases: list[Case] = Field(min_length=1)


def load_cases(path: Path = CASES_FILE) -> dict[str, Case]:
    """Every case, by id, in the file's order. Raises ValueError on a bad file."""
    data: Any = json.loads(path.read_text(encoding="utf-8"))
    parsed = CaseFile.model_validate(data)
    ids = [c.id for c in parsed.cases]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path.name}: duplicate case ids")
    return {c.id: c for c in parsed.cases}


@cache
def cases() -> dict[str, Case]:
    """The shipped cases, loaded once."""
    return load_cases()
