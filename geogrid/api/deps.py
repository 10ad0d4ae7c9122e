"""Typed dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from geogrid.settings import Settings, get_settings
from geogrid.workspace import Workspace

__all__ = ["SettingsDep", "WorkspaceDep", "get_workspace"]


def get_workspace(request: Request) -> Workspace:
    """Return the application's workspace (created once, at start-up)."""
    return request.app.state.workspace


SettingsDep = Annotated[Settings, Depends(get_settings)]
WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]
