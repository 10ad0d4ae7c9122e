"""Service areas: the roads reachable within a time or distance of a set of origins.

One Dijkstra run, bounded by the budget, gives the cost to every reached node; each edge
is then reached from its start for ``(budget - cost_at_start) / edge_cost`` of its length
(if open in that direction), from its end likewise, and around any origin snapped onto
it. The answer is a set of edge *pieces* (fractions of edges); their geometry, and a
polygon around them, are built only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from shapely import MultiPolygon, Polygon

from geogrid.spatial._geometry import substrings
from geogrid.spatial.roads import engine
from geogrid.spatial.roads.graph import Place, RoadGraph

__all__ = ["DEFAULT_BUFFER_M", "ServiceArea", "service_area"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DEFAULT_BUFFER_M = 30.0
"""Width each side of the reached roads in :meth:`ServiceArea.polygon`: a roadside plot."""


@dataclass(frozen=True, eq=False)
class ServiceArea:
    """What a set of origins reaches within ``max_cost``.

    Attributes
    ----------
    weight, max_cost
        The budget: seconds for ``"time"``, metres for ``"length"``.
    node_ids, node_cost
        Reached nodes and the cheapest cost to each.
    node_origin
        For each reached node, the position of the origin that reaches it cheapest.
    edge, fraction_from, fraction_to
        Reached pieces: edge position and the stretch ``fraction_from <= fraction_to``
        of it (0 at its first vertex). An edge reached from both ends but not in the
        middle gives two pieces.
    network
        The network the area was computed on (its geometry is cut on demand).
    """

    weight: str
    max_cost: float
    node_ids: IntArray
    node_cost: FloatArray
    node_origin: IntArray
    edge: IntArray
    fraction_from: FloatArray
    fraction_to: FloatArray
    network: RoadGraph = field(repr=False)

    @property
    def full(self) -> npt.NDArray[np.bool_]:
        """Whether each piece is its whole edge."""
        return (self.fraction_from <= 0) & (self.fraction_to >= 1)

    def lines(self) -> gpd.GeoDataFrame:
        """Return the reached pieces as lines (EPSG:4326).

        Columns: ``edge`` (position), ``code``, ``fraction_from``, ``fraction_to``,
        ``full``, ``length_m`` (length of the piece) and ``geometry``.
        """
        net = self.network
        geometry = net.lines[self.edge].copy()
        part = np.flatnonzero(~self.full)
        if len(part):
            cut = substrings(
                net.lines_xy[self.edge[part]], self.fraction_from[part], self.fraction_to[part]
            )
            geometry[part] = net.projection.geometries_to_lonlat(cut)
        return gpd.GeoDataFrame(
            {
                "edge": self.edge,
                "code": net.code[self.edge],
                "fraction_from": self.fraction_from,
                "fraction_to": self.fraction_to,
                "full": self.full,
                "length_m": (self.fraction_to - self.fraction_from) * net.length_m[self.edge],
            },
            geometry=geometry,
            crs="EPSG:4326",
        )

    def polygon(self, buffer_m: float = DEFAULT_BUFFER_M) -> Polygon | MultiPolygon:
        """Return the area within ``buffer_m`` metres of the reached pieces (EPSG:4326).

        The buffer is computed in the network's local metric projection, so the width is
        true metres; an empty area gives an empty Polygon.
        """
        if len(self.edge) == 0:
            return Polygon()
        net = self.network
        pieces = substrings(net.lines_xy[self.edge], self.fraction_from, self.fraction_to)
        area = shapely.buffer(shapely.multilinestrings(pieces), buffer_m, quad_segs=4)
        out = net.projection.geometries_to_lonlat([area])[0]
        assert isinstance(out, Polygon | MultiPolygon)
        return out


def service_area(
    network: RoadGraph, origins: Place, max_cost: float, weight: str = "time"
) -> ServiceArea:
    """Return everything reachable from any origin within ``max_cost``.

    Parameters
    ----------
    network
        The road network.
    origins
        Node ids or snapped points.
    max_cost
        Budget in seconds (``weight="time"``) or metres (``weight="length"``).
    weight
        ``"time"`` or ``"length"``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> from geogrid.spatial.roads.network import RoadNetwork
    >>> roads = gpd.GeoDataFrame(
    ...     {"road_class": ["residential"], "oneway": [False]},
    ...     geometry=[LineString([(120.0, 28.0), (120.01, 28.0)])], crs=4326)
    >>> net = RoadNetwork.from_geodataframe(roads)
    >>> area = net.service_area([1], 300.0, weight="length")
    >>> area.fraction_to.round(3).tolist(), area.lines().length_m.round(1).tolist()
    ([0.305], [300.0])
    """
    if not max_cost >= 0:
        raise ValueError(f"max_cost must be >= 0, got {max_cost}")
    graph = network.weighted(weight)
    locs = network.locations(origins)
    seeds = network.ports(locs, graph, True)
    dist, _, src = engine.search(graph, seeds, len(locs), limit=max_cost, min_only=True)
    assert src is not None
    edge, start, end = _reached_pieces(network, graph, dist, max_cost, locs)
    reached = np.flatnonzero(np.isfinite(dist))
    return ServiceArea(
        weight=weight,
        max_cost=float(max_cost),
        node_ids=network.node_ids[reached],
        node_cost=dist[reached],
        node_origin=src[reached],
        edge=edge,
        fraction_from=start,
        fraction_to=end,
        network=network,
    )


def _reach(budget: FloatArray, cost: FloatArray) -> FloatArray:
    """Return the fraction of an edge a budget covers (``-1`` when it cannot enter)."""
    out = np.full(len(cost), -1.0)
    ok = np.isfinite(budget) & np.isfinite(cost) & (budget >= 0)
    share = np.divide(budget[ok], cost[ok], out=np.ones(ok.sum()), where=cost[ok] > 0)
    out[ok] = np.minimum(share, 1.0)
    return out


def _reached_pieces(
    network: RoadGraph,
    graph: engine.WeightedGraph,
    dist: FloatArray,
    max_cost: float,
    locs: engine.Locations,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Return ``(edge, start, end)`` of every reached stretch, sorted by edge."""
    on_edge = (locs.node < 0) & (locs.edge >= 0)
    special = np.unique(locs.edge[on_edge])  # edges holding an origin
    candidates = np.setdiff1d(
        network.edges_at(np.flatnonzero(np.isfinite(dist))), special, assume_unique=True
    )
    a = _reach(max_cost - dist[network.source_index[candidates]], graph.along[candidates])
    b = _reach(max_cost - dist[network.target_index[candidates]], graph.against[candidates])
    full = (a >= 1) | (b >= 1) | ((a >= 0) & (b >= 0) & (a + b >= 1))
    head = ~full & (a > 0)  # reached from the start only, forward
    tail = ~full & (b > 0)  # reached from the end only, backward
    edges = [candidates[full], candidates[head], candidates[tail]]
    starts = [np.zeros(full.sum()), np.zeros(head.sum()), 1 - b[tail]]
    ends = [np.ones(full.sum()), a[head], np.ones(tail.sum())]
    for e in special:  # merge by hand: ends reached from nodes, and around each origin
        one = np.array([e])
        a_e = _reach(max_cost - dist[network.source_index[one]], graph.along[one])[0]
        b_e = _reach(max_cost - dist[network.target_index[one]], graph.against[one])[0]
        ahead = max(_reach(np.array([max_cost]), graph.along[one])[0], 0.0)
        behind = max(_reach(np.array([max_cost]), graph.against[one])[0], 0.0)
        spans = [(0.0, a_e)] if a_e > 0 else []
        if b_e > 0:
            spans.append((1 - b_e, 1.0))
        for f in locs.fraction[on_edge & (locs.edge == e)]:
            spans.append((max(0.0, f - behind), min(1.0, f + ahead)))
        for lo, hi in _merge(spans):
            if hi > lo:
                edges.append(one)
                starts.append(np.array([lo]))
                ends.append(np.array([hi]))
    edge = np.concatenate(edges).astype(np.int64)
    start = np.concatenate(starts).astype(float)
    end = np.concatenate(ends).astype(float)
    order = np.lexsort((start, edge))
    return edge[order], start[order], end[order]


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merge overlapping or touching closed intervals."""
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
