"""Benchmark GridIndex.locate against geopandas.sjoin (and PostGIS, given a database).

Usage::

    .venv/bin/python benchmarks/locate.py [GPKG] [--synthetic] [--sizes 10000 100000 1000000]
        [--repeats 3] [--database-url URL] [--cache-study]

Without GPKG or ``--synthetic`` the county-scale demo set is generated once with
``geodata/generate.py --scale county --out /tmp/geogrid-county.gpkg.zip``.
``--synthetic`` builds a nested Voronoi set in memory instead (920 villages, 2,918
micro-grids of about 200 vertices). The issue's target: GridIndex at least 4 times the
points/s of ``geopandas.sjoin(predicate="within")`` at 1 M points.

Printed per size, medians of ``--repeats`` runs on random points over the county's
bounding box: GridIndex points/s (every territorial level, industry grids, status),
sjoin points/s against the micro-grids only (one level), sjoin against every grid (all
levels at once, as GridIndex answers), and the ratios. Both sides take coordinate
arrays: GridIndex validates them, sjoin's time includes building the point frame.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geogrid.spatial.gridindex import GridIndex  # noqa: E402
from geogrid.spatial.testing import voronoi_grids  # noqa: E402

DEFAULT_GPKG = Path("/tmp/geogrid-county.gpkg.zip")


def load_grids(path: Path | None, synthetic: bool) -> tuple[gpd.GeoDataFrame, str]:
    """Return the grid frame to benchmark on and a line saying where it came from."""
    if synthetic:
        grids = voronoi_grids(
            2918, 920, 20, n_industry=31, vertices_per_micro=200, seed=2020, wiggle=1.0
        )
        return grids, "synthetic nested Voronoi (geogrid.spatial.testing.voronoi_grids)"
    if path is None:
        path = DEFAULT_GPKG
        if not path.exists():
            generator = ROOT / "geodata" / "generate.py"
            if not generator.exists():
                sys.exit(f"{generator} is missing: pass a GeoPackage or --synthetic")
            command = [sys.executable, str(generator), "--scale", "county", "--out", str(path)]
            print("generating:", " ".join(command), flush=True)
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    grids = gpd.read_file(path, layer="grids")
    return grids, str(path)


def rss_bytes() -> int:
    """Return this process's resident set size, in bytes (0 where unknown)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def measure_build(grids: gpd.GeoDataFrame, repeats: int) -> GridIndex:
    """Build the index, printing build time (median) and memory."""
    before = rss_bytes()
    start = CLOCK()
    index = GridIndex.from_geodataframe(grids)
    first = CLOCK() - start
    rss = rss_bytes() - before
    times = [first]
    for _ in range(repeats - 1):
        start = CLOCK()
        GridIndex.from_geodataframe(grids)
        times.append(CLOCK() - start)
    tracemalloc.start()
    traced = GridIndex.from_geodataframe(grids)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    print(
        f"build: median {statistics.median(times):.2f} s over {len(times)} "
        f"(first {first:.2f} s); rasters {index.nbytes / 2**20:.1f} MiB; "
        f"held {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB (tracemalloc: numpy and "
        f"Python, not GEOS); RSS +{rss / 2**20:.1f} MiB on first build (all of it)"
    )
    return index


def random_points(grids: gpd.GeoDataFrame, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``n`` uniform random points over the grids' bounding box."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = grids.total_bounds
    return rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)


CLOCK = time.perf_counter  # --clock cpu switches to time.process_time


def median_seconds(
    run: Callable[[], object], repeats: int, clock: Callable[[], float] | None = None
) -> float:
    """Return the median time of ``repeats`` runs on ``clock`` (default ``CLOCK``)."""
    clock = clock or CLOCK
    times = []
    for _ in range(repeats):
        start = clock()
        run()
        times.append(clock() - start)
    return statistics.median(times)


def sjoin_within(polygons: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> None:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=polygons.crs)
    gpd.sjoin(points, polygons, predicate="within", how="left")


def postgis_seconds(
    database_url: str, grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray, repeats: int
) -> float:
    """Return the median time of the PostGIS join answering GridIndex's question.

    The PostGIS baseline: grids and points are loaded into temporary tables with GiST
    indexes (not timed); then one join finds, per point and level, the first code among
    the grids that ``ST_Covers`` the point (and every industry grid). Only that query
    is timed. The join lets PostGIS keep one grid prepared while it probes the points
    under it; a ``LATERAL (... ORDER BY code LIMIT 1)`` per point and level gives the
    same answers about ten times slower.
    """
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute(
            "CREATE TEMP TABLE bench_grids (code text, level text, geom geometry(Geometry, 4326))"
        )
        with conn.cursor().copy("COPY bench_grids (code, level, geom) FROM STDIN") as copy:
            for code, level, wkb in zip(
                grids["code"], grids["level"], grids.geometry.to_wkb(hex=True), strict=True
            ):
                copy.write_row((code, level, f"SRID=4326;{wkb}"))
        conn.execute("CREATE TEMP TABLE bench_points (id int, geom geometry(Point, 4326))")
        with conn.cursor().copy("COPY bench_points (id, geom) FROM STDIN") as copy:
            for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
                copy.write_row((i, f"SRID=4326;POINT({x!r} {y!r})"))
        for table in ("bench_grids", "bench_points"):
            conn.execute(f"CREATE INDEX ON {table} USING gist (geom)")
            conn.execute(f"ANALYZE {table}")
        query = """
            SELECT count(*), count(DISTINCT id) FROM (
                SELECT p.id, g.level, min(g.code COLLATE "C") AS first_code,
                       array_agg(g.code ORDER BY g.code COLLATE "C") AS codes
                FROM bench_grids g JOIN bench_points p ON ST_Covers(g.geom, p.geom)
                GROUP BY p.id, g.level
            ) answers
        """
        # Wall clock always: the work happens in the server's process.
        return median_seconds(lambda: conn.execute(query).fetchone(), repeats, time.perf_counter)


