"""The events' clock in SQL: reminders, escalations of overdue events, and the daily report.

The scan is set-based and goes in chunks: one statement reads at most ``limit`` due
events through a partial index (the earliest first), locks them ``FOR UPDATE SKIP
LOCKED`` (two scanners never act on the same event, neither waits for the other),
changes them, and writes their log entries and outbox rows in the same statement. The
caller runs each chunk in its own transaction and repeats until a chunk comes back short
(:func:`geogrid.workspace.event_actions.scan_deadlines`): a transaction holds at most
``limit`` rows however many fell due at once (after an outage), and running the scan
twice at the same "now" changes nothing the second time. An event locked by another
transaction (a scanner, or a worker acknowledging it) is left to the next chunk or tick;
one that another scanner escalated in the meantime no longer matches when it is locked
(PostgreSQL re-checks the condition on the row's newest version), so it is escalated once.

- **Reminder**: an event not closed, not escalated, not reminded yet, whose deadline is
  at most ``remind_minutes`` away (and not passed): ``reminded_at`` is set, topic
  ``reminder``.
- **Escalation**: an event not closed whose deadline has passed and that was not
  escalated yet: the responsible grid (``agency_code``) becomes its parent (village →
  town), ``escalation_level`` 1, topic ``escalated``. An unplaced event keeps no agency
  and is escalated to the dispatchers (topic ``escalated`` too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from geogrid.db.queries.events import grid_subtree_condition

__all__ = [
    "REPORT_COLUMNS",
    "SCAN_LOCK",
    "escalate_overdue",
    "release_scan_lock",
    "report_by_grid_and_day",
    "send_reminders",
    "try_scan_lock",
]

SCAN_LOCK = 0x67656F31
"""The advisory lock key the servers' timed scans take (one scanner per cluster)."""

_PAYLOAD = (
    "jsonb_build_object('event_id', u.id, 'topic', '{topic}', 'service_code', u.service_code, "
    "'status', u.status, 'agency_code', u.agency_code, 'grid_code', u.grid_code, "
    "'village_code', u.village_code, 'worker_code', u.worker_code, "
    "'expected_datetime', u.expected_at, 'at', CAST(:now AS timestamptz))"
)

_ESCALATE = f"""
WITH due AS (
    SELECT id FROM events
    WHERE status <> 'closed' AND escalation_level = 0 AND expected_at <= :now
    ORDER BY expected_at LIMIT :limit
    FOR UPDATE SKIP LOCKED
), u AS (
    UPDATE events e
    SET escalation_level = 1, escalated_at = :now, updated_at = :now,
        agency_code = COALESCE(
            (SELECT g.parent_code FROM grids g WHERE g.code = e.agency_code), e.agency_code)
    FROM due WHERE e.id = due.id
    RETURNING e.id, e.service_code, e.status, e.agency_code, e.grid_code, e.village_code,
              e.worker_code, e.expected_at
), logged AS (
    INSERT INTO event_log (event_id, at, actor, role, action, status, agency_code, note)
    SELECT u.id, :now, 'clock', NULL, 'escalate', u.status, u.agency_code, 'overdue'
    FROM u
), queued AS (
    INSERT INTO event_outbox (event_id, topic, payload)
    SELECT u.id, 'escalated', {_PAYLOAD.format(topic="escalated")} FROM u
)
SELECT count(*) FROM u
"""

_REMIND = f"""
WITH due AS (
    SELECT id FROM events
    WHERE status <> 'closed' AND reminded_at IS NULL AND escalation_level = 0
      AND remind_at <= :now AND expected_at > :now
    ORDER BY remind_at LIMIT :limit
    FOR UPDATE SKIP LOCKED
), u AS (
    UPDATE events e SET reminded_at = :now
    FROM due WHERE e.id = due.id
    RETURNING e.id, e.service_code, e.status, e.agency_code, e.grid_code, e.village_code,
              e.worker_code, e.expected_at
), logged AS (
    INSERT INTO event_log (event_id, at, actor, role, action, status, agency_code, note)
    SELECT u.id, :now, 'clock', NULL, 'remind', u.status, u.agency_code, NULL FROM u
), queued AS (
    INSERT INTO event_outbox (event_id, topic, payload)
    SELECT u.id, 'reminder', {_PAYLOAD.format(topic="reminder")} FROM u
)
SELECT count(*) FROM u
"""


