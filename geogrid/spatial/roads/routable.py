"""Routable roads: the columns pgRouting and the in-memory road graph both read.

The loader calls :func:`roads_with_topology` and stores its output in the ``roads``
table; :meth:`geogrid.spatial.roads.graph.RoadGraph.from_geodataframe` calls it too and
keeps whatever columns the frame already has, so the database copy and the in-memory
network are built from the same numbers.

Profiles
--------
One load serves two ways of moving (:data:`PROFILES`); the ``car`` and ``foot`` columns
say which may use an edge (missing: cars use every class but ``path``, walkers every
edge).

``car``
    Edges with ``car`` true, along their geometry, and against it unless ``oneway``.
    Travel time from ``speed_kmh`` (or the class's default). These are the stored
    ``cost``/``reverse_cost`` (pgRouting's columns; both ``-1`` on an edge closed to cars).
``foot``
    Edges with ``foot`` true, both ways whatever ``oneway`` says, at
    :data:`WALKING_SPEED_KMH`.
"""

from __future__ import annotations

from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj

from geogrid.errors import IngestError, UnknownCRSError
from geogrid.spatial._geometry import line_array
from geogrid.spatial.roads.topology import (
    edge_costs,
    geodesic_length_m,
    oneway_flags,
    road_topology,
    speeds_from_classes,
)

__all__ = [
    "PROFILES",
    "WALKING_SPEED_KMH",
    "Profile",
    "car_costs",
    "profile_costs",
    "profile_flags",
    "require_wgs84",
    "roads_with_topology",
]

Profile = Literal["car", "foot"]
PROFILES: tuple[Profile, ...] = get_args(Profile)
"""The ways of moving a road network can be built for (see the module's notes)."""

WALKING_SPEED_KMH = 5.0
"""Walking pace of the ``foot`` profile."""

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def require_wgs84(frame: gpd.GeoDataFrame, what: str = "roads") -> None:
    """Refuse a frame whose CRS is not EPSG:4326 (WGS 84, either axis order).

    Raises
    ------
    UnknownCRSError
        The frame has no CRS or another one.
    """
    crs = frame.crs
    if crs is None or not pyproj.CRS.from_user_input(crs).equals(
        "EPSG:4326", ignore_axis_order=True
    ):
        name = "no CRS" if crs is None else crs.to_string()
        raise UnknownCRSError(
            f"{what} must be in EPSG:4326 (WGS 84), got {name}; reproject with "
            "to_crs(4326) or declare the CRS first",
            details={"crs": None if crs is None else crs.to_string(), "expected": "EPSG:4326"},
        )


def roads_with_topology(roads: gpd.GeoDataFrame, *, tolerance_m: float = 0.5) -> gpd.GeoDataFrame:
    """Return a copy of the roads with the columns routing needs.

    The columns are ``source``, ``target``, ``length_m``, ``cost`` and ``reverse_cost``.

    Columns already present are kept as they are; missing ones are computed:

    - ``source``/``target``: :func:`~geogrid.spatial.roads.topology.road_topology` with
      ``tolerance_m`` (node ids from 1);
    - ``length_m``: :func:`~geogrid.spatial.roads.topology.geodesic_length_m`;
    - ``cost``/``reverse_cost``: travel time in seconds from ``speed_kmh`` (or the
      ``road_class`` default) and ``oneway``, with ``reverse_cost = -1`` for one-way
      roads (:func:`~geogrid.spatial.roads.topology.edge_costs`).

    Parameters
    ----------
    roads
        LineStrings in EPSG:4326 with ``road_class``, ``speed_kmh`` and ``oneway`` (any
        may be missing when ``cost``/``reverse_cost`` are given).
    tolerance_m
        Endpoints this close share a node.

    Raises
    ------
    UnknownCRSError
        The frame is not in EPSG:4326.
    InvalidGeometryError
        A geometry is not a non-empty LineString.
    IngestError
        ``source``/``target`` incomplete, or a road without speed or known class.

    Examples
    --------
    >>> from shapely import LineString
    >>> roads = gpd.GeoDataFrame(
    ...     {"road_class": ["primary"], "speed_kmh": [None], "oneway": [True]},
    ...     geometry=[LineString([(120.0, 28.0), (120.0, 28.01)])], crs=4326)
    >>> out = roads_with_topology(roads)
    >>> out[["source", "target", "length_m", "cost", "reverse_cost"]].round(1).values.tolist()
    [[1.0, 2.0, 1108.2, 79.8, -1.0]]
    """
    require_wgs84(roads)
    out = roads.copy()
    lines = line_array(out.geometry.to_numpy())
    if ("source" in out) != ("target" in out):
        raise IngestError("roads have only one of source/target; give both or neither")
    if "source" in out:
        for column in ("source", "target"):
            values = out[column]
            if values.isna().any():
                raise IngestError(
                    "node id missing", row=int(np.flatnonzero(values.isna())[0]), column=column
                )
            out[column] = values.astype("int64")
    else:
        topology = road_topology(lines, tolerance_m=tolerance_m)
        out["source"] = topology.source
        out["target"] = topology.target
    if "length_m" not in out:
        out["length_m"] = geodesic_length_m(lines)
    if not ("cost" in out and "reverse_cost" in out):
        n = len(out)
        classes = out["road_class"].to_numpy() if "road_class" in out else np.full(n, None)
        given = out["speed_kmh"].to_numpy() if "speed_kmh" in out else None
        oneway = out["oneway"].to_numpy() if "oneway" in out else np.zeros(n, bool)
        speed = speeds_from_classes(classes, given)
        car, _ = profile_flags(out)
        out["cost"], out["reverse_cost"] = car_costs(out["length_m"].to_numpy(), speed, oneway, car)
    return out


