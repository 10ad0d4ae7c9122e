"""Printable grid sheets from the workspace's data (HTML here; PNG/PDF via geogrid.maps).

A sheet shows the offline street base of its extent (roads by class with names, water,
house numbers at large scales: :mod:`geogrid.workspace.streets`), the grid's entries drawn
guarded and unguarded, and their counts. Entries are found as the coverage analysis finds
them (:func:`geogrid.spatial.coverage.grid_entries`, the same search
:func:`geogrid.workspace.coverage.analyse_grid` makes: walking network, 50 m tolerance),
so the sheet's "Unguarded entries" is the ``unguarded`` of ``geogrid gaps``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from geogrid.errors import UnknownGridError
from geogrid.maps import render_grid_sheet
from geogrid.maps.sheets import SHEET_LABEL_PX, sheet_extent
from geogrid.workspace.streets import street_layer_for

if TYPE_CHECKING:
    from geogrid.maps import GeoLayer
    from geogrid.workspace import Workspace

__all__ = ["child_codes", "child_sheets", "grid_sheet", "sheet_entries"]

TOLERANCE_M = 50.0  # analyse_grid's default: a checkpoint this far along roads guards


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


def sheet_entries(workspace: Workspace, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the ways into each of ``grids`` with ``guarded``, as the coverage analysis
    finds them (foot network, 50 m tolerance); ``grid_code`` tells the grids apart."""
    from geogrid.spatial.coverage import grid_entries

    found = grid_entries(
        grids[["code", "geometry"]],
        workspace.roads(),
        workspace.checkpoints().rename_geometry("geometry"),
        network=workspace.road_network("foot"),
        tolerance_m=TOLERANCE_M,
    )
    return found.loc[found["way_in"].to_numpy(bool)]


def _streets(
    workspace: Workspace, grids: gpd.GeoDataFrame, code: str, options: dict[str, Any]
) -> GeoLayer | None:
    if str(options.get("basemap", "plain")).lower() not in ("plain", "offline"):
        return None  # an online base map draws its own streets
    own = grids.loc[grids["code"] == code]
    bounds = tuple(own.total_bounds)
    extent = sheet_extent(
        bounds,  # type: ignore[arg-type]
        options.get("paper", "A4"),
        options.get("orientation", "portrait"),
    )
    return street_layer_for(workspace, extent, label_px=SHEET_LABEL_PX, focus=own.geometry.iloc[0])


def _sheet(
    workspace: Workspace,
    grids: gpd.GeoDataFrame,
    code: str,
    counts: dict[str, Any],
    entries: gpd.GeoDataFrame,
    options: dict[str, Any],
) -> str:
    mine = entries.loc[entries["grid_code"] == code]
    guarded = mine["guarded"].to_numpy(bool)
    shown = {
        **counts,
        "guarded_entries": int(guarded.sum()),
        "unguarded_entries": int((~guarded).sum()),
    }
    return render_grid_sheet(
        code,
        grids,
        counts=shown,
        entries=mine,
        streets=_streets(workspace, grids, code, options),
        **_layers(workspace),
        **options,
    )


def grid_sheet(workspace: Workspace, code: str, **options: Any) -> str:
    """Return the HTML sheet of one grid, with its counts (see ``render_grid_sheet``)."""
    grids = _grids_with_workers(workspace)
    _require(grids, code)
    counts = workspace.grid_counts([code])[code]
    entries = sheet_entries(workspace, grids.loc[grids["code"] == code])
    return _sheet(workspace, grids, code, counts, entries, options)


def child_codes(workspace: Workspace, code: str) -> list[str]:
    """Return the codes of a grid's children in code order (raises for an unknown grid)."""
    grids = workspace.grids()
    _require(grids, code)
    return sorted(grids.loc[grids["parent_code"] == code, "code"].astype(str))


def child_sheets(
    workspace: Workspace, code: str, *, children: Sequence[str] | None = None, **options: Any
) -> Iterator[tuple[str, str]]:
    """Yield ``(child code, HTML)`` for every child grid of ``code``, in code order.

    The children's entries are found in one pass; each sheet reads its own street base.
    """
    grids = _grids_with_workers(workspace)
    _require(grids, code)
    codes = list(children) if children is not None else child_codes(workspace, code)
    if not codes:
        return
    counts = workspace.grid_counts(codes)
    entries = sheet_entries(workspace, grids.loc[grids["code"].isin(codes)])
    for child in codes:
        yield child, _sheet(workspace, grids, child, counts[child], entries, options)
