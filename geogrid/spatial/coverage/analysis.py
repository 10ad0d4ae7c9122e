"""Checkpoint coverage of one grid: its entries, their guards, what no checkpoint reaches.

:func:`analyse_coverage` is what the workspace calls; its :class:`CoverageResult` holds
GeoDataFrames (EPSG:4326) ready for GeoJSON, and
:func:`~geogrid.spatial.coverage.planning.plan_checkpoints` turns it into new sites.
The rules live with each step: :mod:`~geogrid.spatial.coverage.entries`,
:mod:`~geogrid.spatial.coverage.guard`, :mod:`~geogrid.spatial.coverage.reach`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid.errors import InvalidRequestError
from geogrid.spatial.coverage._prepare import (
    Context,
    Settings,
    codes_at,
    entries_frame,
    grid_polygons,
    prepare,
)
from geogrid.spatial.coverage.entries import DEFAULT_BOUNDARY_TOLERANCE_M
from geogrid.spatial.coverage.guard import DEFAULT_CHECKPOINT_SNAP_M, DEFAULT_TOLERANCE_M, Guard
from geogrid.spatial.coverage.reach import (
    DEFAULT_ADDRESS_SNAP_M,
    DEFAULT_H3_RESOLUTION,
    DEFAULT_REACH_M,
    Reach,
    UnreachedArea,
    cells_to_geodataframe,
    lonlat_to_cells,
    reach_points,
    summarise_cells,
    unreached_area,
)
from geogrid.spatial.coverage.table import TABLE_COLUMNS, covered_pairs, grid_table
from geogrid.spatial.roads.network import RoadNetwork

__all__ = ["CoverageResult", "analyse_coverage"]


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Checkpoint coverage of one grid.

    Attributes
    ----------
    grid_code, grid_name
        The grid analysed.
    tolerance_m, reach_m
        The guarding and reaching distances used.
    entries
        One point per crossing into the grid: ``grid_code``, ``road_code`` (and
        ``road_id`` when the roads have ``id``), ``road_name``, ``road_class``,
        ``bridge``, ``direction`` (``both``/``in``/``out``/``none``), ``way_in``,
        ``open_end``, ``guarded``, ``checkpoint_code`` and ``checkpoint_distance_m`` of
        the nearest active checkpoint (None and NaN when none is within ``reach_m``),
        ``edge`` and ``fraction`` on the network.
    addresses
        The addresses inside the grid with ``distance_m`` (walking, from the nearest
        active checkpoint, plus the distance to the road; NaN beyond the search radius
        or off the network), ``checkpoint_code``, ``on_network`` and ``reached``.
    unreached
        The unreached land, one row per polygon with ``area_m2``.
    cells
        H3 summary: ``cell``, ``addresses``, ``unreached`` and the hexagon.
    children
        Table of the child grids given (see
        :func:`~geogrid.spatial.coverage.table.coverage_table`), empty when none.
    checkpoints
        Checkpoints inside the grid or guarding one of its entries: ``code``,
        ``status``, ``active``, ``on_network``, ``snap_distance_m``, ``inside``,
        ``entries_guarded``.
    area
        Area figures of the unreached land.
    """

    grid_code: str
    grid_name: str | None
    tolerance_m: float
    reach_m: float
    entries: gpd.GeoDataFrame
    addresses: gpd.GeoDataFrame
    unreached: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    children: pd.DataFrame
    checkpoints: gpd.GeoDataFrame
    area: UnreachedArea
    network: RoadNetwork = field(repr=False)
    roads: gpd.GeoDataFrame = field(repr=False)

    @property
    def unreached_addresses(self) -> gpd.GeoDataFrame:
        """The addresses farther than ``reach_m`` from every active checkpoint."""
        return self.addresses[~self.addresses["reached"]]

    def summary(self) -> dict[str, object]:
        """Return the headline figures as a flat dict (JSON-ready)."""
        e = self.entries
        ways_in = e["way_in"].to_numpy(bool)
        guarded = e["guarded"].to_numpy(bool)
        n_addr = len(self.addresses)
        n_far = int((~self.addresses["reached"]).sum())
        return {
            "grid_code": self.grid_code,
            "grid_name": self.grid_name,
            "tolerance_m": self.tolerance_m,
            "reach_m": self.reach_m,
            "entries": len(e),
            "ways_in": int(ways_in.sum()),
            "exits_only": int((~ways_in).sum()),
            "guarded": int((ways_in & guarded).sum()),
            "unguarded": int((ways_in & ~guarded).sum()),
            "checkpoints_active": int(
                (self.checkpoints["active"] & self.checkpoints["inside"]).sum()
            ),
            "addresses": n_addr,
            "addresses_unreached": n_far,
            "addresses_unreached_share": n_far / n_addr if n_addr else 0.0,
            "area_m2": self.area.area_m2,
            "unreached_m2": self.area.unreached_m2,
            "area_unreached_share": self.area.share,
            "area_cell_m": self.area.cell_m,
        }

    def to_geodataframes(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the layers to draw or emit as GeoJSON, by name."""
        return {
            "entries": self.entries,
            "unreached": self.unreached,
            "cells": self.cells,
            "addresses": self.addresses,
            "checkpoints": self.checkpoints,
        }


def analyse_coverage(
    grid: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    checkpoints: gpd.GeoDataFrame,
    addresses: gpd.GeoDataFrame,
    *,
    network: RoadNetwork | None = None,
    children: gpd.GeoDataFrame | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    reach_m: float = DEFAULT_REACH_M,
    h3_resolution: int = DEFAULT_H3_RESOLUTION,
    area_cell_m: float | None = None,
    boundary_tolerance_m: float = DEFAULT_BOUNDARY_TOLERANCE_M,
    checkpoint_snap_m: float = DEFAULT_CHECKPOINT_SNAP_M,
    address_snap_m: float = DEFAULT_ADDRESS_SNAP_M,
) -> CoverageResult:
    """Find a grid's entries, which are guarded, and what no checkpoint reaches.

    Parameters
    ----------
    grid
        One row (EPSG:4326): ``code``, optionally ``name``, a (Multi)Polygon.
    roads
        The roads the network is built from (EPSG:4326, edges noded at junctions);
        ``code``, ``name``, ``road_class``, ``bridge`` and ``id`` are carried when present.
    checkpoints
        Points (EPSG:4326) with ``code`` and ``status`` (``active`` counts).
    addresses
        Points (EPSG:4326) with ``code``: the people.
    network
        The network built from ``roads``, for the profile distances are walked on
        (built here for ``foot`` when not given; pass the cached one). Ways in are
        counted as vehicles drive them whatever the profile (footways both ways).
    children
        Child grids (same columns as ``grid``) to tabulate in ``children``.
    tolerance_m
        Walking distance within which an active checkpoint guards a crossing.
    reach_m
        Walking distance beyond which people and land count as unreached.
    h3_resolution
        Resolution of the address summary ``cells``.
    area_cell_m
        Side of the square cells the unreached land is sampled on (default: chosen
        from the grid's area, see :func:`~geogrid.spatial.coverage.reach.cell_size_for`).
    boundary_tolerance_m
        Roads this close to the boundary are on it.
    checkpoint_snap_m, address_snap_m
        Checkpoints, addresses (and land) farther from every road are off the network.

    Raises
    ------
    InvalidRequestError
        ``grid`` is not one row, a column is missing, or the network does not match.
    UnknownCRSError
        A frame is not in EPSG:4326.
    InvalidGeometryError
        A geometry has the wrong type.
    """
    polygon = grid_polygons(grid, "grid")
    if len(polygon) != 1:
        raise InvalidRequestError(f"analyse one grid at a time; got {len(polygon)} rows")
    kids = children if children is not None else grid.iloc[:0]
    kid_polygons = grid_polygons(kids, "children")
    settings = Settings(
        tolerance_m, reach_m, boundary_tolerance_m, checkpoint_snap_m, address_snap_m
    )
    ctx = prepare(polygon, roads, checkpoints, addresses, network, settings)
    all_polygons = np.concatenate([polygon, kid_polygons])
    entries, guard = ctx.find(all_polygons)
    codes = np.concatenate([grid["code"].to_numpy(dtype=object), kids["code"].to_numpy(object)])
    mine = entries.grid == 0
    entries_gdf = entries_frame(ctx, entries.take(mine), _take(guard, mine), codes)
    inside = np.flatnonzero(shapely.intersects_xy(polygon[0], ctx.address_lon, ctx.address_lat))
    snapped = ctx.network.snap(ctx.address_lon[inside], ctx.address_lat[inside], address_snap_m)
    reach = reach_points(ctx.distance, snapped, reach_m)
    addresses_gdf = _addresses_frame(ctx, inside, reach)
    area = unreached_area(
        polygon[0],
        ctx.network,
        ctx.distance,
        reach_m,
        cell_m=area_cell_m,
        snap_m=address_snap_m,
    )
    cells = lonlat_to_cells(ctx.address_lon[inside], ctx.address_lat[inside], h3_resolution)
    if len(kids):
        owners = covered_pairs(kid_polygons, ctx.address_lon[inside], ctx.address_lat[inside])
        kid_entries = entries.take(~mine)
        kid_entries = dataclasses.replace(kid_entries, grid=kid_entries.grid - 1)
        table = grid_table(
            ctx, kids, kid_polygons, kid_entries, _take(guard, ~mine), owners, reach.reached
        )
    else:
        table = pd.DataFrame({c: [] for c in TABLE_COLUMNS})
    return CoverageResult(
        grid_code=str(grid["code"].iloc[0]),
        grid_name=str(grid["name"].iloc[0]) if "name" in grid else None,
        tolerance_m=float(tolerance_m),
        reach_m=float(reach_m),
        entries=entries_gdf,
        addresses=addresses_gdf,
        unreached=_unreached_frame(ctx, area),
        cells=cells_to_geodataframe(summarise_cells(cells, reach.reached)),
        children=table,
        checkpoints=_checkpoints_frame(ctx, polygon[0], guard, mine),
        area=area,
        network=ctx.network,
        roads=roads,
    )


def _take(guard: Guard, pick: np.ndarray) -> Guard:
    return Guard(guard.guarded[pick], guard.checkpoint[pick], guard.distance_m[pick])


def _addresses_frame(ctx: Context, inside: np.ndarray, reach: Reach) -> gpd.GeoDataFrame:
    keep = [c for c in ("code", "full_text", "village") if c in ctx.addresses]
    frame = pd.DataFrame(ctx.addresses[keep].iloc[inside]).reset_index(drop=True)
    frame["distance_m"] = np.where(np.isfinite(reach.distance_m), reach.distance_m, np.nan)
    frame["checkpoint_code"] = codes_at(ctx.checkpoints.code, reach.checkpoint)
    frame["on_network"] = reach.on_network
    frame["reached"] = reach.reached
    geometry = ctx.addresses.geometry.to_numpy()[inside]
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def _unreached_frame(ctx: Context, area: UnreachedArea) -> gpd.GeoDataFrame:
    parts = shapely.get_parts(area.geometry)
    parts = parts[~shapely.is_empty(parts)]
    area_m2 = shapely.area(ctx.network.projection.geometries_to_xy(parts)) if len(parts) else []
    return gpd.GeoDataFrame({"area_m2": area_m2}, geometry=parts, crs="EPSG:4326")


def _checkpoints_frame(
    ctx: Context, polygon: shapely.Geometry, guard: Guard, mine: np.ndarray
) -> gpd.GeoDataFrame:
    cps, frame = ctx.checkpoints, ctx.checkpoints_frame
    geoms = frame.geometry.to_numpy()
    inside = np.asarray(shapely.intersects(polygon, geoms), dtype=bool)
    guarding = guard.checkpoint[mine & guard.guarded]
    counts = np.bincount(guarding, minlength=len(cps)) if len(cps) else np.zeros(0, int)
    keep = np.flatnonzero(inside | (counts > 0))
    extra = [c for c in ("name", "kind", "staff") if c in frame]
    out = pd.DataFrame(frame[["code", *extra, "status"]].iloc[keep]).reset_index(drop=True)
    out["active"] = cps.active[keep]
    out["on_network"] = cps.snapped.edge[keep] >= 0
    out["snap_distance_m"] = cps.snapped.distance_m[keep]
    out["inside"] = inside[keep]
    out["entries_guarded"] = counts[keep].astype(np.int64)
    return gpd.GeoDataFrame(out, geometry=geoms[keep], crs="EPSG:4326")
