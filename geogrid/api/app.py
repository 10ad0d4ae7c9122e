"""The FastAPI application: routers, error handlers and the shared workspace."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from geogrid import __version__
from geogrid.api.errors import install_error_handlers
from geogrid.api.fastpath import LocateFastPath
from geogrid.api.limits import install_body_limit
from geogrid.api.logging import install_request_logging
from geogrid.api.routes import (
    corrections,
    coverage,
    events,
    features,
    grids,
    health,
    locate,
    maps,
    open311,
    people,
    tiles,
    transport,
    vector_map,
)
from geogrid.errors import GeoGridError
from geogrid.maps import asset_dir
from geogrid.settings import Settings, get_settings
from geogrid.workspace import Workspace

__all__ = ["create_app"]

log = logging.getLogger("geogrid.api")

GZIP_MIN_BYTES = 4096
"""Answers at least this long go gzip-compressed to clients that send ``Accept-Encoding: gzip``."""


@asynccontextmanager
async def _warm_up_in_background(app: FastAPI) -> AsyncIterator[None]:
    """Build the in-memory indexes while the server already accepts requests, and listen
    for new data versions announced by the primary (every server sees an edit at once)."""
    workspace = app.state.workspace
    settings = app.state.settings
    if settings.warm_up:
        helper = settings.helper_process
        threading.Thread(target=_warm_up, args=(workspace, helper), daemon=True).start()
    if settings.listen:
        workspace.start_listening()
    timer = None
    if settings.events_scan:  # one scanner per cluster: an advisory lock
        from geogrid.workspace.deadline_timer import DeadlineTimer

        timer = DeadlineTimer(workspace, settings.events_scan_interval_s).start()
    app.state.deadline_timer = timer
    try:
        yield
    finally:
        if timer is not None:
            timer.stop()
        workspace.stop_listening()
        workspace.stop_helper_process()


def _warm_up(workspace: Workspace, helper_process: bool) -> None:
    try:
        workspace.warm_up()
        if helper_process:
            workspace.start_helper_process()
        # The indexes hold millions of long-lived objects; frozen, the garbage collector
        # stops walking them on every full collection (pauses of 100+ ms under load).
        gc.freeze()
    except GeoGridError as exc:  # e.g. the database is down: the first request retries
        log.warning("warm-up skipped: %s", exc.message)


def create_app(
    settings: Settings | None = None,
    workspace: Workspace | None = None,
    *,
    fast_locate: bool = True,
) -> FastAPI:
    """Build the geo API; ``workspace`` defaults to one on the configured database.

    ``fast_locate=False`` leaves every ``/locate`` request to its FastAPI route (the fast
    path, :mod:`geogrid.api.fastpath`, answers alike; tests compare the two).
    """
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=_warm_up_in_background,
        title="geogrid",
        version=__version__,
        description=(
            "Spatial grid service for county grid governance: which grid owns an address, "
            "where checkpoint coverage has gaps, and how transfer vehicles reach isolation "
            "sites. Coordinates are WGS 84 (EPSG:4326) unless a `crs` parameter says "
            "otherwise."
        ),
    )
    app.state.settings = settings
    app.state.workspace = workspace or Workspace.open(settings)
    install_error_handlers(app)
    # feature pages and maps run to megabytes of JSON; compressed for clients that ask.
    # Level 1: a 170 kB page of grids takes 0.9 ms to 62 kB, where level 5 takes 3.8 ms
    # to 57 kB (geometry's digits compress poorly at any level).
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=1)
    if fast_locate:
        app.add_middleware(LocateFastPath)  # innermost: behind the limits and the log
    install_body_limit(app, settings.max_body_bytes)
    install_request_logging(app)
    if settings.cors_origins:  # outermost: errors (413, 503) reach browser apps too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Content-Crs", "Location", "Retry-After", "X-Request-ID"],
            max_age=600,
        )
    app.include_router(health.router)
    app.include_router(locate.router)
    app.include_router(coverage.router)
    app.include_router(people.router)
    app.include_router(transport.router)
    app.include_router(maps.router)
    app.include_router(features.router)
    app.include_router(tiles.router)
    app.include_router(vector_map.router)
    app.include_router(grids.router)
    app.include_router(corrections.router)
    app.include_router(open311.router)
    app.include_router(events.router)
    app.mount(maps.ASSETS, StaticFiles(directory=asset_dir()), name="vendor")
    return app
