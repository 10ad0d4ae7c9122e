"""Shortest paths on a :class:`~geogrid.spatial.roads.graph.RoadGraph`, with their geometry.

A route is a list of *pieces*: ``(edge, from_fraction, to_fraction)``, driven from the
first fraction to the second (``1 -> 0`` is the edge driven against its geometry). The
first and last pieces may be partial when the route starts or ends at a snapped point.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely import LineString

from geogrid.spatial._geometry import substrings
from geogrid.spatial.roads import engine
from geogrid.spatial.roads.graph import Place, RoadGraph

__all__ = ["Route", "shortest_path"]

IntArray = npt.NDArray[np.int64]
Piece = tuple[int, float, float]


@dataclass(frozen=True, eq=False)
class Route:
    """The cheapest route between two places.

    Attributes
    ----------
    cost
        Total cost in the weight's unit (seconds or metres); inf when unreachable.
    time_s, length_m
        Travel time and length of this route (both, whichever weight chose it).
    nodes
        Node ids passed, in order (empty when the route stays on one edge).
    edges
        Edge positions driven, in order, including partly driven first and last ones.
    geometry
        The route as a LineString in EPSG:4326, cut at snapped points; None when
        unreachable. A route from a place to itself is a zero-length line.
    """

    cost: float
    time_s: float
    length_m: float
    nodes: IntArray
    edges: IntArray
    geometry: LineString | None

    @property
    def reachable(self) -> bool:
        """Whether the destination can be reached."""
        return bool(np.isfinite(self.cost))


def shortest_path(
    network: RoadGraph, origin: Place, destination: Place, weight: str = "time"
) -> Route:
    """Return the cheapest route from ``origin`` to ``destination``.

    Parameters
    ----------
    network
        The road network.
    origin, destination
        One node id, or one snapped point (a :class:`~geogrid.spatial.roads.network.Snapped`
        of length 1).
    weight
        ``"time"`` or ``"length"``: what the route minimises.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> from geogrid.spatial.roads.network import RoadNetwork
    >>> roads = gpd.GeoDataFrame({"road_class": ["service"] * 2}, crs=4326, geometry=[
    ...     LineString([(120.0, 28.0), (120.001, 28.0)]),
    ...     LineString([(120.001, 28.0), (120.001, 28.001)])])
    >>> net = RoadNetwork.from_geodataframe(roads)
    >>> route = net.shortest_path(net.snapped_from_fractions([0], [0.5]), 3, weight="length")
    >>> route.nodes.tolist(), route.edges.tolist(), len(route.geometry.coords)
    ([2, 3], [0, 1], 3)
    """
    graph = network.weighted(weight)
    o, d = network.locations(origin), network.locations(destination)
    if len(o) != 1 or len(d) != 1:
        raise ValueError("shortest_path takes one origin and one destination")
    seeds = network.ports(o, graph, True)
    dist, pred, _ = engine.search(graph, seeds, 1, predecessors=True)
    best_cost, best_node, last = np.inf, -1, None
    for node, cost, piece in _end_options(network, d, graph, leaving=False):
        total = dist[0, node] + cost
        if total < best_cost:
            best_cost, best_node, last = total, node, piece
    _, _, direct = engine.direct_costs(o, d, graph)
    if len(direct) and direct[0] <= best_cost:
        pieces = [(int(o.edge[0]), float(o.fraction[0]), float(d.fraction[0]))]
        return _route(network, float(direct[0]), np.empty(0, np.int64), pieces, o)
    if not np.isfinite(best_cost):
        empty = np.empty(0, np.int64)
        return Route(np.inf, np.inf, np.inf, empty, empty.copy(), None)
    assert pred is not None
    path = [best_node]
    while 0 <= pred[0, path[-1]] < network.n_nodes:
        path.append(int(pred[0, path[-1]]))
    path.reverse()
    pieces = []
    starts = [(c, p) for n, c, p in _end_options(network, o, graph, leaving=True) if n == path[0]]
    first = min(starts, key=lambda option: option[0])[1] if starts else None
    if first is not None:
        pieces.append(first)
    for a, b in itertools.pairwise(path):
        e, along = graph.entry(a, b)
        pieces.append((e, 0.0, 1.0) if along else (e, 1.0, 0.0))
    if last is not None:
        pieces.append(last)
    return _route(network, float(best_cost), network.node_ids[np.asarray(path)], pieces, o)


def _end_options(
    network: RoadGraph, locs: engine.Locations, graph: engine.WeightedGraph, leaving: bool
) -> list[tuple[int, float, Piece | None]]:
    """Return ``(node, cost, piece)`` ways to leave (or reach) the single location."""
    if locs.node[0] >= 0:
        return [(int(locs.node[0]), 0.0, None)]
    e, f = int(locs.edge[0]), float(locs.fraction[0])
    if e < 0:
        return []
    u, v = int(network.source_index[e]), int(network.target_index[e])
    one = np.array([e])
    ahead = float(engine.part(np.array([1 - f]), graph.along[one])[0])
    behind = float(engine.part(np.array([f]), graph.against[one])[0])
    options: list[tuple[int, float, Piece | None]]
    if leaving:
        options = [(v, ahead, (e, f, 1.0)), (u, behind, (e, f, 0.0))]
    else:  # arriving forward from the start, or backward from the end
        to_f = float(engine.part(np.array([f]), graph.along[one])[0])
        from_end = float(engine.part(np.array([1 - f]), graph.against[one])[0])
        options = [(u, to_f, (e, 0.0, f)), (v, from_end, (e, 1.0, f))]
    return [(n, c, p) for n, c, p in options if np.isfinite(c)]


def _route(
    network: RoadGraph,
    cost: float,
    nodes: IntArray,
    pieces: list[Piece],
    origin: engine.Locations,
) -> Route:
    """Measure the pieces in both weights and join their geometry."""
    edge = np.array([p[0] for p in pieces], dtype=np.int64)
    start = np.array([p[1] for p in pieces], dtype=float)
    end = np.array([p[2] for p in pieces], dtype=float)
    step = end - start
    totals = []
    for graph in (network.weighted("time"), network.weighted("length")):
        forward = engine.part(np.maximum(step, 0.0), graph.along[edge])
        backward = engine.part(np.maximum(-step, 0.0), graph.against[edge])
        per = np.where(step > 0, forward, np.where(step < 0, backward, 0.0))
        totals.append(float(np.sum(per)))
    coords = shapely.get_coordinates(substrings(network.lines_xy[edge], start, end))
    if len(coords):
        keep = np.ones(len(coords), bool)
        keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)
        coords = coords[keep]
    else:  # from a node to itself
        node = int(origin.node[0])
        coords = np.array([[network.node_x[node], network.node_y[node]]])
    if len(coords) == 1:
        coords = np.repeat(coords, 2, axis=0)
    lon, lat = network.projection.xy_to_lonlat(coords[:, 0], coords[:, 1])
    line = LineString(np.column_stack([lon, lat]))
    return Route(cost, totals[0], totals[1], nodes, edge[step != 0], line)
