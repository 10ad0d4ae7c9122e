"""``/coverage`` and ``geogrid gaps`` on the demo data, checked against PostGIS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geogrid.cli import app as cli_app
from geogrid.maps import external_links
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.coverage import analyse_grid

TOWN = "330326-101"
VILLAGE = "330326-101-032"


def _metric(points: np.ndarray) -> np.ndarray:
    frame = gpd.GeoSeries(points, crs=4326).to_crs(32651)
    return shapely.get_coordinates(frame.to_numpy())


def test_entries_match_postgis_crossings(demo_workspace: Workspace, demo_db: Engine) -> None:
    result = analyse_grid(demo_workspace, TOWN)
    with demo_db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_AsBinary(d.geom), ST_Crosses(r.geom, g.geom) FROM grids g "
                "JOIN roads r ON ST_Intersects(r.geom, ST_Boundary(g.geom)), "
                "LATERAL ST_Dump(ST_Intersection(r.geom, ST_Boundary(g.geom))) d "
                "WHERE g.code = :code AND GeometryType(d.geom) = 'POINT'"
            ),
            {"code": TOWN},
        ).all()
    postgis = _metric(np.array([shapely.from_wkb(bytes(r[0])) for r in rows]))
    crossing = _metric(np.array([shapely.from_wkb(bytes(r[0])) for r in rows if r[1]]))
    entries = _metric(result.entries.geometry.to_numpy())
    # every entry is a place where PostGIS finds a road meeting the boundary: exactly, or,
    # where a junction lies within 0.5 m of the boundary, at that junction (< 1 m away)
    nearest = np.min(np.linalg.norm(entries[:, None, :] - postgis[None, :, :], axis=2), axis=1)
    assert np.mean(nearest < 0.01) > 0.95  # the same point, up to round-off
    assert nearest.max() < 1.0
    # every proper crossing PostGIS finds is an entry; where a road runs along the boundary
    # (within 0.5 m) and crosses it several times in a few metres, the stretch is one entry
    nearest = np.min(np.linalg.norm(crossing[:, None, :] - entries[None, :, :], axis=2), axis=1)
    assert np.mean(nearest < 1.0) > 0.98
    assert nearest.max() < 10.0
    assert len(result.entries) <= len(postgis)


def test_gaps_endpoint(demo_client: TestClient) -> None:
    response = demo_client.get("/coverage/gaps", params={"grid": VILLAGE})
    assert response.status_code == 200
    body = response.json()
    features = body["entries"]["features"]
    assert body["entries"]["type"] == "FeatureCollection"
    ways_in = [f for f in features if f["properties"]["way_in"]]
    assert body["summary"]["ways_in"] == len(ways_in)
    assert body["summary"]["unguarded"] == sum(not f["properties"]["guarded"] for f in ways_in)
    for feature in features:
        props = feature["properties"]
        if props["guarded"]:
            assert props["checkpoint_distance_m"] <= 50.0
        assert feature["geometry"]["type"] == "Point"
    assert body["children"], "a village has micro-grids"


def test_guarded_entries_have_an_active_checkpoint_nearby(
    demo_client: TestClient, demo_db: Engine
) -> None:
    """Brute force: a guarded entry has an active checkpoint within 50 m in a straight line
    (network distance is never shorter); an entry with none within 50 m is unguarded."""
    features = demo_client.get("/coverage/gaps", params={"grid": VILLAGE}).json()["entries"][
        "features"
    ]
    with demo_db.connect() as conn:
        for feature in features:
            lon, lat = feature["geometry"]["coordinates"]
            near = conn.execute(
                text(
                    "SELECT count(*) FROM checkpoints WHERE status = 'active' AND "
                    "ST_DWithin(geom::geography, ST_MakePoint(:lon, :lat)::geography, 50)"
                ),
                {"lon": lon, "lat": lat},
            ).scalar_one()
            if feature["properties"]["guarded"]:
                assert near > 0
            if near == 0:
                assert not feature["properties"]["guarded"]


def test_plan_closes_every_gap(demo_client: TestClient) -> None:
    body = demo_client.post("/coverage/plan", json={"grid": VILLAGE}).json()
    assert body["summary"]["after_guarded_share"] == 1.0
    assert len(body["sites"]["features"]) == body["summary"]["new_sites"]
    assert (
        body["summary"]["new_sites"]
        <= body["summary"]["before_ways_in"] - body["summary"]["before_guarded"]
    )
    one = demo_client.post("/coverage/plan", json={"grid": VILLAGE, "budget": 1}).json()
    assert len(one["sites"]["features"]) <= 1
    assert one["summary"]["after_guarded"] >= one["summary"]["before_guarded"]


def test_unknown_grid_and_nonsense_parameters(demo_client: TestClient) -> None:
    missing = demo_client.get("/coverage/gaps", params={"grid": "无此网格"})
    assert missing.status_code == 404
    assert "无此网格" in missing.json()["message"]
    assert (
        demo_client.get("/coverage/gaps", params={"grid": VILLAGE, "reach_m": -5}).status_code
        == 422
    )
    assert demo_client.get("/coverage/gaps").status_code == 422
    assert (
        demo_client.post("/coverage/plan", json={"grid": VILLAGE, "budget": 0}).status_code == 422
    )


def test_profile_parameter(demo_client: TestClient, demo_workspace: Workspace) -> None:
    """The demo roads are all open to cars and walkers, and coverage walks them both ways:
    the two profiles give the same coverage; the car network is what transport routes on."""
    foot = demo_client.get("/coverage/gaps", params={"grid": VILLAGE}).json()["summary"]
    car = demo_client.get("/coverage/gaps", params={"grid": VILLAGE, "profile": "car"})
    assert car.status_code == 200
    assert car.json()["summary"] == foot
    bike = demo_client.get("/coverage/gaps", params={"grid": VILLAGE, "profile": "bike"})
    assert bike.status_code == 422
    assert "profile" in bike.text
    plan = demo_client.post("/coverage/plan", json={"grid": VILLAGE, "profile": "car"})
    assert plan.status_code == 200
    networks = {p: demo_workspace.road_network(p) for p in ("car", "foot")}
    assert networks["car"].profile == "car"
    assert networks["foot"].profile == "foot"
    assert demo_workspace.road_network("car") is networks["car"]  # one cached per profile
    one_way = networks["car"].reverse_cost_s < 0
    assert one_way.any()
    assert (networks["foot"].reverse_cost_s[one_way] > 0).all()


def test_cli_gaps_prints_the_table_and_a_map(
    demo_settings: Settings, cli_database: Callable[[str], None], tmp_path: Path
) -> None:
    cli_database(demo_settings.database_url or "")
    out = tmp_path / "gaps.html"
    result = CliRunner().invoke(cli_app, ["gaps", VILLAGE, "--plan", "--map", str(out)])
    assert result.exit_code == 0, result.output
    assert "unguarded" in result.output
    assert f"{VILLAGE}-01" in result.output
    assert "→ 100.0%" in result.output
    assert external_links(out.read_text(encoding="utf-8")) == []


def test_cli_gaps_takes_a_profile(
    demo_settings: Settings, cli_database: Callable[[str], None]
) -> None:
    cli_database(demo_settings.database_url or "")
    car = CliRunner().invoke(cli_app, ["gaps", VILLAGE, "--profile", "car"])
    assert car.exit_code == 0, car.output
    foot = CliRunner().invoke(cli_app, ["gaps", VILLAGE])
    assert car.output == foot.output  # the demo roads are open to both, walked both ways
    bike = CliRunner().invoke(cli_app, ["gaps", VILLAGE, "--profile", "bike"])
    assert bike.exit_code != 0
    assert "profile must be one of car, foot" in bike.output
    assert "Traceback" not in bike.output
