"""Dependencies as ``Annotated`` aliases, so routes say what they need in their signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

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
