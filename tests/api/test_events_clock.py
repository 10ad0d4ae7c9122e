"""The events' clock: acknowledge, update, close and reassign by role and jurisdiction;
reminders before the deadline and escalation to the parent grid after it, driven by a
manual clock; the log and the outbox written with every change; the daily report equal
to an independent SQL query.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid.access import Role
from geogrid.api.app import create_app
from geogrid.privacy import mask_name
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.clock import ManualClock
from geogrid.workspace.event_actions import scan_deadlines
from tests.conftest import DEMO, DEMO_WORKER_GRID, api_key, bearer, database_copy

if TYPE_CHECKING:
    from tests.conftest import TestServer

START = datetime(2020, 1, 31, 0, 0, tzinfo=UTC)
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


@pytest.fixture
def clock(workspace: Workspace) -> Iterator[ManualClock]:
    clock = workspace.clock
    assert isinstance(clock, ManualClock)
    yield clock
    clock.set(START)


@pytest.fixture(scope="module")
def clients(events_db: Engine, workspace: Workspace) -> dict[str, TestClient]:
    app = create_app(Settings(warm_up=False), workspace=workspace)
    return {
        role.value: TestClient(
            app,
            headers=bearer(
                api_key(events_db, role.value, DEMO_WORKER_GRID if role == "grid_worker" else None)
            ),
        )
        for role in Role
    }


def sql(engine: Engine, statement: str, **params: Any) -> list[Any]:
    with engine.begin() as conn:
        return list(conn.execute(text(statement), params))


def point_in(engine: Engine, code: str) -> tuple[float, float]:
    row = sql(
        engine,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
        "WHERE code = :g) s",
        g=code,
    )[0]
    return float(row[0]), float(row[1])


def report_event(client: TestClient, engine: Engine, grid: str, service: str = "hotline") -> int:
    lon, lat = point_in(engine, grid)
    made = client.post(REQUESTS, json={"service_code": service, "lat": lat, "long": lon})
    assert made.status_code == 201, made.text
    return int(made.json()[0]["service_request_id"])


OTHER_VILLAGE = "330326-101-032"


def test_who_may_act_on_an_event(clients: dict[str, TestClient], events_db: Engine) -> None:
    mine = report_event(clients["app"], events_db, DEMO_WORKER_GRID + "-01")
    theirs = report_event(clients["app"], events_db, OTHER_VILLAGE)
    note = {"note": "已上门核实"}
    for role, status in (("planner", 403), ("app", 403), ("grid_worker", 200)):
        got = clients[role].post(f"/events/{mine}/update", json=note)
        assert got.status_code == status, (role, got.text)
    assert clients["grid_worker"].post(f"/events/{theirs}/acknowledge", json={}).status_code == 404
    assert clients["grid_worker"].post(f"/events/{theirs}/close", json={}).status_code == 404
    assert (
        clients["grid_worker"]
        .post(f"/events/{mine}/reassign", json={"grid_code": OTHER_VILLAGE})
        .status_code
        == 403
    )
    ack = clients["grid_worker"].post(f"/events/{mine}/acknowledge", json={})
    assert ack.json()["status"] == "acknowledged"
    done = clients["grid_worker"].post(f"/events/{mine}/close", json={"note": "已处置"})
    assert done.json()["status"] == "closed"
    assert done.json()["status_notes"] == "已处置"
    again = clients["grid_worker"].post(f"/events/{mine}/close", json={})
    assert again.status_code == 409
    log = sql(events_db, "SELECT action FROM event_log WHERE event_id = :id ORDER BY id", id=mine)
    assert [r[0] for r in log] == ["create", "update", "acknowledge", "close"]
    topics = sql(
        events_db, "SELECT topic FROM event_outbox WHERE event_id = :id ORDER BY id", id=mine
    )
    assert [r[0] for r in topics] == ["created", "updated", "acknowledged", "closed"]


def test_a_dispatcher_reassigns_and_places_from_the_queue(
    clients: dict[str, TestClient], events_db: Engine
) -> None:
    lost = (
        clients["app"]
        .post(REQUESTS, json={"service_code": "hotline", "address_string": "火星基地九号舱"})
        .json()[0]
    )
    event_id = int(lost["service_request_id"])
    lon, lat = point_in(events_db, OTHER_VILLAGE + "-01")
    moved = clients["dispatcher"].post(
        f"/events/{event_id}/reassign", json={"lat": lat, "long": lon}
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["placement"], body["village_code"]) == ("placed", OTHER_VILLAGE)
    assert body["grid_code"] == OTHER_VILLAGE + "-01"
    to_grid = (
        clients["dispatcher"]
        .post(f"/events/{event_id}/reassign", json={"grid_code": DEMO_WORKER_GRID})
        .json()
    )
    assert to_grid["agency_responsible"] == DEMO_WORKER_GRID
    nowhere = clients["dispatcher"].post(f"/events/{event_id}/reassign", json={})
    assert nowhere.status_code == 422


def test_reminders_before_and_escalation_after_the_deadline(
    clients: dict[str, TestClient], events_db: Engine, workspace: Workspace, clock: ManualClock
) -> None:
    clock.set(datetime(2020, 2, 10, 0, 0, tzinfo=UTC))
    late = report_event(clients["app"], events_db, DEMO_WORKER_GRID + "-01")
    answered = report_event(clients["app"], events_db, DEMO_WORKER_GRID + "-01")
    clients["grid_worker"].post(f"/events/{answered}/close", json={})
    clock.advance(timedelta(minutes=179))
    assert scan_deadlines(workspace).reminded == 0
    clock.advance(timedelta(minutes=1))  # 60 minutes before the 4-hour deadline
    first = scan_deadlines(workspace)
    assert (first.reminded, first.escalated) == (1, 0)
    assert scan_deadlines(workspace).reminded == 0  # once
    clock.advance(timedelta(minutes=59, seconds=59))
    assert scan_deadlines(workspace).escalated == 0
    clock.advance(timedelta(seconds=1))  # the deadline itself
    done = clients["dispatcher"].post("/events/scan")
    assert done.status_code == 200
    assert done.json()["escalated"] == 1
    town = sql(events_db, "SELECT parent_code FROM grids WHERE code = :g", g=DEMO_WORKER_GRID)
    shown = clients["dispatcher"].get(f"/open311/v2/requests/{late}.json").json()[0]
    assert shown["agency_responsible"] == town[0][0]
    assert shown["escalation_level"] == 1
    assert shown["village_code"] == DEMO_WORKER_GRID  # the place stays
    assert scan_deadlines(workspace).escalated == 0
    topics = sql(
        events_db, "SELECT topic FROM event_outbox WHERE event_id = :id ORDER BY id", id=late
    )
    assert [r[0] for r in topics] == ["created", "reminder", "escalated"]
    untouched = sql(
        events_db, "SELECT escalation_level, reminded_at FROM events WHERE id = :id", id=answered
    )
    assert untouched == [(0, None)]
    # the worker of the village still sees and answers it
    assert clients["grid_worker"].post(f"/events/{late}/close", json={}).status_code == 200


def test_the_report_equals_an_independent_query(
    clients: dict[str, TestClient], events_db: Engine, clock: ManualClock
) -> None:
    day = datetime(2020, 2, 20, 1, 0, tzinfo=UTC)  # 09:00 local
    clock.set(day)
    ids = [report_event(clients["app"], events_db, DEMO_WORKER_GRID + "-01") for _ in range(5)]
    ids += [report_event(clients["app"], events_db, OTHER_VILLAGE) for _ in range(3)]
    clock.advance(timedelta(minutes=30))
    for event_id in ids[:4]:
        clients["dispatcher"].post(f"/events/{event_id}/acknowledge", json={})
    clock.advance(timedelta(minutes=100))
    for event_id in ids[:2] + ids[5:6]:
        clients["dispatcher"].post(f"/events/{event_id}/close", json={})
    clock.advance(timedelta(hours=5))
    clients["dispatcher"].post(f"/events/{ids[2]}/close", json={})  # late
    got = clients["planner"].get("/events/report", params={"start": "2020-02-20"})
    assert got.status_code == 200, got.text
    rows = {r["grid_code"]: r for r in got.json()["rows"]}
    now = clock.now()
    expected = sql(
        events_db,
        """
        SELECT village_code,
               count(*),
               sum(CASE WHEN closed_at IS NOT NULL AND closed_at <= expected_at THEN 1 ELSE 0 END),
               sum(CASE WHEN closed_at > expected_at
                          OR (closed_at IS NULL AND expected_at < :now) THEN 1 ELSE 0 END),
               array_agg(extract(epoch FROM closed_at - requested_at) / 60)
        FROM events
        WHERE requested_at >= '2020-02-19T16:00:00Z' AND requested_at < '2020-02-20T16:00:00Z'
        GROUP BY village_code
        """,
        now=now,
    )
    assert set(rows) == {r[0] for r in expected} == {DEMO_WORKER_GRID, OTHER_VILLAGE}
    for village, count, on_time, overdue, closes in expected:
        row = rows[village]
        assert row["day"] == "2020-02-20"
        assert (row["events"], row["closed_on_time"], row["overdue"]) == (count, on_time, overdue)
        known = [c for c in closes if c is not None]
        assert row["closed"] == len(known)
        assert row["on_time_pct"] == round(100 * on_time / count, 1)  # all are past due
        if known:
            known.sort()
            mid = len(known) // 2
            median = known[mid] if len(known) % 2 else (known[mid - 1] + known[mid]) / 2
            assert row["median_close_min"] == pytest.approx(float(median))
        else:
            assert row["median_close_min"] is None
    assert rows[DEMO_WORKER_GRID]["median_first_response_min"] == pytest.approx(30.0)
    assert rows[OTHER_VILLAGE]["median_first_response_min"] == pytest.approx(130.0)
    # a grid worker's report holds their subtree only
    theirs = clients["grid_worker"].get("/events/report", params={"start": "2020-02-20"}).json()
    assert {r["grid_code"] for r in theirs["rows"]} == {DEMO_WORKER_GRID}
    assert date(2020, 2, 20).isoformat() == theirs["rows"][0]["day"]


def test_the_late_report_per_worker_equals_an_independent_query_and_masks_names(
    clients: dict[str, TestClient], events_db: Engine, clock: ManualClock
) -> None:
    clock.set(datetime(2020, 2, 21, 1, 0, tzinfo=UTC))  # 09:00 local
    ids = [report_event(clients["app"], events_db, DEMO_WORKER_GRID + "-01") for _ in range(4)]
    ids += [report_event(clients["app"], events_db, OTHER_VILLAGE) for _ in range(3)]
    clock.advance(timedelta(minutes=90))
    for event_id in (ids[0], ids[4]):
        clients["dispatcher"].post(f"/events/{event_id}/close", json={})
    clock.advance(timedelta(hours=4))
    clients["dispatcher"].post(f"/events/{ids[1]}/close", json={})  # late
    got = clients["planner"].get("/events/report/workers", params={"start": "2020-02-21"})
    assert got.status_code == 200, got.text
    rows = {r["worker_code"]: r for r in got.json()["rows"]}
    now = clock.now()
    raw = sql(
        events_db,
        "SELECT e.worker_code, w.name, e.closed_at, e.expected_at FROM events e "
        "JOIN grid_workers w ON w.code = e.worker_code "
        "WHERE e.requested_at >= '2020-02-20T16:00:00Z' "
        "AND e.requested_at < '2020-02-21T16:00:00Z'",
    )
    expected: dict[str, dict[str, Any]] = {}
    for worker, name, closed, due in raw:
        mine = expected.setdefault(worker, {"name": name, "n": 0, "on_time": 0, "late": 0})
        mine["n"] += 1
        mine["on_time"] += closed is not None and closed <= due
        mine["late"] += (closed or now) > due
    assert set(rows) == set(expected)
    assert len(rows) == 2
    for worker, mine in expected.items():
        row = rows[worker]
        assert (row["events"], row["closed_on_time"], row["overdue"]) == (
            mine["n"],
            mine["on_time"],
            mine["late"],
        )
        assert row["on_time_pct"] == round(100 * mine["on_time"] / mine["n"], 1)
        assert row["worker_name"] != mine["name"]  # a planner sees no personal data
        assert row["worker_name"] == mask_name(mine["name"])
    shown = clients["dispatcher"].get("/events/report/workers", params={"start": "2020-02-21"})
    assert {r["worker_name"] for r in shown.json()["rows"]} == {
        m["name"] for m in expected.values()
    }
    theirs = clients["grid_worker"].get("/events/report/workers", params={"start": "2020-02-21"})
    assert len(theirs.json()["rows"]) == 1


def test_the_map_shows_open_and_overdue_events_without_personal_data(
    clients: dict[str, TestClient], events_db: Engine, clock: ManualClock
) -> None:
    from geogrid.privacy import find_personal

    clock.set(datetime(2020, 3, 1, 0, 0, tzinfo=UTC))
    lon, lat = point_in(events_db, DEMO_WORKER_GRID + "-01")
    body = {"service_code": "hotline", "lat": lat, "long": lon, "phone": "17012345678"}
    old = clients["app"].post(REQUESTS, json=body).json()[0]["service_request_id"]
    clock.advance(timedelta(hours=5))
    new = clients["app"].post(REQUESTS, json=body).json()[0]["service_request_id"]
    page = clients["planner"].get("/events/map.html", params={"grid": DEMO_WORKER_GRID})
    assert page.status_code == 200, page.text
    html = page.text
    assert "Overdue events" in html
    assert "Open events" in html
    assert f'"{old}"' in html or f">{old}<" in html or str(old) in html
    assert str(new) in html
    assert find_personal(html) == []
    assert "17012345678" not in html
    hidden = clients["grid_worker"].get("/events/map.html", params={"grid": OTHER_VILLAGE})
    assert hidden.status_code == 404
    assert clients["app"].get("/events/map.html").status_code == 403
