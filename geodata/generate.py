"""Generate the synthetic Pingyang demo data set (deterministic, offline).

Usage::

    .venv/bin/python geodata/generate.py [--out PATH] [--scale tiny|town|county] [--seed N]
    .venv/bin/python geodata/generate.py --scale province --out DIR [--counties N]

``--scale province`` streams a province of ``--counties`` generated counties (each at
``--county-scale``, default ``town``), tiled side by side, to Parquet files under ``DIR``
(see :mod:`geodata._province`); it is for benchmarks and scale tests only.

The default writes ``geodata/pingyang-demo.gpkg.zip``: one GeoPackage, all layers in
EPSG:4326. Import :func:`generate` and :func:`write_gpkg` to use it from Python.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geodata._addresses import build_addresses
from geodata._checkpoints import build_checkpoints
from geodata._grids import build_grids, build_workers, county_frame
from geodata._names import NameBook
from geodata._province import PROVINCE_COUNTIES, write_province
from geodata._roads import build_roads
from geodata._spec import AOJIANG, OUTPUT_CRS, SCALES, TOWNS
from geodata._transfer import build_sites, build_transfer_requests, build_vehicles
from geodata._warp import warp_from_seed
from geodata._water import river_centreline, river_polygon

__all__ = ["DEFAULT_OUT", "LAYERS", "generate", "write_gpkg"]

DEFAULT_OUT = Path(__file__).resolve().parent / "pingyang-demo.gpkg.zip"
DEFAULT_SEED = 20200131
LAYERS = (
    "grids",
    "grid_workers",
    "roads",
    "checkpoints",
    "isolation_sites",
    "addresses",
    "transfer_requests",
    "vehicles",
    "water",
)
STREAMS = ("warp", "grids", "names", "river", "roads", "addresses", "checkpoints", "transfer")


class _Clock:
    """Prints how long each step took when ``verbose``."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.start = self.last = time.perf_counter()

    def tick(self, what: str) -> None:
        now = time.perf_counter()
        if self.verbose:
            print(f"{what:<20} {now - self.last:6.1f} s", flush=True)
        self.last = now


def _anchor_function(centres: dict[str, np.ndarray]) -> Callable:
    """Corridor anchors: a town centre plus an offset, or a fraction of the county box."""
    lo, hi = county_frame()
    box = {t.code: lo + (hi - lo) * (t.fx, t.fy) for t in TOWNS}

    def anchor_at(anchor: tuple[str, float, float]) -> np.ndarray:
        code, dx, dy = anchor
        if code == "box":
            return lo + (hi - lo) * (dx, dy)
        return centres.get(code, box[code]) + np.array([dx, dy])

    return anchor_at


