"""The layers as OGC API – Features, checked against PostGIS and shapely directly."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid import crs as gcrs
from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.credentials import issue_key

LAYERS = ("grids", "checkpoints", "isolation_sites", "addresses", "roads")


def stored(engine: Engine, layer: str) -> gpd.GeoDataFrame:
    """Return a whole layer straight from PostGIS, ordered like the API promises."""
    with engine.connect() as conn:
        return gpd.read_postgis(
            text(f'SELECT * FROM {layer} ORDER BY code COLLATE "C"'), conn, geom_col="geom"
        )


def all_pages(client: TestClient, url: str) -> tuple[list[dict], list[dict]]:
    """Follow ``next`` links from ``url``; return every feature and every page."""
    features, pages = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        features += body["features"]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return features, pages


def link(body: dict, rel: str) -> str | None:
    return next((x["href"] for x in body["links"] if x["rel"] == rel), None)


def test_landing_page_links_the_api_and_the_data(demo_client: TestClient) -> None:
    body = demo_client.get("/").json()
    rels = {x["rel"]: x["href"] for x in body["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    for rel in ("service-desc", "service-doc", "conformance", "data"):
        assert demo_client.get(rels[rel]).status_code == 200, rel
    conformance = demo_client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance


def test_collections_have_the_extent_of_their_data(
    demo_client: TestClient, demo_db: Engine
) -> None:
    body = demo_client.get("/collections").json()
    assert [c["id"] for c in body["collections"]] == list(LAYERS)
    for doc in body["collections"]:
        bounds = stored(demo_db, doc["id"]).total_bounds
        assert np.allclose(doc["extent"]["spatial"]["bbox"][0], bounds, atol=1e-9)
        assert any(x["rel"] == "items" for x in doc["links"])
        one = demo_client.get(f"/collections/{doc['id']}").json()
        assert one["id"] == doc["id"]


@pytest.mark.parametrize(("layer", "limit"), [("grids", 97), ("addresses", 10_000)])
def test_paging_returns_every_row_exactly_once_in_code_order(
    demo_client: TestClient, demo_db: Engine, layer: str, limit: int
) -> None:
    features, pages = all_pages(demo_client, f"/collections/{layer}/items?limit={limit}")
    with demo_db.connect() as conn:
        codes = conn.execute(text(f'SELECT code FROM {layer} ORDER BY code COLLATE "C"')).scalars()
        expected = list(codes)
    assert [f["id"] for f in features] == expected
    assert len(pages) == -(-len(expected) // limit)
    assert all(p["numberMatched"] == len(expected) for p in pages)
    assert [p["numberReturned"] for p in pages] == [len(p["features"]) for p in pages]
    assert link(pages[0], "prev") is None
    assert link(pages[-1], "next") is None


def test_the_default_page_is_100_and_a_big_limit_is_capped(demo_client: TestClient) -> None:
    assert demo_client.get("/collections/roads/items").json()["numberReturned"] == 100
    body = demo_client.get("/collections/roads/items?limit=50000").json()
    assert body["numberReturned"] == min(10_000, body["numberMatched"])
    if body["numberMatched"] > 10_000:
        assert parse_qs(urlsplit(link(body, "next")).query)["limit"] == ["10000"]


@pytest.mark.parametrize("layer", ["grids", "checkpoints", "roads", "addresses"])
def test_bbox_selects_what_shapely_says_intersects(
    demo_client: TestClient, demo_db: Engine, layer: str
) -> None:
    frame = stored(demo_db, layer)
    x0, y0, x1, y1 = frame.total_bounds
    box = (x0 + (x1 - x0) * 0.3, y0 + (y1 - y0) * 0.4, x0 + (x1 - x0) * 0.45, y0 + (y1 - y0) * 0.5)
    expected = frame.loc[frame.intersects(shapely.box(*box)), "code"].tolist()
    assert 0 < len(expected) < len(frame)
    features, pages = all_pages(
        demo_client, f"/collections/{layer}/items?limit=1000&bbox={','.join(map(str, box))}"
    )
    assert [f["id"] for f in features] == expected
    assert pages[0]["numberMatched"] == len(expected)


def test_bbox_in_gcj02_is_the_box_a_gaode_map_shows(
    demo_client: TestClient, demo_db: Engine
) -> None:
    frame = stored(demo_db, "addresses")
    gx, gy = gcrs.wgs84_to_gcj02(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    box = (120.60, 27.62, 120.64, 27.66)  # in GCJ-02, as read off an Amap map
    inside = (gx >= box[0]) & (gx <= box[2]) & (gy >= box[1]) & (gy <= box[3])
    assert 0 < inside.sum() < len(frame)
    features, _ = all_pages(
        demo_client,
        f"/collections/addresses/items?limit=10000&bbox-crs=gcj02&bbox={','.join(map(str, box))}",
    )
    assert [f["id"] for f in features] == frame.loc[inside, "code"].tolist()


def test_filters_match_the_table(demo_client: TestClient, demo_db: Engine) -> None:
    grids = stored(demo_db, "grids")
    town = grids.loc[grids["level"] == "town", "code"].iloc[1]
    features, _ = all_pages(
        demo_client, f"/collections/grids/items?level=village&parent={town}&limit=10000"
    )
    chosen = grids[(grids["level"] == "village") & (grids["parent_code"] == town)]
    assert [f["id"] for f in features] == chosen["code"].tolist() != []
    assert all(f["properties"]["parent_code"] == town for f in features)

    checkpoints = stored(demo_db, "checkpoints")
    features, _ = all_pages(
        demo_client, "/collections/checkpoints/items?kind=village_gate&status=active&limit=10000"
    )
    chosen = checkpoints[
        (checkpoints["kind"] == "village_gate") & (checkpoints["status"] == "active")
    ]
    assert [f["id"] for f in features] == chosen["code"].tolist() != []

    roads = stored(demo_db, "roads")
    features, _ = all_pages(demo_client, "/collections/roads/items?road_class=trunk&limit=10000")
    assert [f["id"] for f in features] == roads.loc[roads["road_class"] == "trunk", "code"].tolist()


def test_links_keep_the_query(demo_client: TestClient) -> None:
    url = "/collections/grids/items?level=micro&limit=10&offset=20&crs=gcj02"
    response = demo_client.get(url)
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    query = parse_qs(urlsplit(link(body, "self")).query)
    assert query == {"level": ["micro"], "limit": ["10"], "offset": ["20"], "crs": ["gcj02"]}
    assert parse_qs(urlsplit(link(body, "next")).query) == {**query, "offset": ["30"]}
    assert parse_qs(urlsplit(link(body, "prev")).query) == {**query, "offset": ["10"]}
    assert link(body, "collection").endswith("/collections/grids")
    assert body["timeStamp"].endswith("Z")


def test_gcj02_output_converts_back_to_what_is_stored(
    demo_client: TestClient, demo_db: Engine
) -> None:
    response = demo_client.get("/collections/grids/items?limit=50&crs=gcj02")
    assert response.headers["Content-Crs"] == "<urn:geogrid:crs:gcj02>"
    features = response.json()["features"]
    frame = stored(demo_db, "grids").set_index("code")
    for feature in features:
        shown = shapely.geometry.shape(feature["geometry"])
        back = gcrs.geometries_to_wgs84(shown, "gcj02")
        original = frame.loc[feature["id"], "geom"]
        assert shapely.get_num_coordinates(back) == shapely.get_num_coordinates(original)
        assert np.allclose(
            shapely.get_coordinates(back), shapely.get_coordinates(original), atol=1e-9
        )
        assert not np.allclose(shapely.get_coordinates(shown), shapely.get_coordinates(original))
    wgs = demo_client.get("/collections/grids/items?limit=1")
    assert wgs.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


def test_a_projected_crs_for_output_and_for_the_bbox(
    demo_client: TestClient, demo_db: Engine
) -> None:
    body = demo_client.get("/collections/checkpoints/items?limit=5&crs=EPSG:32651").json()
    frame = stored(demo_db, "checkpoints").set_index("code")
    for feature in body["features"]:
        x, y = feature["geometry"]["coordinates"]
        lon, lat = gcrs.to_wgs84(x, y, "EPSG:32651")
        point = frame.loc[feature["id"], "geom"]
        assert abs(lon - point.x) < 1e-8
        assert abs(lat - point.y) < 1e-8
    xs = [f["geometry"]["coordinates"][0] for f in body["features"]]
    ys = [f["geometry"]["coordinates"][1] for f in body["features"]]
    box = f"{min(xs) - 1},{min(ys) - 1},{max(xs) + 1},{max(ys) + 1}"
    again = demo_client.get(
        f"/collections/checkpoints/items?bbox={box}&bbox-crs=EPSG:32651&limit=10000"
    ).json()
    assert {f["id"] for f in body["features"]} <= {f["id"] for f in again["features"]}


def test_one_feature_with_its_etag(demo_client: TestClient, demo_db: Engine) -> None:
    site = stored(demo_db, "isolation_sites").iloc[0]
    response = demo_client.get(f"/collections/isolation_sites/items/{site['code']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    feature = response.json()
    assert feature["id"] == site["code"]
    assert feature["properties"]["capacity"] == site["capacity"]
    assert shapely.geometry.shape(feature["geometry"]).equals(site["geom"])
    etag = response.headers["ETag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    again = demo_client.get(f"/collections/isolation_sites/items/{site['code']}")
    assert again.headers["ETag"] == etag
    gcj = demo_client.get(f"/collections/isolation_sites/items/{site['code']}?crs=gcj02")
    assert gcj.headers["ETag"] != etag  # another representation, another tag


def test_grids_carry_no_personal_data(demo_client: TestClient, demo_db: Engine) -> None:
    with demo_db.connect() as conn:
        phones = set(conn.execute(text("SELECT phone FROM grid_workers")).scalars())
        names = set(conn.execute(text("SELECT name FROM grid_workers")).scalars())
    text_ = demo_client.get("/collections/grids/items?limit=10000").text
    assert phones
    assert not any(p in text_ for p in phones if p)
    assert not any(n in text_ for n in names if n)


@pytest.mark.parametrize(
    ("url", "status", "needle"),
    [
        ("/collections/people/items", 404, "people"),
        ("/collections/people", 404, "people"),
        ("/collections/grids/items/NOPE", 404, "NOPE"),
        ("/collections/grids/items?bbox=1,2,3", 422, "four"),
        ("/collections/grids/items?bbox=120.7,27.5,120.6,27.6", 422, "minimum above"),
        ("/collections/grids/items?bbox=120.6,27.5,120.7,95", 422, "latitude"),
        ("/collections/grids/items?bbox=a,b,c,d", 422, "four"),
        ("/collections/grids/items?bbox=nan,1,2,3", 422, "plain decimals"),
        ("/collections/grids/items?colour=red&size=2", 422, "colour, size"),
        ("/collections/grids/items?kind=temporary", 422, "kind"),
        ("/collections/grids/items?level=planet", 422, "planet"),
        ("/collections/grids/items?limit=0", 422, "limit"),
        ("/collections/grids/items?offset=-1", 422, "offset"),
        ("/collections/grids/items?crs=mars", 422, "mars"),
        ("/collections/grids/items?bbox-crs=mars&bbox=1,2,3,4", 422, "mars"),
        ("/collections/grids/items?datetime=yesterday", 422, "datetime"),
        ("/collections/grids/items/C?colour=red", 422, "colour"),
        ("/collections?colour=red", 422, "colour"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    demo_client: TestClient, url: str, status: int, needle: str
) -> None:
    response = demo_client.get(url)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert needle in response.text


def test_datetime_is_accepted_and_selects_everything(demo_client: TestClient) -> None:
    plain = demo_client.get("/collections/checkpoints/items?limit=1").json()
    timed = demo_client.get(
        "/collections/checkpoints/items?limit=1&datetime=2020-01-31T00:00:00Z/.."
    ).json()
    assert timed["numberMatched"] == plain["numberMatched"]


def test_a_grid_worker_sees_only_the_chain_and_subtree_of_their_grid(county_db: Engine) -> None:
    workspace = Workspace(county_db, Settings(cache_check_interval_s=0))
    key = issue_key(workspace, "王芳", "grid_worker", "C-001-002").key
    client = TestClient(create_app(Settings(warm_up=False), workspace=workspace))
    headers = {"Authorization": f"Bearer {key}"}
    features, _ = all_pages(
        client.__class__(client.app, headers=headers), "/collections/grids/items"
    )
    assert [f["id"] for f in features] == [
        "C",
        "C-001",
        "C-001-002",
        "C-001-002-01",
        "C-001-002-02",
    ]
    assert client.get("/collections/grids/items/C-002", headers=headers).status_code == 404
    assert client.get("/collections/grids/items/C-001-002-01", headers=headers).status_code == 200
    everyone = client.get("/collections/grids/items").json()
    assert everyone["numberMatched"] == 16


def test_large_pages_are_gzipped_for_clients_that_ask(demo_client: TestClient) -> None:
    url = "/collections/grids/items?level=village&limit=200"
    plain = demo_client.get(url, headers={"Accept-Encoding": "identity"})
    packed = demo_client.get(url, headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["content-type"] == plain.headers["content-type"]
    # httpx has undone the compression; the two answers differ only in when they were made
    assert {**packed.json(), "timeStamp": None} == {**plain.json(), "timeStamp": None}
    # content-length counts the bytes on the wire
    assert int(packed.headers["content-length"]) < len(plain.content) / 2


def test_roads_say_who_may_use_them(demo_client: TestClient, demo_db: Engine) -> None:
    roads = stored(demo_db, "roads").set_index("code")
    features, _ = all_pages(demo_client, "/collections/roads/items?limit=10000")
    assert len(features) == len(roads)
    for feature in features[:500]:
        props = feature["properties"]
        assert props["car"] is bool(roads.loc[feature["id"], "car"])
        assert props["foot"] is bool(roads.loc[feature["id"], "foot"])
