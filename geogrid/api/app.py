"""The FastAPI application: routers, error handlers and the shared workspace."""

from __future__ import annotations

from fastapi import FastAPI

from geogrid import __version__
from geogrid.api.errors import install_error_handlers
from geogrid.api.logging import install_request_logging
from geogrid.api.routes import health, locate
from geogrid.settings import Settings, get_settings
from geogrid.workspace import Workspace

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, workspace: Workspace | None = None) -> FastAPI:
    """Build the geo API; ``workspace`` defaults to one on the configured database."""
    settings = settings or get_settings()
    app = FastAPI(
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
    install_request_logging(app)
    app.include_router(health.router)
    app.include_router(locate.router)
    return app
