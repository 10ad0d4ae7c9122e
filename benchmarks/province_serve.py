"""What an API worker holds for a province: RSS and warm-up of the locator (grid index,
address matcher, grid workers) for 1, 2, 4 ... counties, and what loading a pickled
snapshot of it costs instead of rebuilding it; then the same served county by county
from PostGIS, and the grid index of a whole province's grids.

Usage::

    .venv/bin/python benchmarks/province_serve.py --province DIR [--counties 1 2 4]
    .venv/bin/python benchmarks/province_serve.py --province DIR --serve 2 4 6 [--cache-mb 100]
    .venv/bin/python benchmarks/province_serve.py --province DIR --grids 100
    .venv/bin/python benchmarks/province_serve.py --province DIR --grids 100 --split
    .venv/bin/python benchmarks/province_serve.py --province DIR --names 1 3 6

``DIR`` is made by ``geodata/generate.py --scale province --out DIR``.

Whole locator (default): each measurement runs in a fresh process: it imports geogrid and
the API (the baseline RSS), reads the first N counties' layers from the Parquet files,
builds the locator as the workspace does after reading PostGIS, and prints the RSS and
seconds; then it pickles the locator, and a second fresh process loads that snapshot (RSS,
seconds). A straight line through the figures gives the province (``--target`` counties).

``--serve N ...`` (``GEOGRID_ADDRESS_COUNTIES``): loads the first N counties into the
PostGIS of ``GEOGRID_HOME`` (county by county, timed; counties already there are kept, so
use a fresh home for a series of rising N),
then starts a fresh worker process (``Workspace.open`` with address_counties, a
``--cache-mb`` budget for doors and a snapshot folder) twice: the first builds every
county (and writes the snapshots), the second loads them. Each prints its time to ready
(``warm_up``), its RSS, then locates 10 standard addresses of each of the N counties, round robin:
the first address of a county whose doors are not held is *cold* (its doors are read from
the snapshot), the rest are warm; RSS after that shows the LRU's bound.

``--names N ...``: the first N counties' names (what every worker holds, see
``geogrid.spatial.addresses.counties``) built from the Parquet files, pickled, then
unpickled and joined in a fresh process: RSS and seconds. Past the generated counties
their names are taken again in turn (``--names 100``: a province's count of them).

``--grids K``: K counties' grids (the generated counties' grids copied onto K tiles, codes
renamed: a province's ~100,000 micro-grids and more) in a fresh process: the grid index and
the point locator built, RSS and seconds, and the index pickled and loaded.

``--grids K --split [--names N]`` (``GEOGRID_GRID_COUNTIES``): the same grids served county
by county through the workspace's own code (:func:`geogrid.workspace.county_grids.county_grid_index`
on the grids read from Parquet, as a worker has them after reading PostGIS; the database
identity is a constant). A first fresh process builds every county's index and writes the
snapshots; a second one starts on them: time to ready (grids read, the county index and
the point locator made, one point located) and RSS; then a point in each county in turn
(the first in a county whose index is not held is *cold*: read from its snapshot), a
second point in the same county (*warm*), and the RSS after touching every county within
``--grid-cache-mb``. With ``--postgis`` the grids are loaded into the PostGIS of
``GEOGRID_HOME`` (once: a home holding other grids is refused) and the two workers are real
workspaces (``Workspace.open``, points only): ready includes reading the grids there;
``--grid-cache-mb 0`` then measures the whole index instead (the first worker builds it and
saves the locator's snapshot, the second loads that). ``--names N`` (without
``--postgis``): the serving worker also unpickles and joins N counties' names (as
``--names``) before it is ready, so one process holds what a worker of a province holds
besides the doors (within their own budget, ``GEOGRID_ADDRESS_CACHE_MB``).
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


SERVE_CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})

def rss():
    with open("/proc/self/status") as f:
        return int(next(x for x in f if x.startswith("VmRSS:")).split()[1]) / 1024

import geogrid.api.app  # what a worker imports anyway
from geogrid.settings import Settings
from geogrid.workspace import Workspace
base = rss()
cache_mb, folder, texts_file = float(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
settings = Settings(
    address_counties=True, address_cache_mb=cache_mb, snapshot_dir=folder,
    cache_check_interval_s=3600, listen=False,
)
start = time.perf_counter()
ws = Workspace.open(settings)
ws.grids()  # the grids read (indexed below, or loaded with the locator's snapshot)
grid_s = time.perf_counter() - start
ws.warm_up()
ready_s = time.perf_counter() - start
ready_mb = rss()
state = ws.cached("county_addresses", (), lambda: None)
ready_loads = state.cache.loads
texts = json.loads(Path(texts_file).read_text())  # [[county, text], ...], round robin
cold, warm, peak, wrong = [], [], ready_mb, 0
for county, text, code in texts:
    loads = state.cache.loads
    t = time.perf_counter()
    answer = ws.locate_address(text)
    dt = (time.perf_counter() - t) * 1000
    (cold if state.cache.loads > loads else warm).append(dt)
    wrong += answer.address is None or answer.address.code != code
    peak = max(peak, rss())
print(json.dumps({{
    "base_mb": base, "ready_s": ready_s, "ready_mb": ready_mb, "after_mb": rss(),
    "peak_mb": peak, "cold_ms": cold, "warm_ms": warm, "wrong": wrong,
    "held": len(state.cache.held()), "held_mb": state.cache.held_mb(),
    "loads": state.cache.loads, "ready_loads": ready_loads, "grid_s": grid_s,
    "counties": len(state.parts),
}}))
"""

