"""Checkpoint coverage benchmark: the road network, its matrices, gap analysis, covering.

Prints, in one run:

- network build (topology, then ``RoadNetwork``) time and memory;
- a 1 -> 1,000 and a 400 x 5 travel-time matrix and a 2 km (length) service area,
  against networkx on the same directed graph (and against pgRouting with
  ``--database-url``, through ``benchmarks/network_vs_pgrouting.py``);
- gap analysis (``analyse_coverage``) of the Aojiang town ``330326-101`` with its
  villages (target: under 2 s), the table of every village of the county in one pass
  (``coverage_table``) and one ``analyse_coverage`` per village (target: under 30 s
  in total);
- covering: candidate generation and HiGHS (``scipy.optimize.milp``) solve times for
  the town and for every village's open ways in at once; spopt's LSCP/MCLP (PuLP and
  CBC) on the town's problem for comparison, when spopt is installed.

Times are medians of ``--repeat`` warm runs, wall clock and CPU (the CPU figure is the
one to trust on a busy machine).

Usage::

    python benchmarks/coverage.py [--gpkg geodata/pingyang-demo.gpkg.zip] [--synthetic]
        [--repeat 5] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from geogrid.spatial.coverage import (  # noqa: E402
    analyse_coverage,
    coverage_table,
    covering_from_network,
    grid_entries,
    plan_checkpoints,
    solve_lscp,
    solve_mclp,
)
from geogrid.spatial.roads.network import RoadNetwork  # noqa: E402
from geogrid.spatial.roads.routable import roads_with_topology  # noqa: E402
from geogrid.spatial.roads.synthetic import grid_roads  # noqa: E402
from geogrid.spatial.testing import voronoi_grids  # noqa: E402

TOWN = "330326-101"
DEFAULT_GPKG = ROOT / "geodata" / "pingyang-demo.gpkg.zip"


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Return the median wall and CPU seconds of ``repeat`` warm calls, and a result."""
    result = call()
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), result


def line(label: str, wall: float, cpu: float, extra: str = "") -> None:
    print(f"  {label:<44} {wall * 1e3:9.1f} ms wall {cpu * 1e3:9.1f} ms cpu  {extra}")


# -- data ----------------------------------------------------------------------------


def load_demo(path: Path) -> dict[str, gpd.GeoDataFrame]:
    inner = f"/vsizip/{path}/{path.name.removesuffix('.zip')}"
    layers = ("grids", "roads", "checkpoints", "addresses")
    return {name: pyogrio.read_dataframe(inner, layer=name) for name in layers}


def synthetic(seed: int = 0) -> dict[str, gpd.GeoDataFrame]:
    """A county-sized stand-in: a 30 k-edge street lattice, nested grids, people."""
    roads = grid_roads(120, 120, spacing_m=200.0, centre=(120.55, 27.62), seed=seed)
    x0, y0, x1, y1 = roads.total_bounds
    grids = voronoi_grids(900, 290, 13, bounds=(x0, y0, x1, y1), seed=seed)
    rng = np.random.default_rng(seed)
    lines = roads.geometry.to_numpy()
    on = shapely.line_interpolate_point(
        lines[rng.integers(0, len(lines), 1500)], rng.uniform(0, 1, 1500), normalized=True
    )
    checkpoints = gpd.GeoDataFrame(
        {
            "code": [f"CP{i:05d}" for i in range(1500)],
            "status": np.where(rng.random(1500) < 0.96, "active", "closed"),
        },
        geometry=on,
        crs=4326,
    )
    near = shapely.line_interpolate_point(
        lines[rng.integers(0, len(lines), 85_000)], rng.uniform(0, 1, 85_000), normalized=True
    )
    xy = shapely.get_coordinates(near) + rng.normal(0, 0.0003, (85_000, 2))
    addresses = gpd.GeoDataFrame(
        {"code": [f"A{i:07d}" for i in range(85_000)]}, geometry=shapely.points(xy), crs=4326
    )
    return {"grids": grids, "roads": roads, "checkpoints": checkpoints, "addresses": addresses}


# -- the network -----------------------------------------------------------------------


