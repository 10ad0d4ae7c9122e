"""The servers' deadline scan on a timer, through the app's lifespan: two apps (two
workspaces, two engines: two processes of one cluster) with a short interval and a manual
clock escalate an overdue event once; while another session holds the advisory lock
neither scans; the switch turns the timer off.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid.access import Caller, Role
from geogrid.api.app import create_app
from geogrid.db.engine import create_geogrid_engine
from geogrid.db.queries.deadlines import SCAN_LOCK
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.clock import ManualClock
from geogrid.workspace.events import EventIn, create_event
from tests.conftest import DEMO, DEMO_WORKER_GRID, database_copy

if TYPE_CHECKING:
    from tests.conftest import TestServer

START = datetime(2020, 1, 31, 0, 0, tzinfo=UTC)
FAST = Settings(warm_up=False, listen=False, events_scan_interval_s=0.1)


@pytest.fixture
def timer_db(pg_server: TestServer, demo_db: Engine) -> Iterator[Engine]:
    demo_db.dispose()
    with database_copy(pg_server, DEMO) as engine:
        yield engine


def sql(engine: Engine, statement: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(statement), params))


def workspace_at(engine: Engine, now: datetime) -> Workspace:
    ws = Workspace(create_geogrid_engine(engine.url.render_as_string(False)), FAST)
    ws.clock = ManualClock(now)
    return ws


def test_two_servers_escalate_an_overdue_event_once_and_respect_the_lock(
    timer_db: Engine,
) -> None:
    first = workspace_at(timer_db, START)
    lon, lat = sql(
        timer_db,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
        "WHERE code = :g) s",
        g=DEMO_WORKER_GRID + "-01",
    )[0]
    made, _ = create_event(
        first,
        EventIn(service_code="hotline", lon=lon, lat=lat),
        Caller("test timer", Role.DISPATCHER),
    )
    later = START + timedelta(hours=5)  # past the 4-hour deadline
    first.clock = ManualClock(later)
    second = workspace_at(timer_db, later)
    apps = [create_app(FAST, workspace=ws) for ws in (first, second)]

    def escalations() -> int:
        return int(
            sql(
                timer_db,
                "SELECT count(*) FROM event_log WHERE event_id = :id AND action = 'escalate'",
                id=made["id"],
            )[0][0]
        )

    with timer_db.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": SCAN_LOCK})
        with TestClient(apps[0]), TestClient(apps[1]):
            timers = [app.state.deadline_timer for app in apps]
            time.sleep(1.0)  # ten ticks each: the lock is taken, none scans
            assert escalations() == 0
            assert [t.ticks for t in timers] == [0, 0]
            holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SCAN_LOCK})
            holder.commit()
            deadline = time.monotonic() + 30
            while escalations() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # more ticks of both: nothing new
            assert sum(t.ticks for t in timers) >= 2
    assert escalations() == 1
    outbox = sql(
        timer_db,
        "SELECT count(*) FROM event_outbox WHERE event_id = :id AND topic = 'escalated'",
        id=made["id"],
    )
    assert outbox[0][0] == 1
    stored = sql(
        timer_db, "SELECT escalated_at, escalation_level FROM events WHERE id = :id", id=made["id"]
    )
    assert stored == [(later, 1)]
    stopped = [t.ticks for t in timers]
    time.sleep(0.3)
    assert [t.ticks for t in timers] == stopped  # the lifespan's end stopped them
    for ws in (first, second):
        ws.engine.dispose()


def test_the_switch_turns_the_timer_off(timer_db: Engine) -> None:
    ws = workspace_at(timer_db, START)
    app = create_app(Settings(warm_up=False, listen=False, events_scan=False), workspace=ws)
    with TestClient(app):
        assert app.state.deadline_timer is None
    ws.engine.dispose()
