from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backend import __version__
from backend.deps import Manager
from backend.models import RunCreate
from engine.events import schema
from engine.scenarios import SCENARIOS

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
async def health(manager: Manager) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "live_runs": manager.live_count()}


@router.get("/scenarios")
def scenarios() -> list[dict[str, Any]]:
    """Presets, with their config in the shape ``POST /api/runs`` accepts."""
    out = []
    for make in SCENARIOS.values():
        scenario = make().to_dict()
        scenario["config"] = {k: v for k, v in scenario["config"].items()
                              if k in RunCreate.model_fields}
        out.append(scenario)
    return out


@router.get("/schema/events")
def event_schema() -> dict[str, Any]:
    return schema()
