"""Dependencies as ``Annotated`` aliases, so routes say what they need in their signature."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Request

from backend.runs import RunManager
from backend.settings import Settings

RUN_ID_PATTERN = r"^[0-9a-f]{12}$"


def get_manager(request: Request) -> RunManager:
    return request.app.state.manager


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


Manager = Annotated[RunManager, Depends(get_manager)]
AppSettings = Annotated[Settings, Depends(get_settings)]
RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="12 hex digits")]


def not_found(run_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"no run with id {run_id}")


InstructorKeyHeader = Annotated[str | None, Header(alias="X-Instructor-Key", max_length=200)]
ControlTokenHeader = Annotated[str | None, Header(alias="X-Control-Token", max_length=200)]
StudentHeader = Annotated[str | None, Header(
    alias="X-Student-Id", max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
    description="An anonymous id the page keeps (localStorage): runs per student are "
                "limited (DISTLAB_MAX_RUNS_PER_STUDENT), the rest wait in the queue")]


def is_instructor(request: Request, key: str | None) -> bool:
    expected: str = request.app.state.instructor_key
    return key is not None and secrets.compare_digest(key.encode(), expected.encode())


def require_instructor(request: Request, key: InstructorKeyHeader = None) -> None:
    if key is None:
        raise HTTPException(status_code=403, detail="this needs the instructor key "
                            "(header X-Instructor-Key), set when the server started")
    if not is_instructor(request, key):
        raise HTTPException(status_code=403, detail="wrong instructor key")


Instructor = Annotated[None, Depends(require_instructor)]
