"""Road topology: node ids for edge endpoints, geodesic lengths and travel costs.

The loader stores what these functions return in the ``roads`` table (``source``,
``target``, ``length_m``, ``cost``, ``reverse_cost``), so pgRouting in the database and
:class:`geogrid.spatial.roads.network.RoadNetwork` in memory route on the same graph.

Conventions
-----------
- Node ids start at 1 and are numbered in order of first appearance when the edges are
  read in order, start point before end point (the order of pgRouting's
  ``pgr_createTopology``). The same input always gives the same ids.
- Lengths are geodesic, on the WGS 84 ellipsoid (``pyproj.Geod``, GeographicLib): the
  same number PostGIS gives for ``ST_Length(geom::geography)``.
- Costs are travel times in seconds in pgRouting's convention: ``cost`` along the
  geometry's direction, ``reverse_cost`` against it, and ``-1`` for a direction in
  which the edge may not be driven (one-way roads).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geogrid.errors import IngestError
from geogrid.road_classes import DEFAULT_SPEED_KMH, ROAD_CLASSES
from geogrid.spatial._geometry import line_array
from geogrid.spatial._projection import metres_per_degree

__all__ = [
    "DEFAULT_SPEED_KMH",
    "ROAD_CLASSES",
    "RoadTopology",
    "edge_costs",
    "geodesic_length_m",
    "oneway_flags",
    "road_topology",
    "snap_line_endpoints",
    "speeds_from_classes",
]

_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True, eq=False)
class RoadTopology:
    """Node ids of every edge's endpoints, and where the nodes are.

    Attributes
    ----------
    source, target
        Node id of each edge's first and last point (ids start at 1).
    node_lon, node_lat
        Coordinates (EPSG:4326) of node ``i + 1`` at position ``i``: the first endpoint
        that met the node, unmoved.
    n_moved
        How many distinct endpoint positions were merged into a node at another position
        (0 when the data is perfectly noded).
    """

    source: npt.NDArray[np.int64]
    target: npt.NDArray[np.int64]
    node_lon: npt.NDArray[np.float64]
    node_lat: npt.NDArray[np.float64]
    n_moved: int = 0

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_lon)


def _endpoint_coordinates(lines: npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
    """Return the endpoints interleaved: start 0, end 0, start 1, end 1, ... as (2n, 2)."""
    coords = shapely.get_coordinates(lines)
    counts = shapely.get_num_coordinates(lines)
    last = np.cumsum(counts) - 1
    first = last - counts + 1
    out = np.empty((2 * len(lines), 2))
    out[0::2] = coords[first]
    out[1::2] = coords[last]
    return out


def road_topology(geoms: npt.ArrayLike, tolerance_m: float = 0.5) -> RoadTopology:
    """Assign node ids to the endpoints of road edges.

    Endpoints at identical coordinates share a node; so do endpoints at most
    ``tolerance_m`` apart (measured in a local Transverse Mercator projection), and
    chains of such endpoints. Distances for the tolerance use the local scale of the
    ellipsoid at the data's mean latitude (exact to 0.1 % across a county). Interior
    vertices are ignored: edges must already be noded.

    Parameters
    ----------
    geoms
        LineStrings in EPSG:4326 (lon, lat), one per edge.
    tolerance_m
        Endpoints this close (metres) become one node; 0 joins identical points only.

    Returns
    -------
    RoadTopology
        Source and target node ids (from 1, in order of first appearance) and node
        coordinates.

    Examples
    --------
    The second edge ends 5 cm from the first edge's start:

    >>> from shapely import LineString
    >>> lines = [
    ...     LineString([(120.0, 28.0), (120.001, 28.0)]),
    ...     LineString([(120.001, 28.0), (120.0000005, 28.0)]),
    ... ]
    >>> topo = road_topology(lines, tolerance_m=0.5)
    >>> topo.source.tolist(), topo.target.tolist(), topo.n_moved
    ([1, 2], [2, 1], 1)
    >>> road_topology(lines, tolerance_m=0.01).target.tolist()
    [2, 3]
    """
    if not tolerance_m >= 0:
        raise ValueError(f"tolerance_m must be >= 0, got {tolerance_m}")
    lines = line_array(geoms)
    n = len(lines)
    if n == 0:
        empty_i = np.empty(0, dtype=np.int64)
        return RoadTopology(empty_i, empty_i.copy(), np.empty(0), np.empty(0), 0)

    ends = _endpoint_coordinates(lines)
    # Identical coordinates first: cheap, and by far the most common case.
    keys = np.ascontiguousarray(ends).view(np.complex128).ravel()
    _, first_at, exact = np.unique(keys, return_index=True, return_inverse=True)
    n_unique = len(first_at)
    cluster = np.arange(n_unique)
    if tolerance_m > 0 and n_unique > 1:
        uniq = ends[first_at]
        lat0 = float(np.mean(uniq[:, 1]))
        x_per_deg, y_per_deg = metres_per_degree(lat0)
        xy = np.column_stack(
            [(uniq[:, 0] - uniq[0, 0]) * x_per_deg, (uniq[:, 1] - lat0) * y_per_deg]
        )
        tree = cKDTree(xy, balanced_tree=False, compact_nodes=False)
        pairs = tree.query_pairs(tolerance_m, output_type="ndarray")
        if len(pairs):
            adjacency = coo_array(
                (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n_unique, n_unique)
            )
            _, cluster = connected_components(adjacency, directed=False)
    label = cluster[exact]  # cluster of every endpoint, in endpoint order
    # Number clusters by the first endpoint that reaches them.
    _, first_endpoint = np.unique(label, return_index=True)
    order = np.argsort(first_endpoint, kind="stable")
    node_of_cluster = np.empty(len(order), dtype=np.int64)
    node_of_cluster[order] = np.arange(1, len(order) + 1)
    node = node_of_cluster[label]
    node_xy = ends[np.sort(first_endpoint)]
    return RoadTopology(
        source=node[0::2].copy(),
        target=node[1::2].copy(),
        node_lon=node_xy[:, 0].copy(),
        node_lat=node_xy[:, 1].copy(),
        n_moved=int(n_unique - len(order)),
    )


def snap_line_endpoints(geoms: npt.ArrayLike, topology: RoadTopology) -> npt.NDArray[np.object_]:
    """Return copies of the lines with their endpoints moved onto their nodes.

    Useful after :func:`road_topology` with a tolerance, so that stored geometries meet
    exactly where the topology says they do.

    Examples
    --------
    >>> from shapely import LineString
    >>> lines = [LineString([(0, 0), (1, 0)]), LineString([(1.0000001, 0), (2, 0)])]
    >>> topo = road_topology(lines, tolerance_m=1.0)
    >>> snap_line_endpoints(lines, topo)[1].coords[0]
    (1.0, 0.0)
    """
    lines = line_array(geoms)
    if len(lines) == 0:
        return lines.copy()
    coords = shapely.get_coordinates(lines)
    counts = shapely.get_num_coordinates(lines)
    last = np.cumsum(counts) - 1
    first = last - counts + 1
    coords[first, 0] = topology.node_lon[topology.source - 1]
    coords[first, 1] = topology.node_lat[topology.source - 1]
    coords[last, 0] = topology.node_lon[topology.target - 1]
    coords[last, 1] = topology.node_lat[topology.target - 1]
    return np.asarray(shapely.set_coordinates(shapely.transform(lines, lambda c: c), coords))


def geodesic_length_m(geoms: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return the geodesic length of each line on the WGS 84 ellipsoid, in metres.

    Equals PostGIS ``ST_Length(geom::geography)`` to well under a millimetre.

    Parameters
    ----------
    geoms
        LineStrings in EPSG:4326 (lon, lat). Empty or missing geometries measure 0.

    Examples
    --------
    >>> from shapely import LineString
    >>> geodesic_length_m([LineString([(120.0, 28.0), (120.0, 28.001)])]).round(3).tolist()
    [110.819]
    """
    arr = np.asarray(geoms, dtype=object).reshape(-1)
    out = np.zeros(len(arr))
    if len(arr) == 0:
        return out
    coords, index = shapely.get_coordinates(arr, return_index=True)
    if len(coords) < 2:
        return out
    same = index[1:] == index[:-1]
    a = coords[:-1][same]
    b = coords[1:][same]
    _, _, seg = _GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1], return_back_azimuth=False)
    np.add.at(out, index[1:][same], seg)
    return out


