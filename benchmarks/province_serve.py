"""What an API worker holds for a province: RSS and warm-up of the locator (grid index,
address matcher, grid workers) for 1, 2, 4 ... counties, and what loading a pickled
snapshot of it costs instead of rebuilding it.

Usage::

    .venv/bin/python benchmarks/province_serve.py --province DIR [--counties 1 2 4]

``DIR`` is made by ``geodata/generate.py --scale province --out DIR``. Each measurement
runs in a fresh process: it imports geogrid and the API (the baseline RSS), reads the first
N counties' layers from the Parquet files, builds the locator as the workspace does after
reading PostGIS, and prints the RSS and seconds; then it pickles the locator, and a second
fresh process loads that snapshot (RSS, seconds). A straight line through the figures
gives the province (``--target`` counties). Reading the layers from PostGIS instead of
Parquet adds the database's time (see ``benchmarks/load.py``), not memory that stays.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import gc, json, pickle, sys, time
sys.path.insert(0, {root!r})

def rss():
    with open("/proc/self/status") as f:
        return int(next(x for x in f if x.startswith("VmRSS:")).split()[1]) / 1024

import geopandas as gpd, pandas as pd
import geogrid.api.app  # what a worker imports anyway
from geogrid.spatial.addresses import AddressMatcher
from geogrid.spatial.gridindex import GridIndex
from geogrid.workspace.locate import Locator
gc.collect()
base = rss()
mode, folder, codes, snapshot = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
start = time.perf_counter()
if mode == "build":
    read = lambda layer: pd.concat(
        [gpd.read_parquet(f"{{folder}}/{{layer}}/{{c}}.parquet") if layer != "grid_workers"
         else pd.read_parquet(f"{{folder}}/{{layer}}/{{c}}.parquet") for c in codes],
        ignore_index=True)
    grids, workers, addresses = read("grids"), read("grid_workers"), read("addresses")
    read_s = time.perf_counter() - start
    index = GridIndex.from_geodataframe(grids)
    matcher = AddressMatcher.from_grids(addresses, grids)
    locator = Locator(grids, index, workers, matcher)
    del addresses  # the workspace keeps its gazetteer frame: count it, see below
    with open(snapshot, "wb") as out:
        pickle.dump(locator, out, protocol=pickle.HIGHEST_PROTOCOL)
else:
    read_s = 0.0
    with open(snapshot, "rb") as src:
        locator = pickle.load(src)
ready_s = time.perf_counter() - start
answer = locator.addresses(["测试"])  # first answer works
gc.collect()
print(json.dumps({{"base_mb": base, "rss_mb": rss(), "ready_s": ready_s, "read_s": read_s}}))
"""


def run(mode: str, folder: Path, codes: list[str], snapshot: Path) -> dict:
    script = CHILD.format(root=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", script, mode, str(folder), ",".join(codes), str(snapshot)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", type=Path, required=True)
    parser.add_argument("--counties", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--target", type=int, default=100)
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"uptime: {uptime.strip()}")
    manifest = json.loads((args.province / "province.json").read_text())
    all_codes = [c["code"] for c in manifest["counties"]]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.counties:
            codes = all_codes[:n]
            snapshot = Path(tmp) / f"locator-{n}.pickle"
            built = run("build", args.province, codes, snapshot)
            loaded = run("load", args.province, codes, snapshot)
            size = snapshot.stat().st_size / 1e6
            rows.append((n, built, loaded))
            print(
                f"{n:>3} counties: build {built['ready_s']:.1f} s (read {built['read_s']:.1f} s), "
                f"RSS {built['rss_mb']:.0f} MB (imports {built['base_mb']:.0f} MB); snapshot "
                f"{size:.0f} MB loads in {loaded['ready_s']:.1f} s, RSS {loaded['rss_mb']:.0f} MB"
            )
    print(f"uptime: {uptime.strip()} (start)")
    if len(rows) >= 2:
        (n0, b0, l0), (n1, b1, l1) = rows[0], rows[-1]
        for label, a, b in (("built", b0, b1), ("snapshot", l0, l1)):
            per_mb = (b["rss_mb"] - a["rss_mb"]) / (n1 - n0)
            per_s = (b["ready_s"] - a["ready_s"]) / (n1 - n0)
            mb = a["rss_mb"] + per_mb * (args.target - n0)
            s = a["ready_s"] + per_s * (args.target - n0)
            print(
                f"{label}: +{per_mb:.0f} MB and +{per_s:.1f} s per county → {args.target} "
                f"counties ≈ {mb / 1024:.1f} GB RSS, {s:.0f} s to ready (straight line)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