def cache_study(index: GridIndex, lon: np.ndarray, lat: np.ndarray) -> None:
    """Print what one point's cell costs with H3 (h3-py, scalar) and with the raster."""
    import h3
    from h3.api import basic_int

    n = min(len(lon), 200_000)
    lat_list, lon_list = lat[:n].tolist(), lon[:n].tolist()
    for res in (10, 11, 12):
        start = CLOCK()
        [basic_int.latlng_to_cell(a, b, res) for a, b in zip(lat_list, lon_list, strict=True)]
        per_point = (CLOCK() - start) / n
        edge = h3.average_hexagon_edge_length(res, "m")
        print(
            f"cache study: h3 res {res} (edge {edge:.0f} m) latlng_to_cell "
            f"{per_point * 1e6:.2f} us/point = {per_point * len(lon):.2f} s per {len(lon):,}"
        )
    frame = index._frame  # the shared raster frame (private; benchmark only)
    start = CLOCK()
    i, j = frame.cell_of(lon, lat)
    chains = index._chains.chains_at(i, j)
    lookup = CLOCK() - start
    start = CLOCK()
    index.locate(lon, lat)
    total = CLOCK() - start
    print(
        f"cache study: raster cell ({frame.dy * 111_320:.0f} m) lookup "
        f"{lookup / len(lon) * 1e6:.3f} us/point = {lookup:.3f} s per {len(lon):,}, "
        f"answering {np.mean(chains >= 0):.1%} of points whole; whole locate {total:.3f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gpkg", nargs="?", type=Path, help="GeoPackage with a 'grids' layer")
    parser.add_argument("--synthetic", action="store_true", help="build a synthetic set")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url", help="also time the PostGIS join on this database")
    parser.add_argument(
        "--postgis-max-points",
        type=int,
        default=100_000,
        help="skip the (slow) PostGIS join above this many points",
    )
    parser.add_argument("--cache-study", action="store_true", help="time H3 against the raster")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall-clock time, or this process's CPU time (steadier on a busy machine)",
    )
    args = parser.parse_args(argv)
    global CLOCK  # noqa: PLW0603 - a script-wide setting
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"clock: {args.clock}; load average {load:.1f} on {os.cpu_count()} CPUs")

    grids, source = load_grids(args.gpkg, args.synthetic)
    counts = grids["level"].value_counts().to_dict()
    vertices = grids.geometry.count_coordinates().groupby(grids["level"]).mean().round()
    print(f"grids: {source}")
    print(f"grids: {counts}; mean vertices {vertices.to_dict()}")
    index = measure_build(grids, args.repeats)
    micro = grids.loc[grids["level"] == "micro", ["code", "geometry"]]
    every = grids[["code", "geometry"]]

    header = (
        f"{'points':>9} {'GridIndex pts/s':>16} {'sjoin micro':>12} {'ratio':>6} "
        f"{'sjoin all':>10} {'ratio':>6}"
    )
    if args.database_url:
        header += f" {'PostGIS':>10} {'ratio':>6}"
    print(header)
    for size in args.sizes:
        lon, lat = random_points(grids, size, seed=size)
        index.locate(lon[:1000], lat[:1000])  # warm up
        ours = size / median_seconds(partial(index.locate, lon, lat), args.repeats)
        theirs = size / median_seconds(partial(sjoin_within, micro, lon, lat), args.repeats)
        every_rate = size / median_seconds(partial(sjoin_within, every, lon, lat), args.repeats)
        line = (
            f"{size:>9,} {ours:>16,.0f} {theirs:>12,.0f} {ours / theirs:>6.1f} "
            f"{every_rate:>10,.0f} {ours / every_rate:>6.1f}"
        )
        if args.database_url and size <= args.postgis_max_points:
            seconds = postgis_seconds(args.database_url, grids, lon, lat, args.repeats)
            line += f" {size / seconds:>10,.0f} {ours * seconds / size:>6.1f}"
        elif args.database_url:
            line += f" {'-':>10} {'-':>6}"
        print(line, flush=True)
    if args.cache_study:
        lon, lat = random_points(grids, max(args.sizes), seed=1)
        cache_study(index, lon, lat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
