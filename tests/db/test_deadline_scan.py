"""The deadline scan in chunks, each its own transaction, on a real PostGIS: it escalates
exactly the events an independent SQL query says are overdue (and reminds those it says
are near their deadline), once each, with their log entries and outbox rows; it skips the
events another transaction holds and never waits for them; two scanners at once act on
every event once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, text

from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.event_actions import ScanOutcome, scan_deadlines
from tests.conftest import DEMO, database_copy

if TYPE_CHECKING:
    from tests.conftest import TestServer

T0 = datetime(2020, 2, 1, 0, 0, tzinfo=UTC)

# i % 10: 0 closed, 1 acknowledged, 2 unplaced, 3 escalated already, 4 reminded already;
# requested one a minute from T0 over 10 hours, each due 240 minutes later
FILL = """
INSERT INTO events (service_code, status, placement, requested_at, expected_at,
    deadline_minutes, remind_at, updated_at, acknowledged_at, closed_at, reminded_at,
    escalated_at, escalation_level, agency_code, grid_code, village_code, town_code,
    created_by, description)
SELECT 'hotline',
       CASE i % 10 WHEN 0 THEN 'closed' WHEN 1 THEN 'acknowledged' ELSE 'open' END,
       CASE WHEN i % 10 = 2 THEN 'unplaced' ELSE 'placed' END,
       r, r + interval '240 minutes', 240, r + interval '180 minutes', r,
       CASE WHEN i % 10 = 1 THEN r + interval '5 minutes' END,
       CASE WHEN i % 10 = 0 THEN r + interval '300 minutes' END,
       CASE WHEN i % 10 = 4 THEN r + interval '180 minutes' END,
       CASE WHEN i % 10 = 3 THEN r + interval '240 minutes' END,
       CASE WHEN i % 10 = 3 THEN 1 ELSE 0 END,
       CASE WHEN i % 10 = 2 THEN NULL WHEN i % 10 = 3 THEN v.parent_code ELSE v.code END,
       CASE WHEN i % 10 = 2 THEN NULL ELSE v.code END,
       CASE WHEN i % 10 = 2 THEN NULL ELSE v.code END,
       CASE WHEN i % 10 = 2 THEN NULL ELSE v.parent_code END,
       :tag, ''
FROM generate_series(0, :n - 1) AS i
CROSS JOIN LATERAL (SELECT CAST(:t0 AS timestamptz) + (i % 600) * interval '1 minute' AS r) t
JOIN (SELECT code, parent_code, row_number() OVER (ORDER BY code) - 1 AS k
      FROM grids WHERE level = 'village') AS v
  ON v.k = i % (SELECT count(*) FROM grids WHERE level = 'village')
"""

# independent of the scan's own conditions: by the times, not the status and the level
OVERDUE = """
SELECT id FROM events WHERE closed_at IS NULL AND escalated_at IS NULL
  AND requested_at + deadline_minutes * interval '1 minute' <= :now
"""
NEAR = """
SELECT id FROM events WHERE closed_at IS NULL AND escalated_at IS NULL AND reminded_at IS NULL
  AND remind_at <= :now AND requested_at + deadline_minutes * interval '1 minute' > :now
