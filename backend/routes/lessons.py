"""``/api/lessons``: the course's lessons (data files, validated at start-up)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path

from backend.errors import refusals
from backend.lessons import LESSON_ID, lessons

router = APIRouter(prefix="/api/lessons", tags=["lessons"])

LessonId = Annotated[str, Path(pattern=LESSON_ID, max_length=60)]


@router.get("")
def list_lessons() -> list[dict[str, Any]]:
    return [{"id": x.id, "chapter": x.chapter, "order": x.order, "kind": x.kind,
             "title": x.title.model_dump()}
            for x in lessons().values()]


@router.get("/{lesson_id}", responses=refusals(404, 422))
def get_lesson(lesson_id: LessonId) -> dict[str, Any]:
    lesson = lessons().get(lesson_id)
    if lesson is None:
        raise HTTPException(status_code=404, detail=f"no lesson {lesson_id!r}")
    return lesson.public()
