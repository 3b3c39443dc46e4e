"""Builds the FastAPI app: routes, static files, error handlers, and the run manager."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from backend import __version__
from backend.hub import Hub
from backend.lessons import lessons as load_lessons
from backend.limits import BodySizeLimit
from backend.rooms import Rooms
from backend.routes import lessons, meta, pages, rooms, runs, stream
from backend.runs import RunManager
from backend.settings import Settings
from backend.store import Store
from engine.options import options_of
from engine.strategies import registry
from engine.supervisor import warm_up
from frontend import STATIC_DIR


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        load_lessons()  # a broken lesson file stops the server here, with its name
        store = Store(settings.data_dir)
        store.mark_interrupted()
        app.state.rooms = Rooms(store, settings.max_rooms)
        app.state.manager = RunManager(settings, store, Hub(settings.feed_window_batches))
        await asyncio.to_thread(warm_up)  # the forkserver imports torch once, now
        try:
            yield
        finally:
            await app.state.manager.shutdown()
            store.close()

    app = FastAPI(title="DistLab", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.instructor_key = settings.instructor_key or _generated_instructor_key()
    for module in (meta, runs, lessons, rooms, stream, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def readable_422(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_plain_error(e) for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"]
                           for e in errors)
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)

    return app


def _generated_instructor_key() -> str:
    key = secrets.token_urlsafe(9)
    print(f"DistLab instructor key (opens classroom rooms): {key}\n"
          "  set DISTLAB_INSTRUCTOR_KEY or --instructor-key to choose your own", flush=True)
    return key


def _plain_error(error: dict[str, Any]) -> dict[str, Any]:
    loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
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