def build_network(roads: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, RoadNetwork]:
    print("road network")
    start = time.perf_counter()
    full = roads_with_topology(roads)
    topo = time.perf_counter() - start
    tracemalloc.start()
    start = time.perf_counter()
    net = RoadNetwork.from_geodataframe(full)
    build = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {net.n_nodes:,} nodes, {net.n_edges:,} edges")
    print(f"  topology {topo * 1e3:.0f} ms, RoadNetwork build {build * 1e3:.0f} ms")
    print(
        f"  memory held {net.memory_bytes / 1e6:.1f} MB (RoadNetwork.memory_bytes), "
        f"peak while building {peak / 1e6:.1f} MB (tracemalloc)"
    )
    return full, net


def networkx_graphs(net: RoadNetwork) -> dict[str, nx.DiGraph]:
    graphs = {}
    for weight, along, against in (
        ("time", net.cost_s, net.reverse_cost_s),
        (
            "length",
            np.where(net.cost_s >= 0, net.length_m, -1),
            np.where(net.reverse_cost_s >= 0, net.length_m, -1),
        ),
    ):
        g = nx.DiGraph()
        g.add_nodes_from(net.node_ids.tolist())
        for u, v, a, b in zip(
            net.source.tolist(), net.target.tolist(), along, against, strict=True
        ):
            for x, y, w in ((u, v, a), (v, u, b)):
                if w >= 0 and x != y and (not g.has_edge(x, y) or g[x][y]["w"] > w):
                    g.add_edge(x, y, w=float(w))
        graphs[weight] = g
    return graphs


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    if not np.array_equal(np.isinf(a), np.isinf(b)):
        return float("inf")
    ok = np.isfinite(a)
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-12), initial=0))


def matrices(net: RoadNetwork, full: gpd.GeoDataFrame, repeat: int, dsn: str | None) -> None:
    print("matrices and service area (RoadNetwork vs networkx on the same graph)")
    graphs = networkx_graphs(net)
    rng = np.random.default_rng(0)
    nodes = rng.choice(net.node_ids, 1406, replace=False)
    reverse = graphs["time"].reverse(copy=False)

    def nx_matrix(origins, destinations):
        out = np.full((len(origins), len(destinations)), np.inf)
        if len(origins) <= len(destinations):
            for i, o in enumerate(origins):
                d = nx.single_source_dijkstra_path_length(graphs["time"], int(o), weight="w")
                out[i] = [d.get(int(x), np.inf) for x in destinations]
        else:
            for j, t in enumerate(destinations):
                d = nx.single_source_dijkstra_path_length(reverse, int(t), weight="w")
                out[:, j] = [d.get(int(x), np.inf) for x in origins]
        return out

    cases = [
        ("1 -> 1,000", nodes[:1], nodes[1:1001]),
        ("400 x 5", nodes[1001:1401], nodes[1401:1406]),
    ]
    for label, o, d in cases:
        w, c, mine = timed(lambda o=o, d=d: net.cost_matrix(o, d), repeat)
        w_nx, c_nx, ref = timed(lambda o=o, d=d: nx_matrix(o, d), 1)
        line(f"matrix {label} RoadNetwork", w, c)
        line(
            f"matrix {label} networkx",
            w_nx,
            c_nx,
            f"x{w_nx / w:.0f}, max rel diff {rel_diff(mine, ref):.1e}",
        )
    start = int(nodes[0])
    w, c, area = timed(lambda: net.service_area([start], 2000.0, weight="length"), repeat)
    w_nx, c_nx, ref = timed(
        lambda: nx.single_source_dijkstra_path_length(
            graphs["length"], start, cutoff=2000.0, weight="w"
        ),
        1,
    )
    mine = dict(zip(area.node_ids.tolist(), area.node_cost.tolist(), strict=True))
    worst = max((abs(mine[n] - ref[n]) / max(ref[n], 1e-12) for n in ref if n in mine), default=0.0)
    line("service area 2 km RoadNetwork", w, c, f"{len(mine)} nodes")
    line(
        "service area 2 km networkx",
        w_nx,
        c_nx,
        f"x{w_nx / w:.0f}, same nodes {set(mine) == set(ref)}, max rel diff {worst:.1e}",
    )
    if dsn:
        pgrouting(net, full, nodes, dsn)


