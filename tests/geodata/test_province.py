"""The province generator (``geodata/generate.py --scale province``) on a slice of 2 tiny
counties: streamed to per-county Parquet files, deterministic, tiled without overlap."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geodata.generate import main  # noqa: E402

ARGS = ["--scale", "province", "--counties", "2", "--county-scale", "tiny", "--seed", "7"]


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    assert main([*ARGS, "--out", str(out)]) == 0
    return out


def test_each_county_is_its_own_file_per_layer(province: Path) -> None:
    manifest = json.loads((province / "province.json").read_text())
    codes = [c["code"] for c in manifest["counties"]]
    assert codes == ["330001", "330002"]
    for layer in ("grids", "grid_workers", "roads", "addresses", "checkpoints"):
        files = sorted(p.stem for p in (province / layer).glob("*.parquet"))
        assert files == codes
        frame = pd.read_parquet(province / layer)
        assert len(frame) == manifest["rows"][layer]
        assert frame["code"].is_unique, layer


def test_same_seed_same_files(province: Path, tmp_path: Path) -> None:
    assert main([*ARGS, "--out", str(tmp_path)]) == 0
    for layer in ("grids", "addresses"):
        again = gpd.read_parquet(tmp_path / layer)
        first = gpd.read_parquet(province / layer)
        pd.testing.assert_frame_equal(
            again.drop(columns="geometry"), first.drop(columns="geometry")
        )
        assert shapely.equals_exact(again.geometry.values, first.geometry.values, 0).all()


def test_counties_are_tiled_apart_and_hold_their_own_data(province: Path) -> None:
    grids = gpd.read_parquet(province / "grids")
    counties = grids[grids["level"] == "county"].set_index("code")
    assert list(counties["name"]) == ["东宁县", "东和县"]
    first, second = counties.geometry.values
    assert not first.intersects(second)
    county_of = grids["code"].str.slice(0, 6)
    assert (
        grids["parent_code"].dropna().str.slice(0, 6) == county_of[grids["parent_code"].notna()]
    ).all()
    # every grid lies inside its own county (an independent test: shapely, buffered by 1 m)
    for code, polygon in counties.geometry.items():
        members = grids.geometry[county_of == code]
        assert shapely.covers(shapely.buffer(polygon, 1e-5), members.values).all()
    addresses = gpd.read_parquet(province / "addresses")
    own = addresses["code"].str.slice(0, 6)
    for code, polygon in counties.geometry.items():
        mine = addresses[own == code]
        assert len(mine) > 100
        assert mine["full_text"].str.startswith(counties.loc[code, "name"]).all()
        assert shapely.covers(polygon, mine.geometry.values).mean() > 0.99
    workers = pd.read_parquet(province / "grid_workers")
    assert set(workers["grid_code"]) <= set(grids["code"])
