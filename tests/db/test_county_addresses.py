"""Address matching county by county (``GEOGRID_ADDRESS_COUNTIES``) on real PostGIS: 3
generated counties whose town, village and road names repeat, one county's doors held at
a time; the answers (grid chain included) equal the whole matcher's; a second worker
loads the counties' snapshots; an address edit rebuilds its own county only."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from geogrid.db.queries.county_addresses import address_county_versions
from geogrid.db.queries.layers import bump_version
from geogrid.ingest.load import LoadRequest, load_files
from geogrid.settings import Settings
from geogrid.workspace import Workspace, county_addresses
from tests.spatial.test_address_counties import evaluation_texts

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geodata._province import write_province  # noqa: E402
from geodata.generate import generate  # noqa: E402


@pytest.fixture
def province_db(empty_db: Engine, tmp_path: Path) -> tuple[Engine, gpd.GeoDataFrame]:
    out = tmp_path / "province"
    write_province(generate, out, counties=3, county_scale="tiny", seed=7)
    gpkg = tmp_path / "province.gpkg"
    for layer in ("grids", "addresses"):
        gpd.read_parquet(out / layer).to_file(gpkg, layer=layer)
    pd.read_parquet(out / "grid_workers").to_csv(tmp_path / "workers.csv", index=False)
    load_files(
        empty_db,
        [
            LoadRequest(gpkg, "grids", layer="grids"),
            LoadRequest(tmp_path / "workers.csv", "grid_workers"),
            LoadRequest(gpkg, "addresses", layer="addresses"),
        ],
    )
    return empty_db, gpd.read_parquet(out / "addresses")


def test_county_by_county_answers_as_the_whole(
    province_db: tuple[Engine, gpd.GeoDataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, addresses = province_db
    texts = evaluation_texts(addresses)
    whole = Workspace(engine, Settings(cache_check_interval_s=0))
    expected = whole.locate_addresses(texts)
    assert sum(a.code("micro") is not None for a in expected) > 100  # houses to micro-grids

    settings = Settings(
        address_counties=True,
        address_cache_mb=1,  # one county's doors at a time
        snapshot_dir=tmp_path / "snapshots",
        cache_check_interval_s=0,
    )
    built: list[str] = []
    real_part = county_addresses.county_part

    def counting(gazetteer: pd.DataFrame, grids: pd.DataFrame, county: str) -> object:
        built.append(county)
        return real_part(gazetteer, grids, county)

    monkeypatch.setattr(county_addresses, "county_part", counting)
    first = Workspace(engine, settings)
    assert first.locate_addresses(texts) == expected
    assert sorted(built) == ["东丰县", "东和县", "东宁县"]  # each county built once
    state = first.cached("county_addresses", (), lambda: None)
    assert len(state.cache.held()) == 1  # the budget holds one county
    assert state.cache.loads > 3  # ... so counties were loaded again from their snapshots

    # a second worker on the same data builds nothing: it loads the snapshots (the
    # counties', and the locator's grid index)
    built.clear()
    second = Workspace(engine, settings)
    with monkeypatch.context() as patch:
        patch.setattr(Workspace, "grid_index", lambda self: pytest.fail("index built"))
        assert second.locate_addresses(texts) == expected
    assert built == []

    # an address of one county moves: only that county is built again
    row = addresses.loc[addresses["county"] == "东和县"].iloc[0]
    before = second.read(address_county_versions)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE addresses SET geom = ST_Translate(geom, 0.0005, 0) WHERE code = :code"),
            {"code": row["code"]},
        )
        bump_version(conn, "addresses")
    after = second.read(address_county_versions)
    assert {c for c in after if after[c] != before[c]} == {"东和县"}
    moved = second.locate_addresses([row["full_text"]])
    second.wait_for_refresh(120)
    moved = second.locate_addresses([row["full_text"]])[0]
    assert moved.lon == pytest.approx(row.geometry.x + 0.0005)
    assert built == ["东和县"]
    assert Workspace(engine, Settings(cache_check_interval_s=0)).locate_addresses(
        texts
    ) == second.locate_addresses(texts)