GRIDS_CHILD = r"""
import gc, json, pickle, sys, time
sys.path.insert(0, {root!r})

def rss():
    with open("/proc/self/status") as f:
        return int(next(x for x in f if x.startswith("VmRSS:")).split()[1]) / 1024

import geopandas as gpd, pandas as pd
import geogrid.api.app  # what a worker imports anyway
from geogrid.spatial.gridindex import GridIndex
from geogrid.workspace.locate import Locator
gc.collect()
base = rss()
mode, grids_file, pickled = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.perf_counter()
if mode == "build":
    grids = gpd.read_parquet(grids_file)
    read_s = time.perf_counter() - start
    index = GridIndex.from_geodataframe(grids)
    with open(pickled, "wb") as out:
        pickle.dump((grids, index), out, protocol=pickle.HIGHEST_PROTOCOL)
else:
    read_s = 0.0
    with open(pickled, "rb") as src:
        grids, index = pickle.load(src)
index_s = time.perf_counter() - start
workers = pd.DataFrame({{"code": [], "name": [], "phone": [], "grid_code": []}})
locator = Locator(grids, index, workers)
centre = grids.geometry.iloc[-1].centroid
locator.points([float(centre.x)], [float(centre.y)])
ready_s = time.perf_counter() - start
gc.collect()
print(json.dumps({{"base_mb": base, "rss_mb": rss(), "read_s": read_s, "index_s": index_s,
                   "ready_s": ready_s, "grids": len(grids),
                   "micro": int((grids["level"] == "micro").sum())}}))
"""