def speeds_from_classes(
    road_class: npt.ArrayLike, speed_kmh: npt.ArrayLike | None = None
) -> npt.NDArray[np.float64]:
    """Return each road's speed: ``speed_kmh`` where given, else its class default.

    Raises
    ------
    IngestError
        A road has no speed and a class outside :data:`ROAD_CLASSES`, or a speed that is
        not positive.

    Examples
    --------
    >>> speeds_from_classes(["trunk", "service"], [None, 25]).tolist()
    [60.0, 25.0]
    """
    classes = pd.Series(np.asarray(road_class, dtype=object).reshape(-1), dtype=object)
    if speed_kmh is None:
        given = pd.Series(np.nan, index=classes.index)
    else:
        given = pd.to_numeric(
            pd.Series(np.asarray(speed_kmh, dtype=object).reshape(-1)), errors="coerce"
        )
        if len(given) != len(classes):
            raise ValueError("road_class and speed_kmh must have the same length")
    default = classes.map(DEFAULT_SPEED_KMH).astype(float)
    speed = given.where(given.notna(), default).to_numpy(dtype=float)
    unknown = np.flatnonzero(np.isnan(speed))
    if unknown.size:
        row = int(unknown[0])
        raise IngestError(
            f"road has no speed and an unknown class {classes.iloc[row]!r}; "
            f"expected one of {', '.join(ROAD_CLASSES)}",
            row=row,
            column="road_class",
        )
    bad = np.flatnonzero(speed <= 0)
    if bad.size:
        raise IngestError(
            f"speed must be positive, got {speed[bad[0]]}", row=int(bad[0]), column="speed_kmh"
        )
    return speed