"""


@pytest.fixture
def scan_db(pg_server: TestServer, demo_db: Engine) -> Iterator[Engine]:
    demo_db.dispose()
    with database_copy(pg_server, DEMO) as engine:
        yield engine


def sql(engine: Engine, statement: str, **params: Any) -> list[Any]:
    with engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return list(result) if result.returns_rows else []


def fill(engine: Engine, n: int, tag: str = "test scan") -> None:
    sql(engine, FILL, n=n, t0=T0, tag=tag)


def ids(engine: Engine, statement: str, **params: Any) -> set[int]:
    return {int(r[0]) for r in sql(engine, statement, **params)}


def per_event(engine: Engine, statement: str, **params: Any) -> dict[int, int]:
    return {int(r[0]): int(r[1]) for r in sql(engine, statement, **params)}


def assert_escalated_once(engine: Engine, expected: set[int], now: datetime) -> None:
    """Every event in ``expected`` and no other is escalated at ``now``, with one log entry
    and one outbox row each; a placed one now answers to its village's parent grid."""
    assert ids(engine, "SELECT id FROM events WHERE escalated_at = :now", now=now) == expected
    logged = per_event(
        engine,
        "SELECT event_id, count(*) FROM event_log WHERE action = 'escalate' AND at = :now "
        "GROUP BY 1",
        now=now,
    )
    assert logged == dict.fromkeys(expected, 1)
    queued = per_event(
        engine,
        "SELECT event_id, count(*) FROM event_outbox WHERE topic = 'escalated' "
        "AND CAST(payload->>'at' AS timestamptz) = :now GROUP BY 1",
        now=now,
    )
    assert queued == dict.fromkeys(expected, 1)
    wrong = sql(
        engine,
        "SELECT e.id FROM events e LEFT JOIN grids g ON g.code = e.village_code "
        "WHERE e.escalated_at = :now AND (e.escalation_level <> 1 OR "
        "e.agency_code IS DISTINCT FROM g.parent_code)",
        now=now,
    )
    assert wrong == []
    payloads = sql(
        engine,
        "SELECT o.payload->>'agency_code', e.agency_code FROM event_outbox o "
        "JOIN events e ON e.id = o.event_id WHERE o.topic = 'escalated' "
        "AND CAST(o.payload->>'at' AS timestamptz) = :now",
        now=now,
    )
    assert all(shown == stored for shown, stored in payloads)


def test_the_chunked_scan_acts_on_what_sql_says_is_due_once_each(scan_db: Engine) -> None:
    fill(scan_db, 1000)
    workspace = Workspace(scan_db, Settings(cache_check_interval_s=0))
    now = T0 + timedelta(hours=7, minutes=30)
    overdue, near = ids(scan_db, OVERDUE, now=now), ids(scan_db, NEAR, now=now)
    assert len(overdue) > 200
    assert len(near) > 20
    assert any(e in overdue for e in ids(scan_db, "SELECT id FROM events WHERE grid_code IS NULL"))
    done = scan_deadlines(workspace, now, chunk=37)
    assert (done.reminded, done.escalated) == (len(near), len(overdue))
    assert done.transactions == len(near) // 37 + 1 + len(overdue) // 37 + 1
    assert_escalated_once(scan_db, overdue, now)
    assert ids(scan_db, "SELECT id FROM events WHERE reminded_at = :now", now=now) == near
    reminders = per_event(
        scan_db,
        "SELECT event_id, count(*) FROM event_outbox WHERE topic = 'reminder' GROUP BY 1",
    )
    assert reminders == dict.fromkeys(near, 1)
    again = scan_deadlines(workspace, now, chunk=37)
    assert (again.reminded, again.escalated, again.transactions) == (0, 0, 2)


def test_the_scan_skips_events_another_transaction_holds_and_waits_for_none(
    scan_db: Engine,
) -> None:
    fill(scan_db, 300)
    workspace = Workspace(scan_db, Settings(cache_check_interval_s=0))
    now = T0 + timedelta(hours=12)
    overdue = ids(scan_db, OVERDUE, now=now)
    with scan_db.connect() as holder:  # a worker acknowledging five events, say
        holding = holder.begin()
        held = {
            int(r[0])
            for r in holder.execute(
                text("SELECT id FROM events WHERE id = ANY(:ids) ORDER BY id LIMIT 5 FOR UPDATE"),
                {"ids": sorted(overdue)},
            )
        }
        first = scan_deadlines(workspace, now, chunk=20)
        assert first.escalated == len(overdue) - 5
        holding.rollback()
    later = now + timedelta(minutes=1)
    second = scan_deadlines(workspace, later, chunk=20)
    assert second.escalated == 5
    assert_escalated_once(scan_db, overdue - held, now)
    assert_escalated_once(scan_db, held, later)


def test_two_scanners_at_once_escalate_every_event_once(scan_db: Engine) -> None:
    fill(scan_db, 3000)
    now = T0 + timedelta(hours=20)
    overdue = ids(scan_db, OVERDUE, now=now)
    start = threading.Barrier(2)
    outcomes: list[ScanOutcome] = []

    def scanner() -> None:
        workspace = Workspace(scan_db, Settings(cache_check_interval_s=0))
        start.wait()
        outcomes.append(scan_deadlines(workspace, now, chunk=10))

    threads = [threading.Thread(target=scanner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(outcomes) == 2
    assert sum(o.escalated for o in outcomes) == len(overdue) > 1000
    assert_escalated_once(scan_db, overdue, now)
