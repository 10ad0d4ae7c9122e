"""Editing layers through the API: validation, If-Match, the audit log, index rebuilds.

Every test writes to its own small county (``county_db``), never to the demo database.
Areas reported by the service are checked against shapely in UTM 51N.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid import crs as gcrs
from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.credentials import issue_key

X0, Y0 = 120.50, 27.50  # the small county's corner (tests/conftest.py)
UTM = pyproj.Transformer.from_crs(4326, 32651, always_xy=True).transform


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def feature(geometry: shapely.Geometry, **properties: object) -> dict:
    return {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(geometry),
        "properties": properties,
    }


def area_m2(geometry: shapely.Geometry) -> float:
    return shapely.transform(geometry, lambda xy: np.column_stack(UTM(xy[:, 0], xy[:, 1]))).area


@dataclass
class Editing:
    """A county, its workspace, and clients for a planner, an admin and nobody."""

    engine: Engine
    workspace: Workspace
    planner: TestClient
    admin: TestClient
    anonymous: TestClient
    app_client: TestClient

    def row(self, layer: str, code: str) -> dict | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                text(f"SELECT *, ST_AsText(geom) AS wkt FROM {layer} WHERE code = :c"),
                {"c": code},
            ).mappings()
            first = found.first()
            return dict(first) if first else None

    def audit_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()

    def version(self, layer: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                text("SELECT version FROM layer_versions WHERE layer = :l"), {"l": layer}
            ).scalar()
            return int(value or 0)


@pytest.fixture(params=[False, True], ids=["in-process", "helper-process"])
def editing(
    county_db: Engine, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[Editing]:
    """Clients of an API on the small county; every test runs twice: with the edits made
    in the API's own process, and in its helper process (as API servers make them)."""
    workspace = Workspace(county_db, Settings(cache_check_interval_s=60, max_vertices=500))
    keys = {
        role: issue_key(workspace, f"{role} 用户", role).key for role in ("planner", "admin", "app")
    }
    app = create_app(Settings(warm_up=False), workspace=workspace)

    def client(role: str | None) -> TestClient:
        headers = {"Authorization": f"Bearer {keys[role]}"} if role else {}
        return TestClient(app, headers=headers)

    if request.param:
        workspace.start_helper_process()
    try:
        yield Editing(
            county_db, workspace, client("planner"), client("admin"), client(None), client("app")
        )
    finally:
        workspace.stop_helper_process()
    assert "helper failed" not in caplog.text  # the helper made them, not this process


