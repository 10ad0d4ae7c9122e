"""``GET /grids/validate``: the grid topology report over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.spatial.gridcheck import check_grids
from geogrid.workspace import Workspace
from tests.conftest import api_key, bearer


def test_the_demo_report_is_the_pure_functions(
    demo_client: TestClient, demo_workspace: Workspace
) -> None:
    response = demo_client.get("/grids/validate")
    assert response.status_code == 200, response.text
    body = response.json()
    expected = check_grids(demo_workspace.grids())
    assert body["summary"] == expected.summary()
    assert body["summary"]["grids_checked"] == len(demo_workspace.grids())
    assert body["summary"]["problems"] == 0
    assert body["problems"] == {"type": "FeatureCollection", "features": []}


def test_one_parent(demo_client: TestClient, demo_workspace: Workspace) -> None:
    response = demo_client.get("/grids/validate", params={"parent": "330326-101"})
    assert response.status_code == 200, response.text
    summary = response.json()["summary"]
    assert summary == check_grids(demo_workspace.grids(), "330326-101").summary()
    grids = demo_workspace.grids()
    assert summary["grids_checked"] == 1 + int((grids["parent_code"] == "330326-101").sum())
    assert summary["parents_checked"] == 1


def test_an_unknown_parent_is_404(demo_client: TestClient) -> None:
    response = demo_client.get("/grids/validate", params={"parent": "330326-999"})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_grid"
    assert body["details"] == {"grid": "330326-999"}


@pytest.mark.parametrize(
    ("role", "status"),
    [("planner", 200), ("dispatcher", 403), ("grid_worker", 403), ("app", 403), (None, 401)],
)
def test_who_may_validate(
    demo_client_as: Callable[[str | None], TestClient], role: str | None, status: int
) -> None:
    response = demo_client_as(role).get("/grids/validate", params={"parent": "330326-101"})
    assert response.status_code == status, response.text


def test_problems_come_with_their_location_as_geojson(county_db: Engine) -> None:
    # village C-001-001 grows 0.005° east into its neighbour C-001-002
    with county_db.begin() as conn:
        conn.execute(
            text(
                "UPDATE grids SET geom = ST_Multi(ST_Union(geom, "
                "ST_MakeEnvelope(120.52, 27.51, 120.525, 27.52, 4326))) WHERE code = 'C-001-001'"
            )
        )
        overlap_m2 = conn.execute(
            text(
                "SELECT ST_Area(ST_Intersection(a.geom, b.geom)::geography) FROM grids a, grids b "
                "WHERE a.code = 'C-001-001' AND b.code = 'C-001-002'"
            )
        ).scalar_one()
    workspace = Workspace(county_db, Settings(cache_check_interval_s=0))
    client = TestClient(
        create_app(Settings(warm_up=False), workspace=workspace),
        headers=bearer(api_key(county_db, "planner")),
    )
    response = client.get("/grids/validate")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["by_kind"]["overlap"] == 1
    assert body["summary"]["by_kind"]["gap"] == 1  # the grown part has no micro-grid
    by_kind = {f["properties"]["kind"]: f for f in body["problems"]["features"]}
    overlap = by_kind["overlap"]
    assert overlap["properties"]["codes"] == ["C-001-001", "C-001-002"]
    assert overlap["properties"]["area_m2"] == pytest.approx(overlap_m2, rel=1e-3)
    where = shapely.geometry.shape(overlap["geometry"])
    assert where.equals_exact(shapely.box(120.52, 27.51, 120.525, 27.52).normalize(), 1e-9) or (
        where.symmetric_difference(shapely.box(120.52, 27.51, 120.525, 27.52)).area < 1e-12
    )
    point = shapely.Point(overlap["properties"]["point_lon"], overlap["properties"]["point_lat"])
    assert where.contains(point)
    gap = by_kind["gap"]
    assert gap["properties"]["codes"][0] == "C-001-001"
    assert gap["properties"]["area_m2"] == pytest.approx(overlap_m2, rel=1e-3)
