"""A synthetic province: many counties, each a generated county moved onto its own tile.

Each county is made by :func:`geodata.generate.generate` with its own seed, renamed
(county code and name) and shifted onto a cell of a grid of tiles wider than a county's
box, so no two counties overlap (the strips between tiles belong to no county). Counties
are written one by one, each layer to ``OUT/<layer>/<county code>.parquet`` (GeoParquet
in EPSG:4326; ``grid_workers`` is a plain Parquet table), so memory holds one county at
a time and Dask or pandas read a layer as one dataset (``OUT/addresses/*.parquet``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata._spec import BBOX_LONLAT, COUNTY_CODE, COUNTY_NAME

__all__ = ["PROVINCE_COUNTIES", "CountyTile", "county_tiles", "write_province"]

PROVINCE_COUNTIES = 100
"""Counties of the default province (Zhejiang has 90 county-level units)."""
COLUMNS_PER_ROW = 10
MARGIN = 1.2  # a tile is this many times a county box, so neighbours never touch
ORIGIN = (-2.0, -0.4)  # the first tile's shift in degrees: the province spans ~118-123 E
_FIRST = "东南西北上下新长永安"
_SECOND = "宁和丰兴昌泰明德清溪"
CODE_COLUMNS = ("code", "parent_code", "grid_code")
TEXT_COLUMNS = ("name", "full_text", "county", "address", "address_text")


@dataclass(frozen=True)
class CountyTile:
    """One county of the province: its code, name, seed and shift in degrees."""

    index: int
    code: str
    name: str
    seed: int
    dlon: float
    dlat: float


def county_tiles(n: int, seed: int) -> list[CountyTile]:
    """Return the first ``n`` counties of the province (deterministic in ``seed``)."""
    if not 1 <= n <= len(_FIRST) * len(_SECOND):
        raise ValueError(f"a province has 1 to {len(_FIRST) * len(_SECOND)} counties, not {n}")
    lon0, lat0, lon1, lat1 = BBOX_LONLAT
    step_lon, step_lat = (lon1 - lon0) * MARGIN, (lat1 - lat0) * MARGIN
    tiles = []
    for i in range(n):
        row, col = divmod(i, COLUMNS_PER_ROW)
        name = f"{_FIRST[i // len(_SECOND)]}{_SECOND[i % len(_SECOND)]}县"
        tiles.append(
            CountyTile(
                index=i,
                code=f"33{i + 1:04d}",
                name=name,
                seed=seed + 7919 * i,
                dlon=ORIGIN[0] + col * step_lon,
                dlat=ORIGIN[1] + row * step_lat,
            )
        )
    return tiles


def _rename(frame: pd.DataFrame, tile: CountyTile) -> pd.DataFrame:
    """Give a generated county's layer the tile's codes, county name and position."""
    frame = frame.copy()
    for column in CODE_COLUMNS:
        if column in frame:
            frame[column] = [_recode(code, tile, column) for code in frame[column]]
    for column in TEXT_COLUMNS:
        if column in frame and pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].str.replace(COUNTY_NAME, tile.name, regex=False)
    if isinstance(frame, gpd.GeoDataFrame):
        shift = np.array([tile.dlon, tile.dlat])
        shifted = shapely.transform(frame.geometry.to_numpy(), lambda xy: xy + shift)
        broken = ~shapely.is_valid(shifted)
        if broken.any():  # rounding in the shift can cross two nearly touching edges
            shifted[broken] = [_polygonal(g) for g in shapely.make_valid(shifted[broken])]
        frame = frame.set_geometry(gpd.GeoSeries(shifted, index=frame.index, crs=frame.crs))
    return frame


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a repaired geometry as one MultiPolygon (lines and points of a
    make_valid answer dropped)."""
    parts = shapely.get_parts(shapely.get_parts(geometry))  # collection → multi → single
    polygons = [p for p in parts if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(polygons) if polygons else geometry


def _recode(code: object, tile: CountyTile, column: str) -> object:
    """A grid code gets the tile's county code; another layer's own code (``A0000001``)
    gets it as a prefix, so codes stay unique across the province."""
    if not isinstance(code, str):
        return code
    if code.startswith(COUNTY_CODE):
        return tile.code + code[len(COUNTY_CODE) :]
    return f"{tile.code}-{code}" if column == "code" else code


def generate_counties(
    generate: Callable[..., dict[str, pd.DataFrame]], tiles: list[CountyTile], scale: str
) -> Iterator[tuple[CountyTile, dict[str, pd.DataFrame]]]:
    """Yield each county's renamed, shifted layers, one county at a time."""
    for tile in tiles:
        layers = generate(scale, seed=tile.seed)
        yield tile, {name: _rename(frame, tile) for name, frame in layers.items()}


def write_province(
    generate: Callable[..., dict[str, pd.DataFrame]],
    out: Path,
    *,
    counties: int = PROVINCE_COUNTIES,
    county_scale: str = "town",
    seed: int = 0,
    verbose: bool = False,
) -> dict[str, int]:
    """Generate a province county by county and stream each layer to Parquet files.

    Parameters
    ----------
    generate
        The county generator (:func:`geodata.generate.generate`).
    out
        Output folder; ``<layer>/<county code>.parquet`` files and ``province.json``.
    counties
        How many counties (tiles of 10 per row).
    county_scale
        The scale each county is generated at (``town``: ~290 villages, ~900
        micro-grids and ~85,000 addresses per county).
    seed
        Base seed; county ``i`` uses ``seed + 7919 * i``.
    verbose
        Print one line per county.

    Returns
    -------
    dict
        Rows written per layer.
    """
    out.mkdir(parents=True, exist_ok=True)
    totals: dict[str, int] = {}
    tiles = county_tiles(counties, seed)
    start = time.perf_counter()
    for tile, layers in generate_counties(generate, tiles, county_scale):
        for name, frame in layers.items():
            folder = out / name
            folder.mkdir(exist_ok=True)
            frame.to_parquet(folder / f"{tile.code}.parquet", index=False)
            totals[name] = totals.get(name, 0) + len(frame)
        if verbose:
            print(
                f"county {tile.index + 1:>3}/{len(tiles)} {tile.code} {tile.name} "
                f"{len(layers['addresses']):>7} addresses  {time.perf_counter() - start:7.1f} s",
                flush=True,
            )
    manifest = {
        "counties": [{"code": t.code, "name": t.name, "seed": t.seed} for t in tiles],
        "county_scale": county_scale,
        "seed": seed,
        "rows": totals,
    }
    (out / "province.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return totals