def test_checkpoint_create_replace_patch_delete(editing: Editing) -> None:
    api = editing.planner
    point = shapely.Point(X0 + 0.011, Y0 + 0.012)
    created = api.post(
        "/collections/checkpoints/items",
        json=feature(point, code="K1", name="一号卡口", kind="village_gate", staff=3),
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith("/collections/checkpoints/items/K1")
    assert created.json()["repaired"] is None
    row = editing.row("checkpoints", "K1")
    assert row["name"] == "一号卡口"
    assert row["status"] == "active"  # the default
    assert shapely.from_wkt(row["wkt"]).equals(point)
    assert (
        api.post(
            "/collections/checkpoints/items",
            json=feature(point, code="K1", name="x", kind="temporary"),
        ).status_code
        == 409
    )

    got = api.get("/collections/checkpoints/items/K1")
    assert got.headers["ETag"] == created.headers["ETag"]
    moved = shapely.Point(X0 + 0.03, Y0 + 0.01)
    replaced = api.put(
        "/collections/checkpoints/items/K1",
        json=feature(moved, name="一号卡口(移)", kind="traffic_station"),
        headers={"If-Match": got.headers["ETag"]},
    )
    assert replaced.status_code == 200, replaced.text
    row = editing.row("checkpoints", "K1")
    assert (row["name"], row["kind"], row["staff"]) == ("一号卡口(移)", "traffic_station", None)
    assert shapely.from_wkt(row["wkt"]).equals(moved)

    patched = api.patch(
        "/collections/checkpoints/items/K1",
        json={"type": "Feature", "properties": {"status": "closed", "staff": 0}},
        headers={"If-Match": replaced.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.text
    row = editing.row("checkpoints", "K1")
    assert (row["name"], row["status"], row["staff"]) == ("一号卡口(移)", "closed", 0)
    assert shapely.from_wkt(row["wkt"]).equals(moved)  # geometry kept
    assert patched.json()["properties"]["status"] == "closed"

    deleted = api.delete(
        "/collections/checkpoints/items/K1", headers={"If-Match": patched.headers["ETag"]}
    )
    assert deleted.status_code == 204
    assert editing.row("checkpoints", "K1") is None
    assert api.get("/collections/checkpoints/items/K1").status_code == 404


def test_a_site_given_in_gcj02_is_stored_in_wgs84(editing: Editing) -> None:
    gx, gy = gcrs.wgs84_to_gcj02(X0 + 0.05, Y0 + 0.02)
    response = editing.planner.post(
        "/collections/isolation_sites/items?crs=gcj02",
        json=feature(shapely.Point(gx, gy), code="H1", name="海景酒店", capacity=80),
    )
    assert response.status_code == 201, response.text
    stored = shapely.from_wkt(editing.row("isolation_sites", "H1")["wkt"])
    assert abs(stored.x - (X0 + 0.05)) < 1e-9
    assert abs(stored.y - (Y0 + 0.02)) < 1e-9
    assert response.json()["geometry"]["coordinates"] == pytest.approx([gx, gy], abs=1e-9)
    assert response.headers["Content-Crs"] == "<urn:geogrid:crs:gcj02>"
    over = editing.planner.patch(
        "/collections/isolation_sites/items/H1",
        json={"type": "Feature", "properties": {"occupied": 81}},
        headers={"If-Match": response.headers["ETag"]},
    )
    assert over.status_code == 422
    assert "exceeds capacity" in over.text


def test_a_stale_if_match_is_refused_and_changes_nothing(editing: Editing) -> None:
    api = editing.planner
    etag = api.get("/collections/grids/items/C-001-001").headers["ETag"]
    first = api.patch(
        "/collections/grids/items/C-001-001",
        json={"type": "Feature", "properties": {"population": 1200}},
        headers={"If-Match": etag},
    )
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] != etag
    before = (editing.row("grids", "C-001-001"), editing.audit_count(), editing.version("grids"))
    for method, body in (
        ("PATCH", {"type": "Feature", "properties": {"population": 5}}),
        ("PUT", feature(box(0, 0, 0.02, 0.04), name="甲村", level="village", parent_code="C-001")),
        ("DELETE", None),
    ):
        stale = api.request(
            method, "/collections/grids/items/C-001-001", json=body, headers={"If-Match": etag}
        )
        assert stale.status_code == 412, (method, stale.text)
        assert stale.json()["code"] == "precondition_failed"
    after = (editing.row("grids", "C-001-001"), editing.audit_count(), editing.version("grids"))
    assert after == before
    assert after[0]["population"] == 1200


def test_a_current_copy_is_not_sent_again(editing: Editing) -> None:
    api, url = editing.planner, "/collections/grids/items/C-001-001"
    etag = api.get(url).headers["ETag"]
    for held in (etag, f'"other", {etag}', "W/" + etag, "*"):
        same = api.get(url, headers={"If-None-Match": held})
        assert same.status_code == 304, held
        assert same.content == b""
        assert same.headers["ETag"] == etag
    assert api.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    in_gcj02 = api.get(url, params={"crs": "gcj02"}, headers={"If-None-Match": etag})
    assert in_gcj02.status_code == 200  # another representation, another tag
    changed = api.patch(
        url,
        json={"type": "Feature", "properties": {"population": 1300}},
        headers={"If-Match": etag},
    )
    assert changed.status_code == 200
    fresh = api.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.json()["properties"]["population"] == 1300
    assert fresh.headers["ETag"] == changed.headers["ETag"]


def test_writes_without_if_match_get_428(editing: Editing) -> None:
    response = editing.planner.patch(
        "/collections/grids/items/C-001-001",
        json={"type": "Feature", "properties": {"population": 5}},
    )
    assert response.status_code == 428
    assert "If-Match" in response.json()["message"]
    assert editing.planner.delete("/collections/grids/items/C-I01").status_code == 428
    star = editing.planner.patch(
        "/collections/grids/items/C-001-001",
        json={"type": "Feature", "properties": {"population": 5}},
        headers={"If-Match": "*"},
    )
    assert star.status_code == 200
    weak = editing.planner.patch(
        "/collections/grids/items/C-001-001",
        json={"type": "Feature", "properties": {"population": 6}},
        headers={"If-Match": "W/" + star.headers["ETag"]},
    )
    assert weak.status_code == 412  # If-Match compares strongly


def test_an_overlapping_grid_is_refused_with_area_and_neighbour(editing: Editing) -> None:
    new = box(0.0, 0.015, 0.02, 0.024)  # across the border of C-001-001-01 and -02
    before = editing.audit_count()
    response = editing.planner.post(
        "/collections/grids/items",
        json=feature(
            new, code="C-001-001-03", name="新网格", level="micro", parent_code="C-001-001"
        ),
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "edit_refused"
    problems = {tuple(p["codes"]): p for p in body["details"]["problems"]}
    assert set(problems) == {("C-001-001-03", "C-001-001-01"), ("C-001-001-03", "C-001-001-02")}
    for (_, neighbour), problem in problems.items():
        assert problem["kind"] == "overlap"
        other = box(0, 0, 0.02, 0.02) if neighbour.endswith("01") else box(0, 0.02, 0.02, 0.04)
        expected = area_m2(new.intersection(other))
        assert problem["area_m2"] == pytest.approx(expected, rel=2e-3)
        assert neighbour in body["message"]
    assert editing.row("grids", "C-001-001-03") is None
    assert editing.audit_count() == before


def test_a_child_outside_its_parent_is_refused(editing: Editing) -> None:
    api = editing.planner
    etag = api.get("/collections/grids/items/C-001-001-01").headers["ETag"]
    bigger = box(0, 0, 0.025, 0.02)  # 0.005° into the next village
    response = api.put(
        "/collections/grids/items/C-001-001-01",
        json=feature(bigger, name="甲村第1微网格", level="micro", parent_code="C-001-001"),
        headers={"If-Match": etag},
    )
    assert response.status_code == 422, response.text
    (problem,) = response.json()["details"]["problems"]
    assert problem["kind"] == "outside"
    assert problem["codes"] == ["C-001-001-01", "C-001-001"]
    assert problem["area_m2"] == pytest.approx(area_m2(box(0.02, 0, 0.025, 0.02)), rel=2e-3)
    stored = shapely.from_wkt(editing.row("grids", "C-001-001-01")["wkt"])
    assert stored.equals(shapely.MultiPolygon([box(0, 0, 0.02, 0.02)]))


@pytest.mark.parametrize(
    ("props", "kind"),
    [
        ({"code": "C-002-009", "level": "village", "parent_code": "C-001"}, "code_mismatch"),
        ({"code": "C-001-003", "level": "micro", "parent_code": "C-001"}, "level_mismatch"),
        ({"code": "C-001-003", "level": "village", "parent_code": "C-404"}, "unknown_parent"),
    ],
)
def test_codes_and_levels_must_agree_with_the_parent(
    editing: Editing, props: dict, kind: str
) -> None:
    response = editing.planner.post(
        "/collections/grids/items", json=feature(box(0.02, 0.035, 0.03, 0.04), name="丙", **props)
    )
    assert response.status_code == 422, response.text
    kinds = {p["kind"] for p in response.json()["details"]["problems"]}
    assert kind in kinds
    assert editing.row("grids", props["code"]) is None


def test_a_grid_must_still_hold_its_children(editing: Editing) -> None:
    etag = editing.planner.get("/collections/grids/items/C-001-002").headers["ETag"]
    response = editing.planner.put(
        "/collections/grids/items/C-001-002",
        json=feature(box(0.02, 0, 0.04, 0.03), name="乙村", level="village", parent_code="C-001"),
        headers={"If-Match": etag},
    )
    assert response.status_code == 422
    (problem,) = response.json()["details"]["problems"]
    assert problem["kind"] == "outside"
    assert problem["codes"] == ["C-001-002-02", "C-001-002"]
    assert problem["area_m2"] == pytest.approx(area_m2(box(0.02, 0.03, 0.04, 0.04)), rel=2e-3)
    level = editing.planner.patch(
        "/collections/grids/items/C-001-002",
        json={"type": "Feature", "properties": {"level": "micro"}},
        headers={"If-Match": etag},
    )
    assert level.status_code == 422
    assert "children" in level.json()["message"]


def test_a_bad_code_or_property_is_refused_before_any_check(editing: Editing) -> None:
    for props in (
        {"code": "C 001", "name": "x", "level": "industry", "parent_code": "C"},
        {"code": "C/1", "name": "x", "level": "industry", "parent_code": "C"},
        {"code": "C-I09", "name": "x", "level": "planet", "parent_code": "C"},
        {"code": "C-I09", "name": "x", "level": "industry", "colour": "red"},
    ):
        response = editing.planner.post(
            "/collections/grids/items", json=feature(box(0.01, 0.01, 0.02, 0.02), **props)
        )
        assert response.status_code == 422, props
        assert response.json()["details"]["errors"], props


def test_an_invalid_polygon_is_repaired_and_said_so(editing: Editing) -> None:
    bowtie = shapely.Polygon(
        [
            (X0 + 0.04, Y0 + 0.01),
            (X0 + 0.06, Y0 + 0.03),
            (X0 + 0.06, Y0 + 0.01),
            (X0 + 0.04, Y0 + 0.03),
        ]
    )
    assert not bowtie.is_valid
    response = editing.planner.post(
        "/collections/grids/items",
        json=feature(bowtie, code="C-I02", name="物流园", level="industry", parent_code="C"),
    )
    assert response.status_code == 201, response.text
    assert "Self-intersection" in response.json()["repaired"]
    stored = shapely.from_wkt(editing.row("grids", "C-I02")["wkt"])
    assert stored.is_valid
    assert stored.geom_type == "MultiPolygon"
    assert len(stored.geoms) == 2
    assert stored.area == pytest.approx(shapely.make_valid(bowtie).area)
    [repair] = response.json()["repairs"]
    assert repair["kind"] == "make_valid"
    both_triangles = area_m2(shapely.make_valid(bowtie))
    assert repair["area_before_m2"] == pytest.approx(both_triangles, rel=2e-3)
    assert repair["area_after_m2"] == pytest.approx(both_triangles, rel=2e-3)


def test_geometry_limits_and_types(editing: Editing) -> None:
    ring = shapely.Point(X0 + 0.05, Y0 + 0.02).buffer(0.005, quad_segs=250)  # 1,001 vertices
    too_big = editing.planner.post(
        "/collections/grids/items",
        json=feature(ring, code="C-I03", name="大", level="industry", parent_code="C"),
    )
    assert too_big.status_code == 422
    assert too_big.json()["code"] == "too_many_vertices"
    assert too_big.json()["details"] == {"vertices": 1001, "limit": 500}
    cases = [
        (feature(box(0.01, 0.01, 0.02, 0.02), code="K9", name="k", kind="temporary"), "Point"),
        (feature(shapely.Point(27.51, 120.51), code="K9", name="k", kind="temporary"), "latitude"),
        (feature(shapely.Point(260_000, 3_050_000), code="K9", name="k", kind="temporary"), "crs"),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point"},
                "properties": {"code": "K9", "name": "k", "kind": "temporary"},
            },
            "GeoJSON",
        ),
    ]
    for body, needle in cases:
        response = editing.planner.post("/collections/checkpoints/items", json=body)
        assert response.status_code == 422, body
        assert needle in response.json()["message"], response.text
    assert editing.row("checkpoints", "K9") is None


def test_a_grid_with_children_or_workers_is_not_deleted(editing: Editing) -> None:
    api = editing.planner
    etag = api.get("/collections/grids/items/C-001-001").headers["ETag"]
    response = api.delete("/collections/grids/items/C-001-001", headers={"If-Match": etag})
    assert response.status_code == 409
    details = response.json()["details"]
    assert details["children"] == ["C-001-001-01", "C-001-001-02"]
    assert details["grid_workers"] == ["W0"]
    assert editing.row("grids", "C-001-001") is not None
    leaf = api.get("/collections/grids/items/C-001-001-02").headers["ETag"]
    assert (
        api.delete("/collections/grids/items/C-001-001-02", headers={"If-Match": leaf}).status_code
        == 204
    )
    assert editing.row("grids", "C-001-001-02") is None


def test_a_grid_edit_moves_a_located_point_to_another_grid(editing: Editing) -> None:
    api, workspace = editing.planner, editing.workspace
    lon, lat = X0 + 0.01, Y0 + 0.019
    assert workspace.locate_point(lon, lat).chain[-1].code == "C-001-001-01"
    audits = editing.audit_count()
    response = api.post("/collections/grids/edits", json=_border_moved(api, 0.018))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [f["id"] for f in answer["features"]] == ["C-001-001-01", "C-001-001-02"]
    assert editing.audit_count() == audits + 2  # one entry per feature
    for f in answer["features"]:
        assert api.get(f"/collections/grids/items/{f['id']}").headers["ETag"] == f["etag"]
    assert shapely.from_wkt(editing.row("grids", "C-001-001-02")["wkt"]).equals(
        box(0, 0.018, 0.02, 0.04)
    )
    # the workspace checks versions only every 60 s: the write itself made it look again
    assert workspace.locate_point(lon, lat).chain[-1].code == "C-001-001-02"
    located = api.get(f"/locate?lon={lon}&lat={lat}").json()
    assert [g["code"] for g in located["chain"]][-1] == "C-001-001-02"


def _border_moved(api: TestClient, y: float, *, top: float | None = None) -> dict:
    """A FeatureCollection moving the border of micro-grids C-001-001-01 and -02 to ``y``
    (-02 reaching down to ``top`` instead when given)."""
    features = []
    for code, geometry in (
        ("C-001-001-01", box(0, 0, 0.02, y)),
        ("C-001-001-02", box(0, y if top is None else top, 0.02, 0.04)),
    ):
        got = api.get(f"/collections/grids/items/{code}")
        name = got.json()["properties"]["name"]
        item = feature(geometry, name=name, level="micro", parent_code="C-001-001")
        features.append({**item, "id": code, "if_match": got.headers["ETag"]})
    return {"type": "FeatureCollection", "features": features}


def test_an_edit_that_opens_a_gap_in_the_tiling_is_refused(editing: Editing) -> None:
    api, url = editing.planner, "/collections/grids/items/C-001-001-01"
    etag = api.get(url).headers["ETag"]
    before = (editing.row("grids", "C-001-001-01"), editing.audit_count())
    shrunk = feature(box(0, 0, 0.02, 0.018), name="一号", level="micro", parent_code="C-001-001")
    for method, body in (("PUT", shrunk), ("PATCH", {**shrunk, "properties": {}})):
        response = api.request(method, url, json=body, headers={"If-Match": etag})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "edit_refused"
        [gap] = response.json()["details"]["problems"]
        assert gap["kind"] == "gap"
        assert gap["codes"] == ["C-001-001", "C-001-001-01"]
        strip = box(0, 0.018, 0.02, 0.02)  # left uncovered between -01 and -02
        assert shapely.geometry.shape(gap["location"]).symmetric_difference(strip).area < 1e-10
        assert gap["area_m2"] == pytest.approx(area_m2(strip), rel=2e-3)
    # the same edit with the neighbour moving its border in the same request is taken
    assert (editing.row("grids", "C-001-001-01"), editing.audit_count()) == before
    both_shrink = api.post("/collections/grids/edits", json=_border_moved(api, 0.018, top=0.021))
    assert both_shrink.status_code == 422, both_shrink.text
    [gap] = both_shrink.json()["details"]["problems"]
    assert gap["area_m2"] == pytest.approx(area_m2(box(0, 0.018, 0.02, 0.021)), rel=2e-3)
    overlap = api.post("/collections/grids/edits", json=_border_moved(api, 0.018, top=0.015))
    assert overlap.status_code == 422, overlap.text
    kinds = {p["kind"] for p in overlap.json()["details"]["problems"]}
    assert kinds == {"overlap"}
    assert (editing.row("grids", "C-001-001-01"), editing.audit_count()) == before


def test_a_multi_feature_edit_needs_every_etag_current(editing: Editing) -> None:
    api = editing.planner
    body = _border_moved(api, 0.018)
    changed = api.patch(
        "/collections/grids/items/C-001-001-02",
        json={"type": "Feature", "properties": {"population": 7}},
        headers={"If-Match": body["features"][1]["if_match"]},
    )
    assert changed.status_code == 200, changed.text
    before = (editing.row("grids", "C-001-001-01"), editing.audit_count())
    stale = api.post("/collections/grids/edits", json=body)
    assert stale.status_code == 412, stale.text
    assert stale.json()["details"]["feature"] == "C-001-001-02"
    assert (editing.row("grids", "C-001-001-01"), editing.audit_count()) == before
    twice = {**body, "features": [body["features"][0]] * 2}
    assert api.post("/collections/grids/edits", json=twice).status_code == 422


def test_the_audit_log_records_who_what_before_and_after(editing: Editing) -> None:
    api = editing.planner
    point = shapely.Point(X0 + 0.011, Y0 + 0.012)
    created = api.post(
        "/collections/checkpoints/items",
        json=feature(point, code="K2", name="二号", kind="temporary"),
        headers={"X-Request-ID": "req-create-k2"},
    )
    patched = api.patch(
        "/collections/checkpoints/items/K2",
        json={"type": "Feature", "properties": {"name": "二号卡口"}},
        headers={"If-Match": created.headers["ETag"]},
    )
    api.delete("/collections/checkpoints/items/K2", headers={"If-Match": patched.headers["ETag"]})
    assert api.get("/audit").status_code == 403  # planners edit but do not read the log
    entries = editing.admin.get("/audit?layer=checkpoints&code=K2").json()["entries"]
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    delete, update, create = entries
    assert {e["actor"] for e in entries} == {"planner 用户"}
    assert {e["role"] for e in entries} == {"planner"}
    assert create["request_id"] == "req-create-k2"
    assert create["before"] is None
    assert create["after"]["properties"]["name"] == "二号"
    assert shapely.geometry.shape(create["after"]["geometry"]).equals(point)
    assert update["before"]["properties"]["name"] == "二号"
    assert update["after"]["properties"]["name"] == "二号卡口"
    assert delete["before"] == update["after"]
    assert delete["after"] is None
    assert editing.admin.get("/audit?limit=2").json()["entries"] == entries[:2]


def test_the_write_and_its_audit_entry_commit_together(editing: Editing) -> None:
    with editing.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    version = editing.version("checkpoints")
    response = TestClient(editing.planner.app, raise_server_exceptions=False).post(
        "/collections/checkpoints/items",
        json=feature(shapely.Point(X0 + 0.01, Y0 + 0.01), code="K3", name="三号", kind="temporary"),
        headers=dict(editing.planner.headers),
    )
    assert response.status_code == 500
    assert editing.row("checkpoints", "K3") is None
    assert editing.version("checkpoints") == version
    with editing.engine.begin() as conn:  # the audit table was the only thing missing
        conn.execute(text("ALTER TABLE audit_log_away RENAME TO audit_log"))
    again = editing.planner.post(
        "/collections/checkpoints/items",
        json=feature(shapely.Point(X0 + 0.01, Y0 + 0.01), code="K3", name="三号", kind="temporary"),
    )
    assert again.status_code == 201
    assert editing.audit_count() == 1


def test_writing_needs_a_key_that_may_write(editing: Editing) -> None:
    body = feature(shapely.Point(X0 + 0.01, Y0 + 0.01), code="K4", name="四号", kind="temporary")
    assert editing.anonymous.post("/collections/checkpoints/items", json=body).status_code == 401
    assert editing.app_client.post("/collections/checkpoints/items", json=body).status_code == 403
    assert editing.planner.post("/collections/roads/items", json=body).status_code == 404
    assert editing.row("checkpoints", "K4") is None


def test_two_writers_with_one_etag_one_wins(editing: Editing) -> None:
    etag = editing.planner.get("/collections/grids/items/C-002-001").headers["ETag"]

    def patch(population: int) -> int:
        return editing.planner.patch(
            "/collections/grids/items/C-002-001",
            json={"type": "Feature", "properties": {"population": population}},
            headers={"If-Match": etag},
        ).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(patch, (100, 200)))
    assert statuses == [200, 412]
    assert editing.row("grids", "C-002-001")["population"] in (100, 200)
    assert editing.audit_count() == 1


