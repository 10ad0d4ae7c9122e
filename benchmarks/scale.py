"""Batch locating on Dask: rows/s with 1 and 2 workers, memory per worker, and the machines
a batch of 10^8 rows needs to finish in one hour.

Usage::

    .venv/bin/python benchmarks/scale.py [--counties 2] [--rows 40000] [--repeat 3]
        [--province DIR] [--workers 1 2] [--points-share 0.5]

It builds the locator the way ``geogrid locate --batch`` does (grid index, address
matcher, grid workers), here straight from a generated province (``geodata/generate.py
--scale province``; ``--province DIR`` reuses one) instead of from PostGIS, writes a
batch of rows (half points, half address texts taken from the gazetteer with a few
characters changed, a few bad rows), and runs :func:`geogrid.workspace.dask_batch.
locate_files` on a LocalCluster of 1 and of 2 worker processes, ``--repeat`` times each.
It prints medians, the worker processes' RSS, how long the locator took to reach the
workers (worker plugin, and ``client.scatter(broadcast=True)`` for comparison), and the
machine count for 10^8 rows/hour from the per-core rate. Other processes on the machine
slow it down: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from geodata._province import write_province  # noqa: E402
from geodata.generate import generate  # noqa: E402
from geogrid.spatial.addresses import AddressMatcher  # noqa: E402
from geogrid.spatial.gridindex import GridIndex  # noqa: E402
from geogrid.workspace.dask_batch import PLUGIN_NAME, locate_files, start_client  # noqa: E402
from geogrid.workspace.locate import Locator  # noqa: E402

TARGET_ROWS = 10**8
CORES_PER_MACHINE = 16


def province(args: argparse.Namespace, tmp: Path) -> Path:
    if args.province:
        return args.province
    out = tmp / "province"
    start = time.perf_counter()
    write_province(generate, out, counties=args.counties, county_scale=args.county_scale)
    print(f"generated {args.counties} counties in {time.perf_counter() - start:.0f} s")
    return out


def build_locator(folder: Path) -> tuple[Locator, dict[str, object]]:
    start = time.perf_counter()
    grids = gpd.read_parquet(folder / "grids")
    workers = pd.read_parquet(folder / "grid_workers")
    addresses = gpd.read_parquet(folder / "addresses")
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    index = GridIndex.from_geodataframe(grids)
    index_s = time.perf_counter() - start
    start = time.perf_counter()
    matcher = AddressMatcher.from_grids(addresses, grids)
    matcher_s = time.perf_counter() - start
    facts = {
        "grids": len(grids),
        "addresses": len(addresses),
        "read_s": read_s,
        "index_s": index_s,
        "matcher_s": matcher_s,
        "addresses_frame": addresses,
        "grids_frame": grids,
    }
    return Locator(grids, index, workers, matcher), facts


def batch_rows(addresses: gpd.GeoDataFrame, n: int, points_share: float, seed: int = 5):
    """Rows like a command centre's batch: points near houses, address texts with a
    character dropped now and then, and 1 % bad rows."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(addresses), n)
    xy = np.column_stack([addresses.geometry.x.to_numpy(), addresses.geometry.y.to_numpy()])
    xy = xy[pick] + rng.normal(0, 0.0003, (n, 2))
    texts = addresses["full_text"].to_numpy()[pick].astype(object)
    drop = rng.random(n) < 0.2
    for i in np.flatnonzero(drop):
        t = texts[i]
        k = rng.integers(3, len(t) - 1)
        texts[i] = t[:k] + t[k + 1 :]
    is_point = rng.random(n) < points_share
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "address": np.where(is_point, "", texts),
            "lon": np.where(is_point, np.round(xy[:, 0], 6).astype(str), ""),
            "lat": np.where(is_point, np.round(xy[:, 1], 6).astype(str), ""),
        }
    )
    bad = rng.random(n) < 0.01
    frame.loc[bad, ["address", "lon"]] = ["", "not-a-number"]
    return frame


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def worker_cpu(client) -> float:
    """CPU seconds (user + system) the worker processes have used so far, summed."""

    def cpu() -> float:
        times = os.times()
        return times.user + times.system

    return sum(client.run(cpu).values())


