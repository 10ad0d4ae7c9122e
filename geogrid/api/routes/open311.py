"""``/open311/v2``: Open311 GeoReport v2 (JSON) — services and located service requests.

The standard's five operations, with geogrid's additions in each request: the micro-grid
(``grid_code``), village and town it was placed in, the grid worker to notify
(``worker_code``), all fixed when the request is created, and ``agency_responsible``: the
grid that answers for it now (the village; the town once it is overdue).

- ``GET discovery.json``: static, for anyone; ``GET services.json``: public while reads
  are open;
- ``POST requests.json``: JSON or form-encoded, ``lat``/``long`` (WGS 84) or
  ``address_string`` (or ``grid_code``); apps, grid workers, dispatchers and admins.
  ``Idempotency-Key`` makes a retry safe: the same key and body answer the first
  request's answer again (no twin is stored); the same key with another body is 422;
- ``GET requests.json``, ``GET requests/{id}.json``: dispatchers and admins read every
  request, a grid worker those of their subtree, an app those its key created; the
  reporter's name and phone and the health code are masked for callers without personal
  data.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geogrid.access import Caller
from geogrid.api import ogc
from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.api.error_docs import ERROR_CONTENT
from geogrid.api.schemas.common import (
    INSTANT_PATTERN,
    IntIn,
    body_schema,
    given,
    parse_instant,
)
from geogrid.errors import InvalidRequestError
from geogrid.workspace.events import (
    EventIn,
    create_event,
    find_event,
    find_events,
    list_services,
)

router = APIRouter(prefix="/open311/v2", tags=["events"])

Reader = Annotated[Caller, require("layers:read")]
Creator = Annotated[Caller, require("events:create")]
EventReader = Annotated[Caller, require("events:read")]
_STATUS_LIST = r"^(open|acknowledged|closed)(,(open|acknowledged|closed))*$"
_CODE_LIST = r"^[^,]{1,64}(,[^,]{1,64}){0,19}$"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"


# -- discovery and services -----------------------------------------------------------------


class Endpoint(BaseModel):
    """One endpoint of the discovery document."""

    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Discovery(BaseModel):
    """Open311 discovery: where the GeoReport v2 endpoint is and what it speaks."""

    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class ServiceOpen311(BaseModel):
    """A service: what can be reported, and its deadline."""

    service_code: str
    service_name: str
    description: str
    metadata: bool = Field(description="always false: no extra attributes to ask")
    type: Literal["realtime"]
    keywords: str
    group: str = Field(description="the kind: event, registration or deployment")
    deadline_minutes: int = Field(description="expected_datetime = requested + this")
    remind_minutes: int = Field(description="a reminder this long before the deadline (0: none)")


@router.get("/discovery.json", response_model=Discovery)
def discovery(request: Request) -> Discovery:
    """Return the Open311 discovery document (static: it asks for no key, as ``/`` does)."""
    ogc.reject_unknown_params(request, ())
    base = ogc.base_url(request)
    return Discovery(
        changeset="2026-12-03T00:00:00Z",
        contact="the county command centre",
        key_service="API keys from `geogrid users add NAME --role app`",
        endpoints=[
            Endpoint(
                specification="http://wiki.open311.org/GeoReport_v2",
                url=f"{base}/open311/v2",
                changeset="2026-12-03T00:00:00Z",
                type="production",
                formats=["application/json"],
            )
        ],
    )


@router.get("/services.json", response_model=list[ServiceOpen311])
def services(request: Request, workspace: WorkspaceDep, _: Reader) -> list[ServiceOpen311]:
    """Return the active services with their deadlines."""
    ogc.reject_unknown_params(request, ())
    return [
        ServiceOpen311(
            service_code=s["code"],
            service_name=s["name"],
            description=s["description"],
            metadata=False,
            type="realtime",
            keywords=s["kind"],
            group=s["kind"],
            deadline_minutes=s["deadline_minutes"],
            remind_minutes=s["remind_minutes"],
        )
        for s in list_services(workspace)
    ]


# -- requests -------------------------------------------------------------------------------


class RequestIn(BaseModel):
    """A service request: what (service_code), where (lat and long, or address_string, or
    grid_code), and who reports it (personal data: never logged)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": [
                {  # lat and long together, or neither
                    "anyOf": [
                        given("lat", "long"),
                        {"not": {"anyOf": [given("lat"), given("long")]}},
                    ]
                },
                {"anyOf": [given("lat", "long"), given("address_string"), given("grid_code")]},
            ]
        },
    )

    service_code: str = Field(min_length=1, max_length=64, examples=["hotline"])
    lat: float | None = Field(default=None, ge=-90, le=90, strict=True, description="WGS 84")
    long: float | None = Field(default=None, ge=-180, le=180, strict=True, description="WGS 84")
    address_string: str | None = Field(
        default=None, min_length=1, max_length=200, examples=["平阳县鳌江镇曾山村工业路18号"]
    )
    grid_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="the grid itself (a deployment: the grid whose workers it goes to)",
    )
    description: str = Field(default="", max_length=4000)
    first_name: str | None = Field(default=None, max_length=50, description="personal data")
    last_name: str | None = Field(default=None, max_length=50, description="personal data")
    phone: str | None = Field(default=None, max_length=32, description="personal data")
    email: str | None = Field(default=None, max_length=254, description="accepted, not stored")
    device_id: str | None = Field(default=None, max_length=64, description="accepted, not stored")
    account_id: str | None = Field(default=None, max_length=64, description="accepted, not stored")
    media_url: str | None = Field(default=None, max_length=500, description="accepted, not stored")
    health_code: Literal["green", "yellow", "red"] | None = Field(
        default=None,
        description="a newcomer's health-code colour (personal data); yellow and red make "
        "a transfer request for the transport planner",
    )
    household_size: IntIn = Field(default=1, ge=1, le=20, description="people moved together")

    def to_event(self) -> EventIn:
        """Return the event this request reports (nothing personal is logged)."""
        name = "".join(p for p in (self.last_name, self.first_name) if p) or None
        return EventIn(
            service_code=self.service_code,
            lon=self.long,
            lat=self.lat,
            address_string=self.address_string,
            grid_code=self.grid_code,
            description=self.description,
            contact_name=name,
            phone=self.phone,
            health_code=self.health_code,
            household_size=self.household_size,
        )


