from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backend import __version__
from backend.deps import Manager
from backend.models import RunCreate
from engine.config import config_schema
from engine.events import schema
from engine.scenarios import SCENARIOS
from engine.strategies import registry

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
async def health(manager: Manager) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "live_runs": manager.live_count(),
            "runs_on": manager.runs_on()}  # "local", or the Ray cluster's address


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


@router.get("/strategies")
def strategies() -> list[dict[str, Any]]:
    """Every strategy's spec: titles, options (type, range, default, help in en/zh),
    roles, supported faults and recovery policies, the events it adds and its views.
    The browser builds the strategy form and its view list from this."""
    return [spec.describe() for spec in registry.specs().values()]


@router.get("/schema/config")
def run_config_schema() -> dict[str, Any]:
    """The common run settings (type, range, default) that every strategy shares."""
    return config_schema()


@router.get("/schema/events")
def event_schema() -> dict[str, Any]:
    return schema()