def unpickle_s(client) -> float:
    """CPU seconds the workers spent unpickling the locator in the last run, summed."""

    def load_s(dask_worker) -> float:
        return dask_worker.plugins[PLUGIN_NAME].load_cpu_s

    return sum(client.run(load_s).values())


def rss_of_workers(client) -> list[float]:
    def rss() -> float:
        with open("/proc/self/status") as status:
            line = next(x for x in status if x.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024

    return sorted(client.run(rss).values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=2)
    parser.add_argument("--county-scale", default="town")
    parser.add_argument("--province", type=Path, help="a folder made by --scale province")
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--points-share", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"uptime: {uptime()}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        locator, facts = build_locator(province(args, tmp))
        payload = len(pickle.dumps(locator, protocol=pickle.HIGHEST_PROTOCOL))
        print(
            f"locator: {facts['grids']:,} grids, {facts['addresses']:,} addresses; read "
            f"{facts['read_s']:.1f} s, index {facts['index_s']:.1f} s, matcher "
            f"{facts['matcher_s']:.1f} s; pickled {payload / 1e6:.0f} MB"
        )
        rows = batch_rows(facts["addresses_frame"], args.rows, args.points_share)
        inputs = tmp / "in"
        inputs.mkdir()
        bounds = np.linspace(0, len(rows), args.files + 1).astype(int)
        for k in range(args.files):
            part = rows.iloc[bounds[k] : bounds[k + 1]]
            part.to_csv(inputs / f"batch-{k:03d}.csv", index=False)
        pattern = str(inputs / "batch-*.csv")
        rates: dict[int, float] = {}
        cpu_rates: dict[int, float] = {}
        for n in args.workers:
            with start_client(n) as client:
                times, ships, cpus = [], [], []
                for r in range(args.repeat):
                    out = tmp / f"out-{n}-{r}"
                    before = worker_cpu(client)
                    run = locate_files(locator, [pattern], out, client, blocksize=500_000)
                    assert run.rows_out == run.rows_in == args.rows, run
                    times.append(run.locate_s)
                    ships.append(run.ship_s)
                    cpus.append(worker_cpu(client) - before - unpickle_s(client))
                start = time.perf_counter()
                client.scatter(locator, broadcast=True, hash=False)
                scatter_s = time.perf_counter() - start
                rss = rss_of_workers(client)
            rates[n] = args.rows / statistics.median(times)
            cpu_rates[n] = args.rows / statistics.median(cpus)
            print(
                f"{n} worker(s): median {statistics.median(times):.1f} s for {args.rows:,} rows "
                f"= {rates[n]:,.0f} rows/s (runs: {', '.join(f'{t:.1f}' for t in times)}); "
                f"locator to workers: plugin {statistics.median(ships):.1f} s, scatter "
                f"{scatter_s:.1f} s; worker RSS {', '.join(f'{m:.0f}' for m in rss)} MB; "
                f"worker CPU {statistics.median(cpus):.1f} s = {cpu_rates[n]:,.0f} rows per "
                "CPU-second (the locator's unpickling left out)"
            )
    print(f"uptime: {uptime()}")
    if 1 in rates and 2 in rates:
        speedup = rates[2] / rates[1]
        per_core = rates[1]
        efficiency = min(1.0, speedup / 2)
        cores = TARGET_ROWS / 3600 / (per_core * efficiency)
        machines = math.ceil(cores / CORES_PER_MACHINE)
        print(f"speed-up 1 → 2 workers: {speedup:.2f}x (target >= 1.7x)")
        print(
            f"rows per worker CPU-second: {cpu_rates[1]:,.0f} with 1, {cpu_rates[2]:,.0f} with 2 "
            "(a worker's CPU per row; the wall-clock speed-up needs 2 idle cores)"
        )
        print(
            f"10^8 rows in one hour: {TARGET_ROWS / 3600:,.0f} rows/s = {cores:,.0f} cores at "
            f"{per_core:,.0f} rows/s per core and {efficiency:.0%} efficiency = "
            f"{machines} machine{'s' if machines > 1 else ''} of {CORES_PER_MACHINE} cores "
            f"(os.cpu_count() here: {os.cpu_count()})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
