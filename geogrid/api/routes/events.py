"""``/events``: the clock of the Open311 requests — acknowledge, update, close, reassign,
the deadline scan, the daily report, and the services' configuration.

- ``POST /events/{id}/acknowledge | update | close``: grid workers (their subtree only;
  any other event is 404 as if absent), dispatchers and admins;
- ``POST /events/{id}/reassign``: dispatchers and admins (also places an unplaced one);
- ``POST /events/scan``: dispatchers and admins run the deadline scan now (servers and
  ``geogrid events scan`` run it on a timer);
- ``GET /events/report``: per grid and day, aggregates only (planners too; a grid worker
  gets their subtree's); ``GET /events/report/workers``: per grid worker, the same way
  (worker codes, names masked for planners);
- ``GET /events/map.html``: open and overdue events by grid (codes and times only),
  printable (``geogrid events map --out events.pdf``);
- ``PUT /events/services/{code}``: admins create or change a service and its deadline.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from geogrid.access import Caller
from geogrid.api import ogc
from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.api.error_docs import ERROR_CONTENT
from geogrid.api.routes.open311 import RequestOpen311, ServiceOpen311
from geogrid.api.schemas.common import DAY_PATTERN, IntIn, given, parse_day
from geogrid.workspace.event_actions import (
    acknowledge_event,
    close_event,
    reassign_event,
    scan_deadlines,
    update_event,
)
from geogrid.workspace.event_map import events_map
from geogrid.workspace.event_reports import daily_report, worker_report
from geogrid.workspace.events import ServiceIn, put_service

router = APIRouter(prefix="/events", tags=["events"])

Actor = Annotated[Caller, require("events:act")]
Dispatcher = Annotated[Caller, require("events:dispatch")]
Reporter = Annotated[Caller, require("events:report")]
Configurer = Annotated[Caller, require("events:configure")]
MapReader = Annotated[Caller, require("maps", "events:report")]
EventId = Annotated[int, Path(ge=1, le=2**63 - 1, description="service_request_id")]
_ACT_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such event (or outside the caller's jurisdiction)", **ERROR_CONTENT},
    409: {"description": "the event is closed", **ERROR_CONTENT},
}
NOTE = Field(default=None, min_length=1, max_length=4000, description="status notes")


class AcknowledgeIn(BaseModel):
    """An acknowledgement; for a deployment, whose (default: the caller's own grid's)."""

    model_config = ConfigDict(extra="forbid")

    worker_code: str | None = Field(default=None, min_length=1, max_length=64)
    note: str | None = NOTE


class NoteIn(BaseModel):
    """A progress note."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=4000, description="status notes")


class CloseIn(BaseModel):
    """The result the event was closed with."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = NOTE


class ReassignIn(BaseModel):
    """The grid (or the WGS 84 point) the event goes to."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [given("grid_code"), given("lat", "long")]},
    )

    grid_code: str | None = Field(default=None, min_length=1, max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90, strict=True)
    long: float | None = Field(default=None, ge=-180, le=180, strict=True)
    note: str | None = NOTE


@router.post("/{event_id}/acknowledge", response_model=RequestOpen311, responses=_ACT_ERRORS)
def acknowledge(
    event_id: EventId, body: AcknowledgeIn, request: Request, workspace: WorkspaceDep, caller: Actor
) -> RequestOpen311:
    """Record the first response (a deployment: per worker)."""
    ogc.reject_unknown_params(request, ())
    event = acknowledge_event(
        workspace, event_id, caller, worker_code=body.worker_code, note=body.note
    )
    return RequestOpen311.of(event)


@router.post("/{event_id}/update", response_model=RequestOpen311, responses=_ACT_ERRORS)
def update(
    event_id: EventId, body: NoteIn, request: Request, workspace: WorkspaceDep, caller: Actor
) -> RequestOpen311:
    """Add a progress note to an open event."""
    ogc.reject_unknown_params(request, ())
    return RequestOpen311.of(update_event(workspace, event_id, caller, note=body.note))


@router.post("/{event_id}/close", response_model=RequestOpen311, responses=_ACT_ERRORS)
def close(
    event_id: EventId, body: CloseIn, request: Request, workspace: WorkspaceDep, caller: Actor
) -> RequestOpen311:
    """Close an event with its result."""
    ogc.reject_unknown_params(request, ())
    return RequestOpen311.of(close_event(workspace, event_id, caller, note=body.note))


@router.post("/{event_id}/reassign", response_model=RequestOpen311, responses=_ACT_ERRORS)
def reassign(
    event_id: EventId,
    body: ReassignIn,
    request: Request,
    workspace: WorkspaceDep,
    caller: Dispatcher,
) -> RequestOpen311:
    """Send an event to another grid, or place one from the operators' queue."""
    ogc.reject_unknown_params(request, ())
    event = reassign_event(
        workspace,
        event_id,
        caller,
        grid_code=body.grid_code,
        lon=body.long,
        lat=body.lat,
        note=body.note,
    )
    return RequestOpen311.of(event)


class ScanPublic(BaseModel):
    """What a deadline scan did."""

    now: dt.datetime
    reminded: int = Field(description="events near their deadline, reminders queued")
    escalated: int = Field(description="overdue events sent up to the parent grid")


