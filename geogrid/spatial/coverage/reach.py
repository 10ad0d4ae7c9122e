"""Reach: the people and the land farther than a walking distance from every checkpoint.

Rules
-----
- A spot (an address, or the centre of a sample cell) is reached through its nearest
  road: its distance is the walking distance along the network from the nearest active
  checkpoint to the spot's foot on that road, plus the straight distance from the road
  to the spot. It is *reached* when that is at most ``reach_m`` (default 1,000 m).
  Spots farther than ``snap_m`` from every road are unreached (off the network).
- The unreached **area** is sampled on a square lattice in the network's metric
  projection: every cell that meets the grid takes the answer of its centre; the
  unreached cells are merged and clipped to the grid. The cell side is chosen from the
  grid's area (at least 40 m, at most about 20,000 cells: 40 m for a village, 85 m for
  a town of 140 km²). This is a network-distance Voronoi diagram at cell resolution.
  Limits: the line between reached and unreached land is drawn at cell resolution; a
  spot is reached through its nearest road only (as addresses are), so the answer
  jumps where two roads are equally near and a cell's centre may speak for a corner
  that differs (about 4 % of random spots in the tests); water and fields far from
  roads count as unreached land (nobody patrols there). H3 cells were tried for the
  sampling and dropped: filling a town's 1,600-vertex outline with them took longer
  than the whole analysis should.
- The H3 **summary** counts addresses, and unreached addresses, per cell of
  ``h3_resolution`` (default 9, about 0.1 km²). Cells are H3 strings, as elsewhere
  in geogrid.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import h3
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geogrid.spatial.coverage.guard import CheckpointDistance
from geogrid.spatial.roads.network import RoadNetwork, Snapped

__all__ = [
    "DEFAULT_ADDRESS_SNAP_M",
    "DEFAULT_H3_RESOLUTION",
    "DEFAULT_REACH_M",
    "MAX_AREA_CELLS",
    "Reach",
    "UnreachedArea",
    "cell_size_for",
    "cells_to_geodataframe",
    "lonlat_to_cells",
    "reach_points",
    "summarise_cells",
    "unreached_area",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_REACH_M = 1000.0
"""Walking distance from a checkpoint within which people and land count as reached."""

DEFAULT_ADDRESS_SNAP_M = 250.0
"""Spots farther than this from every road are off the network (unreached)."""

DEFAULT_H3_RESOLUTION = 9
"""Resolution of the address summary (cells of about 0.1 km²)."""

MAX_AREA_CELLS = 20_000
"""About the most sample cells the unreached area uses; the cell size is chosen to fit."""

_FINEST_CELL_M = 40.0


@dataclass(frozen=True, eq=False)
class Reach:
    """How far each spot is from its nearest active checkpoint.

    Attributes
    ----------
    distance_m
        Walking distance along the network plus the distance from the road (inf when
        farther than the search radius or off the network).
    checkpoint
        Position of the nearest checkpoint (-1 when none within the search radius).
    reached
        ``distance_m <= reach_m``.
    on_network
        Whether the spot lies within the snapping distance of a road.
    """

    distance_m: FloatArray
    checkpoint: IntArray
    reached: BoolArray
    on_network: BoolArray


def reach_points(distance: CheckpointDistance, snapped: Snapped, reach_m: float) -> Reach:
    """Return which snapped spots lie within ``reach_m`` of an active checkpoint.

    ``distance.limit_m`` must be at least ``reach_m``.
    """
    if not 0 <= reach_m <= distance.limit_m:
        raise ValueError(f"reach_m must be between 0 and the search radius {distance.limit_m}")
    on = snapped.edge >= 0
    along, checkpoint = distance.to(snapped)
    total = along + np.where(on, snapped.distance_m, np.inf)
    return Reach(total, checkpoint, total <= reach_m, on)


def cell_size_for(area_m2: float, max_cells: int = MAX_AREA_CELLS) -> float:
    """Return the sample cell size (metres, a multiple of 5, at least 40) for an area.

    Examples
    --------
    >>> cell_size_for(3.5e6), cell_size_for(1.4e8), cell_size_for(1e9)
    (40.0, 85.0, 225.0)
    """
    side = np.sqrt(max(area_m2, 0.0) / max_cells)
    return float(max(_FINEST_CELL_M, 5.0 * np.ceil(side / 5.0)))


@dataclass(frozen=True, eq=False)
class UnreachedArea:
    """Unreached land of one grid, sampled on square cells.

    Attributes
    ----------
    geometry
        The unreached part of the grid, EPSG:4326 (empty when all is reached).
    area_m2, unreached_m2
        Area of the grid and of its unreached part, in square metres.
    cell_m
        Side of the sample cells in metres.
    n_cells, n_unreached
        Sample cells, and how many of them are unreached.
    """

    geometry: shapely.Polygon | shapely.MultiPolygon
    area_m2: float
    unreached_m2: float
    cell_m: float
    n_cells: int
    n_unreached: int

    @property
    def share(self) -> float:
        """Unreached share of the grid's area (0 for an empty grid)."""
        return self.unreached_m2 / self.area_m2 if self.area_m2 > 0 else 0.0


