"""Re-planning a saved plan on the demo data: trips under way are kept, the rest is planned
again with the new households, checked by the independent plan checker; through the
workspace, the API and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geogrid.cli import app as cli_app
from geogrid.maps import find_personal
from geogrid.settings import Settings
from geogrid.spatial.transport import TransportSettings, VehicleRoute
from geogrid.workspace import Workspace
from geogrid.workspace.transport import TransportOutcome, plan_transfers, replan_transfers
from tests.spatial.transport.transport_checker import check_solved


def under_way(route: VehicleRoute, now_s: int) -> list:
    """The stops of trips whose vehicle left for the pickup by ``now_s`` (the test's own)."""
    stops = list(route.stops)
    last = None
    for k, stop in enumerate(stops):
        if stop.kind == "pickup" and stops[k - 1].departure_s <= now_s:
            last = k + 2  # pickup, drop, disinfect
    return stops[: last + 1] if last is not None else []


@pytest.fixture(scope="module")
def first(demo_workspace: Workspace) -> TransportOutcome:
    return plan_transfers(demo_workspace, settings=TransportSettings(time_budget_s=4))


def midday(outcome: TransportOutcome) -> int:
    starts = [r.start_s for r in outcome.plan.routes if r.stops]
    return int(np.median(starts)) + 2 * 3600


def late_households(outcome: TransportOutcome, now_s: int) -> gpd.GeoDataFrame:
    """Two new households next to two planned ones, ready after ``now_s``."""
    homes = outcome.requests.geometry.iloc[[3, 40]].to_numpy()
    ready = outcome.day_start + timedelta(seconds=now_s + 600)
    return gpd.GeoDataFrame(
        {
            "code": ["LATE-1", "LATE-2"],
            "group_size": [3, 1],
            "risk_class": ["close_contact", "returnee"],
            "ready_at": [ready, ready],
            "contact_name": [None, None],
            "phone": [None, None],
        },
        geometry=shapely.transform(homes, lambda xy: xy + 0.0004),
        crs=4326,
    )


def test_replan_keeps_trips_under_way_and_serves_the_new_households(
    demo_workspace: Workspace, demo_db: Engine, first: TransportOutcome
) -> None:
    now_s = midday(first)
    now = first.day_start + timedelta(seconds=now_s)
    new = late_households(first, now_s)
    again = replan_transfers(demo_workspace, first.plan_id, now=now, requests=new)
    plan = again.plan

    # the locations of the first plan keep their matrix rows: the kept trips stay valid
    n = len(first.points)
    assert np.array_equal(again.duration_s[:n, :n], first.duration_s)
    kept = set()
    routes = {r.vehicle: r for r in plan.routes}
    for old in first.plan.routes:
        prefix = under_way(old, now_s)
        got = list(routes[old.vehicle].stops[: len(prefix)])
        assert [(s.kind, s.request, s.location, s.arrival_s) for s in got] == [
            (s.kind, s.request, s.location, s.arrival_s) for s in prefix
        ]
        kept |= {s.request for s in prefix if s.kind == "pickup"}
    assert kept, "the test wants trips under way at midday"

    check_solved(
        plan, again.duration_s, again.distance_m, plan.settings, not_before_s=now_s, kept=kept
    )
    assert {"LATE-1", "LATE-2"} <= set(plan.assignment)
    assert {r.code for r in plan.requests} == {r.code for r in first.plan.requests} | {
        "LATE-1",
        "LATE-2",
    }
    with demo_db.connect() as conn:
        link = conn.execute(
            text("SELECT previous_plan_id FROM transport_plans WHERE id = :id"),
            {"id": again.plan_id},
        ).scalar_one()
    assert link == first.plan_id


def test_replan_after_the_day_keeps_every_trip(
    demo_workspace: Workspace, first: TransportOutcome
) -> None:
    end = max(r.end_s for r in first.plan.routes if r.stops)
    later = replan_transfers(
        demo_workspace,
        first.plan_id,
        now=first.day_start + timedelta(seconds=end + 60),
        requests=late_households(first, end)[:0],
        save=False,
    )
    assert dict(later.plan.assignment) == dict(first.plan.assignment)
    assert later.summary()["all_moved_by"] == first.summary()["all_moved_by"]


def test_replan_api_round_trip(
    demo_client: TestClient, demo_db: Engine, first: TransportOutcome
) -> None:
    now_s = midday(first)
    body = {
        "now": (first.day_start + timedelta(seconds=now_s)).isoformat(),
        "requests": [
            {
                "code": "API-LATE",
                "lon": 120.62,
                "lat": 27.58,
                "group_size": 2,
                "risk_class": "close_contact",
            }
        ],
        "time_budget_s": 3,
    }
    response = demo_client.post(f"/transport/plans/{first.plan_id}/replan", json=body)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["previous_plan_id"] == first.plan_id
    assert plan["plan_id"] != first.plan_id
    assert "API-LATE" in plan["assignment"]
    assert demo_client.get(f"/transport/plans/{plan['plan_id']}").json() == plan
    assert not find_personal(response.text)

    assert demo_client.post("/transport/plans/999999/replan", json={}).status_code == 404
    no_new = {"requests": []}  # an empty list is "no new households", never a server error
    assert demo_client.post("/transport/plans/-4188/replan", json=no_new).status_code == 404
    nothing = demo_client.post("/transport/plans", json=no_new)
    assert nothing.status_code == 422
    assert "no waiting transfer requests" in nothing.json()["message"]
    with demo_db.begin() as conn:  # a plan saved before plans kept their inputs
        old = conn.execute(
            text(
                "INSERT INTO transport_plans (day_start, settings, summary, assignment, "
                "unserved) VALUES (now(), '{}', '{}', '{}', '[]') RETURNING id"
            )
        ).scalar_one()
    refused = demo_client.post(f"/transport/plans/{old}/replan", json={})
    assert refused.status_code == 422
    assert "inputs" in refused.json()["message"]


def test_cli_replan(
    demo_settings: Settings, cli_database: Callable[[str], None], first: TransportOutcome
) -> None:
    cli_database(demo_settings.database_url or "")
    now = (first.day_start + timedelta(seconds=midday(first))).strftime("%Y-%m-%dT%H:%M:%S")
    result = CliRunner().invoke(
        cli_app,
        ["transport", "--replan", str(first.plan_id), "--now", now, "--time-budget-s", "3"],
    )
    assert result.exit_code == 0, result.output
    assert "people in" in result.output
    assert not find_personal(result.output)
    missing = CliRunner().invoke(cli_app, ["transport", "--replan", "999999"])
    assert missing.exit_code != 0
    assert "999999" in missing.output


def _households(count: int, prefix: str) -> list[dict[str, object]]:
    """``count`` valid inline households around the demo county's centre."""
    return [
        {
            "code": f"{prefix}-{k}",
            "lon": 120.6 + (k % 40) * 0.001,
            "lat": 27.6 + (k // 40) * 0.001,
            "group_size": 1,
            "risk_class": "returnee",
        }
        for k in range(count)
    ]


def test_plans_and_replans_over_the_household_limit_are_refused_before_solving(
    demo_client: TestClient, demo_db: Engine, first: TransportOutcome
) -> None:
    """A re-plan with 20,000 inline households held a worker for minutes: a plan holds at
    most MAX_PLAN_REQUESTS households (inline, by code, or with those of the re-planned
    plan), as the OpenAPI document declares; more is a 422 before anything is solved."""
    from geogrid.workspace.transport import MAX_PLAN_REQUESTS, MAX_PLAN_VEHICLES

    schemas = demo_client.get("/openapi.json").json()["components"]["schemas"]
    for model in ("PlanIn", "ReplanIn"):
        for field in ("requests", "request_codes"):
            declared = schemas[model]["properties"][field]["anyOf"][0]
            assert declared["maxItems"] == MAX_PLAN_REQUESTS, (model, field)
    assert schemas["PlanIn"]["properties"]["vehicle_codes"]["anyOf"][0]["maxItems"] == (
        MAX_PLAN_VEHICLES
    )

    def plans() -> int:
        with demo_db.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM transport_plans")).scalar_one()

    before = plans()
    replan = f"/transport/plans/{first.plan_id}/replan"
    too_many = _households(MAX_PLAN_REQUESTS + 1, "MANY")
    refused = [
        demo_client.post(replan, json={"requests": too_many, "time_budget_s": 1}),
        demo_client.post("/transport/plans", json={"requests": too_many}),
        demo_client.post("/transport/plans", json={"request_codes": ["X"] * 1001}),
        demo_client.post("/transport/plans", json={"vehicle_codes": ["V"] * 201}),
    ]
    for response in refused:
        assert response.status_code == 422, response.text[:300]
        assert response.json()["code"] == "invalid_request"
        assert "at most" in str(response.json()["details"]["errors"])

    # within the list's limit, but with the plan's own households the re-plan holds more
    held = len(first.plan.requests)
    new = _households(MAX_PLAN_REQUESTS - held + 1, "MORE")
    response = demo_client.post(replan, json={"requests": new, "time_budget_s": 1})
    assert response.status_code == 422, response.text[:300]
    assert response.json()["details"] == {"households": MAX_PLAN_REQUESTS + 1, "limit": 1000}
    assert "at most 1,000" in response.json()["message"]
    assert plans() == before  # nothing solved, nothing stored
