"""Shared steps of the coverage analysis: checks, projection, checkpoints, frames (private)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geogrid.errors import InvalidRequestError
from geogrid.spatial.coverage._inputs import points_to_lonlat, polygons_of, require_columns
from geogrid.spatial.coverage.entries import Entries, find_entries
from geogrid.spatial.coverage.guard import (
    CheckpointDistance,
    Checkpoints,
    Guard,
    checkpoint_distance,
    checkpoints_from_geodataframe,
    guard_entries,
)
from geogrid.spatial.roads.network import RoadNetwork
from geogrid.spatial.roads.routable import profile_flags
from geogrid.spatial.roads.topology import ROAD_CLASSES, oneway_flags

__all__ = [
    "Context",
    "Settings",
    "codes_at",
    "entries_frame",
    "grid_polygons",
    "prepare",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Settings:
    """The distances of one analysis (see :func:`~geogrid.spatial.coverage.analyse_coverage`)."""

    tolerance_m: float
    reach_m: float
    boundary_tolerance_m: float
    checkpoint_snap_m: float
    address_snap_m: float

    def __post_init__(self) -> None:
        for name in ("tolerance_m", "reach_m", "checkpoint_snap_m", "address_snap_m"):
            if not getattr(self, name) >= 0:
                raise InvalidRequestError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.boundary_tolerance_m > 0:
            raise InvalidRequestError("boundary_tolerance_m must be > 0")

    @property
    def search_m(self) -> float:
        """Radius of the one search from the checkpoints that answers every question."""
        return max(self.tolerance_m, self.reach_m)


@dataclass(frozen=True, eq=False)
class Context:
    """Everything the analysis of a set of grids shares."""

    settings: Settings
    network: RoadNetwork
    roads: gpd.GeoDataFrame
    checkpoints_frame: gpd.GeoDataFrame
    checkpoints: Checkpoints
    distance: CheckpointDistance
    addresses: gpd.GeoDataFrame
    address_lon: FloatArray
    address_lat: FloatArray

    def find(self, polygons: npt.NDArray[np.object_]) -> tuple[Entries, Guard]:
        """Return the entries of each polygon (EPSG:4326) and whether they are guarded."""
        net = self.network
        xy = net.projection.geometries_to_xy(polygons)
        rank = _road_rank(net, self.roads)
        forward, backward = entry_directions(net, self.roads)
        entries = find_entries(
            xy,
            net.lines_xy,
            net.source_index,
            net.target_index,
            forward,
            backward,
            tolerance_m=self.settings.boundary_tolerance_m,
            rank=rank,
            tree=net.edge_tree,
        )
        return entries, guard_entries(net, entries, self.distance, self.settings.tolerance_m)


def entry_directions(network: RoadNetwork, roads: gpd.GeoDataFrame) -> tuple[BoolArray, BoolArray]:
    """Return whether each edge can be taken along and against its geometry into a grid.

    Ways in are counted as vehicles drive them, whatever the network's profile: a road
    open to cars keeps its one-way direction; an edge only walkers may use (a footway) is
    a way in both ways; an edge closed to both is none.
    """
    if network.profile == "car":
        return network.cost_s >= 0, network.reverse_cost_s >= 0
    car, foot = profile_flags(roads)
    oneway = oneway_flags(roads["oneway"]) if "oneway" in roads else np.zeros(len(roads), bool)
    walk_only = foot & ~car
    return car | walk_only, (car & ~oneway) | walk_only


_RANKS: weakref.WeakKeyDictionary[RoadNetwork, tuple[int, FloatArray | None]] = (
    weakref.WeakKeyDictionary()
)


def _road_rank(network: RoadNetwork, roads: gpd.GeoDataFrame) -> FloatArray | None:
    """Return each edge's class position in ``ROAD_CLASSES`` (cached per network and frame)."""
    cached = _RANKS.get(network)
    if cached is not None and cached[0] == id(roads):
        return cached[1]
    rank = None
    if "road_class" in roads:
        found = pd.Index(ROAD_CLASSES).get_indexer(roads["road_class"].to_numpy(object))
        rank = np.where(found < 0, len(ROAD_CLASSES), found).astype(float)
    _RANKS[network] = (id(roads), rank)
    return rank


