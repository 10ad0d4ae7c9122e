"""Printable grid sheets from the workspace's data (HTML here; PNG/PDF via geogrid.maps)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from geogrid.errors import UnknownGridError
from geogrid.maps import render_child_sheets, render_grid_sheet

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = ["child_sheets", "grid_sheet"]


def _grids_with_workers(workspace: Workspace) -> gpd.GeoDataFrame:
    grids = workspace.grids().rename_geometry("geometry")
    names = workspace.grid_workers().drop_duplicates("grid_code").set_index("grid_code")["name"]
    return grids.assign(worker_name=grids["code"].map(names))


def _require(grids: gpd.GeoDataFrame, code: str) -> None:
    if not (grids["code"] == code).any():
        raise UnknownGridError(f"there is no grid with code {code!r}", details={"grid": code})


def _layers(workspace: Workspace) -> dict[str, Any]:
    return {
        "checkpoints": workspace.checkpoints().rename_geometry("geometry"),
        "sites": workspace.isolation_sites().rename_geometry("geometry"),
    }


def grid_sheet(workspace: Workspace, code: str, **options: Any) -> str:
    """Return the HTML sheet of one grid, with its counts (see ``render_grid_sheet``)."""
    grids = _grids_with_workers(workspace)
    _require(grids, code)
    counts = workspace.grid_counts([code])[code]
    return render_grid_sheet(code, grids, counts=counts, **_layers(workspace), **options)


def child_sheets(workspace: Workspace, code: str, **options: Any) -> Iterator[tuple[str, str]]:
    """Yield ``(child code, HTML)`` for every child grid of ``code``, in code order."""
    grids = _grids_with_workers(workspace)
    _require(grids, code)
    children = grids.loc[grids["parent_code"] == code, "code"].tolist()
    counts = workspace.grid_counts(children)
    yield from render_child_sheets(code, grids, counts=counts, **_layers(workspace), **options)
