"""Builds the FastAPI app: routes, static files, error handlers, and the run manager."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from backend import __version__, errors
from backend.cluster import RayCluster
from backend.diskspace import end_runs_on_store_failure
from backend.hub import Hub
from backend.lessons import lessons as load_lessons
from backend.limits import BodySizeLimit
from backend.origins import OriginCheck, parse_origins
from backend.retention import Keeper
from backend.rooms import Rooms
from backend.routes import hosts, lessons, meta, pages, rooms, runs, stream
from backend.runs import RunManager
from backend.settings import Settings
from backend.store import Store
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
        cluster = RayCluster(settings.ray_address) if settings.ray_address else None
        app.state.manager = manager = RunManager(settings, store,
                                                 Hub(settings.feed_window_batches), cluster)
        manager.keeper = Keeper(store, settings)
        await asyncio.to_thread(manager.keeper.start)  # retention now, packing aside
        end_runs_on_store_failure(manager, asyncio.get_running_loop())
        if cluster is None:  # on a cluster, each run's actor has a forkserver of its own
            await asyncio.to_thread(warm_up)  # the forkserver imports torch once, now
        try:
            yield
        finally:
            await manager.shutdown()
            manager.keeper.close()
            store.close()
            if cluster is not None:
                cluster.close()

    app = FastAPI(title="DistLab", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.instructor_key = settings.instructor_key or _generated_instructor_key()
    for module in (meta, runs, hosts, lessons, rooms, stream, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(OriginCheck, allowed=parse_origins(settings.allowed_origins))

    errors.install(app)
    return app


def _generated_instructor_key() -> str:
    key = secrets.token_urlsafe(9)
    print(f"DistLab instructor key (opens classroom rooms): {key}\n"
          "  set DISTLAB_INSTRUCTOR_KEY or --instructor-key to choose your own", flush=True)
    return key