@router.post("/scan", response_model=ScanPublic)
def scan(request: Request, workspace: WorkspaceDep, _: Dispatcher) -> ScanPublic:
    """Run the deadline scan at the server's "now"."""
    ogc.reject_unknown_params(request, ())
    done = scan_deadlines(workspace)
    return ScanPublic(now=done.now, reminded=done.reminded, escalated=done.escalated)


class ReportRow(BaseModel):
    """One grid's day: counts, the on-time share and median minutes (no personal data)."""

    day: dt.date
    grid_code: str = Field(description="the village grid ('' for unplaced events)")
    events: int
    closed: int
    closed_on_time: int
    overdue: int = Field(description="closed late, or open past the deadline now")
    open: int
    on_time_pct: float | None = Field(description="closed on time / events due or closed")
    median_first_response_min: float | None
    median_close_min: float | None


class ReportPublic(BaseModel):
    """The report of a period, per grid and local day (Asia/Shanghai)."""

    now: dt.datetime
    rows: list[ReportRow]


@router.get("/report", response_model=ReportPublic)
def report(
    request: Request,
    workspace: WorkspaceDep,
    caller: Reporter,
    start: Annotated[str, Query(pattern=DAY_PATTERN, description="first local day (YYYY-MM-DD)")],
    days: Annotated[int, Query(ge=1, le=366, description="how many days")] = 1,
) -> ReportPublic:
    """Return per grid and day: on-time %, overdue, median time to respond and to close."""
    ogc.reject_unknown_params(request, ("start", "days"))
    now, rows = daily_report(workspace, caller, parse_day("start", start), days)
    return ReportPublic(now=now, rows=[ReportRow(**r) for r in rows])


class WorkerReportRow(BaseModel):
    """One grid worker's events of a period: answered in time or late (codes and counts;
    the name masked for callers without personal data)."""

    worker_code: str
    worker_name: str | None = Field(description="personal data: masked for planners")
    grid_code: str | None = Field(description="the worker's own grid")
    events: int
    closed: int
    closed_on_time: int
    overdue: int = Field(description="closed late, or open past the deadline now")
    open_overdue: int = Field(description="still open past the deadline now")
    open: int
    on_time_pct: float | None = Field(description="closed on time / events due or closed")


class WorkerReportPublic(BaseModel):
    """The late report of a period per grid worker (local days, Asia/Shanghai)."""

    now: dt.datetime
    rows: list[WorkerReportRow]


@router.get("/report/workers", response_model=WorkerReportPublic)
def report_workers(
    request: Request,
    workspace: WorkspaceDep,
    caller: Reporter,
    start: Annotated[str, Query(pattern=DAY_PATTERN, description="first local day (YYYY-MM-DD)")],
    days: Annotated[int, Query(ge=1, le=366, description="how many days")] = 1,
) -> WorkerReportPublic:
    """Return per grid worker: events, on time, overdue, on-time % of a period."""
    ogc.reject_unknown_params(request, ("start", "days"))
    now, rows = worker_report(workspace, caller, parse_day("start", start), days)
    return WorkerReportPublic(now=now, rows=[WorkerReportRow(**r) for r in rows])


@router.get(
    "/map.html",
    response_class=HTMLResponse,
    responses={404: {"description": "no such grid (or outside the caller's)", **ERROR_CONTENT}},
)
def event_map(
    request: Request,
    workspace: WorkspaceDep,
    caller: MapReader,
    grid: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="a town or village (default: all)"),
    ] = None,
) -> HTMLResponse:
    """Return the map of open and overdue events by grid (offline page)."""
    from geogrid.api.routes.maps import ASSETS
    from geogrid.maps import map_to_html

    ogc.reject_unknown_params(request, ("grid",))
    return HTMLResponse(map_to_html(events_map(workspace, caller, grid, assets=ASSETS)))


class ServiceConfigIn(BaseModel):
    """A service's configuration."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: Literal["event", "registration", "deployment"]
    deadline_minutes: IntIn = Field(ge=1, le=525_600)
    remind_minutes: IntIn = Field(default=0, ge=0, le=525_599)
    description: str = Field(default="", max_length=1000)
    active: bool = Field(default=True, strict=True)


@router.put(
    "/services/{service_code}",
    response_model=ServiceOpen311,
    responses={201: {"description": "created", "model": ServiceOpen311}},
)
def configure_service(
    service_code: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    body: ServiceConfigIn,
    request: Request,
    response: Response,
    workspace: WorkspaceDep,
    _: Configurer,
) -> ServiceOpen311:
    """Create or change a service (events already made keep their deadline)."""
    ogc.reject_unknown_params(request, ())
    stored, created = put_service(workspace, ServiceIn(code=service_code, **body.model_dump()))
    response.status_code = 201 if created else 200
    return ServiceOpen311(
        service_code=stored["code"],
        service_name=stored["name"],
        description=stored["description"],
        metadata=False,
        type="realtime",
        keywords=stored["kind"],
        group=stored["kind"],
        deadline_minutes=stored["deadline_minutes"],
        remind_minutes=stored["remind_minutes"],
    )
