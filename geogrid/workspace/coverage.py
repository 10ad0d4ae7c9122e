"""Checkpoint coverage of a grid from the workspace's cached layers and road network."""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd

from geogrid import maps
from geogrid.errors import UnknownGridError
from geogrid.spatial.coverage import CoveragePlan, CoverageResult, analyse_coverage
from geogrid.spatial.coverage import plan_checkpoints as plan_sites
from geogrid.spatial.roads.routable import Profile
from geogrid.workspace.streets import padded_bounds, street_layer_for

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = ["analyse_grid", "coverage_map", "find_grid", "plan_grid"]


def find_grid(workspace: Workspace, code_or_name: str) -> gpd.GeoDataFrame:
    """Return the one-row frame of a grid given by code, or by a name only it bears.

    Raises :class:`UnknownGridError` naming the grid (and the candidates when a name is
    shared, e.g. 新华村 in two towns).
    """
    grids = workspace.grids()
    hit = grids[grids["code"] == code_or_name]
    if hit.empty:
        hit = grids[grids["name"] == code_or_name]
    if hit.empty:
        raise UnknownGridError(
            f"there is no grid with code or name {code_or_name!r}", details={"grid": code_or_name}
        )
    if len(hit) > 1:
        codes = ", ".join(hit["code"])
        raise UnknownGridError(
            f"{code_or_name!r} names {len(hit)} grids ({codes}); give the code",
            details={"grid": code_or_name, "candidates": list(hit["code"])},
        )
    return hit.rename_geometry("geometry")


def analyse_grid(
    workspace: Workspace,
    code_or_name: str,
    *,
    tolerance_m: float = 50.0,
    reach_m: float = 1000.0,
    profile: Profile = "foot",
) -> CoverageResult:
    """Return the entries, guards, reach and per-child table of one grid.

    Distances (guarding and reach) are walked on the ``profile``'s network (``foot`` by
    default: footways count, one-way streets both ways; ``car``: only roads cars may use).
    """
    grid = find_grid(workspace, code_or_name)
    grids = workspace.grids().rename_geometry("geometry")
    children = grids[grids["parent_code"] == grid["code"].iloc[0]]
    return analyse_coverage(
        grid,
        workspace.roads(),
        workspace.checkpoints().rename_geometry("geometry"),
        workspace.addresses(),
        network=workspace.road_network(profile),
        children=children,
        tolerance_m=tolerance_m,
        reach_m=reach_m,
    )


def plan_grid(
    workspace: Workspace,
    code_or_name: str,
    *,
    budget: int | None = None,
    tolerance_m: float = 50.0,
    reach_m: float = 1000.0,
    profile: Profile = "foot",
) -> tuple[CoverageResult, CoveragePlan]:
    """Return the coverage of a grid and the new sites that close (or best reduce) its gaps."""
    result = analyse_grid(
        workspace, code_or_name, tolerance_m=tolerance_m, reach_m=reach_m, profile=profile
    )
    return result, plan_sites(result, budget=budget)


def coverage_map(
    workspace: Workspace,
    result: CoverageResult,
    plan: CoveragePlan | None = None,
    *,
    assets: str = "inline",
    basemap: str = "plain",
    tianditu_key: str | None = None,
) -> folium.Map:
    """Return an offline map of a coverage result: the grid and its children, checkpoints,
    guarded and unguarded entries, unreached land, addresses per H3 cell, proposed sites.

    The base is drawn from PostGIS (streets with names, water, house numbers: see
    :mod:`geogrid.workspace.streets`) unless ``basemap`` names tiles (``"tianditu"``,
    ``"amap"``, ...: see :func:`geogrid.maps.new_map`)."""
    grids = workspace.grids().rename_geometry("geometry")
    shown = grids[(grids["code"] == result.grid_code) | (grids["parent_code"] == result.grid_code)]
    checkpoints = workspace.checkpoints().rename_geometry("geometry")
    inside = checkpoints[checkpoints["code"].isin(result.checkpoints["code"])]
    layers = [
        *maps.grid_layers(shown),
        maps.area_layer(result.unreached, kind="unreached"),
        maps.hexagon_layer(result.cells, value="unreached", show=False),
        maps.checkpoint_layer(inside),
        maps.entry_layer(result.entries),
    ]
    if plan is not None and len(plan.sites):
        sites = plan.sites.assign(name=[f"new site {s}" for s in plan.sites["site"]])
        layers.append(
            maps.point_layer(
                sites,
                fields=("name", "road_name", "entries_guarded"),
                name="Proposed checkpoints 建议卡口",
                color="#e8590c",
            )
        )
    if str(basemap).lower() in ("plain", "offline"):  # the offline base: streets from PostGIS
        extent = padded_bounds(tuple(shown.total_bounds))  # type: ignore[arg-type]
        layers.insert(0, street_layer_for(workspace, extent))
    return maps.new_map(
        *layers,
        title=f"{result.grid_name or result.grid_code} · coverage",
        assets=assets,
        basemap=basemap,
        tianditu_key=tianditu_key,
    )