def pgrouting(net: RoadNetwork, full: gpd.GeoDataFrame, nodes: np.ndarray, dsn: str) -> None:
    import network_vs_pgrouting as pg
    import psycopg

    print("pgRouting (benchmarks/network_vs_pgrouting.py helpers, same roads)")
    dsn = dsn.replace("postgresql+psycopg://", "postgresql://")  # SQLAlchemy URLs too
    with psycopg.connect(dsn, autocommit=True) as conn:
        pg.load(conn, full)
        try:
            for label, o, d in (
                ("1 -> 1,000", nodes[:1], nodes[1:1001]),
                ("400 x 5", nodes[1001:1401], nodes[1401:1406]),
            ):
                t_pg, ref = pg.median_ms(lambda o=o, d=d: pg.pg_matrix(conn, o, d), 3)
                t_net, mine = pg.median_ms(lambda o=o, d=d: net.cost_matrix(o, d), 5)
                print(
                    f"  matrix {label:<11} pgRouting {t_pg:8.1f} ms  RoadNetwork "
                    f"{t_net:7.2f} ms  max rel diff {pg.rel_diff(mine, ref):.1e}"
                )
            start = int(nodes[0])
            t_pg, _ = pg.median_ms(lambda: pg.pg_driving(conn, start, 2000.0), 3)
            t_net, _ = pg.median_ms(lambda: net.service_area([start], 2000.0, weight="length"), 5)
            print(f"  service area 2 km   pgRouting {t_pg:8.1f} ms  RoadNetwork {t_net:7.2f} ms")
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {pg.TABLE}")


# -- coverage ----------------------------------------------------------------------------


