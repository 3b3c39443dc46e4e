"""One shape for every 4xx the API sends, and the ``responses=`` that document it.

A refused request always gets ``{"detail": "<one sentence>", "errors": [...]}``: ``detail``
for a person (the page shows it as it is), ``errors`` for a program (the form puts each on
its field; empty when the refusal is not about a field). FastAPI's own refusals (a 404 for
an unknown path, a 400 for a body that is not UTF-8, ...) are rewritten to this shape too,
so the one model the document declares is the one every client reads.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match

from engine.options import options_of
from engine.strategies import registry


class FieldError(BaseModel):
    field: str = Field(description="the refused value's dotted path ('batch_size', "
                                   "'options.servers', 'faults[0].rank'); '' when none")
    message: str
    type: str | None = Field(None, description="pydantic's error type, e.g. 'missing'")


class ApiError(BaseModel):
    """Every refusal (4xx) of the API."""

    detail: str = Field(description="what was refused and why, in one sentence")
    errors: list[FieldError] = Field(default_factory=list,
                                     description="each refused field (a 422); else empty")
    cause: dict[str, Any] | None = Field(None, description="why, as a code with fields "
                                         "(engine/causes.py), where the page words it: a 507")


_WHY = {
    400: "the body cannot be read (not UTF-8)",
    403: "needs the instructor key, or this run's control token",
    404: "no such run, room or lesson",
    409: "the run is not in a state to do this (not live, recovering, or without that rank)",
    413: "the request body is too large",
    422: "a refused value: `errors` names each field",
    429: "too many runs or worker processes are live; try again when one ends",
    507: "the server's disk is full: no new runs until space is freed (`cause`: disk_full)",
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can refuse with these statuses."""
    return {code: {"model": ApiError, "description": _WHY[code]} for code in codes}


def install(app: FastAPI) -> None:
    """Make every refusal the app sends an ``ApiError``."""

    @app.exception_handler(RequestValidationError)
    async def readable_422(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [plain_error(e) for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"]
                           for e in errors)
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)

    @app.exception_handler(HTTPException)
    async def same_shape(request: Request, exc: HTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette's Allow names the methods of the first route on this path only
            # (GET /api/runs and POST /api/runs are two routes): name them all.
            headers["Allow"] = ", ".join(_methods_at(request))
        return JSONResponse({"detail": str(exc.detail), "errors": [], **_cause_of(exc)},
                            status_code=exc.status_code, headers=headers)


def _cause_of(exc: HTTPException) -> dict[str, Any]:
    """A refusal that says why as a cause (backend/diskspace.py's 507) sends it along."""
    cause = getattr(exc, "cause", None)
    return {"cause": cause} if isinstance(cause, dict) else {}


def _methods_at(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def plain_error(error: dict[str, Any]) -> dict[str, Any]:
    """One of pydantic's errors as a ``FieldError``: the path without its location
    (body, query, path) and the message without pydantic's prefixes."""
    loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    if error.get("type") == "json_invalid":
        loc = []  # its location is a character offset, not a field
    if error.get("type") == "extra_forbidden":
        message = "unknown field (not allowed)"
        owners = [spec.name for spec in registry.specs().values()
                  if loc and loc[-1] in options_of(spec.options)]
        if len(loc) == 1 and owners:
            message += (f"; it is an option of {' and '.join(owners)}: send it under "
                        f"options, e.g. {{\"options\": {{\"{loc[0]}\": …}}}}")
    field = ".".join(loc)
    if not field:
        # The engine's cross-field rules name their field first ("options.ps_mode: …",
        # "workers must be …"): give API users the field as well as the sentence.
        named = _NAMED_FIELD.match(message)
        field = named.group(1) if named else ""
    return {"field": field, "message": message, "type": error.get("type")}


_NAMED_FIELD = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)*)(?=[: ])")