SPLIT_CHILD = r"""
import gc, json, statistics, sys, time
sys.path.insert(0, {root!r})

def rss():
    with open("/proc/self/status") as f:
        return int(next(x for x in f if x.startswith("VmRSS:")).split()[1]) / 1024

import geopandas as gpd, numpy as np, pandas as pd
import geogrid.api.app  # what a worker imports anyway
from geogrid.settings import Settings
from geogrid.workspace.county_grids import county_grid_index
from geogrid.workspace.locate import Locator
gc.collect()
base = rss()
mode, grids_file, folder, budget = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
names_file, n_names = (sys.argv[5], int(sys.argv[6])) if len(sys.argv) > 6 else (None, 0)

class Worker:
    # what county_grid_index reads of a workspace: the grids, the database, its caches

    def __init__(self, grids):
        self.settings = Settings(grid_counties=True, grid_cache_mb=budget, snapshot_dir=folder)
        self._grids, self._cached = grids, {{}}

    def grids(self):
        return self._grids

    def read(self, reader):
        return "benchmark database"

    def cached(self, name, layers, build):
        if name not in self._cached:
            self._cached[name] = build()
        return self._cached[name]

start = time.perf_counter()
grids = gpd.read_parquet(grids_file)
read_s = time.perf_counter() - start
ws = Worker(grids)
index = county_grid_index(ws)
index_s = time.perf_counter() - start
workers = pd.DataFrame({{"code": [], "name": [], "phone": [], "grid_code": []}})
locator = Locator(grids, index, workers)
centre = grids.geometry.iloc[-1].centroid
locator.points([float(centre.x)], [float(centre.y)])
names_s = 0.0
if names_file:  # every county's names, as a worker matching addresses county by county
    import pickle
    from geogrid.spatial.addresses.counties import partitioned_matcher
    t = time.perf_counter()
    with open(names_file, "rb") as src:
        blobs = pickle.load(src)
    parts = [pickle.loads(blobs[i % len(blobs)]) for i in range(n_names)]
    matcher = partitioned_matcher([p.names for p in parts], {{}})
    del blobs
    names_s = time.perf_counter() - t
ready_s = time.perf_counter() - start
gc.collect()
state = ws.cached("grid_counties", (), None)
out = {{"base_mb": base, "rss_mb": rss(), "read_s": read_s, "index_s": index_s,
        "ready_s": ready_s, "grids": len(grids), "counties": len(index.counties),
        "built": len(state.built), "names": n_names, "names_s": names_s}}
if mode == "serve":
    cold, warm, outside = [], [], 0
    for county in index.counties:
        tree = index.county_grids(county)
        micro = tree.loc[tree["level"] == "micro"].geometry
        a, b = micro.iloc[0].representative_point(), micro.iloc[-1].representative_point()
        loads = state.cache.loads
        t = time.perf_counter()
        first = locator.points([a.x], [a.y])[0]
        t1 = time.perf_counter()
        locator.points([b.x], [b.y])
        t2 = time.perf_counter()
        (cold if state.cache.loads > loads else warm).append(t1 - t)
        warm.append(t2 - t1)
        outside += first.code("county") is None
    gc.collect()
    out.update({{"cold_ms": 1000 * statistics.median(cold) if cold else 0.0,
                 "cold_n": len(cold), "warm_ms": 1000 * statistics.median(warm),
                 "warm_n": len(warm), "rss_all_mb": rss(), "held": len(state.cache.held()),
                 "held_mb": state.cache.held_mb(), "outside": outside}})
print(json.dumps(out))
"""


SPLIT_PG_CHILD = r"""
import gc, json, statistics, sys, time
sys.path.insert(0, {root!r})

def rss():
    with open("/proc/self/status") as f:
        return int(next(x for x in f if x.startswith("VmRSS:")).split()[1]) / 1024

import geogrid.api.app  # what a worker imports anyway
from geogrid.settings import Settings
from geogrid.workspace import Workspace
gc.collect()
base = rss()
mode, folder, budget = sys.argv[1], sys.argv[2], float(sys.argv[3])
counties = budget > 0  # 0: the whole index, with the locator's snapshot
settings = Settings(grid_counties=counties, grid_cache_mb=budget or 1, snapshot_dir=folder,
                    cache_check_interval_s=3600, listen=False)

class Whole:  # what the loop below reads of the county index, for the whole one
    built, cache = [], None

    def __init__(self, grids):
        self.grids = grids
        self.counties = sorted(grids.loc[grids["level"] == "county", "code"])

    def county_grids(self, county):
        return self.grids.loc[self.grids["code"].str.startswith(county + "-")]
start = time.perf_counter()
ws = Workspace.open(settings)
grids = ws.grids()
read_s = time.perf_counter() - start
locator = ws.locator(addresses=not counties)  # the whole: the snapshot is the full one
centre = grids.geometry.iloc[-1].centroid
locator.points([float(centre.x)], [float(centre.y)])
ready_s = time.perf_counter() - start
gc.collect()
index = ws.grid_index() if counties else Whole(grids)
state = ws.cached("grid_counties", (), lambda: None) if counties else index
out = {{"base_mb": base, "rss_mb": rss(), "read_s": read_s, "index_s": ready_s,
        "ready_s": ready_s, "grids": len(grids), "counties": len(index.counties),
        "built": len(state.built)}}
if mode == "serve":
    cold, warm, outside = [], [], 0
    for county in index.counties:
        tree = index.county_grids(county)
        micro = tree.loc[tree["level"] == "micro"].geometry
        a, b = micro.iloc[0].representative_point(), micro.iloc[-1].representative_point()
        loads = state.cache.loads if counties else 0
        t = time.perf_counter()
        first = ws.locate_point(a.x, a.y)
        t1 = time.perf_counter()
        ws.locate_point(b.x, b.y)
        t2 = time.perf_counter()
        (cold if counties and state.cache.loads > loads else warm).append(t1 - t)
        warm.append(t2 - t1)
        outside += first.code("county") is None
    gc.collect()
    out.update({{"cold_ms": 1000 * statistics.median(cold) if cold else 0.0,
                 "cold_n": len(cold), "warm_ms": 1000 * statistics.median(warm),
                 "warm_n": len(warm), "rss_all_mb": rss(),
                 "held": len(state.cache.held()) if counties else 100,
                 "held_mb": state.cache.held_mb() if counties else 0.0, "outside": outside}})
print(json.dumps(out))
"""


