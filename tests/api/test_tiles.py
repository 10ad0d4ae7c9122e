"""The layers as vector tiles, checked against ST_AsMVT queries written here and PostGIS."""

from __future__ import annotations

import math
from collections.abc import Callable

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid.api.app import create_app
from geogrid.db.queries.layers import bump_version
from geogrid.privacy import find_personal
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.features import FEATURE_LAYERS
from tests.conftest import DEMO_WORKER_GRID

TILES = "/collections/{layer}/tiles/WebMercatorQuad"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the column and row of the WebMercatorQuad tile holding a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    rad = math.radians(lat)
    y = int((1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * n)
    return x, y


def a_place(engine: Engine, layer: str) -> tuple[float, float]:
    """Return a point on the first feature of a layer (by code)."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM {layer} "
                'ORDER BY code COLLATE "C" LIMIT 1) s'
            )
        ).one()
    return float(row[0]), float(row[1])


def expected_tile(
    engine: Engine, layer: str, z: int, x: int, y: int, where: str = "TRUE", **params: str
) -> bytes:
    """Build the tile with no index and no search box: every row through ST_AsMVTGeom,
    which leaves out (NULL) what falls outside the tile and its 64-unit buffer."""
    columns = ", ".join(f'"{c}"' for c in FEATURE_LAYERS[layer].properties)
    sql = f"""
        SELECT ST_AsMVT(q, :layer, 4096, 'g') FROM (
            SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(:z, :x, :y), 4096, 64)
                   AS g, {columns}
            FROM {layer} WHERE {where}) q
        WHERE g IS NOT NULL"""
    with engine.connect() as conn:
        value = conn.execute(
            text(sql), {"layer": layer, "z": z, "x": x, "y": y, **params}
        ).scalar_one()
    return bytes(value or b"")


def features_of(data: bytes, layer: str) -> dict[str, tuple]:
    """Decode a tile; return code -> (properties, geometry) of its one layer."""
    decoded = mapbox_vector_tile.decode(data) if data else {}
    assert set(decoded) <= {layer}
    out = {}
    for feature in decoded.get(layer, {}).get("features", []):
        props = feature["properties"]
        out[props["code"]] = (sorted(props.items()), repr(feature["geometry"]))
    return out


@pytest.mark.parametrize(
    ("layer", "z"),
    [("grids", 9), ("grids", 15), ("roads", 14), ("checkpoints", 12), ("addresses", 16)],
)
def test_a_tile_holds_the_features_st_asmvt_gives(
    demo_client: TestClient, demo_db: Engine, layer: str, z: int
) -> None:
    x, y = tile_of(*a_place(demo_db, layer), z)
    response = demo_client.get(f"{TILES.format(layer=layer)}/{z}/{x}/{y}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    got = features_of(response.content, layer)
    assert got
    assert got == features_of(expected_tile(demo_db, layer, z, x, y), layer)
    for properties, _ in got.values():
        assert {k for k, _ in properties} <= set(FEATURE_LAYERS[layer].properties)


def test_a_grid_workers_tile_holds_their_chain_and_subtree_only(
    demo_client_as: Callable[[str | None], TestClient], demo_db: Engine
) -> None:
    root = DEMO_WORKER_GRID
    with demo_db.connect() as conn:
        reach = set(
            conn.execute(
                text(
                    "SELECT code FROM grids WHERE code = :g"
                    " OR left(code, length(:g) + 1) = :g || '-'"
                    " OR left(:g, length(code) + 1) = code || '-'"
                ),
                {"g": root},
            ).scalars()
        )
    assert len(reach) > 2
    x, y = tile_of(*a_place_of(demo_db, root), 12)
    url = f"{TILES.format(layer='grids')}/12/{x}/{y}"
    worker = features_of(demo_client_as("grid_worker").get(url).content, "grids")
    admin = features_of(demo_client_as("admin").get(url).content, "grids")
    assert set(worker) <= reach
    assert set(admin) - reach  # the same tile holds other grids for others
    where = "code = ANY(:codes)"
    expected = expected_tile(demo_db, "grids", 12, x, y, where, codes=sorted(reach))
    assert worker == features_of(expected, "grids")
    # a tile of other grids only: what is left is the worker's chain (county, town)
    with demo_db.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                "WHERE level = 'village' AND NOT code = ANY(:codes) "
                "AND NOT ST_Intersects(geom, (SELECT ST_Buffer(geom, 0.02) FROM grids "
                "WHERE code = :g)) ORDER BY code LIMIT 1) s"
            ),
            {"codes": sorted(reach), "g": root},
        ).one()
    x, y = tile_of(lon, lat, 16)
    far = demo_client_as("grid_worker").get(f"{TILES.format(layer='grids')}/16/{x}/{y}")
    chain = {c for c in reach if root.startswith(c + "-")}
    assert set(features_of(far.content, "grids")) <= chain


def a_place_of(engine: Engine, code: str) -> tuple[float, float]:
    """Return a point inside grid ``code``."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                "WHERE code = :c) s"
            ),
            {"c": code},
        ).one()
    return float(row[0]), float(row[1])