def escalate_overdue(conn: Connection, now: datetime, limit: int) -> int:
    """Escalate up to ``limit`` overdue events not escalated yet (the earliest due first,
    none another transaction holds); return how many."""
    return int(conn.execute(text(_ESCALATE), {"now": now, "limit": limit}).scalar_one())


def send_reminders(conn: Connection, now: datetime, limit: int) -> int:
    """Queue a reminder for up to ``limit`` events whose deadline is near (the earliest
    first, none another transaction holds); return how many."""
    return int(conn.execute(text(_REMIND), {"now": now, "limit": limit}).scalar_one())


def try_scan_lock(conn: Connection) -> bool:
    """Take the timed scan's session-level advisory lock on ``conn`` if no other session
    holds it; return whether it was taken (never waits)."""
    return bool(
        conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": SCAN_LOCK}).scalar()
    )


def release_scan_lock(conn: Connection) -> None:
    """Release the lock :func:`try_scan_lock` took on ``conn``."""
    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCAN_LOCK})


REPORT_COLUMNS = (
    "day",
    "grid_code",
    "events",
    "closed",
    "closed_on_time",
    "overdue",
    "open",
    "on_time_pct",
    "median_first_response_min",
    "median_close_min",
)

_REPORT = """
SELECT (e.requested_at AT TIME ZONE :tz)::date AS day,
       COALESCE(e.village_code, e.grid_code, '') AS grid_code,
       count(*) AS events,
       count(e.closed_at) AS closed,
       count(*) FILTER (WHERE e.closed_at <= e.expected_at) AS closed_on_time,
       count(*) FILTER (WHERE COALESCE(e.closed_at, :now) > e.expected_at) AS overdue,
       count(*) FILTER (WHERE e.closed_at IS NULL) AS open,
       round(100.0 * count(*) FILTER (WHERE e.closed_at <= e.expected_at)
             / NULLIF(count(*) FILTER (WHERE e.closed_at IS NOT NULL
                                          OR e.expected_at < :now), 0), 1) AS on_time_pct,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
           COALESCE(e.acknowledged_at, e.closed_at) - e.requested_at) / 60.0)
           AS median_first_response_min,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
           e.closed_at - e.requested_at) / 60.0) AS median_close_min
FROM events e
WHERE e.requested_at >= :start AND e.requested_at < :end {subtree}
GROUP BY 1, 2
ORDER BY 1, 2
"""


def report_by_grid_and_day(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    tz: str = "Asia/Shanghai",
    subtree: str | None = None,
) -> list[dict[str, Any]]:
    """Return per village grid (the grid an event was placed in; ``''`` for unplaced
    events) and local day of request: events, closed, closed on time, overdue (closed late,
    or open past the deadline at ``now``), open, the on-time share of the events whose
    outcome is known (closed, or past their deadline), and the median minutes to the first
    response (acknowledgement, else the close) and to the close."""
    params: dict[str, Any] = {"start": start, "end": end, "now": now, "tz": tz}
    clause = grid_subtree_condition(subtree, params)
    rows = conn.execute(text(_REPORT.format(subtree=clause)), params).mappings()
    out = []
    for row in rows:
        item = {c: row[c] for c in REPORT_COLUMNS}
        for key in ("on_time_pct", "median_first_response_min", "median_close_min"):
            item[key] = float(item[key]) if item[key] is not None else None
        out.append(item)
    return out