def child(script: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script.format(root=str(ROOT)), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_counties(folder: Path, codes: list[str]) -> list[tuple[str, float, int]]:
    """Load these counties' grids, workers and addresses into the configured PostGIS
    (skipping counties it holds); return (code, seconds, addresses) per county loaded."""
    import geopandas as gpd
    import pandas as pd
    from sqlalchemy import text

    from geogrid.db.bootstrap import prepare_database
    from geogrid.db.engine import get_engine
    from geogrid.ingest.load import LoadRequest, load_files

    prepare_database()
    engine = get_engine()
    with engine.connect() as conn:
        have = {
            str(c) for (c,) in conn.execute(text("SELECT code FROM grids WHERE level = 'county'"))
        }
    loaded = []
    for code in codes:
        if code in have:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            gpkg = Path(tmp) / "county.gpkg"
            addresses = gpd.read_parquet(folder / "addresses" / f"{code}.parquet")
            gpd.read_parquet(folder / "grids" / f"{code}.parquet").to_file(gpkg, layer="grids")
            addresses.to_file(gpkg, layer="addresses")
            workers = Path(tmp) / "workers.csv"
            pd.read_parquet(folder / "grid_workers" / f"{code}.parquet").to_csv(
                workers, index=False
            )
            load_files(
                engine,
                [
                    LoadRequest(gpkg, "grids", layer="grids"),
                    LoadRequest(workers, "grid_workers"),
                    LoadRequest(gpkg, "addresses", layer="addresses"),
                ],
            )
            loaded.append((code, time.perf_counter() - start, len(addresses)))
            print(f"  loaded {code}: {len(addresses):,} addresses in {loaded[-1][1]:.0f} s")
    return loaded


def serve(args: argparse.Namespace, all_codes: list[str]) -> None:
    import pandas as pd

    rows = []
    for n in args.serve:
        codes = all_codes[:n]
        load_counties(args.province, codes)
        sample = []
        per_county = [
            pd.read_parquet(
                args.province / "addresses" / f"{c}.parquet", columns=["full_text", "code"]
            ).sample(10, random_state=1)
            for c in codes
        ]
        for i in range(10):
            sample += [
                [c, str(f.iloc[i]["full_text"]), str(f.iloc[i]["code"])]
                for c, f in zip(codes, per_county, strict=True)
            ]
        with tempfile.TemporaryDirectory() as tmp:
            texts = Path(tmp) / "texts.json"
            texts.write_text(json.dumps(sample, ensure_ascii=False))
            snapshots = Path(tmp) / "snapshots"
            first = child(SERVE_CHILD, str(args.cache_mb), str(snapshots), str(texts))
            size = sum(p.stat().st_size for p in snapshots.glob("*.pickle")) / 1e6
            second = child(SERVE_CHILD, str(args.cache_mb), str(snapshots), str(texts))
        rows.append((n, first, second))
        for label, r in (("build", first), ("snapshots", second)):
            cold = statistics.median(r["cold_ms"]) if r["cold_ms"] else float("nan")
            warm = statistics.median(r["warm_ms"]) if r["warm_ms"] else float("nan")
            print(
                f"{r['counties']:>3} counties in PostGIS ({n} sampled), {label:>9}: "
                f"ready {r['ready_s']:.1f} s (grids read "
                f"{r['grid_s']:.1f} s), RSS "
                f"{r['ready_mb']:.0f} MB ready → {r['after_mb']:.0f} MB after {len(sample)} "
                f"addresses (peak "
                f"{r['peak_mb']:.0f}; imports {r['base_mb']:.0f}); {r['loads']} door loads "
                f"({r['ready_loads']} by ready), "
                f"{r['held']} counties held ({r['held_mb']:.0f} MB est.); cold county "
                f"{cold:.0f} ms (median of {len(r['cold_ms'])}), warm {warm:.1f} ms; "
                f"{r['wrong']} not at their own door"
            )
        print(f"     snapshots on disk: {size:.0f} MB")


def grid_index(args: argparse.Namespace, all_codes: list[str]) -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    sys.path.insert(0, str(ROOT))
    from geodata._province import county_tiles

    tiles = county_tiles(args.grids, 0)
    generated = [(c, gpd.read_parquet(args.province / "grids" / f"{c}.parquet")) for c in all_codes]
    frames = []
    for tile in tiles:
        code, grids = generated[tile.index % len(generated)]
        source = tiles[all_codes.index(code)]
        shift = (tile.dlon - source.dlon, tile.dlat - source.dlat)
        moved = shapely.transform(grids.geometry.to_numpy(), lambda xy, s=shift: xy + s)
        copy = grids.copy()
        copy["geometry"] = moved
        for column in ("code", "parent_code"):
            copy[column] = copy[column].where(
                copy[column].isna(), copy[column].str.replace(code, tile.code, n=1, regex=False)
            )
        frames.append(copy)
    grids = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grids.parquet"
        grids.to_parquet(path)
        if args.split and args.postgis:
            load_grids(grids, Path(tmp))
            split(args, None, Path(tmp) / "snapshots")
            return
        if args.split:
            split(args, path, Path(tmp) / "snapshots")
            return
        pickled = Path(tmp) / "index.pickle"
        built = child(GRIDS_CHILD, "build", str(path), str(pickled))
        loaded = child(GRIDS_CHILD, "load", str(path), str(pickled))
        size = pickled.stat().st_size / 1e6
    print(
        f"{args.grids} counties' grids ({built['grids']:,} grids, {built['micro']:,} micro): "
        f"index built in {built['index_s'] - built['read_s']:.1f} s "
        f"(read {built['read_s']:.1f} s), "
        f"RSS {built['rss_mb']:.0f} MB (imports {built['base_mb']:.0f} MB); pickled "
        f"{size:.0f} MB, loaded in {loaded['index_s']:.1f} s, RSS {loaded['rss_mb']:.0f} MB"
    )


def load_grids(grids: Any, tmp: Path) -> None:
    """Load ``grids`` into the PostGIS of ``GEOGRID_HOME`` unless it holds them already."""
    from sqlalchemy import text

    from geogrid.db.bootstrap import prepare_database
    from geogrid.db.engine import get_engine
    from geogrid.ingest.load import LoadRequest, load_files

    prepare_database()
    engine = get_engine()
    with engine.connect() as conn:
        held = int(conn.execute(text("SELECT count(*) FROM grids")).scalar_one())
    if held == len(grids):
        return
    if held:
        raise SystemExit(f"GEOGRID_HOME holds {held:,} other grids: use a fresh home")
    start = time.perf_counter()
    gpkg = tmp / "grids.gpkg"
    grids.to_file(gpkg, layer="grids")
    load_files(engine, [LoadRequest(gpkg, "grids", layer="grids")])
    print(f"{len(grids):,} grids loaded into PostGIS in {time.perf_counter() - start:.0f} s")


def split(args: argparse.Namespace, path: Path | None, folder: Path) -> None:
    """--grids K --split: a first worker builds the counties' snapshots, a second serves
    (from the Parquet file ``path``, or real workspaces on PostGIS when it is None)."""
    budget = str(args.grid_cache_mb)
    script, source = (SPLIT_CHILD, [str(path)]) if path is not None else (SPLIT_PG_CHILD, [])
    first = child(script, "build", *source, str(folder), budget)
    size = sum(f.stat().st_size for f in folder.glob("*.pickle")) / 1e6
    what = "county by county" if args.grid_cache_mb else "whole (--grid-cache-mb 0)"
    print(
        f"{args.grids} counties' grids ({first['grids']:,} grids, {first['counties']} "
        f"counties) {what}: the first worker built {first['built']} counties' "
        f"indexes in {first['index_s'] - first['read_s']:.1f} s (read {first['read_s']:.1f} s), "
        f"snapshots {size:.0f} MB, RSS {first['rss_mb']:.0f} MB within {budget} MB"
    )
    extra = []
    if args.names and path is not None:  # and every county's names, in the same worker
        manifest = json.loads((args.province / "province.json").read_text())
        blobs = names_blobs(args, [c["code"] for c in manifest["counties"]])
        names_file = folder.parent / "names.pickle"
        names_file.write_bytes(pickle.dumps(blobs))
        extra = [str(names_file), str(max(args.names))]
    second = child(script, "serve", *source, str(folder), budget, *extra)
    if extra:
        print(
            f"with the names of {second['names']} counties ({len(blobs)} generated ones "
            f"taken in turn) loaded after the grids, in {second['names_s']:.1f} s:"
        )
    print(
        f"a second worker: ready in {second['ready_s']:.1f} s (grids read "
        f"{second['read_s']:.1f} s, county index {second['index_s'] - second['read_s']:.1f} s), "
        f"built {second['built']}, RSS {second['rss_mb']:.0f} MB at ready (imports "
        f"{second['base_mb']:.0f} MB); a point in each county in turn: cold county "
        f"{second['cold_ms']:.0f} ms (median of {second['cold_n']}), warm "
        f"{second['warm_ms']:.2f} ms (median of {second['warm_n']}); RSS after every county "
        f"{second['rss_all_mb']:.0f} MB, {second['held']} counties held "
        f"({second['held_mb']:.0f} MB est.); points outside every county: {second['outside']}"
    )


NAMES_CHILD = r"""
import gc, pickle, sys, time
sys.path.insert(0, {root!r})
from geogrid.spatial.addresses.counties import partitioned_matcher

def rss():
    with open("/proc/self/status") as f:
        return int(next(x for x in f if x.startswith("VmRSS:")).split()[1]) / 1024

with open(sys.argv[1], "rb") as src:
    blobs = pickle.load(src)
n = int(sys.argv[2])
gc.collect()
before = rss()
start = time.perf_counter()
parts = [pickle.loads(blobs[i % len(blobs)]) for i in range(n)]  # beyond them: copies
matcher = partitioned_matcher([p.names for p in parts], {{}})
seconds = time.perf_counter() - start
gc.collect()
print(rss() - before, seconds)
"""


def names_blobs(args: argparse.Namespace, all_codes: list[str]) -> list[bytes]:
    """Return the pickled names of the first ``max(args.names)`` generated counties."""
    import geopandas as gpd

    from geogrid.spatial.addresses.counties import county_key, county_part, grids_of_county

    blobs = []
    for code in all_codes[: min(max(args.names), len(all_codes))]:
        grids = gpd.read_parquet(args.province / "grids" / f"{code}.parquet")
        gazetteer = gpd.read_parquet(args.province / "addresses" / f"{code}.parquet")
        name = grids.loc[grids["level"] == "county", "name"].iloc[0]
        part = county_part(gazetteer, grids_of_county(grids, code), county_key(name))
        blobs.append(pickle.dumps(part.names_only(), protocol=pickle.HIGHEST_PROTOCOL))
    return blobs


def names(args: argparse.Namespace, all_codes: list[str]) -> None:
    blobs = names_blobs(args, all_codes)
    sizes = ", ".join(f"{len(b) / 1e6:.2f}" for b in blobs)
    print(f"names pickled per county: {sizes} MB")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "names.pickle"
        path.write_bytes(pickle.dumps(blobs))
        for n in args.names:
            done = subprocess.run(
                [sys.executable, "-c", NAMES_CHILD.format(root=str(ROOT)), str(path), str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
            mb, seconds = (float(v) for v in done.stdout.split())
            copies = f" ({len(blobs)} counties' names, copied)" if n > len(blobs) else ""
            print(
                f"names of {n} counties{copies}: +{mb:.1f} MB RSS, unpickled and joined in "
                f"{seconds:.2f} s"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", type=Path, required=True)
    parser.add_argument("--counties", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--target", type=int, default=100)
    parser.add_argument(
        "--serve", type=int, nargs="+", help="counties in PostGIS, county by county"
    )
    parser.add_argument("--cache-mb", type=float, default=100, help="doors' budget with --serve")
    parser.add_argument("--grids", type=int, help="counties' grids for the grid index alone")
    parser.add_argument("--names", type=int, nargs="+", help="counties' names joined")
    parser.add_argument("--split", action="store_true", help="--grids county by county")
    parser.add_argument(
        "--grid-cache-mb", type=float, default=512, help="counties' indexes' budget, --split"
    )
    parser.add_argument("--postgis", action="store_true", help="--split on GEOGRID_HOME")
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"uptime: {uptime.strip()}")
    manifest = json.loads((args.province / "province.json").read_text())
    all_codes = [c["code"] for c in manifest["counties"]]
    if args.serve or args.grids or args.names:
        if args.names and not args.split:  # with --split, in the serving worker
            names(args, all_codes)
        if args.grids:
            grid_index(args, all_codes)
        if args.serve:
            serve(args, all_codes)
        end = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
        print(f"uptime: {end.strip()} (end)")
        return 0
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
