from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from backend.deps import (
    ControlTokenHeader,
    Instructor,
    InstructorKeyHeader,
    Manager,
    RunId,
    StudentHeader,
    is_instructor,
    not_found,
)
from backend.diskspace import refuse_when_full
from backend.errors import refusals
from backend.models import (
    ControlDone,
    ControlRequest,
    Pinned,
    RunCreate,
    RunPublic,
    RunStarted,
)
from backend.runs import RunLimitError, RunManager, RunNotLiveError
from engine.config import RunConfig
from engine.export import EXTENSIONS, MEDIA_TYPES, export
from engine.supervisor import RecoveryInProgress

router = APIRouter(prefix="/api/runs", tags=["runs"])


@router.post("", status_code=201, response_model=RunStarted,
             responses=refusals(400, 413, 422, 429, 507))
async def create_run(body: RunCreate, manager: Manager,
                     student: StudentHeader = None) -> dict[str, Any]:
    """Start a run — or queue it (status ``queued``, with its ``queue_position``) while the
    server or this student is at their limit: it starts by itself when a place frees up."""
    return await _start(manager, body.to_engine(), student)


@router.post("/{run_id}/fork", status_code=201, response_model=RunStarted,
             responses=refusals(404, 409, 422, 429, 507))
async def fork_run(run_id: RunId, manager: Manager,
                   student: StudentHeader = None) -> dict[str, Any]:
    """A new run with exactly the same config: a student's own sandbox of a demo."""
    try:
        config = await manager.config_of(run_id)
    except (TypeError, ValueError) as exc:  # stored by an older version: not the request's fault
        raise HTTPException(status_code=409, detail=f"run {run_id} cannot be forked: {exc}"
                            ) from exc
    if config is None:
        raise not_found(run_id)
    return await _start(manager, config, student)


async def _start(manager: Manager, config: RunConfig, student: str | None) -> dict[str, Any]:
    await asyncio.to_thread(refuse_when_full, manager)  # 507 on a full disk
    try:
        run = await manager.start(config, student)
    except RunLimitError as exc:
        raise HTTPException(status_code=429, detail=str(exc)) from exc
    except ValueError as exc:  # e.g. nccl asked for on a machine without GPUs
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    # The token goes to the starter only, in this response; it is never listed.
    return {**run.public(), "control_token": run.control_token}


@router.get("", response_model=list[RunPublic], responses=refusals(422))
async def list_runs(manager: Manager, limit: int = Query(50, ge=1, le=500)
                    ) -> list[dict[str, Any]]:
    """Runs, newest first, each with its ``pinned`` and ``retention`` (when the store's
    retention policy would remove it)."""
    runs = await manager.list(limit)
    if manager.keeper is None:
        return runs
    return await asyncio.to_thread(manager.keeper.annotate, runs)


@router.put("/{run_id}/pin", response_model=Pinned, responses=refusals(403, 404, 422))
async def pin_run(run_id: RunId, manager: Manager, _: Instructor) -> dict[str, Any]:
    """Keep this run whatever the retention policy (instructor key only)."""
    return await _pin(manager, run_id, True)


@router.delete("/{run_id}/pin", response_model=Pinned, responses=refusals(403, 404, 422))
async def unpin_run(run_id: RunId, manager: Manager, _: Instructor) -> dict[str, Any]:
    """Let the retention policy weigh this run again (instructor key only)."""
    return await _pin(manager, run_id, False)


async def _pin(manager: RunManager, run_id: str, pinned: bool) -> dict[str, Any]:
    if not await manager.exists(run_id):
        raise not_found(run_id)
    await asyncio.to_thread(manager.store.set_pinned, run_id, pinned)
    return {"id": run_id, "pinned": pinned}


@router.get("/{run_id}", response_model=RunPublic, responses=refusals(404, 422))
async def get_run(run_id: RunId, manager: Manager) -> dict[str, Any]:
    run = await manager.get(run_id)
    if run is None:
        raise not_found(run_id)
    return run


@router.post("/{run_id}/control", response_model=ControlDone,
             responses=refusals(400, 403, 404, 409, 413, 422))
async def control_run(run_id: RunId, body: ControlRequest, manager: Manager,
                      request: Request, token: ControlTokenHeader = None,
                      instructor_key: InstructorKeyHeader = None) -> dict[str, Any]:
    if not await manager.exists(run_id):
        raise not_found(run_id)
    if not manager.is_live(run_id):
        raise HTTPException(status_code=409, detail=f"run {run_id} is not live; only live "
                            "runs take controls")
    if not (manager.may_control(run_id, token) or is_instructor(request, instructor_key)):
        raise HTTPException(status_code=403, detail="only the page that started this run can "
                            "control it (you can fork it to get your own copy)")
    try:
        link = ((body.src, body.dst, body.ms)
                if body.src is not None and body.dst is not None else None)
        await manager.control(run_id, body.action, body.pace, body.rank, body.factor, link)
    except (RunNotLiveError, RecoveryInProgress, ValueError) as exc:
        # The request is well formed (the body's schema says what each action takes), but
        # this run refuses it now or as configured: a rank it lacks or that is not
        # running, a fault its strategy does not support, a recovery in progress.
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    # The new status shows once the ranks have agreed on the action (a `control` event).
    return {"ok": True, "action": body.action}


@router.get("/{run_id}/events", responses=refusals(404, 422))
async def run_events(
    run_id: RunId,
    manager: Manager,
    after: int = Query(0, ge=0, le=2**62, description="return events with seq > after"),
    limit: int = Query(1000, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    if not await manager.exists(run_id):
        raise not_found(run_id)
    return await manager.events_after(run_id, after, limit)


@router.get("/{run_id}/export", response_class=Response, responses={
    200: {"description": "the events as a file: JSON lines, CSV, or a Chrome trace (JSON)",
          "content": {MEDIA_TYPES["jsonl"]: {"schema": {"type": "string"}},
                      MEDIA_TYPES["csv"]: {"schema": {"type": "string"}},
                      MEDIA_TYPES["perfetto"]: {"schema": {"type": "object"}}}},
    **refusals(404, 422)})
async def export_run(run_id: RunId, manager: Manager,
                     format: Literal["jsonl", "csv", "perfetto"] = Query(
                         "jsonl", description="jsonl | csv | perfetto (Chrome trace JSON)"),
                     ) -> Response:
    """The run's events as a download; a live run exports what has happened so far."""
    if not await manager.exists(run_id):
        raise not_found(run_id)
    events = await manager.events_after(run_id, 0)
    body = await asyncio.to_thread(export, events, format)
    name = f"distlab-{run_id}.{EXTENSIONS[format]}"
    return Response(body, media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