def test_text_with_a_nul_character_is_refused_and_nothing_is_stored(editing: Editing) -> None:
    api = editing.planner
    point = shapely.Point(X0 + 0.011, Y0 + 0.012)
    before = (editing.audit_count(), editing.version("checkpoints"))
    refused = api.post(
        "/collections/checkpoints/items",
        json=feature(point, code="K9", name="九号\x00卡口", kind="village_gate"),
    )
    assert refused.status_code == 422, refused.text
    assert "NUL" in refused.json()["message"]
    assert editing.row("checkpoints", "K9") is None
    assert (editing.audit_count(), editing.version("checkpoints")) == before
    for url in (
        "/audit?code=K%009",
        "/collections/grids/items?parent=C%00",
        "/collections/grids/items/C%00",
    ):
        answer = editing.admin.get(url)
        assert answer.status_code == 422, (url, answer.text)
        assert answer.json()["message"] == "text cannot contain the NUL character (0x00)"


def _open_ring(geometry: shapely.Polygon) -> dict:
    """The polygon as GeoJSON whose exterior ring does not end where it starts."""
    ring = [list(xy) for xy in geometry.exterior.coords][:-1]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_an_unclosed_ring_is_closed_and_said_so(editing: Editing, method: str) -> None:
    api, url = editing.planner, "/collections/grids/items/C-001-001-01"
    etag = api.get(url).headers["ETag"]
    same = box(0, 0, 0.02, 0.02)
    props = {"name": "一号微网格", "level": "micro", "parent_code": "C-001-001"}
    body = {"type": "Feature", "geometry": _open_ring(same), "properties": props}
    if method == "PATCH":
        body["properties"] = {}
    response = api.request(method, url, json=body, headers={"If-Match": etag})
    assert response.status_code == 200, response.text
    answer = response.json()
    [repair] = answer["repairs"]
    assert repair["kind"] == "closed_ring"
    assert "exterior ring" in repair["message"]
    assert repair["area_before_m2"] == pytest.approx(area_m2(same), rel=2e-3)
    assert repair["area_after_m2"] == repair["area_before_m2"]
    assert "not closed" in answer["repaired"]
    assert shapely.from_wkt(editing.row("grids", "C-001-001-01")["wkt"]).equals(same)


