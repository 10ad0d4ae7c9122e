"""The road network in memory: cost matrices, shortest paths and service areas.

A :class:`RoadNetwork` is a :class:`~geogrid.spatial.roads.graph.RoadGraph` (built once
from the roads, see :func:`geogrid.spatial.roads.routable.roads_with_topology`, and cached
by the caller) that also answers the routing questions: :meth:`~RoadNetwork.cost_matrix`,
:meth:`~RoadNetwork.shortest_path` and :meth:`~RoadNetwork.service_area`.

Points snapped onto roads (:meth:`~geogrid.spatial.roads.graph.RoadGraph.snap`) act as
virtual nodes that split their edge: the cost from a point at ``fraction`` of an edge to
its end is ``(1 - fraction) * cost``, and a route may start or end part-way along an edge.
A snapped point within :data:`~geogrid.spatial.roads.graph.NODE_TOLERANCE_M` (1 mm) of a
node *is* that node, whatever edge it snapped to.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from geogrid.spatial.roads import engine
from geogrid.spatial.roads.graph import NODE_TOLERANCE_M, Place, RoadGraph, Snapped, Weight
from geogrid.spatial.roads.routes import Route, shortest_path
from geogrid.spatial.roads.servicearea import ServiceArea, service_area

__all__ = ["NODE_TOLERANCE_M", "Place", "RoadNetwork", "Snapped", "Weight"]

FloatArray = npt.NDArray[np.float64]


class RoadNetwork(RoadGraph):
    """A road graph that answers cost matrices, shortest paths and service areas.

    Built like :class:`~geogrid.spatial.roads.graph.RoadGraph` (the same parameters, or
    :meth:`from_geodataframe`) and frozen like it.

    Examples
    --------
    Two streets in a row, the second one-way towards the east:

    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> roads = gpd.GeoDataFrame(
    ...     {"code": ["a", "b"], "road_class": ["residential", "residential"],
    ...      "speed_kmh": [36.0, 36.0], "oneway": [False, True]},
    ...     geometry=[LineString([(120.0, 28.0), (120.001, 28.0)]),
    ...               LineString([(120.001, 28.0), (120.002, 28.0)])],
    ...     crs=4326,
    ... )
    >>> net = RoadNetwork.from_geodataframe(roads)
    >>> net.n_nodes, net.n_edges
    (3, 2)
    >>> net.cost_matrix([1], [3], weight="length").round(1).tolist()
    [[196.7]]
    >>> net.cost_matrix([3], [1]).tolist()
    [[inf]]
    >>> mid = net.snap([120.0005], [28.0001])
    >>> route = net.shortest_path(mid, 3)
    >>> round(route.length_m, 1), route.nodes.tolist()
    (147.5, [2, 3])

    A street and a footway that shortens the walk, by profile:

    >>> roads = gpd.GeoDataFrame(
    ...     {"road_class": ["residential", "residential", "path"]}, crs=4326,
    ...     geometry=[LineString([(120.0, 28.0), (120.0, 28.002)]),
    ...               LineString([(120.0, 28.002), (120.002, 28.002)]),
    ...               LineString([(120.0, 28.0), (120.002, 28.002)])])
    >>> car = RoadNetwork.from_geodataframe(roads)
    >>> foot = RoadNetwork.from_geodataframe(roads, profile="foot")
    >>> [round(float(n.cost_matrix([1], [3], weight="length")[0, 0])) for n in (car, foot)]
    [418, 296]
    """

    def cost_matrix(
        self,
        origins: Place,
        destinations: Place,
        weight: Weight = "time",
        max_cost: float | None = None,
    ) -> FloatArray:
        """Return the cheapest cost from every origin to every destination.

        Parameters
        ----------
        origins, destinations
            Node ids, or snapped points (:meth:`snap`).
        weight
            ``"time"`` (seconds) or ``"length"`` (metres).
        max_cost
            Costs above this are reported as inf; bounding the search makes it faster.

        Returns
        -------
        numpy.ndarray
            ``(len(origins), len(destinations))`` costs, inf where unreachable.
        """
        graph = self.weighted(weight)
        o, d = self.locations(origins), self.locations(destinations)
        limit = np.inf if max_cost is None else float(max_cost)
        if len(o) == 0 or len(d) == 0:
            return np.full((len(o), len(d)), np.inf)
        if len(d) < len(o):  # fewer searches: go backward from the destinations
            dist, _, _ = engine.search(
                graph, self.ports(d, graph, False), len(d), reverse=True, limit=limit
            )
            out = np.ascontiguousarray(engine.finish(dist, self.ports(o, graph, True), len(o)).T)
        else:
            dist, _, _ = engine.search(graph, self.ports(o, graph, True), len(o), limit=limit)
            out = engine.finish(dist, self.ports(d, graph, False), len(d))
        i, j, direct = engine.direct_costs(o, d, graph)
        out[i, j] = np.minimum(out[i, j], direct)
        out[out > limit] = np.inf
        return out

    def shortest_path(self, origin: Place, destination: Place, weight: Weight = "time") -> Route:
        """Return the cheapest route from ``origin`` to ``destination``.

        See :func:`geogrid.spatial.roads.routes.shortest_path`.
        """
        return shortest_path(self, origin, destination, weight)

    def service_area(self, origins: Place, max_cost: float, weight: Weight = "time") -> ServiceArea:
        """Return everything reachable within ``max_cost`` of any origin.

        See :func:`geogrid.spatial.roads.servicearea.service_area`.
        """
        return service_area(self, origins, max_cost, weight)