def profile_flags(roads: pd.DataFrame) -> tuple[BoolArray, BoolArray]:
    """Return which edges the ``car`` and the ``foot`` profile may use.

    The frame's ``car`` and ``foot`` columns where given; a missing column or value means
    every class but ``path`` for cars and every edge for walkers.

    Examples
    --------
    >>> frame = pd.DataFrame({"road_class": ["primary", "path", "service"],
    ...                       "car": [None, None, False]})
    >>> [flags.tolist() for flags in profile_flags(frame)]
    [[True, False, False], [True, True, True]]
    """
    n = len(roads)
    classes = roads["road_class"] if "road_class" in roads else pd.Series([None] * n)
    default_car = (classes.to_numpy(object) != "path").astype(bool)
    car = _flags(roads["car"], "car") if "car" in roads else np.full(n, None, dtype=object)
    foot = _flags(roads["foot"], "foot") if "foot" in roads else np.full(n, None, dtype=object)
    car_b = np.where(pd.isna(car), default_car, car).astype(bool)
    foot_b = np.where(pd.isna(foot), True, foot).astype(bool)
    return car_b, foot_b


def _flags(values: pd.Series, column: str) -> npt.NDArray[np.object_]:
    """Return True/False/None per value (True/False, 1/0 or missing)."""
    raw = values.to_numpy(object)
    known = ~pd.isna(raw)
    out = np.full(len(raw), None, dtype=object)
    if known.any():
        try:
            out[known] = oneway_flags(raw[known])
        except IngestError as exc:
            raise IngestError(str(exc).replace("oneway", column), column=column) from exc
    return out


def car_costs(
    lengths_m: npt.ArrayLike, speeds_kmh: npt.ArrayLike, oneway: npt.ArrayLike, car: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Return the car profile's ``(cost, reverse_cost)`` in seconds, pgRouting's way.

    As :func:`~geogrid.spatial.roads.topology.edge_costs`, and both ``-1`` where ``car`` is false.

    Examples
    --------
    >>> cost, reverse = car_costs([1000.0, 500.0], [60.0, 30.0], [True, False], [True, False])
    >>> cost.tolist(), reverse.tolist()
    ([60.0, -1.0], [-1.0, -1.0])
    """
    cost, reverse = edge_costs(lengths_m, speeds_kmh, oneway)
    closed = ~np.asarray(car, dtype=bool).reshape(-1)
    return np.where(closed, -1.0, cost), np.where(closed, -1.0, reverse)


def profile_costs(roads: pd.DataFrame, profile: str) -> tuple[FloatArray, FloatArray]:
    """Return ``(cost, reverse_cost)`` in seconds of a profile, negative where closed.

    ``roads`` is the output of :func:`roads_with_topology`: ``car`` reads its ``cost``
    and ``reverse_cost`` (closed where ``car`` is false), ``foot`` walks ``length_m``
    at :data:`WALKING_SPEED_KMH` both ways where ``foot`` is true.

    Raises
    ------
    ValueError
        An unknown profile.

    Examples
    --------
    >>> frame = pd.DataFrame({"road_class": ["primary", "path"], "length_m": [500.0, 50.0],
    ...     "cost": [30.0, -1.0], "reverse_cost": [-1.0, -1.0], "car": [True, False]})
    >>> [c.tolist() for c in profile_costs(frame, "car")]
    [[30.0, -1.0], [-1.0, -1.0]]
    >>> [c.tolist() for c in profile_costs(frame, "foot")]
    [[360.0, 36.0], [360.0, 36.0]]
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    car, foot = profile_flags(roads)
    if profile == "car":
        cost = roads["cost"].to_numpy(float)
        reverse = roads["reverse_cost"].to_numpy(float)
        return np.where(car, cost, -1.0), np.where(car, reverse, -1.0)
    walk = roads["length_m"].to_numpy(float) * 3.6 / WALKING_SPEED_KMH
    cost = np.where(foot, walk, -1.0)
    return cost, cost.copy()
