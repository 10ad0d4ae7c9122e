"""A coverage table: entries, guards, checkpoints and reached addresses per grid.

One vectorised pass for any number of grids (every village of a county at once): one
search from the checkpoints, one entry search over all the grids' boundaries, one
snapping of the addresses. Each grid counts every point it covers, so a point exactly
on a border shared by two grids counts in both.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geogrid.spatial.coverage._prepare import (
    Context,
    Settings,
    entries_frame,
    grid_polygons,
    prepare,
)
from geogrid.spatial.coverage.entries import DEFAULT_BOUNDARY_TOLERANCE_M, Entries
from geogrid.spatial.coverage.guard import DEFAULT_CHECKPOINT_SNAP_M, DEFAULT_TOLERANCE_M, Guard
from geogrid.spatial.coverage.reach import DEFAULT_ADDRESS_SNAP_M, DEFAULT_REACH_M, reach_points
from geogrid.spatial.roads.network import RoadNetwork

__all__ = ["TABLE_COLUMNS", "coverage_table", "grid_entries"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TABLE_COLUMNS = (
    "code",
    "name",
    "entries",
    "ways_in",
    "guarded",
    "unguarded",
    "checkpoints",
    "addresses",
    "addresses_unreached",
)
"""Columns of :func:`coverage_table`; ``guarded``/``unguarded`` count ways in only."""


def coverage_table(
    grids: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    checkpoints: gpd.GeoDataFrame,
    addresses: gpd.GeoDataFrame,
    *,
    network: RoadNetwork | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    reach_m: float = DEFAULT_REACH_M,
    boundary_tolerance_m: float = DEFAULT_BOUNDARY_TOLERANCE_M,
    checkpoint_snap_m: float = DEFAULT_CHECKPOINT_SNAP_M,
    address_snap_m: float = DEFAULT_ADDRESS_SNAP_M,
) -> pd.DataFrame:
    """Return one row of coverage counts per grid.

    Parameters are those of :func:`~geogrid.spatial.coverage.analyse_coverage`;
    ``grids`` (EPSG:4326, ``code`` and optionally ``name``) may hold any number of grids.

    Returns
    -------
    pandas.DataFrame
        :data:`TABLE_COLUMNS`, in the order of ``grids``: entries (all), ways in,
        ways in guarded and unguarded, active checkpoints inside, addresses inside and
        those farther than ``reach_m`` from every active checkpoint.
    """
    polygons = grid_polygons(grids, "grids")
    settings = Settings(
        tolerance_m, reach_m, boundary_tolerance_m, checkpoint_snap_m, address_snap_m
    )
    ctx = prepare(polygons, roads, checkpoints, addresses, network, settings)
    entries, guard = ctx.find(polygons)
    owner_point, owner_grid = covered_pairs(polygons, ctx.address_lon, ctx.address_lat)
    used = np.unique(owner_point)
    reached = np.ones(len(ctx.address_lon), bool)
    if len(used):
        snapped = ctx.network.snap(ctx.address_lon[used], ctx.address_lat[used], address_snap_m)
        reached[used] = reach_points(ctx.distance, snapped, reach_m).reached
    return grid_table(ctx, grids, polygons, entries, guard, (owner_point, owner_grid), reached)


def grid_entries(
    grids: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    checkpoints: gpd.GeoDataFrame,
    *,
    network: RoadNetwork | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    boundary_tolerance_m: float = DEFAULT_BOUNDARY_TOLERANCE_M,
    checkpoint_snap_m: float = DEFAULT_CHECKPOINT_SNAP_M,
) -> gpd.GeoDataFrame:
    """Return the entries of many grids at once, with their guards.

    The columns are those of :attr:`CoverageResult.entries
    <geogrid.spatial.coverage.analysis.CoverageResult>`; ``grid_code`` tells the grids
    apart. A crossing on a border between two grids is an entry of each.
    """
    polygons = grid_polygons(grids, "grids")
    settings = Settings(
        tolerance_m, tolerance_m, boundary_tolerance_m, checkpoint_snap_m, checkpoint_snap_m
    )
    nobody = gpd.GeoDataFrame({"code": []}, geometry=[], crs="EPSG:4326")
    ctx = prepare(polygons, roads, checkpoints, nobody, network, settings)
    entries, guard = ctx.find(polygons)
    return entries_frame(ctx, entries, guard, grids["code"].to_numpy(dtype=object))


def covered_pairs(
    polygons: npt.NDArray[np.object_], lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[IntArray, IntArray]:
    """Return ``(point, polygon)`` for every polygon covering every point (EPSG:4326)."""
    lon_a, lat_a = np.asarray(lon, float), np.asarray(lat, float)
    order = np.argsort(lon_a, kind="stable")
    sorted_lon = lon_a[order]
    points, polys = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    shapely.prepare(polygons)
    for i, (x0, y0, x1, y1) in enumerate(shapely.bounds(polygons)):
        lo = np.searchsorted(sorted_lon, x0, side="left")
        hi = np.searchsorted(sorted_lon, x1, side="right")
        cand = order[lo:hi]
        cand = cand[(lat_a[cand] >= y0) & (lat_a[cand] <= y1)]
        hit = cand[shapely.intersects_xy(polygons[i], lon_a[cand], lat_a[cand])]
        points.append(np.sort(hit))
        polys.append(np.full(len(hit), i, np.int64))
    return np.concatenate(points).astype(np.int64), np.concatenate(polys)


def grid_table(
    ctx: Context,
    grids: gpd.GeoDataFrame,
    polygons: npt.NDArray[np.object_],
    entries: Entries,
    guard: Guard,
    owners: tuple[IntArray, IntArray],
    reached: BoolArray,
) -> pd.DataFrame:
    """Count entries, guards, checkpoints and addresses per grid (positions in ``grids``)."""
    n = len(grids)
    way_in = entries.way_in
    count = _counter(n)
    active = np.flatnonzero(ctx.checkpoints.active)
    cp_lon, cp_lat = _lonlat(ctx.checkpoints_frame.geometry.to_numpy()[active])
    _, cp_grid = covered_pairs(polygons, cp_lon, cp_lat)
    point, grid = owners
    names = grids["name"].to_numpy(dtype=object) if "name" in grids else np.full(n, None)
    return pd.DataFrame(
        {
            "code": grids["code"].to_numpy(dtype=object),
            "name": names,
            "entries": count(entries.grid),
            "ways_in": count(entries.grid[way_in]),
            "guarded": count(entries.grid[way_in & guard.guarded]),
            "unguarded": count(entries.grid[way_in & ~guard.guarded]),
            "checkpoints": count(cp_grid),
            "addresses": count(grid),
            "addresses_unreached": count(grid[~reached[point]]),
        }
    )


def _counter(n: int) -> Callable[[IntArray], IntArray]:
    def count(values: IntArray) -> IntArray:
        return np.bincount(np.asarray(values, dtype=np.int64), minlength=n).astype(np.int64)

    return count


def _lonlat(geoms: npt.NDArray[np.object_]) -> tuple[npt.NDArray, npt.NDArray]:
    xy = shapely.get_coordinates(geoms)
    return xy[:, 0], xy[:, 1]