def generate(
    scale: str = "town", seed: int = DEFAULT_SEED, verbose: bool = False
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Build every layer of the demo data set.

    Parameters
    ----------
    scale
        ``tiny`` (tests, about a second), ``town`` (the committed demo) or
        ``county`` (fine grids for benchmarks).
    seed
        The same seed gives the same layer contents.
    verbose
        Print the time of each step.

    Returns
    -------
    dict
        Layer name → frame, in the order of :data:`LAYERS`; ``grid_workers`` is a
        plain DataFrame, the others GeoDataFrames in EPSG:4326.
    """
    spec = SCALES[scale]
    seeds = np.random.SeedSequence(seed).spawn(len(STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(STREAMS, seeds, strict=True)}
    clock = _Clock(verbose)
    names = NameBook(rng["names"])
    grid_set = build_grids(spec, rng["grids"], warp_from_seed(rng["warp"]), names)
    grids = grid_set.grids
    county = grids.geometry.values[0]
    towns = grid_set.level("town")
    villages = grid_set.level("village")
    town_names = dict(zip(towns["code"], towns["name"], strict=True))
    centre = grid_set.centres[AOJIANG]
    clock.tick("grids")

    lo, hi = county_frame()
    river = river_centreline(lo, hi, centre, rng["river"])
    water = river_polygon(river, county)
    net = build_roads(
        spec, rng["roads"], county, towns, _anchor_function(grid_set.centres),
        grid_set.centres, river, water, names,
    )  # fmt: skip
    roads = net.roads
    clock.tick("roads")

    addresses = build_addresses(
        spec, net.streets, roads.geometry.values, villages, town_names, grid_set.centres,
        water, rng["addresses"],
    )  # fmt: skip
    clock.tick("addresses")
    checkpoints = build_checkpoints(roads, villages, town_names, rng["checkpoints"])
    clock.tick("checkpoints")

    in_town = addresses[addresses["town"] == town_names[AOJIANG]]
    requests = build_transfer_requests(spec.transfer_people, in_town, names, rng["transfer"])
    sites = build_sites(requests, in_town[in_town["room"].isna()], centre, rng["transfer"])
    ends = shapely.get_coordinates(shapely.boundary(roads.geometry.values))
    vehicles = build_vehicles(spec.vehicles, ends, centre, rng["transfer"])
    workers = build_workers(grids, names)
    water_frame = gpd.GeoDataFrame({"name": ["鳌江"]}, geometry=[water], crs=grids.crs)
    clock.tick("transfer, workers")

    layers = {
        "grids": grids,
        "grid_workers": workers,
        "roads": roads,
        "checkpoints": checkpoints,
        "isolation_sites": sites,
        "addresses": addresses,
        "transfer_requests": requests,
        "vehicles": vehicles,
        "water": water_frame,
    }
    out = {
        name: frame.to_crs(OUTPUT_CRS) if isinstance(frame, gpd.GeoDataFrame) else frame
        for name, frame in layers.items()
    }
    clock.tick("to EPSG:4326")
    return out


def write_gpkg(layers: dict[str, gpd.GeoDataFrame | pd.DataFrame], path: str | Path) -> Path:
    """Write layers to a GeoPackage, or to a zip holding one if ``path`` ends in ``.zip``.

    Parameters
    ----------
    layers
        Layer name → frame; frames without geometry become attribute tables.
    path
        ``something.gpkg`` or ``something.gpkg.zip`` (the zip holds ``something.gpkg``).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    if path.suffix != ".zip":
        _write_layers(layers, path)
        return path
    inner = path.stem if path.stem.endswith(".gpkg") else f"{path.stem}.gpkg"
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = Path(tmp) / inner
        _write_layers(layers, gpkg)
        info = zipfile.ZipInfo(inner, date_time=(2020, 1, 31, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(path, "w") as archive, open(gpkg, "rb") as source:
            archive.writestr(info, source.read(), compresslevel=9)
    return path


def _write_layers(layers: dict[str, gpd.GeoDataFrame | pd.DataFrame], path: Path) -> None:
    """Write each frame as one layer of the GeoPackage at ``path``."""
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .gpkg or .gpkg.zip")
    parser.add_argument("--scale", choices=[*sorted(SCALES), "province"], default="town")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--counties", type=int, default=PROVINCE_COUNTIES, help="province only")
    parser.add_argument(
        "--county-scale", choices=sorted(SCALES), default="town", help="province only"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.scale == "province":
        if args.out == DEFAULT_OUT:
            parser.error("--scale province needs --out DIR (the committed demo is one county)")
        totals = write_province(
            generate, args.out, counties=args.counties, county_scale=args.county_scale,
            seed=args.seed, verbose=True,
        )  # fmt: skip
        for name, rows in totals.items():
            print(f"{name:<20} {rows:>10} rows")
        print(f"wrote {args.out} in {time.perf_counter() - start:.1f} s")
        return 0
    layers = generate(args.scale, args.seed, verbose=True)
    for name, frame in layers.items():
        print(f"{name:<20} {len(frame):>8} rows")
    written = write_gpkg(layers, args.out)
    size_mb = written.stat().st_size / 1e6
    print(f"wrote {written} ({size_mb:.1f} MB) in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