def unreached_area(
    polygon: shapely.Polygon | shapely.MultiPolygon,
    network: RoadNetwork,
    distance: CheckpointDistance,
    reach_m: float = DEFAULT_REACH_M,
    *,
    cell_m: float | None = None,
    snap_m: float = DEFAULT_ADDRESS_SNAP_M,
) -> UnreachedArea:
    """Return the part of ``polygon`` (EPSG:4326) farther than ``reach_m`` from a checkpoint.

    See the module's rules. ``cell_m`` defaults to :func:`cell_size_for` the polygon's
    area.
    """
    proj = network.projection
    shape_xy = shapely.make_valid(proj.geometries_to_xy([polygon])[0])
    area_m2 = float(shapely.area(shape_xy))
    side = cell_size_for(area_m2) if cell_m is None else float(cell_m)
    if not side > 0:
        raise ValueError(f"cell_m must be > 0, got {cell_m}")
    x, y = _cells_touching(shape_xy, side)
    empty = shapely.Polygon()
    if len(x) == 0:
        return UnreachedArea(empty, area_m2, 0.0, side, 0, 0)
    lon, lat = proj.xy_to_lonlat(x, y)
    reach = reach_points(distance, network.snap(lon, lat, snap_m), reach_m)
    far = ~reach.reached
    if not far.any():
        return UnreachedArea(empty, area_m2, 0.0, side, len(x), 0)
    half = side / 2
    boxes = shapely.box(x[far] - half, y[far] - half, x[far] + half, y[far] + half)
    clipped = shapely.intersection(shapely.coverage_union_all(boxes), shape_xy)
    parts = shapely.get_parts(clipped)
    kinds = shapely.get_type_id(parts)
    parts = parts[np.isin(kinds, [shapely.GeometryType.POLYGON])]
    merged = shapely.multipolygons(parts) if len(parts) != 1 else parts[0]
    unreached_m2 = float(shapely.area(merged))
    out = proj.geometries_to_lonlat([merged])[0]
    return UnreachedArea(out, area_m2, unreached_m2, side, len(x), int(far.sum()))


def _cells_touching(shape_xy: shapely.Geometry, side: float) -> tuple[FloatArray, FloatArray]:
    """Return the centres of the lattice cells (side ``side``) that meet the shape."""
    if shapely.is_empty(shape_xy):
        return np.empty(0), np.empty(0)
    x0, y0, x1, y1 = shapely.bounds(shape_xy)
    xs = np.arange(np.floor(x0 / side), np.ceil(x1 / side)) * side + side / 2
    ys = np.arange(np.floor(y0 / side), np.ceil(y1 / side)) * side + side / 2
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    grown = shapely.buffer(shape_xy, side * 0.7072, quad_segs=2)  # half the diagonal
    shapely.prepare(grown)
    near = shapely.contains_xy(grown, gx, gy)
    return gx[near], gy[near]


def lonlat_to_cells(lon: npt.ArrayLike, lat: npt.ArrayLike, resolution: int) -> npt.NDArray:
    """Return the H3 cell (string) of each point, computing each distinct point once.

    Examples
    --------
    >>> lonlat_to_cells([120.5, 120.5], [27.6, 27.6], 9).tolist()
    ['8941b2801afffff', '8941b2801afffff']
    """
    xy = np.column_stack([np.asarray(lon, float).reshape(-1), np.asarray(lat, float).reshape(-1)])
    if len(xy) == 0:
        return np.empty(0, dtype=object)
    uniq, inverse = np.unique(xy, axis=0, return_inverse=True)
    cells = np.array([h3.latlng_to_cell(y, x, resolution) for x, y in uniq], dtype=object)
    return cells[inverse.reshape(-1)]


def summarise_cells(cells: npt.ArrayLike, reached: npt.ArrayLike) -> pd.DataFrame:
    """Count spots and unreached spots per cell.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell``, ``addresses``, ``unreached``, sorted by cell.
    """
    ids = np.asarray(cells, dtype=object).reshape(-1)
    far = ~np.asarray(reached, dtype=bool).reshape(-1)
    if len(ids) == 0:
        return pd.DataFrame({"cell": ids, "addresses": [], "unreached": []}).astype(
            {"addresses": np.int64, "unreached": np.int64}
        )
    unique, which = np.unique(ids.astype(str), return_inverse=True)
    return pd.DataFrame(
        {
            "cell": unique.astype(object),
            "addresses": np.bincount(which).astype(np.int64),
            "unreached": np.bincount(which, weights=far).astype(np.int64),
        }
    )


def cells_to_geodataframe(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return the cell table with each cell's hexagon as geometry (EPSG:4326)."""
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in frame["cell"]]
    geometry = shapely.polygons(rings) if rings else np.empty(0, dtype=object)
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=geometry, crs="EPSG:4326")
