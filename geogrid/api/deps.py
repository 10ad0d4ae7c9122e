"""Typed dependencies shared by the routes.

They are ``async`` on purpose: FastAPI runs plain ``def`` dependencies in a worker
thread, a hop that costs more than answering a locate request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from geogrid.settings import Settings, get_settings
from geogrid.workspace import Workspace

__all__ = ["SettingsDep", "WorkspaceDep", "get_app_settings", "get_workspace"]


async def get_workspace(request: Request) -> Workspace:
    """Return the application's workspace (created once, at start-up)."""
    return request.app.state.workspace


async def get_app_settings(request: Request) -> Settings:
    """Return the settings the application was created with."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    return settings or get_settings()


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]
