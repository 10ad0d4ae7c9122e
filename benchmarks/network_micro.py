"""Micro-benchmarks of the in-memory road network (issue 4 targets).

Builds a synthetic street lattice (``geogrid.spatial.roads.synthetic.grid_roads``) of
about 34 k edges, or reads a roads file (GeoPackage etc. in EPSG:4326) given with
``--roads``, and prints the median and best time per call of:

- topology (node ids) and the whole network build;
- snapping 1,000 points;
- a 1 -> 1,000 and a 400 x 5 travel-time matrix between snapped points;
- a 2 km (length) and a 5 min (time) service area from one snapped point, and the
  time to turn it into lines and into a polygon;
- one shortest path with its geometry.

Targets: matrices and service areas at least 10x faster than pgRouting per call
(pgRouting measured ~27 ms for 1 -> 400 and ~20 ms for a 2 km driving distance).

Usage::

    python benchmarks/network_micro.py [--size 134] [--repeat 15] [--roads roads.gpkg]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import geopandas as gpd
import numpy as np
from scipy.sparse.csgraph import dijkstra

from geogrid.spatial.roads.network import RoadNetwork
from geogrid.spatial.roads.synthetic import grid_roads
from geogrid.spatial.roads.topology import road_topology


def timed(label: str, call: Callable[[], object], repeat: int) -> None:
    call()  # warm up (lazy trees, caches)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    median, best = statistics.median(samples) * 1e3, min(samples) * 1e3
    print(f"{label:<44} median {median:9.3f} ms   best {best:9.3f} ms")


def engines(net: RoadNetwork, repeat: int) -> None:
    """Time one-to-all Dijkstra in scipy and in igraph/rustworkx when installed."""
    graph = net.weighted("time")
    timed("scipy csgraph dijkstra, one to all", lambda: dijkstra(graph.csr, indices=[0]), repeat)
    coo = graph.csr.tocoo()
    try:
        import igraph

        g = igraph.Graph(n=net.n_nodes, edges=np.column_stack([coo.row, coo.col]), directed=True)
        weights = coo.data.tolist()
        timed("igraph distances, one to all", lambda: g.distances(0, weights=weights), repeat)
    except ImportError:
        print("igraph not installed: skipped")
    try:
        import rustworkx

        rg = rustworkx.PyDiGraph()
        rg.add_nodes_from(range(net.n_nodes))
        rg.add_edges_from(
            list(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
        )
        timed(
            "rustworkx dijkstra, one to all",
            lambda: rustworkx.dijkstra_shortest_path_lengths(rg, 0, float),
            repeat,
        )
    except ImportError:
        print("rustworkx not installed: skipped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=134, help="junctions per lattice side")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--roads", help="roads file in EPSG:4326 instead of the lattice")
    args = parser.parse_args()
    roads = gpd.read_file(args.roads) if args.roads else grid_roads(args.size, args.size, seed=1)
    repeat = args.repeat

    geoms = roads.geometry.to_numpy()
    timed(f"road_topology, {len(geoms)} edges", lambda: road_topology(geoms), 3)
    start = time.perf_counter()
    net = RoadNetwork.from_geodataframe(roads)
    build = time.perf_counter() - start
    print(
        f"network: {net.n_nodes} nodes, {net.n_edges} edges, "
        f"~{net.memory_bytes / 1e6:.1f} MB, built in {build * 1e3:.0f} ms"
    )

    rng = np.random.default_rng(0)
    west, south, east, north = roads.total_bounds
    lon, lat = rng.uniform(west, east, 1000), rng.uniform(south, north, 1000)
    timed("snap 1,000 points", lambda: net.snap(lon, lat), repeat)
    points = net.snap(lon, lat)
    origin = points[0]
    timed("cost_matrix 1 -> 1,000 (snapped, time)", lambda: net.cost_matrix(origin, points), repeat)
    timed(
        "cost_matrix 1 -> 400 (nodes, time)",
        lambda: net.cost_matrix(net.node_ids[:1], net.node_ids[:400]),
        repeat,
    )
    timed(
        "cost_matrix 400 x 5 (snapped, time)",
        lambda: net.cost_matrix(points[:400], points[400:405]),
        repeat,
    )
    timed(
        "cost_matrix 5 x 400 (snapped, time)",
        lambda: net.cost_matrix(points[400:405], points[:400]),
        repeat,
    )
    timed(
        "service_area 2 km (length)",
        lambda: net.service_area(origin, 2000.0, weight="length"),
        repeat,
    )
    timed(
        "service_area 2 km (length) from a node",
        lambda: net.service_area(net.node_ids[:1], 2000.0, weight="length"),
        repeat,
    )
    timed("service_area 5 min (time)", lambda: net.service_area(origin, 300.0), repeat)
    area = net.service_area(origin, 2000.0, weight="length")
    print(f"  2 km area: {len(area.node_ids)} nodes, {len(area.edge)} pieces")
    timed("  .lines() GeoDataFrame", area.lines, repeat)
    timed("  .polygon(30 m)", area.polygon, repeat)
    timed("shortest_path with geometry", lambda: net.shortest_path(points[1], points[2]), repeat)
    engines(net, repeat)


if __name__ == "__main__":
    main()