def prepare(
    polygons: npt.NDArray[np.object_],
    roads: gpd.GeoDataFrame,
    checkpoints: gpd.GeoDataFrame,
    addresses: gpd.GeoDataFrame,
    network: RoadNetwork | None,
    settings: Settings,
) -> Context:
    """Check the inputs, build (or check) the network and search from the checkpoints.

    Only checkpoints and addresses near the polygons (EPSG:4326) are kept: checkpoints
    within the search radius of their bounding box, addresses inside the box.
    """
    require_columns(roads, (), "roads")
    require_columns(checkpoints, ("code", "status"), "checkpoints")
    require_columns(addresses, ("code",), "addresses")
    net = network if network is not None else RoadNetwork.from_geodataframe(roads, profile="foot")
    if net.n_edges != len(roads):
        raise InvalidRequestError(
            f"the network has {net.n_edges} edges but the roads frame {len(roads)} rows; "
            "pass the frame the network was built from"
        )
    box_xy = shapely.box(*shapely.total_bounds(net.projection.geometries_to_xy(polygons)))
    margin = settings.search_m + settings.checkpoint_snap_m
    near = _in_box(checkpoints, net.projection.geometries_to_lonlat([box_xy.buffer(margin)])[0])
    cp_frame = checkpoints.iloc[near].reset_index(drop=True)
    cps = checkpoints_from_geodataframe(cp_frame, net, settings.checkpoint_snap_m)
    keep = _in_box(addresses, shapely.box(*shapely.total_bounds(polygons)))
    a_frame = addresses.iloc[keep].reset_index(drop=True)
    a_lon, a_lat = points_to_lonlat(a_frame.geometry.to_numpy(), "addresses")
    return Context(
        settings=settings,
        network=net,
        roads=roads,
        checkpoints_frame=cp_frame,
        checkpoints=cps,
        distance=checkpoint_distance(net, cps, settings.search_m),
        addresses=a_frame,
        address_lon=a_lon,
        address_lat=a_lat,
    )


def _in_box(frame: gpd.GeoDataFrame, area: shapely.Geometry) -> IntArray:
    """Return the rows whose geometry's box meets ``area``'s box, sorted.

    Uses the frame's spatial index, which geopandas keeps with the frame, so a caller
    that passes the same frame again pays for it once.
    """
    if len(frame) == 0:
        return np.empty(0, np.int64)
    rows = frame.geometry.values.sindex.query(shapely.envelope(area))
    return np.sort(rows).astype(np.int64)


def grid_polygons(frame: gpd.GeoDataFrame, what: str) -> npt.NDArray[np.object_]:
    """Return a grid frame's (Multi)Polygons after checking its CRS and ``code``."""
    require_columns(frame, ("code",), what)
    return polygons_of(frame, what)


def entries_frame(
    ctx: Context, entries: Entries, guard: Guard, grid_codes: npt.ArrayLike
) -> gpd.GeoDataFrame:
    """Return entries as points (EPSG:4326) with their road, direction and guard."""
    roads = ctx.roads
    e = entries.edge
    n = len(entries)

    def column(name: str, default: object) -> npt.NDArray[np.object_] | pd.Series:
        if name in roads:
            return roads[name].to_numpy()[e]
        return np.full(n, default, dtype=object)

    lon, lat = ctx.network.projection.xy_to_lonlat(entries.x, entries.y)
    codes = ctx.checkpoints.code
    frame = pd.DataFrame(
        {
            "grid_code": np.asarray(grid_codes, dtype=object)[entries.grid],
            "road_code": ctx.network.code[e],
            "road_name": column("name", None),
            "road_class": column("road_class", None),
            "bridge": pd.Series(column("bridge", False)).fillna(False).astype(bool).to_numpy(),
            "direction": entries.direction,
            "way_in": entries.way_in,
            "open_end": entries.open_end,
            "guarded": guard.guarded,
            "checkpoint_code": codes_at(codes, guard.checkpoint),
            "checkpoint_distance_m": np.where(
                np.isfinite(guard.distance_m), guard.distance_m, np.nan
            ),
            "edge": e,
            "fraction": entries.fraction,
        }
    )
    if "id" in roads:
        frame.insert(2, "road_id", roads["id"].to_numpy()[e])
    return gpd.GeoDataFrame(frame, geometry=shapely.points(lon, lat), crs="EPSG:4326")


def codes_at(codes: npt.NDArray[np.object_], index: IntArray) -> npt.NDArray[np.object_]:
    """Return ``codes[index]``, None where ``index`` is -1."""
    out = np.full(len(index), None, dtype=object)
    ok = index >= 0
    out[ok] = codes[index[ok]]
    return out
