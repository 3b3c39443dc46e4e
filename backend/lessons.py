"""Lessons: course content as data, one JSON file per lesson in ``frontend/lessons/``.

A lesson ties a chapter of the course outline to a preset run: what to look at, a
predict-then-observe question, and the paper the idea comes from. The files are
validated here, strictly, when the server starts, so a typo in a lesson is an error on
the instructor's machine, not a blank panel in front of the class. Every text is given
in both languages (``{"en": ..., "zh": ...}``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from backend.models import RunCreate
from engine.scenarios import SCENARIOS
from frontend import LESSONS_DIR

_STRICT = ConfigDict(extra="forbid", strict=True)
LESSON_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class Text(BaseModel):
    """One text in both languages; neither may be blank."""

    model_config = _STRICT
    en: str = Field(min_length=1, max_length=4000)
    zh: str = Field(min_length=1, max_length=4000)

    @model_validator(mode="after")
    def _not_blank(self) -> Text:
        if not self.en.strip() or not self.zh.strip():
            raise ValueError("both en and zh must have text")
        return self


class Points(BaseModel):
    """A list of points (what to look at) in both languages, the same number in each."""

    model_config = _STRICT
    en: list[str] = Field(min_length=1, max_length=12)
    zh: list[str] = Field(min_length=1, max_length=12)

    @model_validator(mode="after")
    def _same_length(self) -> Points:
        if len(self.en) != len(self.zh):
            raise ValueError(f"{len(self.en)} English points but {len(self.zh)} Chinese ones")
        if not all(p.strip() for p in self.en + self.zh):
            raise ValueError("a point is blank")
        return self


class Predict(BaseModel):
    """Predict, then observe: the student commits to an answer before the run starts."""

    model_config = _STRICT
    question: Text
    choices: list[Text] = Field(min_length=2, max_length=5)
    answer: int = Field(ge=0, description="index of the right choice, from 0")
    explain: Text

    @model_validator(mode="after")
    def _answer_in_range(self) -> Predict:
        if self.answer >= len(self.choices):
            raise ValueError(f"answer {self.answer} but only {len(self.choices)} choices")
        return self


class Preset(BaseModel):
    """A scenario, with some of its knobs changed. The result must be a valid run."""

    model_config = _STRICT
    scenario: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    timed: bool = Field(True, description=(
        "as a lesson's comparison: whether its speed is part of what is compared. False "
        "where what the lesson compares is counted, not timed (the reveal then leaves "
        "steps per second out: on a shared 2-core machine they are noise)"))

    @model_validator(mode="after")
    def _valid_run(self) -> Preset:
        self.run_config()
        return self

    def run_config(self) -> dict[str, Any]:
        """The body ``POST /api/runs`` gets for this preset (validated by RunCreate)."""
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; known: "
                             f"{', '.join(SCENARIOS)}")
        base = SCENARIOS[self.scenario]().config.to_dict()
        config = {k: v for k, v in base.items() if k in RunCreate.model_fields}
        unknown = set(self.overrides) - set(RunCreate.model_fields)
        if unknown:
            raise ValueError(f"overrides has unknown run fields: {', '.join(sorted(unknown))}")
        overrides = dict(self.overrides)
        # A preset's options add to the scenario's, unless it switches strategy.
        if overrides.get("strategy", config["strategy"]) == config["strategy"]:
            overrides["options"] = {**config["options"], **overrides.get("options", {})}
        config.update(overrides)
        try:
            RunCreate.model_validate(config)
        except ValidationError as exc:
            raise ValueError(f"the preset is not a valid run: {exc}") from None
        return config


class Measure(BaseModel):
    """A lesson's last step: several runs on the same model and data, run one after another
    at full speed and opened side by side with what each measured (the compare view's
    table: memory, bytes and time per step, idle fraction)."""

    model_config = _STRICT
    title: Text
    text: Text
    runs: list[Preset] = Field(min_length=2, max_length=4)  # the compare view's room


class Paper(BaseModel):
    model_config = _STRICT
    authors: str = Field(min_length=1)
    title: str = Field(min_length=1)
    venue: str = Field(min_length=1)
    year: int = Field(ge=1950, le=2030)


class Lesson(BaseModel):
    model_config = _STRICT
    id: str = Field(pattern=LESSON_ID, max_length=60)
    chapter: int = Field(ge=1, le=30, description="chapter of the course outline")
    order: int = Field(0, ge=0, le=100, description="position within its chapter")
    kind: Literal["demo", "concept"]
    title: Text
    summary: Text
    look_at: Points
    predict: Predict | None = None
    preset: Preset | None = None
    compare: Preset | None = None
    measure: Measure | None = None
    papers: list[Paper] = Field(min_length=1)
    related: list[str] = Field(default_factory=list)
    # Published set-ups of frontend/static/data/cases.json (backend/cases.py), by id: the
    # panel shows each with its source and links the calculator filled in with it.
    cases: list[str] = Field(default_factory=list, max_length=8)

    @model_validator(mode="after")
    def _demo_has_a_run(self) -> Lesson:
        if self.kind == "demo" and (self.preset is None or self.predict is None):
            raise ValueError("a demo lesson needs a preset run and a predict question")
        if self.kind == "concept" and self.preset is None and not self.related:
            raise ValueError("a concept lesson without a run must link related demo lessons")
        if self.cases:
            from backend.cases import cases  # (it uses this module's Text)

            unknown = [c for c in self.cases if c not in cases()]
            if unknown:
                raise ValueError(f"cases not in cases.json: {unknown}; known: "
                                 f"{', '.join(cases())}")
        return self

    def public(self) -> dict[str, Any]:
        out = self.model_dump()
        for key in ("preset", "compare"):
            preset = getattr(self, key)
            if preset is not None:
                out[key]["config"] = preset.run_config()
        if self.measure is not None:
            for i, preset in enumerate(self.measure.runs):
                out["measure"]["runs"][i]["config"] = preset.run_config()
        if self.cases:
            from backend.cases import cases

            out["cases"] = [cases()[c].model_dump(by_alias=True, exclude_none=True)
                            for c in self.cases]
        return out


class LessonError(ValueError):
    """A lesson file is broken; the message names the file and what is wrong."""


def load_lessons(directory: Path = LESSONS_DIR) -> dict[str, Lesson]:
    """Every lesson, by id, sorted by chapter (then ``order``, then id). Raises LessonError
    on the first bad file."""
    lessons: dict[str, Lesson] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            lesson = Lesson.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, ValidationError) as exc:
            raise LessonError(f"{path.name}: {exc}") from None
        if lesson.id != path.stem:
            raise LessonError(f"{path.name}: id {lesson.id!r} must match the file name")
        lessons[lesson.id] = lesson
    for lesson in lessons.values():
        missing = [r for r in lesson.related if r not in lessons]
        if missing:
            raise LessonError(f"{lesson.id}.json: related lessons not found: {missing}")
    return dict(sorted(lessons.items(), key=lambda kv: (kv[1].chapter, kv[1].order, kv[0])))


@cache
def lessons() -> dict[str, Lesson]:
    """The shipped lessons, loaded once."""
    return load_lessons()
