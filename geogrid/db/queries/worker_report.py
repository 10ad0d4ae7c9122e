"""The late report per grid worker: how many of each worker's events were answered in time.

An event counts for the worker it was given when it was created (``worker_code``); its
outcome is judged at ``now`` as in the report per grid
(:func:`geogrid.db.queries.deadlines.report_by_grid_and_day`): closed on time, overdue
(closed late, or open past the deadline), open. Codes and counts only; the worker's name
comes along for the caller to mask.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from geogrid.db.queries.events import grid_subtree_condition

__all__ = ["WORKER_REPORT_COLUMNS", "report_by_worker"]

WORKER_REPORT_COLUMNS = (
    "worker_code",
    "worker_name",
    "grid_code",
    "events",
    "closed",
    "closed_on_time",
    "overdue",
    "open_overdue",
    "open",
    "on_time_pct",
)

_REPORT = """
SELECT e.worker_code, w.name AS worker_name, w.grid_code,
       count(*) AS events,
       count(e.closed_at) AS closed,
       count(*) FILTER (WHERE e.closed_at <= e.expected_at) AS closed_on_time,
       count(*) FILTER (WHERE COALESCE(e.closed_at, :now) > e.expected_at) AS overdue,
       count(*) FILTER (WHERE e.closed_at IS NULL AND :now > e.expected_at) AS open_overdue,
       count(*) FILTER (WHERE e.closed_at IS NULL) AS open,
       round(100.0 * count(*) FILTER (WHERE e.closed_at <= e.expected_at)
             / NULLIF(count(*) FILTER (WHERE e.closed_at IS NOT NULL
                                          OR e.expected_at < :now), 0), 1) AS on_time_pct
FROM events e LEFT JOIN grid_workers w ON w.code = e.worker_code
WHERE e.worker_code IS NOT NULL AND e.requested_at >= :start AND e.requested_at < :end
  {subtree}
GROUP BY e.worker_code, w.name, w.grid_code
ORDER BY e.worker_code COLLATE "C"
"""


def report_by_worker(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    subtree: str | None = None,
) -> list[dict[str, Any]]:
    """Return per grid worker the events requested in ``[start, end)`` given to them:
    events, closed, closed on time, overdue (closed late, or open past the deadline at
    ``now``), open and overdue, open, and the on-time share of those whose outcome is
    known; ``subtree``: only events placed in that grid's subtree."""
    params: dict[str, Any] = {"start": start, "end": end, "now": now}
    clause = grid_subtree_condition(subtree, params)
    rows = conn.execute(text(_REPORT.format(subtree=clause)), params).mappings()
    out = []
    for row in rows:
        item = {c: row[c] for c in WORKER_REPORT_COLUMNS}
        if item["on_time_pct"] is not None:
            item["on_time_pct"] = float(item["on_time_pct"])
        out.append(item)
    return out
