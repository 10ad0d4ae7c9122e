"""The demo data, as stored in PostGIS, has the size DOMAIN.md asks for."""

from __future__ import annotations

import pyogrio
import pytest
from sqlalchemy import Engine, text

from geogrid.ingest.demo import DEMO_LAYERS, demo_path

AOJIANG = "330326-101"


def _scalar(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_every_row_of_the_file_is_stored(demo_db: Engine) -> None:
    source = f"/vsizip/{demo_path()}/pingyang-demo.gpkg"
    for layer in DEMO_LAYERS:
        expected = pyogrio.read_info(source, layer=layer)["features"]
        assert _scalar(demo_db, f'SELECT count(*) FROM "{layer}"') == expected, layer


@pytest.mark.parametrize(
    ("what", "sql", "at_least"),
    [
        ("towns", "SELECT count(*) FROM grids WHERE level = 'town'", 3),
        (
            "Aojiang villages",
            f"SELECT count(*) FROM grids WHERE level = 'village' AND parent_code = '{AOJIANG}'",
            60,
        ),
        (
            "Aojiang micro-grids",
            f"SELECT count(*) FROM grids WHERE level = 'micro' AND parent_code LIKE '{AOJIANG}-%'",
            300,
        ),
        ("industry grids", "SELECT count(*) FROM grids WHERE level = 'industry'", 2),
        (
            "checkpoints in Aojiang",
            "SELECT count(*) FROM checkpoints c JOIN grids g ON g.code = :town "
            "AND ST_Covers(g.geom, c.geom)",
            800,
        ),
        ("standard addresses", "SELECT count(*) FROM addresses", 50_000),
        ("road edges", "SELECT count(*) FROM roads", 20_000),
        ("vehicles", "SELECT count(*) FROM vehicles", 15),
    ],
)
def test_demo_size(demo_db: Engine, what: str, sql: str, at_least: int) -> None:
    assert _scalar(demo_db, sql, town=AOJIANG) >= at_least, what


def test_demo_people_and_hotels(demo_db: Engine) -> None:
    assert _scalar(demo_db, "SELECT sum(group_size) FROM transfer_requests") == 400
    assert _scalar(demo_db, "SELECT count(*) FROM isolation_sites WHERE kind = 'hotel'") == 5
    assert _scalar(demo_db, "SELECT sum(capacity - occupied) FROM isolation_sites") > 400
    assert _scalar(demo_db, "SELECT count(*) FROM checkpoints WHERE status = 'closed'") > 0
    assert (
        _scalar(demo_db, f"SELECT sum(population) FROM grids WHERE code = '{AOJIANG}'") == 320_000
    )


def test_demo_roads_are_one_routable_graph(demo_db: Engine) -> None:
    components = _scalar(
        demo_db,
        "SELECT count(DISTINCT component) FROM pgr_strongComponents("
        "'SELECT id, source, target, cost, reverse_cost FROM roads')",
    )
    assert components == 1
    assert _scalar(demo_db, "SELECT count(*) FROM roads WHERE source IS NULL") == 0


def test_demo_geometries_are_valid(demo_db: Engine) -> None:
    for layer in ("grids", "roads", "checkpoints", "addresses", "water"):
        assert _scalar(demo_db, f"SELECT count(*) FROM {layer} WHERE NOT ST_IsValid(geom)") == 0
