"""Walking distances on a road network: lengths in metres, both ways (private).

Coverage measures distance on the edges the network's profile may use, the same either
way: on the ``foot`` network (the default of the coverage analysis) that is the profile's
own rule; on a ``car`` network one-way streets count both ways too (a patrol walks them).
Edges closed to the profile are left out. The graph is built once per network and kept
while the network lives.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geogrid.spatial.roads import engine
from geogrid.spatial.roads.network import RoadNetwork, Snapped

__all__ = ["NearestSite", "nearest_site", "walk_graph"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_GRAPHS: weakref.WeakKeyDictionary[RoadNetwork, engine.WeightedGraph] = weakref.WeakKeyDictionary()


def walk_graph(network: RoadNetwork) -> engine.WeightedGraph:
    """Return the undirected length graph of ``network`` (cached per network)."""
    graph = _GRAPHS.get(network)
    if graph is None:
        usable = (network.cost_s >= 0) | (network.reverse_cost_s >= 0)
        length = np.where(usable, network.length_m, np.inf)
        graph = engine.WeightedGraph.build(
            network.source_index, network.target_index, length, length, network.n_nodes
        )
        _GRAPHS[network] = graph
    return graph


@dataclass(frozen=True, eq=False)
class NearestSite:
    """The nearest of a set of sites from every node, by walking distance.

    Attributes
    ----------
    limit_m
        Search radius; farther nodes have ``node_m == inf`` and ``node_site == -1``.
    node_m
        Distance from each node (internal index) to its nearest site.
    node_site
        Position of that site among the sites searched from.
    """

    network: RoadNetwork
    sites: engine.Locations
    limit_m: float
    node_m: FloatArray
    node_site: IntArray

    def to(self, places: Snapped) -> tuple[FloatArray, IntArray]:
        """Return the distance from each place to its nearest site, and that site.

        Places farther than ``limit_m`` (or not snapped) get ``inf`` and ``-1``.
        """
        graph = walk_graph(self.network)
        locs = self.network.locations(places)
        k = len(locs)
        best = np.full(k, np.inf)
        site = np.full(k, -1, np.int64)
        ports = self.network.ports(locs, graph, False)
        cost = self.node_m[ports.node] + ports.cost
        _keep_min(best, site, ports.loc, cost, self.node_site[ports.node])
        i, j, direct = engine.direct_costs(self.sites, locs, graph)
        _keep_min(best, site, j, direct, i)
        far = ~(best <= self.limit_m)
        best[far], site[far] = np.inf, -1
        return best, site


def _keep_min(
    best: FloatArray, site: IntArray, loc: IntArray, cost: FloatArray, which: IntArray
) -> None:
    """Lower ``best[loc]`` to ``cost`` (and set ``site[loc]``) where it is smaller, in place."""
    if len(loc) == 0:
        return
    order = np.lexsort((which, cost, loc))
    loc, cost, which = loc[order], cost[order], which[order]
    first = np.ones(len(loc), bool)
    first[1:] = loc[1:] != loc[:-1]
    loc, cost, which = loc[first], cost[first], which[first]
    better = cost < best[loc]
    best[loc[better]] = cost[better]
    site[loc[better]] = which[better]


def nearest_site(network: RoadNetwork, sites: Snapped, limit_m: float) -> NearestSite:
    """Search from all ``sites`` at once and keep the nearest one at every node.

    Parameters
    ----------
    network
        The road network.
    sites
        Snapped points (unsnapped ones are ignored).
    limit_m
        Search radius in metres.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> roads = gpd.GeoDataFrame({"road_class": ["service"], "oneway": [True]}, crs=4326,
    ...     geometry=[LineString([(120.0, 28.0), (120.01, 28.0)])])
    >>> net = RoadNetwork.from_geodataframe(roads)
    >>> near = nearest_site(net, net.snapped_from_fractions([0], [0.5]), 1000.0)
    >>> dist, site = near.to(net.snapped_from_fractions([0, 0], [0.1, 0.55]))
    >>> dist.round(1).tolist(), site.tolist()
    ([393.4, 49.2], [0, 0])
    """
    graph = walk_graph(network)
    locs = network.locations(sites)
    seeds = network.ports(locs, graph, True)
    dist, _, src = engine.search(graph, seeds, len(locs), limit=limit_m, min_only=True)
    assert src is not None
    return NearestSite(network, locs, float(limit_m), dist, src)
