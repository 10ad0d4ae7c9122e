"""Compare RoadNetwork with pgRouting on the same synthetic roads: answers and speed.

Loads a street lattice (``grid_roads``) with the columns ``roads_with_topology`` gives
into a scratch table ``network_bench_roads`` of the database at ``--dsn`` (PostGIS and
pgRouting must be installed there; the table is dropped afterwards), then for the same
node ids runs:

- ``pgr_dijkstraCost`` 1 -> 400, 1 -> 1,000 and 400 x 5 (travel time) against
  ``RoadNetwork.cost_matrix``;
- ``pgr_drivingDistance`` 2 km (length) against ``RoadNetwork.service_area``;

and prints the largest relative difference and the median time per call of each side.

Usage::

    python benchmarks/network_vs_pgrouting.py --dsn "host=/tmp/sock port=5432 user=postgres"
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psycopg
import shapely

from geogrid.spatial.roads.network import RoadNetwork
from geogrid.spatial.roads.routable import roads_with_topology
from geogrid.spatial.roads.synthetic import grid_roads

TABLE = "network_bench_roads"
EDGES_TIME = f"SELECT id, source, target, cost, reverse_cost FROM {TABLE}"
EDGES_LENGTH = (
    f"SELECT id, source, target, length_m AS cost, "
    f"CASE WHEN reverse_cost < 0 THEN -1 ELSE length_m END AS reverse_cost FROM {TABLE}"
)


def median_ms(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3, result


def load(conn: psycopg.Connection, roads: Any) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(
        f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, source bigint, target bigint, "
        "cost double precision, reverse_cost double precision, length_m double precision, "
        "geom geometry(LineString, 4326))"
    )
    wkb = shapely.to_wkb(roads.geometry.to_numpy(), hex=True)
    with conn.cursor().copy(
        f"COPY {TABLE} (id, source, target, cost, reverse_cost, length_m, geom) FROM STDIN"
    ) as copy:
        for i, row in enumerate(roads.itertuples()):
            copy.write_row(
                (i + 1, row.source, row.target, row.cost, row.reverse_cost, row.length_m, wkb[i])
            )
    conn.execute(f"ANALYZE {TABLE}")


def pg_matrix(conn: psycopg.Connection, origins, destinations) -> np.ndarray:
    rows = conn.execute(
        "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost(%s, %s::bigint[], "
        "%s::bigint[], directed := true)",
        (EDGES_TIME, [int(o) for o in origins], [int(d) for d in destinations]),
    ).fetchall()
    out = np.full((len(origins), len(destinations)), np.inf)
    o_pos = {int(v): i for i, v in enumerate(origins)}
    d_pos = {int(v): j for j, v in enumerate(destinations)}
    for start, end, cost in rows:
        out[o_pos[start], d_pos[end]] = cost
    for i, o in enumerate(origins):
        for j, d in enumerate(destinations):
            if o == d:
                out[i, j] = 0.0
    return out


def pg_driving(conn: psycopg.Connection, start: int, distance_m: float) -> dict[int, float]:
    rows = conn.execute(
        "SELECT node, agg_cost FROM pgr_drivingDistance(%s, %s::bigint, %s, directed := true)",
        (EDGES_LENGTH, start, distance_m),
    ).fetchall()
    return {int(node): float(cost) for node, cost in rows}


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    if not np.array_equal(np.isinf(a), np.isinf(b)):
        return float("inf")
    finite = np.isfinite(a)
    if not finite.any():
        return 0.0
    return float(np.max(np.abs(a[finite] - b[finite]) / np.maximum(np.abs(b[finite]), 1e-12)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--size", type=int, default=134)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    roads = roads_with_topology(grid_roads(args.size, args.size, seed=1))
    net = RoadNetwork.from_geodataframe(roads)
    print(f"{net.n_nodes} nodes, {net.n_edges} edges")
    rng = np.random.default_rng(0)
    nodes = rng.choice(net.node_ids, 1406, replace=False)
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        load(conn, roads)
        try:
            cases = [
                ("1 -> 400", nodes[:1], nodes[1:401]),
                ("1 -> 1,000", nodes[:1], nodes[1:1001]),
                ("400 x 5", nodes[1001:1401], nodes[1401:1406]),
            ]
            for label, origins, destinations in cases:
                t_pg, pg = median_ms(lambda o=origins, d=destinations: pg_matrix(conn, o, d), 3)
                t_net, mine = median_ms(
                    lambda o=origins, d=destinations: net.cost_matrix(o, d), args.repeat
                )
                print(
                    f"matrix {label:<11} pgRouting {t_pg:8.1f} ms  RoadNetwork {t_net:7.2f} ms"
                    f"  x{t_pg / t_net:5.0f}  max rel diff {rel_diff(mine, pg):.1e}"
                )
            start = int(nodes[0])
            t_pg, pg_nodes = median_ms(lambda: pg_driving(conn, start, 2000.0), 3)
            t_net, area = median_ms(
                lambda: net.service_area([start], 2000.0, weight="length"), args.repeat
            )
            mine = dict(zip(area.node_ids.tolist(), area.node_cost.tolist(), strict=True))
            same = set(mine) == set(pg_nodes)
            worst = max(abs(mine[n] - pg_nodes[n]) / max(pg_nodes[n], 1e-12) for n in mine)
            print(
                f"service area 2 km    pgRouting {t_pg:8.1f} ms  RoadNetwork {t_net:7.2f} ms"
                f"  x{t_pg / t_net:5.0f}  same nodes {same}, max rel diff {worst:.1e}"
            )
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")


if __name__ == "__main__":
    main()
