"""``geogrid grids check``: the topology report on the command line, with its exit status."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import shapely
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geogrid.cli import app

runner = CliRunner()
GROWN = "ST_MakeEnvelope(120.52, 27.51, 120.525, 27.52, 4326)"  # inside village C-001-002


@pytest.fixture
def county_cli(county_db: Engine, cli_database: Callable[[str], None]) -> Engine:
    """Point the CLI at a fresh small county (clean until a test changes it)."""
    cli_database(county_db.url.render_as_string(False))
    return county_db


@pytest.fixture
def overlapping(county_cli: Engine) -> float:
    """Grow village C-001-001 into C-001-002; return the overlap's area per PostGIS (m²)."""
    with county_cli.begin() as conn:
        conn.execute(
            text(
                f"UPDATE grids SET geom = ST_Multi(ST_Union(geom, {GROWN})) "
                "WHERE code = 'C-001-001'"
            )
        )
        return float(
            conn.execute(
                text(
                    "SELECT ST_Area(ST_Intersection(a.geom, b.geom)::geography) "
                    "FROM grids a, grids b WHERE a.code = 'C-001-001' AND b.code = 'C-001-002'"
                )
            ).scalar_one()
        )


def test_a_clean_county_exits_0(county_cli: Engine) -> None:
    result = runner.invoke(app, ["grids", "check"])
    assert result.exit_code == 0, result.output
    assert "all grids: 16 grids, 7 parents checked: no problems" in result.output


def test_an_overlap_is_a_table_row_and_exits_1(overlapping: float) -> None:
    result = runner.invoke(app, ["grids", "check"])
    assert result.exit_code == 1, result.output
    assert "grid problems" in result.output
    assert "C-001-001, C-001-002" in result.output
    assert f"{overlapping:,.1f}" in result.output  # the overlap's area, as PostGIS has it
    assert "2 problems (1 gap, 1 overlap)" in result.output


def test_json_and_geojson_reports(overlapping: float, tmp_path: Path) -> None:
    result = runner.invoke(app, ["grids", "check", "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["summary"]["by_kind"]["overlap"] == 1
    (overlap,) = [p for p in report["problems"] if p["kind"] == "overlap"]
    assert overlap["codes"] == ["C-001-001", "C-001-002"]
    assert overlap["area_m2"] == pytest.approx(overlapping, rel=1e-3)

    out = tmp_path / "problems.geojson"
    result = runner.invoke(app, ["grids", "check", "--format", "geojson", "--out", str(out)])
    assert result.exit_code == 1
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    kinds = sorted(f["properties"]["kind"] for f in collection["features"])
    assert kinds == ["gap", "overlap"]
    for feature in collection["features"]:
        where = shapely.geometry.shape(feature["geometry"])
        assert where.symmetric_difference(shapely.box(120.52, 27.51, 120.525, 27.52)).area < 1e-12


def test_one_parent_and_an_unknown_one(overlapping: float) -> None:
    # the overlap is among the villages of C-001; C-002's villages are clean
    result = runner.invoke(app, ["grids", "check", "--parent", "C-002"])
    assert result.exit_code == 0, result.output
    assert "grid C-002 and its children: 3 grids, 1 parent checked: no problems" in result.output
    result = runner.invoke(app, ["grids", "check", "--parent", "C-001"])
    assert result.exit_code == 1
    assert "1 problem (1 overlap)" in result.output
    result = runner.invoke(app, ["grids", "check", "--parent", "C-404"])
    assert result.exit_code == 1
    assert "no grid with code 'C-404'" in result.output