@pytest.mark.parametrize(
    ("role", "layers"),
    [
        ("admin", tuple(FEATURE_LAYERS)),  # who sees most, on every layer
        *((role, ("grids",)) for role in (None, "app", "planner", "dispatcher", "grid_worker")),
    ],
)
def test_tiles_carry_no_personal_data(
    demo_client_as: Callable[[str | None], TestClient],
    demo_db: Engine,
    role: str | None,
    layers: tuple[str, ...],
) -> None:
    with demo_db.connect() as conn:
        phones = set(conn.execute(text("SELECT phone FROM grid_workers")).scalars()) - {None}
        names = set(conn.execute(text("SELECT name FROM grid_workers")).scalars()) - {None}
    assert phones
    x, y = tile_of(*a_place_of(demo_db, DEMO_WORKER_GRID), 15)
    client = demo_client_as(role)
    for layer in layers:
        response = client.get(f"{TILES.format(layer=layer)}/15/{x}/{y}")
        assert response.status_code in (200, 204)
        features = features_of(response.content, layer)
        assert features or layer != "grids"
        values = [  # texts only: the digits of a length such as 107.14871117932 are no phone
            v for props, _ in features.values() for _, v in props if isinstance(v, str)
        ]
        shown = " ".join(values)
        assert not find_personal(shown)
        assert not any(p in shown for p in phones)
        assert not any(n in values for n in names)


def test_an_empty_tile_is_204_and_tags_make_304(demo_client: TestClient, demo_db: Engine) -> None:
    empty = demo_client.get(f"{TILES.format(layer='grids')}/10/0/0")  # the Arctic
    assert empty.status_code == 204
    assert empty.content == b""
    x, y = tile_of(*a_place(demo_db, "roads"), 14)
    url = f"{TILES.format(layer='roads')}/14/{x}/{y}"
    first = demo_client.get(url)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, max-age=60"
    again = demo_client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/collections/people/tiles/WebMercatorQuad/0/0/0", 404, "people"),
        ("/collections/people/tiles", 404, "people"),
        ("/collections/grids/tiles/WebMercatorQuad/23/0/0", 422, "z"),
        ("/collections/grids/tiles/WebMercatorQuad/1/2/0", 404, "0 to 1"),  # OGC: outside
        ("/collections/grids/tiles/WebMercatorQuad/1/0/2", 404, "0 to 1"),  # the matrix
        ("/collections/grids/tiles/WebMercatorQuad/1/0/-1", 422, "y"),
        ("/collections/grids/tiles/WebMercatorQuad/1/0/0?f=mvt", 422, "f"),
    ],
)
def test_bad_tiles_say_what_is_wrong(
    demo_client: TestClient, path: str, status: int, needle: str
) -> None:
    response = demo_client.get(path)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"code", "message", "details"}
    assert needle in response.text


def test_metadata_leads_to_the_tiles(demo_client: TestClient, demo_db: Engine) -> None:
    landing = demo_client.get("/").json()
    schemes = next(x["href"] for x in landing["links"] if x["rel"].endswith("tiling-schemes"))
    listed = demo_client.get(schemes).json()["tileMatrixSets"]
    assert [s["id"] for s in listed] == ["WebMercatorQuad"]
    tms = demo_client.get(listed[0]["links"][0]["href"]).json()
    assert [m["id"] for m in tms["tileMatrices"]] == [str(z) for z in range(23)]
    assert tms["tileMatrices"][0]["cellSize"] == pytest.approx(156543.03392804097)
    collection = demo_client.get("/collections/roads").json()
    tiles = next(x["href"] for x in collection["links"] if x["rel"].endswith("tilesets-vector"))
    tileset = demo_client.get(tiles).json()["tilesets"][0]
    assert tileset["dataType"] == "vector"
    assert tileset["layers"][0]["id"] == "roads"
    assert tileset["layers"][0]["maxTileMatrix"] == "22"
    item = next(x for x in tileset["links"] if x["rel"] == "item")
    tilejson_url = next(x["href"] for x in tileset["links"] if x["rel"] == "describedby")
    tilejson = demo_client.get(tilejson_url).json()
    assert tilejson["vector_layers"][0]["fields"]["car"] == "Boolean"
    assert tilejson["vector_layers"][0]["fields"]["speed_kmh"] == "Number"
    x, y = tile_of(*a_place(demo_db, "roads"), 15)
    by_template = item["href"].format(tileMatrix=15, tileCol=x, tileRow=y)
    by_tilejson = tilejson["tiles"][0].format(z=15, x=x, y=y)
    assert by_template == by_tilejson
    answer = demo_client.get(by_tilejson)
    assert answer.status_code == 200
    assert features_of(answer.content, "roads")


def test_a_changed_layer_is_tiled_again(county_db: Engine) -> None:
    workspace = Workspace(county_db, Settings(cache_check_interval_s=0))
    client = TestClient(create_app(Settings(warm_up=False), workspace=workspace))
    x, y = tile_of(*a_place_of(county_db, "C-001-002"), 12)
    url = f"{TILES.format(layer='grids')}/12/{x}/{y}"
    before = features_of(client.get(url).content, "grids")
    assert dict(before["C-001-002"][0])["name"] != "改名村"
    assert client.get(url).content == client.get(url).content  # served again from memory
    with county_db.begin() as conn:
        conn.execute(text("UPDATE grids SET name = '改名村' WHERE code = 'C-001-002'"))
        bump_version(conn, "grids")
    after = features_of(client.get(url).content, "grids")
    assert dict(after["C-001-002"][0])["name"] == "改名村"
    assert set(after) == set(before)
