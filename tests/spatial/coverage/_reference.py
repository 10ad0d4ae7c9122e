"""An independent reference for walking distances: networkx on the network's own edges."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from geogrid.spatial.roads.network import RoadNetwork
from geogrid.spatial.roads.routable import roads_with_topology
from geogrid.spatial.roads.synthetic import grid_roads


def lattice(n: int = 8, spacing_m: float = 100.0, seed: int = 5) -> gpd.GeoDataFrame:
    """A small street lattice with the routing columns."""
    return roads_with_topology(grid_roads(n, n, spacing_m=spacing_m, oneway=0.3, seed=seed))


def walk_graph(net: RoadNetwork, points: dict[int, list[tuple[object, float]]]) -> nx.MultiGraph:
    """Return the undirected network with named points inserted at (edge, fraction)."""
    graph = nx.MultiGraph()
    graph.add_nodes_from(int(v) for v in net.node_ids)
    for e in range(net.n_edges):
        u, v, length = int(net.source[e]), int(net.target[e]), float(net.length_m[e])
        named = sorted(points.get(e, []), key=lambda p: p[1])
        chain = [(u, 0.0), *named, (v, 1.0)]
        for (a, fa), (b, fb) in itertools.pairwise(chain):
            graph.add_edge(a, b, w=(fb - fa) * length)
    return graph


def place(points: dict, name: object, edge: int, fraction: float) -> None:
    points.setdefault(int(edge), []).append((name, float(fraction)))


def distances_from(graph: nx.MultiGraph, source: object, cutoff: float) -> dict:
    return nx.single_source_dijkstra_path_length(graph, source, cutoff=cutoff, weight="w")


def metric_polygon(net: RoadNetwork, polygon_xy: shapely.Geometry) -> shapely.Geometry:
    """Return a polygon drawn in the network's metric frame, in EPSG:4326."""
    return net.projection.geometries_to_lonlat([polygon_xy])[0]


def centre_xy(net: RoadNetwork) -> tuple[float, float]:
    return float(np.mean(net.node_x)), float(np.mean(net.node_y))