def edge_costs(
    lengths_m: npt.ArrayLike, speeds_kmh: npt.ArrayLike, oneway: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return travel times in pgRouting's convention: ``(cost_s, reverse_cost_s)``.

    ``cost_s`` is the time to drive the edge in its geometry's direction;
    ``reverse_cost_s`` the time against it, or ``-1`` when the edge is one-way.

    Parameters
    ----------
    lengths_m
        Edge lengths in metres (see :func:`geodesic_length_m`).
    speeds_kmh
        Positive speeds in km/h (see :func:`speeds_from_classes`).
    oneway
        True (or 1) where the edge may only be driven in its geometry's direction;
        missing values count as two-way.

    Examples
    --------
    >>> cost, reverse = edge_costs([1000.0, 500.0], [60.0, 30.0], [False, True])
    >>> cost.tolist(), reverse.tolist()
    ([60.0, 60.0], [60.0, -1.0])
    """
    length = np.asarray(lengths_m, dtype=float).reshape(-1)
    speed = np.asarray(speeds_kmh, dtype=float).reshape(-1)
    one = oneway_flags(oneway)
    if not len(length) == len(speed) == len(one):
        raise ValueError("lengths_m, speeds_kmh and oneway must have the same length")
    if np.any(~(speed > 0)):
        raise ValueError("speeds_kmh must be positive")
    cost = length * 3.6 / speed
    return cost, np.where(one, -1.0, cost)


def oneway_flags(oneway: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Return one-way flags as booleans; missing values are two-way.

    Raises
    ------
    IngestError
        A value other than true/false, 1/0 or missing (OSM's ``-1`` must be turned into a
        reversed geometry before loading).
    """
    values = pd.Series(np.asarray(oneway, dtype=object).reshape(-1), dtype=object)
    numeric = pd.to_numeric(values.map(_bool_to_int), errors="coerce")
    bad = np.flatnonzero(values.notna().to_numpy() & ~numeric.isin([0, 1]).to_numpy())
    if bad.size:
        raise IngestError(
            f"oneway must be true/false or 1/0, got {values.iloc[bad[0]]!r}",
            row=int(bad[0]),
            column="oneway",
        )
    return numeric.fillna(0).to_numpy(dtype=float) == 1


def _bool_to_int(value: object) -> object:
    if isinstance(value, bool | np.bool_):
        return int(value)
    return value