def _form_schema() -> dict[str, Any]:
    """The same fields form-encoded: every value text, optional ones simply left out."""
    schema = body_schema(RequestIn)
    props = {}
    for name, prop in schema["properties"].items():
        one = dict(prop)
        if "anyOf" in one:
            branch = next(b for b in one.pop("anyOf") if b.get("type") != "null")
            one |= branch
        one.pop("default", None)
        props[name] = one
    return {**schema, "properties": props}


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": body_schema(RequestIn)},
            "application/x-www-form-urlencoded": {"schema": _form_schema()},
        },
    }
}


class RequestCreated(BaseModel):
    """The answer to a POST: the new request's id, and where it went."""

    service_request_id: str
    service_notice: str
    account_id: str | None
    expected_datetime: datetime
    agency_responsible: str | None
    grid_code: str | None
    village_code: str | None
    worker_code: str | None
    placement: Literal["placed", "unplaced"]


class RequestOpen311(BaseModel):
    """A service request as GeoReport v2 shows it, with geogrid's grid fields."""

    service_request_id: str
    status: Literal["open", "acknowledged", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None = Field(description="the grid answering for it now")
    service_notice: str
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime
    acknowledged_datetime: datetime | None
    closed_datetime: datetime | None
    address: str | None = Field(description="personal data for a registration")
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None
    placement: Literal["placed", "unplaced"]
    grid_code: str | None = Field(description="the micro-grid (or finest grid) it was placed in")
    village_code: str | None
    town_code: str | None
    worker_code: str | None = Field(description="the grid worker to notify")
    escalation_level: int = Field(description="0; 1 once overdue and sent up to the parent")
    name: str | None = Field(description="personal data")
    phone: str | None = Field(description="personal data")
    health_code: str | None = Field(description="personal data")
    transfer_code: str | None = Field(description="the transfer request it made")
    assigned: int = Field(description="a deployment: the workers it was sent to")
    assigned_acknowledged: int = Field(description="a deployment: how many acknowledged")

    @classmethod
    def of(cls, event: dict[str, Any]) -> RequestOpen311:
        """Return the Open311 form of an event."""
        return cls(
            service_request_id=str(event["id"]),
            status=event["status"],
            status_notes=event["status_notes"],
            service_name=event["service_name"],
            service_code=event["service_code"],
            description=event["description"],
            agency_responsible=event["agency_code"],
            service_notice=notice(event),
            requested_datetime=event["requested_at"],
            updated_datetime=event["updated_at"],
            expected_datetime=event["expected_at"],
            acknowledged_datetime=event["acknowledged_at"],
            closed_datetime=event["closed_at"],
            address=event["address_string"],
            address_id=None,
            zipcode=None,
            lat=event["lat"],
            long=event["lon"],
            media_url=None,
            placement=event["placement"],
            grid_code=event["grid_code"],
            village_code=event["village_code"],
            town_code=event["town_code"],
            worker_code=event["worker_code"],
            escalation_level=event["escalation_level"],
            name=event["contact_name"],
            phone=event["phone"],
            health_code=event["health_code"],
            transfer_code=event["transfer_code"],
            assigned=event["assigned"],
            assigned_acknowledged=event["assigned_acknowledged"],
        )


def notice(event: dict[str, Any]) -> str:
    """Return the service notice: where it went and by when it is answered."""
    if event["placement"] == "unplaced":
        return "not placed: queued for an operator to place it"
    return f"sent to grid {event['agency_code']}; answer due {event['expected_at'].isoformat()}"


async def _read_request(request: Request) -> RequestIn:
    """Parse a JSON or form-encoded body into :class:`RequestIn` (422 naming the field)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    try:
        if kind == "application/x-www-form-urlencoded":
            fields = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            data: Any = {k: v for k, v in fields.items() if v != ""}
            for name in ("lat", "long"):
                if name in data:
                    data[name] = _form_number(name, data[name])
            if "household_size" in data:
                data["household_size"] = _form_integer(data["household_size"])
        elif kind in ("application/json", ""):
            data = json.loads(raw)
        else:
            raise InvalidRequestError(
                "send the request as application/json or application/x-www-form-urlencoded",
                details={"content_type": kind[:100]},
            )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequestError(
            "the body is not valid JSON or form data", details={"reason": str(exc)[:200]}
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequestError("the body must be a JSON object", details={})
    try:
        return RequestIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidRequestError(
            f"{field or 'body'}: {first['msg']}", details={"field": field}
        ) from None


def _form_number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidRequestError(f"{name} must be a number", details={"field": name}) from None
    if not math.isfinite(number):
        raise InvalidRequestError(f"{name} must be a finite number", details={"field": name})
    return number


def _form_integer(value: str) -> int:
    if not re.fullmatch(r"[+-]?\d{1,9}", value.strip()):
        raise InvalidRequestError(
            "household_size must be an integer", details={"field": "household_size"}
        )
    return int(value)


@router.post(
    "/requests.json",
    status_code=201,
    response_model=list[RequestCreated],
    openapi_extra=_BODY,
    responses={
        403: {"description": "a grid worker naming a grid outside their own", **ERROR_CONTENT},
        404: {"description": "grid_code names no grid", **ERROR_CONTENT},
    },
)
async def create_request(
    request: Request,
    response: Response,
    workspace: WorkspaceDep,
    caller: Creator,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="a client's unique key for this request: a retry with the same key "
            "and body answers the first answer again, and stores nothing new",
        ),
    ] = None,
) -> list[RequestCreated]:
    """Report an event; it is placed in its grid at once, or queued for an operator."""
    ogc.reject_unknown_params(request, ())
    body = await _read_request(request)
    event, replayed = await run_in_threadpool(
        create_event, workspace, body.to_event(), caller, idempotency_key=idempotency_key
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return [
        RequestCreated(
            service_request_id=str(event["id"]),
            service_notice=notice(event),
            account_id=None,
            expected_datetime=event["expected_at"],
            agency_responsible=event["agency_code"],
            grid_code=event["grid_code"],
            village_code=event["village_code"],
            worker_code=event["worker_code"],
            placement=event["placement"],
        )
    ]


def _instant(name: str, value: str | None) -> datetime | None:
    return None if value is None else parse_instant(name, value)


@router.get("/requests.json", response_model=list[RequestOpen311])
def read_requests(
    request: Request,
    workspace: WorkspaceDep,
    caller: EventReader,
    start_date: Annotated[
        str | None,
        Query(
            pattern=INSTANT_PATTERN,
            description="requested at or after (RFC 3339; no offset: Asia/Shanghai)",
        ),
    ] = None,
    end_date: Annotated[
        str | None,
        Query(pattern=INSTANT_PATTERN, description="requested before (RFC 3339)"),
    ] = None,
    status: Annotated[
        str | None,
        Query(pattern=_STATUS_LIST, description="open, acknowledged, closed; comma-separated"),
    ] = None,
    service_code: Annotated[
        str | None,
        Query(pattern=_CODE_LIST, description="service codes, comma-separated"),
    ] = None,
    placement: Annotated[
        Literal["placed", "unplaced"] | None,
        Query(description="unplaced: the operators' queue"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many")] = 1000,
) -> list[RequestOpen311]:
    """Return the requests the caller may read, newest first."""
    ogc.reject_unknown_params(
        request, ("start_date", "end_date", "status", "service_code", "placement", "limit")
    )
    rows = find_events(
        workspace,
        caller,
        start=_instant("start_date", start_date),
        end=_instant("end_date", end_date),
        statuses=status.split(",") if status else None,
        service_codes=service_code.split(",") if service_code else None,
        placement=placement,
        limit=limit,
    )
    return [RequestOpen311.of(r) for r in rows]


@router.get(
    "/requests/{request_id}.json",
    response_model=list[RequestOpen311],
    responses={
        404: {"description": "no such request (or not the caller's to read)", **ERROR_CONTENT}
    },
)
def read_request(
    request_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="service_request_id")],
    request: Request,
    workspace: WorkspaceDep,
    caller: EventReader,
) -> list[RequestOpen311]:
    """Return one request (a list of one, as GeoReport v2 does)."""
    ogc.reject_unknown_params(request, ())
    return [RequestOpen311.of(find_event(workspace, request_id, caller))]
