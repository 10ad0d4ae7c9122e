"""Transport plans on the demo data: checked by the independent plan checker, through the
API and the CLI, with personal data masked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geogrid.cli import app as cli_app
from geogrid.maps import external_links, find_personal
from geogrid.settings import Settings
from geogrid.spatial.transport import TransportSettings
from geogrid.workspace import Workspace
from geogrid.workspace.transport import plan_transfers
from tests.spatial.transport.transport_checker import check_solved


def test_demo_plan_passes_the_independent_checker(
    demo_workspace: Workspace, demo_db: Engine
) -> None:
    settings = TransportSettings(time_budget_s=8)
    outcome = plan_transfers(demo_workspace, settings=settings)
    plan = outcome.plan
    check_solved(plan, outcome.duration_s, outcome.distance_m, settings)
    with demo_db.connect() as conn:
        waiting = conn.execute(text("SELECT sum(group_size) FROM transfer_requests")).scalar()
    served = outcome.summary()["people_moved"]
    unserved = {u.request for u in plan.unserved}
    sizes = {r.code: r.group_size for r in plan.requests}
    assert served + sum(sizes[c] for c in unserved) == waiting
    assert served >= 0.95 * waiting
    assert len(outcome.routes) == outcome.summary()["vehicles_used"]


def test_plan_api_round_trip_without_personal_data(
    demo_client: TestClient, demo_db: Engine
) -> None:
    created = demo_client.post("/transport/plans", json={"options": {"time_budget_s": 3}})
    assert created.status_code == 201
    body = created.json()
    again = demo_client.get(f"/transport/plans/{body['plan_id']}").json()
    assert again == body
    assert "plan_id" not in body["summary"]  # the id is the plan's, not stored twice
    assert body["routes"]["type"] == "FeatureCollection"
    assert len(body["routes"]["features"]) == body["summary"]["vehicles_used"]
    assert set(body["assignment"]) | {u["request"] for u in body["unserved"]} == {
        s["request"] for stops in body["schedules"].values() for s in stops if "request" in s
    } | {u["request"] for u in body["unserved"]}
    with demo_db.connect() as conn:
        names = conn.execute(text("SELECT contact_name FROM transfer_requests")).scalars().all()
    assert not find_personal(created.text)
    assert not any(name in created.text for name in names)


def test_inline_requests_and_chosen_vehicles(demo_client: TestClient) -> None:
    body = {
        "requests": [
            {
                "code": "X1",
                "lon": 120.62,
                "lat": 27.58,
                "group_size": 2,
                "risk_class": "close_contact",
            },
            {
                "code": "X2",
                "lon": 120.64,
                "lat": 27.59,
                "group_size": 1,
                "risk_class": "close_contact",
            },
        ],
        "vehicle_codes": ["V01", "V02"],
        "options": {"time_budget_s": 2, "disinfection_min": 20},
    }
    response = demo_client.post("/transport/plans", json=body)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert set(plan["assignment"]) == {"X1", "X2"}
    assert set(plan["schedules"]) <= {"V01", "V02"}
    for stops in plan["schedules"].values():
        for stop in stops:
            if stop["kind"] == "disinfect":
                assert stop["departure_s"] - stop["arrival_s"] >= 20 * 60


def test_bad_plan_requests(demo_client: TestClient) -> None:
    assert demo_client.get("/transport/plans/999999").status_code == 404
    unknown = demo_client.post("/transport/plans", json={"vehicle_codes": ["NOPE"]})
    assert unknown.status_code == 422
    assert "NOPE" in unknown.json()["message"]
    bad = demo_client.post("/transport/plans", json={"options": {"disinfection_min": -1}})
    assert bad.status_code == 422


def test_cli_prints_masked_manifests(
    demo_settings: Settings, cli_database: Callable[[str], None], tmp_path: Path
) -> None:
    cli_database(demo_settings.database_url or "")
    out = tmp_path / "plan.html"
    result = CliRunner().invoke(cli_app, ["transport", "--time-budget-s", "3", "--map", str(out)])
    assert result.exit_code == 0, result.output
    assert "people in" in result.output
    assert "pickup" in result.output
    assert "****" in result.output
    assert not find_personal(result.output)
    page = out.read_text(encoding="utf-8")  # the API's plan map: routes, stops and sites
    assert "转运计划" in page
    assert "pickup" in page
    assert external_links(page) == []
    assert not find_personal(page)


def test_plan_and_coverage_maps_render_offline(demo_client: TestClient) -> None:
    plan = demo_client.post("/transport/plans", json={"options": {"time_budget_s": 2}}).json()
    page = demo_client.get(f"/maps/transport/{plan['plan_id']}.html")
    assert page.status_code == 200
    assert "/static/vendor/leaflet.js" in page.text
    assert not find_personal(page.text)
    coverage = demo_client.get("/maps/coverage/330326-101-032.html")
    assert coverage.status_code == 200
    assert demo_client.get("/maps/transport/999999.html").status_code == 404


def test_map_of_a_plan_that_moves_nobody(demo_client: TestClient) -> None:
    # a household on the equator, far from every road and site: nobody can be moved
    far = {"code": "FAR", "lon": 0.0, "lat": 0.0, "group_size": 1, "risk_class": "returnee"}
    created = demo_client.post(
        "/transport/plans", json={"requests": [far], "options": {"time_budget_s": 1}}
    )
    assert created.status_code == 201, created.text
    plan = created.json()
    assert plan["assignment"] == {}
    assert [u["request"] for u in plan["unserved"]] == ["FAR"]
    page = demo_client.get(f"/maps/transport/{plan['plan_id']}.html")
    assert page.status_code == 200, page.text
    assert f"Transport plan {plan['plan_id']} 转运计划" in page.text


@pytest.mark.browser
def test_plan_map_draws_every_route(demo_workspace: Workspace) -> None:
    from geogrid.maps import check_map_html
    from geogrid.workspace.transport_map import plan_map

    outcome = plan_transfers(demo_workspace, settings=TransportSettings(time_budget_s=2))
    check = check_map_html(plan_map(demo_workspace, outcome.plan_id).get_root().render())
    assert check.errors == []
    # the offline street base first, then the plan's own layers
    assert check.overlays == ["Streets 街道", "Transfer routes 转运路线", "Isolation sites 隔离点"]
    html = plan_map(demo_workspace, outcome.plan_id).get_root().render()
    first = next(r for r in outcome.plan.routes if r.trips)
    pickup = next(s for s in first.stops if s.kind == "pickup")
    clock = (outcome.day_start + timedelta(seconds=pickup.arrival_s)).strftime("%H:%M")
    assert f"pickup {pickup.request}" in html  # stops are drawn with their schedule
    assert clock in html
