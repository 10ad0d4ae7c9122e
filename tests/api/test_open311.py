"""Open311 GeoReport v2: services, requests placed in their grid (checked against PostGIS
``ST_Covers``), the operators' queue, idempotency keys, masking, newcomers' transfer
requests and deployments to every worker under a grid.

Runs on a copy of the demo database, with a manual clock on the workspace.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid.access import Role
from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.clock import ManualClock
from tests.conftest import DEMO, DEMO_WORKER_GRID, api_key, bearer, database_copy

if TYPE_CHECKING:
    from tests.conftest import TestServer

START = datetime(2020, 1, 31, 0, 0, tzinfo=UTC)  # 08:00 in the county
REQUESTS = "/open311/v2/requests.json"


@pytest.fixture(scope="module")
def events_db(pg_server: TestServer, demo_db: Engine) -> Iterator[Engine]:
    demo_db.dispose()
    with database_copy(pg_server, DEMO) as engine:
        yield engine


@pytest.fixture(scope="module")
def workspace(events_db: Engine) -> Workspace:
    ws = Workspace(events_db, Settings(cache_check_interval_s=0))
    ws.clock = ManualClock(START)
    return ws


@pytest.fixture(scope="module")
def clients(events_db: Engine, workspace: Workspace) -> dict[str, TestClient]:
    app = create_app(Settings(warm_up=False), workspace=workspace)
    out = {
        role.value: TestClient(
            app,
            headers=bearer(
                api_key(events_db, role.value, DEMO_WORKER_GRID if role == "grid_worker" else None)
            ),
        )
        for role in Role
    }
    out["anonymous"] = TestClient(app)
    return out


def sql(engine: Engine, statement: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(statement), params))


def owner(engine: Engine, lon: float, lat: float, level: str) -> list[str]:
    """The grids of ``level`` covering a point, asked of PostGIS directly."""
    rows = sql(
        engine,
        "SELECT code FROM grids WHERE level = :level AND "
        "ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) ORDER BY code",
        level=level,
        lon=lon,
        lat=lat,
    )
    return [r[0] for r in rows]


# -- services ---------------------------------------------------------------------------------


def test_discovery_and_the_county_services(clients: dict[str, TestClient]) -> None:
    found = clients["anonymous"].get("/open311/v2/discovery.json")
    assert found.status_code == 200
    assert found.json()["endpoints"][0]["url"].endswith("/open311/v2")
    services = {
        s["service_code"]: s for s in clients["app"].get("/open311/v2/services.json").json()
    }
    assert services["hotline"]["deadline_minutes"] == 240
    assert services["newcomer"]["deadline_minutes"] == 60
    assert services["deployment"]["group"] == "deployment"


def test_an_admin_configures_a_service_and_others_may_not(
    clients: dict[str, TestClient],
) -> None:
    body = {"name": "消杀任务", "kind": "event", "deadline_minutes": 120, "remind_minutes": 30}
    assert clients["dispatcher"].put("/events/services/disinfect", json=body).status_code == 403
    made = clients["admin"].put("/events/services/disinfect", json=body)
    assert made.status_code == 201, made.text
    again = clients["admin"].put(
        "/events/services/disinfect", json={**body, "deadline_minutes": 90}
    )
    assert again.status_code == 200
    listed = clients["app"].get("/open311/v2/services.json").json()
    assert {s["service_code"]: s["deadline_minutes"] for s in listed}["disinfect"] == 90
    bad = clients["admin"].put("/events/services/disinfect", json={**body, "remind_minutes": 200})
    assert bad.status_code == 422


# -- placing ----------------------------------------------------------------------------------


def test_a_request_at_a_point_gets_the_micro_grid_postgis_covers_it_with(
    clients: dict[str, TestClient], events_db: Engine, workspace: Workspace
) -> None:
    (x0, y0, x1, y1) = sql(
        events_db,
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "(SELECT ST_Extent(geom) AS e FROM grids WHERE level = 'county') s",
    )[0]
    rng = np.random.default_rng(15)
    points = list(zip(rng.uniform(x0, x1, 40), rng.uniform(y0, y1, 40), strict=True))
    placed = unplaced = 0
    for lon, lat in points:
        answer = clients["app"].post(
            REQUESTS, json={"service_code": "hotline", "lat": lat, "long": lon}
        )
        assert answer.status_code == 201, answer.text
        made = answer.json()[0]
        micro, village = owner(events_db, lon, lat, "micro"), owner(events_db, lon, lat, "village")
        if village:
            placed += 1
            assert made["placement"] == "placed"
            assert made["grid_code"] == micro[0]
            assert made["village_code"] == village[0]
            assert made["agency_responsible"] == village[0]
            worker = sql(
                events_db,
                'SELECT min(code COLLATE "C") FROM grid_workers WHERE grid_code = :g',
                g=village[0],
            )[0][0]
            assert made["worker_code"] == worker
        else:
            unplaced += 1
            assert made["placement"] == "unplaced"
            assert made["grid_code"] is None
        expected = datetime.fromisoformat(made["expected_datetime"])
        assert expected == workspace.clock.now() + timedelta(minutes=240)
    assert placed >= 20
    assert unplaced >= 1


def test_form_encoded_and_json_requests_answer_alike(
    clients: dict[str, TestClient], events_db: Engine
) -> None:
    lon, lat = sql(
        events_db,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM grids "
        "WHERE code = :g) s",
        g=DEMO_WORKER_GRID + "-01",
    )[0]
    form = clients["dispatcher"].post(
        REQUESTS,
        data={"service_code": "hotline", "lat": str(lat), "long": str(lon), "description": "x"},
    )
    as_json = clients["dispatcher"].post(
        REQUESTS, json={"service_code": "hotline", "lat": lat, "long": lon, "description": "x"}
    )
    assert form.status_code == as_json.status_code == 201, form.text
    keys = ("grid_code", "village_code", "worker_code", "agency_responsible")
    assert [form.json()[0][k] for k in keys] == [as_json.json()[0][k] for k in keys]
    assert form.json()[0]["grid_code"] == DEMO_WORKER_GRID + "-01"
    bad = clients["dispatcher"].post(
        REQUESTS, data={"service_code": "hotline", "lat": "north", "long": str(lon)}
    )
    assert bad.status_code == 422
    assert bad.json()["details"]["field"] == "lat"


def test_an_address_is_placed_through_the_gazetteer_or_queued_never_dropped(
    clients: dict[str, TestClient], events_db: Engine
) -> None:
    full_text, lon, lat = sql(
        events_db,
        "SELECT full_text, ST_X(geom), ST_Y(geom) FROM addresses ORDER BY code LIMIT 1",
    )[0]
    made = (
        clients["app"]
        .post(REQUESTS, json={"service_code": "hotline", "address_string": full_text})
        .json()[0]
    )
    assert made["placement"] == "placed"
    assert made["village_code"] == owner(events_db, lon, lat, "village")[0]
    lost = clients["app"].post(
        REQUESTS, json={"service_code": "hotline", "address_string": "火星基地九号舱"}
    )
    assert lost.status_code == 201
    queued = lost.json()[0]
    assert queued["placement"] == "unplaced"
    assert "operator" in queued["service_notice"]
    queue = clients["dispatcher"].get(REQUESTS, params={"placement": "unplaced"}).json()
    assert queued["service_request_id"] in {r["service_request_id"] for r in queue}
    stored = sql(
        events_db,
        "SELECT placement, address_string FROM events WHERE id = :id",
        id=int(queued["service_request_id"]),
    )
    assert stored == [("unplaced", "火星基地九号舱")]


def test_a_request_without_a_place_or_with_a_lone_coordinate_is_refused(
    clients: dict[str, TestClient], events_db: Engine
) -> None:
    retired = {"name": "停用", "kind": "event", "deadline_minutes": 60, "active": False}
    assert clients["admin"].put("/events/services/retired", json=retired).status_code == 201
    before = sql(events_db, "SELECT count(*) FROM events")[0][0]
    for body in (
        {"service_code": "hotline"},
        {"service_code": "hotline", "lat": 27.6},
        {"service_code": "nosuch", "lat": 27.6, "long": 120.6},
        {"service_code": "deployment", "lat": 27.6, "long": 120.6},
        {"service_code": "hotline", "lat": "27.6", "long": 120.6},
        {"service_code": "hotline", "lat": 27.6, "long": 120.6, "health_code": "red"},
        {"service_code": "hotline", "lat": 27.6, "long": 120.6, "health_code": "green"},
        {"service_code": "retired", "lat": 27.6, "long": 120.6},
    ):
        answer = clients["app"].post(REQUESTS, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert set(answer.json()) == {"code", "message", "details"}
    assert sql(events_db, "SELECT count(*) FROM events")[0][0] == before


def test_a_request_is_stored_with_its_log_entry_and_notification(
    clients: dict[str, TestClient], events_db: Engine, workspace: Workspace
) -> None:
    lon, lat = sql(
        events_db,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
        "WHERE code = :g) s",
        g=DEMO_WORKER_GRID + "-01",
    )[0]
    made = clients["app"].post(
        REQUESTS, json={"service_code": "newcomer", "lat": lat, "long": lon, "health_code": "green"}
    )
    assert made.status_code == 201, made.text
    event_id = int(made.json()[0]["service_request_id"])
    now = workspace.clock.now()
    stored = sql(
        events_db,
        "SELECT e.requested_at, e.expected_at, e.remind_at, e.updated_at, e.deadline_minutes, "
        "e.agency_code, e.health_code, ST_X(e.geom), ST_Y(e.geom) FROM events e WHERE id = :id",
        id=event_id,
    )[0]
    assert stored[:5] == (
        now,
        now + timedelta(minutes=60),
        now + timedelta(minutes=60 - 15),
        now,
        60,
    )
    assert stored[5:] == (DEMO_WORKER_GRID, "green", lon, lat)
    log = sql(
        events_db,
        "SELECT at, actor, role, action, status, agency_code, note FROM event_log "
        "WHERE event_id = :id",
        id=event_id,
    )
    key_id = clients["app"].headers["Authorization"].split()[1].split("_")[1]  # gg_<id>_<secret>
    name = sql(events_db, "SELECT name FROM api_credentials WHERE key_id = :k", k=key_id)[0][0]
    assert log == [(now, name, "app", "create", "open", DEMO_WORKER_GRID, None)]
    queued = sql(
        events_db, "SELECT topic, payload FROM event_outbox WHERE event_id = :id", id=event_id
    )
    assert len(queued) == 1
    topic, payload = queued[0]
    assert topic == "created"
    shown = made.json()[0]
    assert payload == {
        "event_id": event_id,
        "topic": "created",
        "service_code": "newcomer",
        "status": "open",
        "agency_code": DEMO_WORKER_GRID,
        "grid_code": shown["grid_code"],
        "village_code": DEMO_WORKER_GRID,
        "worker_code": shown["worker_code"],
        "expected_datetime": payload["expected_datetime"],
        "at": payload["at"],
    }
    assert datetime.fromisoformat(payload["expected_datetime"]) == now + timedelta(minutes=60)
    assert datetime.fromisoformat(payload["at"]) == now


# -- idempotency, reading, masking ------------------------------------------------------------


def test_an_idempotency_key_makes_a_retry_answer_the_same_and_store_no_twin(
    clients: dict[str, TestClient], events_db: Engine
) -> None:
    body = {"service_code": "hotline", "lat": 27.6, "long": 120.6, "phone": "17012345678"}
    key = {"Idempotency-Key": "retry-1"}
    first = clients["app"].post(REQUESTS, json=body, headers=key)
    second = clients["app"].post(REQUESTS, json=body, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    rows = sql(events_db, "SELECT count(*) FROM events WHERE idempotency_key = 'retry-1'")
    assert rows[0][0] == 1
    changed = clients["app"].post(REQUESTS, json={**body, "description": "x"}, headers=key)
    assert changed.status_code == 422
    # another client's same key is its own
    other = clients["dispatcher"].post(REQUESTS, json=body, headers=key)
    assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]


def test_personal_data_is_masked_for_callers_without_it(
    clients: dict[str, TestClient], events_db: Engine
) -> None:
    body = {
        "service_code": "hotline",
        "lat": 27.6,
        "long": 120.6,
        "first_name": "小明",
        "last_name": "王",
        "phone": "17012345678",
    }
    made = clients["app"].post(REQUESTS, json=body).json()[0]
    url = f"/open311/v2/requests/{made['service_request_id']}.json"
    own = clients["app"].get(url).json()[0]
    assert own["phone"] == "170****5678"
    assert own["name"] != "王小明"
    full = clients["dispatcher"].get(url).json()[0]
    assert (full["phone"], full["name"]) == ("17012345678", "王小明")
    assert clients["planner"].get(url).status_code == 403
    # an app reads only what its own key created
    theirs = clients["dispatcher"].post(REQUESTS, json=body).json()[0]
    missing = clients["app"].get(f"/open311/v2/requests/{theirs['service_request_id']}.json")
    assert missing.status_code == 404


def test_a_grid_worker_reads_their_subtree_only(
    clients: dict[str, TestClient], events_db: Engine
) -> None:
    inside = sql(
        events_db,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
        "WHERE code = :g) s",
        g=DEMO_WORKER_GRID,
    )[0]
    outside = sql(
        events_db,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
        "WHERE level = 'village' AND code <> :g ORDER BY code LIMIT 1) s",
        g=DEMO_WORKER_GRID,
    )[0]
    mine = (
        clients["dispatcher"]
        .post(REQUESTS, json={"service_code": "hotline", "lat": inside[1], "long": inside[0]})
        .json()[0]
    )
    other = (
        clients["dispatcher"]
        .post(REQUESTS, json={"service_code": "hotline", "lat": outside[1], "long": outside[0]})
        .json()[0]
    )
    listed = clients["grid_worker"].get(REQUESTS).json()
    ids = {r["service_request_id"] for r in listed}
    assert mine["service_request_id"] in ids
    assert other["service_request_id"] not in ids
    assert all(
        r["grid_code"] == DEMO_WORKER_GRID or r["grid_code"].startswith(DEMO_WORKER_GRID + "-")
        for r in listed
        if r["assigned"] == 0
    )
    hidden = clients["grid_worker"].get(f"/open311/v2/requests/{other['service_request_id']}.json")
    assert hidden.status_code == 404


def test_the_list_filters_by_date_status_and_service(
    clients: dict[str, TestClient], workspace: Workspace
) -> None:
    clock = workspace.clock
    assert isinstance(clock, ManualClock)
    clock.set(datetime(2020, 2, 3, 2, 0, tzinfo=UTC))
    made = (
        clients["dispatcher"]
        .post(REQUESTS, json={"service_code": "newcomer", "lat": 27.6, "long": 120.6})
        .json()[0]
    )
    got = (
        clients["dispatcher"]
        .get(
            REQUESTS,
            params={
                "start_date": "2020-02-03T10:00:00+08:00",
                "end_date": "2020-02-03T10:00:01+08:00",
                "service_code": "newcomer,hotline",
                "status": "open",
            },
        )
        .json()
    )
    assert [r["service_request_id"] for r in got] == [made["service_request_id"]]
    assert got[0]["expected_datetime"].startswith("2020-02-03T03:00:00")
    none = (
        clients["dispatcher"]
        .get(REQUESTS, params={"start_date": "2020-02-03T10:00:00+08:00", "status": "closed"})
        .json()
    )
    assert none == []
    clock.set(START)


# -- the county's practice --------------------------------------------------------------------


def test_a_yellow_or_red_newcomer_becomes_a_transfer_request(
    clients: dict[str, TestClient], events_db: Engine
) -> None:
    body = {
        "service_code": "newcomer",
        "lat": 27.61,
        "long": 120.62,
        "last_name": "陈",
        "first_name": "一",
        "phone": "17087654321",
        "household_size": 3,
    }
    red = clients["app"].post(REQUESTS, json={**body, "health_code": "red"}).json()[0]
    green = clients["app"].post(REQUESTS, json={**body, "health_code": "green"}).json()[0]
    moved = sql(
        events_db,
        "SELECT t.code, t.risk_class, t.group_size, t.status, t.phone, "
        "ST_Equals(t.geom, e.geom) FROM events e JOIN transfer_requests t "
        "ON t.code = e.transfer_code WHERE e.id = :id",
        id=int(red["service_request_id"]),
    )
    assert moved == [
        (f"EV{red['service_request_id']}", "close_contact", 3, "waiting", "17087654321", True)
    ]
    none = sql(
        events_db,
        "SELECT transfer_code FROM events WHERE id = :id",
        id=int(green["service_request_id"]),
    )
    assert none == [(None,)]
    waiting = clients["dispatcher"].get(f"/transport/requests/EV{red['service_request_id']}")
    assert waiting.status_code == 200
    assert waiting.json()["risk_class"] == "close_contact"


def test_a_deployment_goes_to_every_worker_under_its_grid_each_acknowledging(
    clients: dict[str, TestClient], events_db: Engine
) -> None:
    town = DEMO_WORKER_GRID.rsplit("-", 1)[0]
    made = (
        clients["dispatcher"]
        .post(
            REQUESTS, json={"service_code": "deployment", "grid_code": town, "description": "排查"}
        )
        .json()[0]
    )
    event_id = int(made["service_request_id"])
    workers = sql(
        events_db,
        "SELECT count(*) FROM grid_workers WHERE grid_code = :t OR grid_code LIKE :p",
        t=town,
        p=town + "-%",
    )[0][0]
    url = f"/open311/v2/requests/{event_id}.json"
    shown = clients["dispatcher"].get(url).json()[0]
    assert shown["assigned"] == workers > 10
    own = sql(
        events_db,
        "SELECT count(*) FROM grid_workers WHERE grid_code = :g",
        g=DEMO_WORKER_GRID,
    )[0][0]
    ack = clients["grid_worker"].post(f"/events/{event_id}/acknowledge", json={})
    assert ack.status_code == 200, ack.text
    assert ack.json()["assigned_acknowledged"] == own
    assert ack.json()["status"] == "open"  # the others have not acknowledged yet
    everyone = clients["dispatcher"].post(f"/events/{event_id}/acknowledge", json={})
    assert everyone.json()["assigned_acknowledged"] == workers
    assert everyone.json()["status"] == "acknowledged"
