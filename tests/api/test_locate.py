"""``/locate`` end to end on a small county loaded into a real PostGIS.

Answers are checked against PostGIS itself (``ST_Covers`` with the first-code rule).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid.api.app import create_app
from geogrid.crs import wgs84_to_gcj02
from geogrid.ingest.load import LoadRequest, load_files
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from tests.conftest import X0, Y0, api_key, bearer, county_box


@pytest.fixture
def client(county_db: Engine) -> TestClient:
    settings = Settings(max_batch_rows=50, cache_check_interval_s=0)
    app = create_app(settings, workspace=Workspace(county_db, settings))
    return TestClient(app, headers=bearer(api_key(county_db, "app")))


def _postgis_owner(engine: Engine, lon: float, lat: float, level: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT code FROM grids WHERE level = :level AND "
                "ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) "
                'ORDER BY code COLLATE "C" LIMIT 1'
            ),
            {"level": level, "lon": lon, "lat": lat},
        ).scalar()


def test_point_chain_matches_postgis(client: TestClient, county_db: Engine) -> None:
    rng = np.random.default_rng(3)
    points = [(X0 + 0.02, Y0 + 0.02), (X0 + 0.04, Y0 + 0.01)]  # a vertex and a shared edge
    points += list(zip(X0 + rng.uniform(0, 0.08, 20), Y0 + rng.uniform(0, 0.04, 20), strict=True))
    for lon, lat in points:
        body = client.get("/locate", params={"lon": lon, "lat": lat}).json()
        assert body["status"] == "ok"
        chain = {g["level"]: g["code"] for g in body["chain"]}
        for level in ("county", "town", "village", "micro"):
            assert chain[level] == _postgis_owner(county_db, lon, lat, level)
        industry = [g["code"] for g in body["industry"]]
        assert industry == (
            [_postgis_owner(county_db, lon, lat, "industry")]
            if _postgis_owner(county_db, lon, lat, "industry")
            else []
        )


def test_gcj02_input_is_converted(client: TestClient) -> None:
    lon, lat = X0 + 0.038, Y0 + 0.01  # 200 m west of the town border; GCJ-02 adds ~400 m east
    gx, gy = wgs84_to_gcj02(lon, lat)
    plain = client.get("/locate", params={"lon": lon, "lat": lat}).json()
    shifted = client.get("/locate", params={"lon": gx, "lat": gy, "crs": "gcj02"}).json()
    assert shifted["chain"] == plain["chain"]
    assert shifted["point"]["lon"] == pytest.approx(lon, abs=1e-8)
    # the same numbers taken as WGS 84 land hundreds of metres away, in another grid
    wrong = client.get("/locate", params={"lon": gx, "lat": gy}).json()
    assert wrong["chain"] != plain["chain"]


def test_outside_and_swapped(client: TestClient) -> None:
    outside = client.get("/locate", params={"lon": X0 - 0.1, "lat": Y0}).json()
    assert outside["status"] == "outside"
    assert outside["chain"] == []
    swapped = client.get("/locate", params={"lon": Y0, "lat": X0})
    assert swapped.status_code == 422
    assert "longitude first" in swapped.json()["message"]
    missing = client.get("/locate")
    assert missing.status_code == 422


def test_address_gives_chain_worker_and_masked_phone(client: TestClient) -> None:
    body = client.get("/locate", params={"address": "平阳县鳌江镇乙村工业路４号"}).json()
    assert body["address"]["level"] == "house"
    assert body["address"]["code"] == "C-001-002-A2"
    assert body["confidence"] >= 0.8
    assert body["chain"][2] == {"code": "C-001-002", "name": "乙村", "level": "village"}
    assert body["worker"]["grid_code"] == "C-001-002"
    assert body["worker"]["phone"] == "170****0001"
    assert body["worker"]["name"] == "网格员1"


def test_address_answer_says_why(client: TestClient) -> None:
    text = "你好，我住鳌江乙村工業路四號之二門口"
    address = client.get("/locate", params={"address": text}).json()["address"]
    assert address["village"] == "乙村"
    assert address["parsed"] == {
        "county": None,
        "town": "鳌江镇",
        "village": "乙村",
        "road": "工业路",
        "number": "4",
        "sub_number": "2",
        "building": None,
        "unit": None,
        "room": None,
        "landmark": None,
    }
    assert "门口" in address["ignored"]
    assert "你好我住" in address["ignored"]
    assert any(r.startswith("town abbreviated") for r in address["reasons"])
    assert address["confidence"] < 1.0


def test_a_place_outside_the_county_gets_no_village(client: TestClient) -> None:
    body = client.get("/locate", params={"address": "苍南县灵溪镇乙村工业路4号"}).json()
    assert "village" not in [g["level"] for g in body["chain"]]
    assert body["address"]["level"] == "none"
    assert body["address"]["method"] == "elsewhere"
    assert body["address"]["reasons"] == ["county not in the gazetteer (苍南县)"]


def test_unknown_village_is_not_placed_in_another(client: TestClient) -> None:
    body = client.get("/locate", params={"address": "平阳县鳌江镇戊村工业路4号"}).json()
    levels = [g["level"] for g in body["chain"]]
    assert "village" not in levels
    assert body["address"]["level"] in ("town", "none")


def test_batch_keeps_order_and_isolates_bad_rows(client: TestClient) -> None:
    rows = [
        {"id": "a", "lon": X0 + 0.01, "lat": Y0 + 0.01},
        {"id": "b", "lon": float("nan"), "lat": Y0},  # NaN (a string is a 422)
        {"id": "c", "address": "平阳县昆阳镇丁村工业路2号"},
        {"id": "d", "lon": X0 + 0.05, "lat": Y0 + 0.01, "crs": "EPSG:nope"},
        {"id": "e"},
    ]
    body = json.dumps({"rows": rows})  # with a NaN literal, as JavaScript clients send it
    response = client.post(
        "/locate/batch", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["a", "b", "c", "d", "e"]
    assert [r["ok"] for r in results] == [True, False, True, False, False]
    assert results[2]["answer"]["chain"][2]["code"] == "C-002-002"
    assert results[2]["answer"]["address"]["parsed"]["road"] == "工业路"
    assert isinstance(results[2]["answer"]["address"]["reasons"], list)
    assert "EPSG:nope" in results[3]["error"]


def test_batch_csv_upload(client: TestClient) -> None:
    csv = "id,address,lon,lat,crs\n1,,120.51,27.51,\n2,平阳县鳌江镇甲村工业路6号,,,\n"
    response = client.post(
        "/locate/batch", content=csv.encode(), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200
    body = response.json()
    assert [r["ok"] for r in body["results"]] == [True, True]
    assert body["summary"]["level:house"] == 1


def test_batch_csv_line_endings_and_unreadable_csv(client: TestClient) -> None:
    def post(text: str) -> httpx.Response:
        return client.post(
            "/locate/batch", content=text.encode(), headers={"content-type": "text/csv"}
        )

    old_mac = post("id,lon,lat\r1,120.51,27.51\r2,120.52,27.52\r")  # CR-only line ends
    assert old_mac.status_code == 200
    assert [r["id"] for r in old_mac.json()["results"]] == ["1", "2"]
    quoted = post('id,address\r\n1,"平阳县鳌江镇\r\n甲村工业路6号"\r\n')  # a line break in quotes
    assert quoted.status_code == 200
    assert [r["id"] for r in quoted.json()["results"]] == ["1"]
    huge = post("id,address\n1,ok\n2," + "x" * 200_000 + "\n")  # past the csv field limit
    assert huge.status_code == 422
    assert huge.json()["details"] == {"row": 2}
    assert "row 2" in huge.json()["message"]


def test_batch_over_the_limit_is_413(client: TestClient) -> None:
    rows = [{"lon": X0 + 0.01, "lat": Y0 + 0.01}] * 51
    response = client.post("/locate/batch", json={"rows": rows})
    assert response.status_code == 413
    assert "50" in response.json()["message"]


def test_index_rebuilds_when_grids_change(
    client: TestClient, county_db: Engine, tmp_path: Path
) -> None:
    point = {"lon": X0 + 0.005, "lat": Y0 + 0.005}
    assert client.get("/locate", params=point).json()["chain"][-1]["code"] == "C-001-001-01"
    park = gpd.GeoDataFrame(
        [("C-I02", "新市场", "industry", "C", county_box(0, 0, 0.01, 0.01))],
        columns=["code", "name", "level", "parent_code", "geometry"],
        crs=4326,
    )
    park.to_file(tmp_path / "park.gpkg")
    load_files(county_db, [LoadRequest(tmp_path / "park.gpkg", "grids")])
    # the next request notices the new version: the new index is built in the background
    # while that request and any other are answered from the previous one
    assert client.get("/locate", params=point).json()["industry"] == []
    assert client.app.state.workspace.wait_for_refresh(60)  # type: ignore[attr-defined]
    industry = client.get("/locate", params=point).json()["industry"]
    assert [g["code"] for g in industry] == ["C-I02"]


def test_request_log_carries_no_address_or_phone(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    address = "平阳县鳌江镇乙村工业路4号"
    with caplog.at_level("INFO", logger="geogrid"):
        response = client.get("/locate", params={"address": address})
    assert response.headers["X-Request-ID"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert '"path": "/locate"' in logged
    assert response.headers["X-Request-ID"] in logged
    assert "乙村" not in logged
    assert "address" not in logged
    assert "1701234" not in logged
