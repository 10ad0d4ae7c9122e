"""Reports on the events: per grid and local day, how many were answered in time.

The figures are computed in PostgreSQL (:func:`geogrid.db.queries.deadlines.report_by_grid_and_day`)
at the workspace clock's "now": an event still open past its deadline counts as overdue
from that moment. Only aggregates and grid codes: no personal data.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from geogrid.access import Caller
from geogrid.db.errors import database_errors
from geogrid.db.queries.deadlines import report_by_grid_and_day
from geogrid.db.queries.worker_report import report_by_worker
from geogrid.privacy import mask_name

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = ["LOCAL_ZONE", "daily_report", "worker_report"]

LOCAL_ZONE = "Asia/Shanghai"
"""Days of the report are local days of the county."""


def daily_report(
    workspace: Workspace, caller: Caller, start: date, days: int = 1
) -> tuple[datetime, list[dict[str, Any]]]:
    """Return "now" and the report rows of ``days`` local days from ``start`` (a grid
    worker: the grids of their subtree only)."""
    zone = ZoneInfo(LOCAL_ZONE)
    first = datetime.combine(start, time(0), zone)
    last = datetime.combine(start + timedelta(days=days), time(0), zone)
    now = workspace.clock.now()
    with database_errors(), workspace.engine.connect() as conn:
        rows = report_by_grid_and_day(
            conn, start=first, end=last, now=now, tz=LOCAL_ZONE, subtree=caller.subtree
        )
    return now, rows


def worker_report(
    workspace: Workspace, caller: Caller, start: date, days: int = 1
) -> tuple[datetime, list[dict[str, Any]]]:
    """Return "now" and per grid worker the late report of ``days`` local days from
    ``start`` (a grid worker: the events placed in their subtree). Workers are named by
    code; their names are masked for callers who may not see personal data."""
    zone = ZoneInfo(LOCAL_ZONE)
    first = datetime.combine(start, time(0), zone)
    last = datetime.combine(start + timedelta(days=days), time(0), zone)
    now = workspace.clock.now()
    with database_errors(), workspace.engine.connect() as conn:
        rows = report_by_worker(conn, start=first, end=last, now=now, subtree=caller.subtree)
    if not caller.sees_personal_data:
        rows = [{**r, "worker_name": mask_name(r["worker_name"])} for r in rows]
    return now, rows
