from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backend import __version__
from backend.deps import Manager
from engine.events import schema
from engine.scenarios import SCENARIOS

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
def health(manager: Manager) -> dict[str, Any]:
    live = [r for r in manager.runs.values() if r.live]
    return {"status": "ok", "version": __version__, "live_runs": len(live)}


@router.get("/scenarios")
def scenarios() -> list[dict[str, Any]]:
    return [make().to_dict() for make in SCENARIOS.values()]


@router.get("/schema/events")
def event_schema() -> dict[str, Any]:
    return schema()