def gaps(
    data: dict[str, gpd.GeoDataFrame], full: gpd.GeoDataFrame, net: RoadNetwork, repeat: int
) -> Any:
    grids, cps, people = data["grids"], data["checkpoints"], data["addresses"]
    town = grids[grids["code"] == TOWN]
    villages = grids[grids["level"] == "village"]
    kids = villages[villages["parent_code"] == TOWN]
    print(
        f"gap analysis ({len(villages)} villages, {len(cps):,} checkpoints, "
        f"{len(people):,} addresses)"
    )
    start = time.perf_counter()
    analyse_coverage(town, full, cps, people, network=net, children=kids)
    print(
        f"  first call, building the caches             {(time.perf_counter() - start) * 1e3:9.1f}"
        " ms wall"
    )
    w, c, result = timed(
        lambda: analyse_coverage(town, full, cps, people, network=net, children=kids), repeat
    )
    s = result.summary()
    line(f"town {TOWN} with {len(kids)} villages", w, c, "target < 2 s")
    print(
        f"    {s['entries']} entries, {s['ways_in']} ways in, {s['guarded']} guarded, "
        f"{s['unguarded']} open; {s['addresses']:,} addresses, "
        f"{s['addresses_unreached']} unreached; {s['area_unreached_share']:.1%} of the "
        f"land unreached ({s['area_cell_m']:.0f} m cells)"
    )
    w, c, table = timed(
        lambda: coverage_table(villages, full, cps, people, network=net), max(1, repeat // 2)
    )
    line(
        f"table of all {len(villages)} villages, one pass",
        w,
        c,
        f"{table['entries'].sum():,} entries, {table['unguarded'].sum():,} open",
    )
    start_w, start_c = time.perf_counter(), time.process_time()
    for i in range(len(villages)):
        analyse_coverage(villages.iloc[[i]], full, cps, people, network=net)
    line(
        f"analyse_coverage per village, all {len(villages)}",
        time.perf_counter() - start_w,
        time.process_time() - start_c,
        "target < 30 s in total",
    )
    return result, villages


def covering(
    result: Any,
    villages: gpd.GeoDataFrame,
    data: dict[str, gpd.GeoDataFrame],
    full: gpd.GeoDataFrame,
    net: RoadNetwork,
    repeat: int,
) -> None:
    print("covering (HiGHS through scipy.optimize.milp)")
    w, c, plan = timed(lambda: plan_checkpoints(result), repeat)
    line(
        "town: plan_checkpoints, fewest sites",
        w,
        c,
        f"{plan.before['ways_in'] - plan.before['guarded']} open -> {len(plan.sites)} "
        f"sites from {plan.n_candidates} candidates, solve "
        f"{plan.solution.solve_s * 1e3:.1f} ms, optimal {plan.solution.optimal}",
    )
    w, c, plan = timed(lambda: plan_checkpoints(result, budget=10, weights="road_class"), repeat)
    line(
        "town: plan_checkpoints, best 10",
        w,
        c,
        f"guarded {plan.before['guarded_share']:.1%} -> {plan.after['guarded_share']:.1%}",
    )
    entries = grid_entries(villages, full, data["checkpoints"], network=net)
    open_ = entries[entries["way_in"] & ~entries["guarded"]]
    targets = net.snapped_from_fractions(open_["edge"].to_numpy(), open_["fraction"].to_numpy())
    w, c, problem = timed(lambda: covering_from_network(net, targets, 50.0), 1)
    line(
        f"county: candidates for {len(open_):,} open ways in",
        w,
        c,
        f"{problem.coverage.shape[1]:,} candidates, {problem.coverage.nnz:,} pairs",
    )
    w, c, lscp = timed(lambda: solve_lscp(problem.coverage), 1)
    line("county: set covering solve", w, c, f"{len(lscp.chosen):,} sites, optimal {lscp.optimal}")
    w, c, mclp = timed(lambda: solve_mclp(problem.coverage, 100), 1)
    line(
        "county: maximal covering solve, 100 sites",
        w,
        c,
        f"{int(mclp.objective):,} guarded, optimal {mclp.optimal}",
    )
    spopt_compare(result)


def spopt_compare(result: Any) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pulp
            from spopt.locate import LSCP, MCLP
    except ImportError:
        print("  spopt not installed: no PuLP/CBC comparison")
        return
    e = result.entries
    open_ = e[e["way_in"] & ~e["guarded"]]
    net = result.network
    targets = net.snapped_from_fractions(open_["edge"].to_numpy(), open_["fraction"].to_numpy())
    problem = covering_from_network(net, targets, result.tolerance_m)
    cost = np.where(problem.coverage.toarray(), 0.0, 2 * result.tolerance_m)
    solver = pulp.PULP_CBC_CMD(msg=False)
    w, c, model = timed(lambda: LSCP.from_cost_matrix(cost, result.tolerance_m).solve(solver), 1)
    n_sites = sum(1 for clients in model.fac2cli if len(clients))
    ours = solve_lscp(problem.coverage)
    line(
        "town: spopt LSCP (PuLP + CBC), model + solve",
        w,
        c,
        f"{n_sites} sites; HiGHS {len(ours.chosen)} sites in {ours.solve_s * 1e3:.1f} ms",
    )
    weights = np.ones(cost.shape[0])
    w, c, model = timed(
        lambda: MCLP.from_cost_matrix(cost, weights, result.tolerance_m, 10).solve(solver), 1
    )
    covered = sum(1 for sites in model.cli2fac if len(sites))
    ours = solve_mclp(problem.coverage, 10)
    line(
        "town: spopt MCLP 10 (PuLP + CBC)",
        w,
        c,
        f"{covered} guarded; HiGHS {int(ours.objective)} in {ours.solve_s * 1e3:.1f} ms",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpkg", type=Path, default=DEFAULT_GPKG)
    parser.add_argument("--synthetic", action="store_true", help="ignore --gpkg")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="compare with pgRouting too")
    args = parser.parse_args()
    if args.synthetic or not args.gpkg.exists():
        if not args.synthetic:
            print(f"{args.gpkg} not found: using synthetic data")
        data = synthetic()
        print("data: synthetic lattice (grid_roads) and nested Voronoi grids")
    else:
        data = load_demo(args.gpkg)
        print(f"data: {args.gpkg}")
    full, net = build_network(data["roads"])
    matrices(net, full, args.repeat, args.database_url)
    result, villages = gaps(data, full, net, args.repeat)
    covering(result, villages, data, full, net, args.repeat)


if __name__ == "__main__":
    main()
