"""The hosts of a torchrun run: the command to paste on each (engine/hosts.py).

The command holds the run's join token, so it goes only to whoever may control the run
(its control token, or the instructor's key) — like the controls: in a classroom the
students watching a run see its hosts, never the token that would let them join it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from backend.deps import (
    ControlTokenHeader,
    InstructorKeyHeader,
    Manager,
    RunId,
    is_instructor,
    not_found,
)
from backend.errors import refusals

router = APIRouter(prefix="/api/runs", tags=["runs"])


class HostsCommand(BaseModel):
    command: str  # the one line to paste on every host
    argv: list[str]
    nnodes: int
    nproc_per_node: int
    rendezvous: str  # HOST:PORT of the run's store


@router.get("/{run_id}/hosts", response_model=HostsCommand,
            responses=refusals(403, 404, 409, 422))
async def run_hosts(run_id: RunId, manager: Manager, request: Request,
                    token: ControlTokenHeader = None,
                    instructor_key: InstructorKeyHeader = None) -> dict[str, Any]:
    """The command that starts a torchrun run's workers on each host (with its join
    token): only for the page that started the run, or the instructor."""
    if not await manager.exists(run_id):
        raise not_found(run_id)
    if not (manager.may_control(run_id, token) or is_instructor(request, instructor_key)):
        raise HTTPException(status_code=403, detail="only the page that started this run "
                            "(or the instructor) gets the command to join it")
    run = manager.runs.get(run_id)
    lobby = run.supervisor.lobby if run is not None and run.supervisor else None
    if run is None or not run.live or lobby is None:
        raise HTTPException(status_code=409, detail=f"run {run_id} takes no hosts: it is "
                            "not a live run with launcher torchrun")
    command = lobby.command
    return {"command": command.line(), "argv": command.argv(), "nnodes": command.nnodes,
            "nproc_per_node": command.nproc_per_node, "rendezvous": command.rendezvous}
