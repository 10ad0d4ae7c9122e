"""Loading files into the real PostGIS: exact round trips, refusals that store nothing,
idempotent reloads, CRS and axis handling."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from sqlalchemy import Engine, text

from geogrid.crs import wgs84_to_gcj02
from geogrid.errors import AxisOrderError, IngestError, UnknownCRSError
from geogrid.ingest.load import LoadRequest, load_file, load_files
from geogrid.settings import get_settings


def _snapshot(engine: Engine, table: str) -> list[tuple]:
    """Every row of a table, geometry as hex EWKB, in code order."""
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(text(f"SELECT *, ST_AsEWKB(geom) FROM {table} ORDER BY code"))
        ]


def _checkpoints(n: int = 5, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "code": [f"CP{i:03d}" for i in range(n)],
            "name": [f"卡口{i}" for i in range(n)],
            "kind": ["village_gate"] * n,
            "status": ["active"] * n,
            "staff": np.arange(n) + 2,
        },
        geometry=shapely.points(rng.uniform(120.4, 120.7, n), rng.uniform(27.5, 27.7, n)),
        crs=4326,
    )


def _square(x: float, y: float, size: float = 0.01) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def test_geometry_round_trip_is_exact(empty_db: Engine, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    # full-precision doubles: any rounding on the way would change the bytes
    xs, ys = rng.uniform(120.3, 120.8, 40), rng.uniform(27.4, 27.8, 40)
    ring = np.column_stack([xs[:12], ys[:12]])
    hull = shapely.convex_hull(shapely.multipoints(ring))
    grids = gpd.GeoDataFrame(
        {
            "code": ["G1", "G2"],
            "name": ["甲", "乙"],
            "level": ["county", "town"],
            "parent_code": [None, "G1"],
        },
        geometry=[shapely.MultiPolygon([hull]), shapely.MultiPolygon([_square(120.5, 27.5)])],
        crs=4326,
    )
    path = tmp_path / "grids.gpkg"
    grids.to_file(path, layer="grids")
    load_file(empty_db, path, "grids")
    written = pyogrio.read_dataframe(path)
    with empty_db.connect() as conn:
        stored = dict(conn.execute(text("SELECT code, ST_AsBinary(geom) FROM grids")).all())
    for code, geom in zip(written["code"], written.geometry, strict=True):
        assert bytes(stored[code]) == shapely.to_wkb(geom, byte_order=1)


def test_second_load_of_the_same_file_changes_nothing(empty_db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.geojson"
    _checkpoints().to_file(path, driver="GeoJSON")
    first = load_file(empty_db, path, "checkpoints")
    before = _snapshot(empty_db, "checkpoints")
    second = load_file(empty_db, path, "checkpoints")
    assert (first.inserted, first.updated) == (5, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 5)
    assert _snapshot(empty_db, "checkpoints") == before  # updated_at included


def test_changed_rows_are_updated_by_code(empty_db: Engine, tmp_path: Path) -> None:
    frame = _checkpoints()
    path = tmp_path / "cp.gpkg"
    frame.to_file(path)
    load_file(empty_db, path, "checkpoints")
    frame.loc[2, "status"] = "closed"
    frame.to_file(path)
    report = load_file(empty_db, path, "checkpoints")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 4)
    with empty_db.connect() as conn:
        status = conn.execute(text("SELECT status FROM checkpoints WHERE code='CP002'")).scalar()
    assert status == "closed"


def _expect_refusal(
    engine: Engine, good: Path, bad: Path, kind: str, error: type[Exception] = IngestError, **kw
) -> Exception:
    """Load ``good``, then ``bad``: the second must fail and change nothing."""
    load_file(engine, good, kind)
    before = _snapshot(engine, "checkpoints" if kind == "checkpoints" else kind)
    with pytest.raises(error) as caught:
        load_file(engine, bad, kind, **kw)
    assert _snapshot(engine, "checkpoints" if kind == "checkpoints" else kind) == before
    return caught.value


def test_bad_row_aborts_the_whole_file(empty_db: Engine, tmp_path: Path) -> None:
    good = tmp_path / "good.gpkg"
    _checkpoints().to_file(good)
    frame = _checkpoints(8, seed=2)
    frame.loc[5, "kind"] = "watchtower"
    bad = tmp_path / "bad.gpkg"
    frame.to_file(bad)
    error = _expect_refusal(empty_db, good, bad, "checkpoints")
    assert "bad.gpkg" in str(error)
    assert "row 6" in str(error)  # 1-based
    assert "watchtower" in str(error)


def test_missing_column_is_named(empty_db: Engine, tmp_path: Path) -> None:
    good = tmp_path / "good.gpkg"
    _checkpoints().to_file(good)
    bad = tmp_path / "nokind.gpkg"
    _checkpoints().drop(columns=["kind"]).to_file(bad)
    error = _expect_refusal(empty_db, good, bad, "checkpoints")
    assert "nokind.gpkg" in str(error)
    assert "kind" in str(error)


def test_invalid_geometry_is_repaired_and_reported(empty_db: Engine, tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(120.5, 27.5), (120.6, 27.6), (120.6, 27.5), (120.5, 27.6)])
    grids = gpd.GeoDataFrame(
        {"code": ["B1"], "name": ["蝴蝶"], "level": ["county"]}, geometry=[bowtie], crs=4326
    )
    path = tmp_path / "bowtie.gpkg"
    grids.to_file(path)
    report = load_file(empty_db, path, "grids")
    assert [r["row"] for r in report.repaired] == [1]
    assert "Self-intersection" in report.repaired[0]["reason"]
    with empty_db.connect() as conn:
        valid, area = conn.execute(
            text("SELECT ST_IsValid(geom), ST_Area(geom) FROM grids WHERE code = 'B1'")
        ).one()
    assert valid
    assert area == pytest.approx(shapely.make_valid(bowtie).area)


def test_invalid_geometry_refused_without_repair(empty_db: Engine, tmp_path: Path) -> None:
    ok = gpd.GeoDataFrame(
        {"code": ["A"], "name": ["a"], "level": ["county"]},
        geometry=[_square(120.5, 27.5)],
        crs=4326,
    )
    good = tmp_path / "ok.gpkg"
    ok.to_file(good)
    bowtie = shapely.Polygon([(120.5, 27.5), (120.6, 27.6), (120.6, 27.5), (120.5, 27.6)])
    bad = tmp_path / "bowtie.gpkg"
    pd.concat([ok.assign(code="A"), ok.assign(code="B", geometry=[bowtie])]).to_file(bad)
    error = _expect_refusal(empty_db, good, bad, "grids", repair=False)
    assert "row 2" in str(error)
    assert "invalid geometry" in str(error)
    assert "bowtie.gpkg, row 2, column 'geom'" in str(error)  # the GeoPackage's own name


def test_unknown_crs_is_refused(empty_db: Engine, tmp_path: Path) -> None:
    good = tmp_path / "good.gpkg"
    _checkpoints().to_file(good)
    with pytest.raises(UnknownCRSError):
        load_file(empty_db, good, "checkpoints", crs="EPSG:999999")
    projected = _checkpoints().to_crs(32651)
    csv = tmp_path / "projected.csv"
    pd.DataFrame(
        {
            "code": projected["code"],
            "name": projected["name"],
            "kind": projected["kind"],
            "x": projected.geometry.x,
            "y": projected.geometry.y,
        }
    ).to_csv(csv, index=False)
    error = _expect_refusal(empty_db, good, csv, "checkpoints", UnknownCRSError)
    assert "--crs" in str(error)


def test_projected_file_is_reprojected(empty_db: Engine, tmp_path: Path) -> None:
    frame = _checkpoints()
    path = tmp_path / "utm.gpkg"
    frame.to_crs(32651).to_file(path)
    load_file(empty_db, path, "checkpoints")
    stored = gpd.read_postgis("SELECT code, geom FROM checkpoints ORDER BY code", empty_db)
    distance = stored.geometry.to_crs(32651).distance(frame.to_crs(32651).geometry)
    assert distance.max() < 1e-6


def test_swapped_axes_are_refused_with_a_hint(empty_db: Engine, tmp_path: Path) -> None:
    frame = _checkpoints()
    csv = tmp_path / "swapped.csv"
    pd.DataFrame(
        {
            "code": frame["code"],
            "name": frame["name"],
            "kind": frame["kind"],
            "lon": frame.geometry.y,
            "lat": frame.geometry.x,
        }  # swapped on purpose
    ).to_csv(csv, index=False)
    with pytest.raises(AxisOrderError, match="swap"):
        load_file(empty_db, csv, "checkpoints")


def test_gcj02_csv_is_converted_to_wgs84(empty_db: Engine, tmp_path: Path) -> None:
    frame = _checkpoints()
    lon, lat = wgs84_to_gcj02(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    csv = tmp_path / "amap.csv"
    pd.DataFrame(
        {
            "code": frame["code"],
            "name": frame["name"],
            "kind": frame["kind"],
            "lng": lon,
            "lat": lat,
        }
    ).to_csv(csv, index=False)
    load_file(empty_db, csv, "checkpoints", crs="gcj02")
    stored = gpd.read_postgis("SELECT code, geom FROM checkpoints ORDER BY code", empty_db)
    error_m = stored.geometry.to_crs(32651).distance(frame.to_crs(32651).geometry)
    assert error_m.max() < 0.05


def test_unknown_reference_fails_with_row_and_stores_nothing(
    empty_db: Engine, tmp_path: Path
) -> None:
    grids = gpd.GeoDataFrame(
        {"code": ["C"], "name": ["县"], "level": ["county"]},
        geometry=[_square(120.5, 27.5)],
        crs=4326,
    )
    grid_path = tmp_path / "grids.gpkg"
    grids.to_file(grid_path)
    workers = tmp_path / "workers.csv"
    pd.DataFrame(
        {"code": ["W1", "W2"], "name": ["张三", "李四"], "grid_code": ["C", "NOPE"]}
    ).to_csv(workers, index=False)
    with pytest.raises(IngestError) as caught:
        load_files(
            empty_db,
            [LoadRequest(grid_path, "grids"), LoadRequest(workers, "grid_workers")],
        )
    assert "workers.csv" in str(caught.value)
    assert "row 2" in str(caught.value)
    assert "NOPE" in str(caught.value)
    # one transaction: the grids of the first file were not kept either
    assert _snapshot(empty_db, "grids") == []


def test_broken_file_is_named(empty_db: Engine, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"this is not a geopackage")
    with pytest.raises(IngestError, match=r"broken\.gpkg"):
        load_file(empty_db, broken, "checkpoints")
    with pytest.raises(IngestError, match="file not found"):
        load_file(empty_db, tmp_path / "missing.geojson", "checkpoints")


def test_zipped_shapefile_loads(empty_db: Engine, tmp_path: Path) -> None:
    import zipfile

    folder = tmp_path / "shp"
    folder.mkdir()
    _checkpoints().to_file(folder / "checkpoints.shp", encoding="utf-8")
    archive = tmp_path / "checkpoints.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in folder.iterdir():
            zipped.write(part, part.name)
    report = load_file(empty_db, archive, "checkpoints")
    assert report.inserted == 5
    with empty_db.connect() as conn:
        names = conn.execute(text("SELECT name FROM checkpoints ORDER BY code")).scalars().all()
    assert names == [f"卡口{i}" for i in range(5)]


def test_roads_get_topology_matching_their_endpoints(empty_db: Engine, tmp_path: Path) -> None:
    a, b, c = (120.50, 27.50), (120.51, 27.50), (120.51, 27.51)
    roads = gpd.GeoDataFrame(
        {"code": ["R1", "R2"], "road_class": ["primary", "residential"], "oneway": [0, 1]},
        geometry=[shapely.LineString([a, b]), shapely.LineString([b, c])],
        crs=4326,
    )
    path = tmp_path / "roads.gpkg"
    roads.to_file(path)
    load_file(empty_db, path, "roads")
    with empty_db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, source, target, cost, reverse_cost, length_m, "
                "ST_Length(geom::geography) FROM roads ORDER BY code"
            )
        ).all()
    r1, r2 = rows
    assert r1.target == r2.source  # they share node b
    assert len({r1.source, r1.target, r2.target}) == 3
    assert r2.reverse_cost < 0 < r1.reverse_cost  # R2 is one-way
    for row, speed in ((r1, 50.0), (r2, 20.0)):
        assert row.length_m == pytest.approx(row[6], abs=1e-3)
        assert row.cost == pytest.approx(row.length_m / (speed / 3.6))


SQUARE = [[120.5, 27.5], [120.6, 27.5], [120.6, 27.6], [120.5, 27.6], [120.5, 27.5]]


def _grid_feature(code: str, geometry: dict | None) -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": code, "level": "county"},
        "geometry": geometry,
    }


def _write_json(path: Path, document: object) -> Path:
    # json.dumps writes NaN and Infinity as bare tokens, as some tools do
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _grids_geojson(path: Path, second: dict | None) -> Path:
    """A FeatureCollection of two grids: a good square, then ``second``."""
    good = _grid_feature("G1", {"type": "Polygon", "coordinates": [SQUARE]})
    return _write_json(
        path, {"type": "FeatureCollection", "features": [good, _grid_feature("G2", second)]}
    )


@pytest.mark.parametrize(
    ("geometry", "words"),
    [
        (
            {"type": "Polygon", "coordinates": [[[120.5, 27.5], [math.nan, 27.5], *SQUARE[2:]]]},
            "NaN",
        ),
        (
            {"type": "Polygon", "coordinates": [[[120.5, 27.5], [math.inf, 27.5], *SQUARE[2:]]]},
            "inf",
        ),
        (
            {"type": "Polygon", "coordinates": [[[120.5, 27.5], [120.6, -math.inf], *SQUARE[2:]]]},
            "inf",
        ),
        ({"type": "Polygon", "coordinates": [SQUARE[:-1]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[]]}, "empty"),
        ({"type": "Polygon", "coordinates": [SQUARE, []]}, "empty"),
        ({"type": "LineString", "coordinates": SQUARE}, "LineString"),
        ({"type": "GeometryCollection", "geometries": []}, "GeometryCollection"),
        (None, "no geometry"),
    ],
    ids=["nan", "inf", "-inf", "unclosed", "empty", "empty-hole", "line", "collection", "null"],
)
def test_bad_geometry_is_refused_naming_file_row_and_column(
    empty_db: Engine, tmp_path: Path, geometry: dict | None, words: str
) -> None:
    good = _grids_geojson(tmp_path / "good.geojson", {"type": "Polygon", "coordinates": [SQUARE]})
    bad = _grids_geojson(tmp_path / "bad.geojson", geometry)
    error = _expect_refusal(empty_db, good, bad, "grids")
    assert isinstance(error, IngestError)
    assert "bad.geojson, row 2, column 'geometry'" in str(error)
    assert words in str(error)


@pytest.mark.parametrize(
    ("lon", "wkt", "column", "words"),
    [
        ("inf", None, "lon", "inf"),
        ("-Infinity", None, "lon", "inf"),
        (None, "POINT (nan 27.6)", "wkt", "NaN"),
        (None, "POINT (Infinity 27.6)", "wkt", "inf"),
        (None, "LINESTRING (120.5 27.6, 120.6 27.6)", "wkt", "LineString"),
    ],
)
def test_bad_csv_coordinates_are_refused_naming_the_column(
    empty_db: Engine, tmp_path: Path, lon: str | None, wkt: str | None, column: str, words: str
) -> None:
    good = tmp_path / "good.gpkg"
    _checkpoints().to_file(good)
    frame = pd.DataFrame({"code": ["K1", "K2"], "name": ["a", "b"], "kind": ["village_gate"] * 2})
    if lon is not None:
        frame["lon"], frame["lat"] = ["120.5", lon], ["27.6", "27.6"]
    else:
        frame["wkt"] = ["POINT (120.5 27.6)", wkt]
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    error = _expect_refusal(empty_db, good, bad, "checkpoints")
    assert isinstance(error, IngestError)
    assert f"bad.csv, row 2, column {column!r}" in str(error)
    assert words in str(error)


@pytest.mark.parametrize("kind", ["Polygon", "GeometryCollection"])
def test_bare_geojson_geometry_is_refused_with_how_to_wrap_it(
    empty_db: Engine, tmp_path: Path, kind: str
) -> None:
    polygon = {"type": "Polygon", "coordinates": [SQUARE]}
    bare = polygon if kind == "Polygon" else {"type": kind, "geometries": [polygon]}
    good = _grids_geojson(tmp_path / "good.geojson", polygon)
    bad = _write_json(tmp_path / "bare.geojson", bare)
    error = _expect_refusal(empty_db, good, bad, "grids")
    message = str(error)
    assert f"bare.geojson: the file is a bare GeoJSON {kind}" in message
    assert '"type": "FeatureCollection"' in message
    assert '"properties": {"code": ..., "name": ..., "level": ...}' in message


def test_bare_geojson_polygon_loads_where_no_property_is_needed(
    empty_db: Engine, tmp_path: Path
) -> None:
    path = _write_json(tmp_path / "lake.geojson", {"type": "Polygon", "coordinates": [SQUARE]})
    report = load_file(empty_db, path, "water")
    assert report.inserted == 1
    with empty_db.connect() as conn:
        code, area = conn.execute(text("SELECT code, ST_Area(geom) FROM water")).one()
    assert code == "water-1"
    assert area == pytest.approx(shapely.Polygon(SQUARE).area)


def _ring(vertices: int) -> list[list[float]]:
    """A closed circle-like ring of exactly ``vertices`` coordinates (first = last)."""
    angle = np.linspace(0, 2 * np.pi, vertices - 1, endpoint=False)
    xy = np.column_stack([120.5 + 0.05 * np.cos(angle), 27.5 + 0.05 * np.sin(angle)])
    return [*xy.tolist(), xy[0].tolist()]


def test_vertex_cap_of_edits_applies_to_loads(empty_db: Engine, tmp_path: Path) -> None:
    limit = get_settings().max_vertices
    good = _grids_geojson(tmp_path / "good.geojson", {"type": "Polygon", "coordinates": [SQUARE]})
    huge = {"type": "Polygon", "coordinates": [_ring(500_001)]}
    assert shapely.get_num_coordinates(shapely.geometry.shape(huge)) == 500_001
    bad = _grids_geojson(tmp_path / "huge.geojson", huge)
    error = _expect_refusal(empty_db, good, bad, "grids")
    assert "huge.geojson, row 2, column 'geometry'" in str(error)
    assert f"500,001 vertices; the limit is {limit:,} (GEOGRID_MAX_VERTICES" in str(error)
    assert error.details["vertices"] == 500_001


def test_vertex_cap_is_configurable(empty_db: Engine, tmp_path: Path) -> None:
    path = _grids_geojson(
        tmp_path / "fifty.geojson", {"type": "Polygon", "coordinates": [_ring(50)]}
    )
    with pytest.raises(IngestError, match="50 vertices; the limit is 49"):
        load_file(empty_db, path, "grids", max_vertices=49)
    assert load_file(empty_db, path, "grids", max_vertices=50).inserted == 2


def _county(code: str, x: float, towns: int = 2, industry: bool = False) -> gpd.GeoDataFrame:
    """A county ``code`` at longitude ``x`` with ``towns`` towns (and an industry grid)."""
    rows = [(code, "county", None, _square(x, 27.5, 0.1))]
    rows += [(f"{code}-{t}", "town", code, _square(x + 0.05 * t, 27.5, 0.05)) for t in range(towns)]
    if industry:
        rows.append((f"{code}-IND", "industry", code, _square(x + 0.01, 27.51, 0.01)))
    codes, levels, parents, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"code": codes, "name": codes, "level": levels, "parent_code": parents},
        geometry=list(geoms),
        crs=4326,
    )


def _codes(engine: Engine, table: str = "grids") -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text(f"SELECT code FROM {table} ORDER BY code")).scalars())


def test_replace_keeps_grids_outside_the_subtrees_of_the_file(
    empty_db: Engine, tmp_path: Path
) -> None:
    first, second = tmp_path / "330326.gpkg", tmp_path / "330327.gpkg"
    _county("330326", 120.5, industry=True).to_file(first)
    _county("330327", 120.7).to_file(second)
    load_file(empty_db, first, "grids", replace=True)
    report = load_file(empty_db, second, "grids", replace=True)
    assert (report.inserted, report.deleted, report.deleted_codes) == (3, 0, [])
    assert len(_codes(empty_db)) == 7  # the first county is all there
    # the first county again without its town 1: that town goes, and only it (its
    # industry grid is another level under the same parent: not in the file's subtrees)
    _county("330326", 120.5, towns=1).to_file(first)
    report = load_file(empty_db, first, "grids", replace=True)
    assert (report.deleted, report.deleted_codes) == (1, ["330326-1"])
    assert _codes(empty_db) == [
        "330326",
        "330326-0",
        "330326-IND",
        "330327",
        "330327-0",
        "330327-1",
    ]


def test_replace_deletes_the_grids_under_a_deleted_grid(empty_db: Engine, tmp_path: Path) -> None:
    grids = _county("330326", 120.5, towns=2)
    village = grids.iloc[[1]].assign(code="330326-1-V", level="village", parent_code="330326-1")
    path = tmp_path / "grids.gpkg"
    pd.concat([grids, village]).to_file(path)
    load_file(empty_db, path, "grids")
    _county("330326", 120.5, towns=1).to_file(path)
    report = load_file(empty_db, path, "grids", replace=True)
    assert report.deleted_codes == ["330326-1", "330326-1-V"]
    assert _codes(empty_db) == ["330326", "330326-0"]


def test_replace_that_would_orphan_a_worker_is_refused(empty_db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "grids.gpkg"
    _county("330326", 120.5).to_file(path)
    workers = tmp_path / "workers.csv"
    pd.DataFrame({"code": ["W1"], "name": ["张三"], "grid_code": ["330326-1"]}).to_csv(
        workers, index=False
    )
    load_files(empty_db, [LoadRequest(path, "grids"), LoadRequest(workers, "grid_workers")])
    before = _snapshot(empty_db, "grids")
    _county("330326", 120.5, towns=1).to_file(path)
    with pytest.raises(IngestError, match="grid_workers") as caught:
        load_file(empty_db, path, "grids", replace=True)
    assert "grids.gpkg" in str(caught.value)
    assert "Nothing was stored" in str(caught.value)
    assert _snapshot(empty_db, "grids") == before


def test_replace_of_a_layer_without_parents_replaces_the_whole_layer(
    empty_db: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "cp.gpkg"
    _checkpoints(5).to_file(path)
    load_file(empty_db, path, "checkpoints")
    _checkpoints(5).iloc[[0, 2]].to_file(path)
    report = load_file(empty_db, path, "checkpoints", replace=True)
    assert (report.deleted, report.deleted_codes) == (3, ["CP001", "CP003", "CP004"])
    assert _codes(empty_db, "checkpoints") == ["CP000", "CP002"]


def _everything(engine: Engine) -> dict[str, list[tuple]]:
    tables = ("grids", "grid_workers", "checkpoints", "layer_versions")
    with engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
            for t in tables
        }


def test_dry_run_counts_and_writes_nothing(empty_db: Engine, tmp_path: Path) -> None:
    grids, checkpoints = tmp_path / "grids.gpkg", tmp_path / "cp.gpkg"
    _county("330326", 120.5, towns=3).to_file(grids)
    frame = _checkpoints(4)
    frame.to_file(checkpoints)
    load_files(empty_db, [LoadRequest(grids, "grids"), LoadRequest(checkpoints, "checkpoints")])
    before = _everything(empty_db)
    changed = _county("330326", 120.5, towns=2)
    changed.loc[1, "name"] = "改名"
    pd.concat([changed, _county("330327", 120.7, towns=0)]).to_file(grids)
    frame.loc[0, "status"] = "closed"
    frame.iloc[[0, 1]].to_file(checkpoints)
    reports = load_files(
        empty_db,
        [LoadRequest(grids, "grids"), LoadRequest(checkpoints, "checkpoints")],
        replace=True,
        dry_run=True,
    )
    counts = [(r.inserted, r.updated, r.unchanged, r.deleted, r.dry_run) for r in reports]
    assert counts == [(1, 1, 2, 1, True), (0, 1, 1, 2, True)]
    assert reports[0].deleted_codes == ["330326-2"]
    assert _everything(empty_db) == before
    # the same load for real gives the same counts
    real = load_files(
        empty_db,
        [LoadRequest(grids, "grids"), LoadRequest(checkpoints, "checkpoints")],
        replace=True,
    )
    assert [(r.inserted, r.updated, r.unchanged, r.deleted, r.dry_run) for r in real] == [
        (*c[:4], False) for c in counts
    ]
    assert _everything(empty_db) != before


def test_dry_run_finds_what_the_real_load_would_refuse(empty_db: Engine, tmp_path: Path) -> None:
    workers = tmp_path / "workers.csv"
    pd.DataFrame({"code": ["W1"], "name": ["张三"], "grid_code": ["NOPE"]}).to_csv(
        workers, index=False
    )
    with pytest.raises(IngestError, match="NOPE"):
        load_file(empty_db, workers, "grid_workers", dry_run=True)
    assert _codes(empty_db, "grid_workers") == []


def test_features_without_properties_are_refused_saying_so(
    empty_db: Engine, tmp_path: Path
) -> None:
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    }
    path = _write_json(
        tmp_path / "bare.geojson", {"type": "FeatureCollection", "features": [feature]}
    )
    with pytest.raises(IngestError) as caught:
        load_file(empty_db, path, "grids")
    assert "missing required column(s) code, name, level" in str(caught.value)
    assert "the file has no column (no property)" in str(caught.value)


def test_coordinates_the_named_crs_cannot_convert_are_refused(
    empty_db: Engine, tmp_path: Path
) -> None:
    good = tmp_path / "good.gpkg"
    _checkpoints().to_file(good)
    bad = tmp_path / "cgcs.csv"
    bad.write_text(
        "code,name,kind,x,y\nK1,a,village_gate,500000,3000000\nK2,b,village_gate,1e12,1e12\n",
        encoding="utf-8",
    )
    error = _expect_refusal(empty_db, good, bad, "checkpoints", crs="EPSG:4549")
    assert "cgcs.csv, row 2, column 'x, y'" in str(error)
    assert "cannot be converted from EPSG:4549 to WGS 84" in str(error)
