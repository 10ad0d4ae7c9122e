"""Routable roads: the columns pgRouting and :class:`RoadNetwork` both read.

The loader calls :func:`roads_with_topology` and stores its output in the ``roads``
table; :meth:`geogrid.spatial.network.RoadNetwork.from_geodataframe` calls it too and
keeps whatever columns the frame already has, so the database copy and the in-memory
network are built from the same numbers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj

from geogrid.errors import IngestError, UnknownCRSError
from geogrid.spatial._geometry import line_array
from geogrid.spatial.topology import (
    edge_costs,
    geodesic_length_m,
    road_topology,
    speeds_from_classes,
)

__all__ = ["require_wgs84", "roads_with_topology"]


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

    - ``source``/``target``: :func:`~geogrid.spatial.topology.road_topology` with
      ``tolerance_m`` (node ids from 1);
    - ``length_m``: :func:`~geogrid.spatial.topology.geodesic_length_m`;
    - ``cost``/``reverse_cost``: travel time in seconds from ``speed_kmh`` (or the
      ``road_class`` default) and ``oneway``, with ``reverse_cost = -1`` for one-way
      roads (:func:`~geogrid.spatial.topology.edge_costs`).

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
    [[1.0, 2.0, 1108.2, 66.5, -1.0]]
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
        out["cost"], out["reverse_cost"] = edge_costs(out["length_m"].to_numpy(), speed, oneway)
    return out