def test_a_repair_that_loses_area_is_refused_with_the_lost_area(editing: Editing) -> None:
    api, url = editing.planner, "/collections/grids/items/C-001-001-01"
    etag = api.get(url).headers["ETag"]
    s = 0.002  # a ring that runs round the micro-grid, then winds again round a 4 × 3 part
    ring = [(0, 0), (10, 0), (10, 10), (0, 10), (0, 5), (7, 5), (7, 8), (3, 8), (3, 2), (0, 2)]
    loop = shapely.Polygon([(X0 + x * s, Y0 + y * s) for x, y in ring])
    wound_twice = box(3 * s, 5 * s, 7 * s, 8 * s)  # make_valid turns it into a hole
    assert shapely.make_valid(loop).intersection(wound_twice).area == pytest.approx(0, abs=1e-12)
    before = (editing.row("grids", "C-001-001-01"), editing.audit_count())
    response = api.put(
        url,
        json=feature(loop, name="一号微网格", level="micro", parent_code="C-001-001"),
        headers={"If-Match": etag},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "edit_refused"
    [problem] = body["details"]["problems"]
    assert problem["kind"] == "invalid"
    lost = shapely.geometry.shape(problem["location"])
    assert lost.symmetric_difference(wound_twice).area < 1e-6 * wound_twice.area
    assert problem["area_m2"] == pytest.approx(area_m2(wound_twice), rel=2e-3)
    assert (editing.row("grids", "C-001-001-01"), editing.audit_count()) == before


def test_a_bow_tie_repair_that_would_open_a_hole_in_the_village_is_refused(
    editing: Editing,
) -> None:
    # the measured defect: a micro-grid sent as a bow-tie (two corners swapped) was
    # repaired into two triangles, half its area, leaving a hole in its village
    api, url = editing.planner, "/collections/grids/items/C-001-001-01"
    etag = api.get(url).headers["ETag"]
    corners = [(0, 0), (0.02, 0.02), (0.02, 0), (0, 0.02)]
    bowtie = shapely.Polygon([(X0 + x, Y0 + y) for x, y in corners])
    before = (editing.row("grids", "C-001-001-01"), editing.audit_count())
    response = api.put(
        url,
        json=feature(bowtie, name="一号", level="micro", parent_code="C-001-001"),
        headers={"If-Match": etag},
    )
    assert response.status_code == 422, response.text
    problems = response.json()["details"]["problems"]
    assert {p["kind"] for p in problems} == {"gap"}
    hole = box(0, 0, 0.02, 0.02).difference(shapely.make_valid(bowtie))
    found = shapely.union_all([shapely.geometry.shape(p["location"]) for p in problems])
    assert found.symmetric_difference(hole).area < 1e-6 * hole.area
    assert sum(p["area_m2"] for p in problems) == pytest.approx(area_m2(hole), rel=2e-3)
    assert (editing.row("grids", "C-001-001-01"), editing.audit_count()) == before
