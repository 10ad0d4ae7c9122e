"""Events to the owning grid: create one (placed where it happened), read them as a
caller may, and the services they belong to.

An event (an Open311 service request) is placed when it is created, with the same
machinery as ``/locate``: a point goes through the grid index (the owning micro-grid,
village and town, the village's grid worker), an address text through the gazetteer
matcher, a grid code names the grid itself. What it was placed in is stored and never
recomputed: a later grid edit does not move old events. An event that cannot be placed
(a point in a gap or outside the county, an address the matcher cannot take to a
village) is stored all the same with ``placement = 'unplaced'``: it waits in the
operators' queue (``GET /open311/v2/requests.json?placement=unplaced``) until a
dispatcher places it (:func:`geogrid.workspace.event_actions.reassign_event`).

Services carry the deadline: ``expected`` = requested + ``deadline_minutes``, fixed at
creation (a later change of the service does not move it). A deployment is assigned to
every grid worker under its grid, each acknowledging it. A newcomer registration with a
yellow or red health code makes a transfer request (:data:`RISK_BY_HEALTH_CODE`) for the
transport planner.

Personal data (the reporter's name and phone, the health code) is stored for callers who
may read it and masked for everyone else; texts are never logged. The change, its log
entry and its outbox notification are written in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection

from geogrid.access import Caller, Role
from geogrid.db.errors import database_errors
from geogrid.db.queries import events as q
from geogrid.db.queries.event_create import insert_event_logged
from geogrid.db.queries.layers import bump_version
from geogrid.db.queries.outbox import insert_outbox
from geogrid.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from geogrid.privacy import mask_name, mask_personal, mask_phone

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = [
    "EVENT_STATUSES",
    "RISK_BY_HEALTH_CODE",
    "SERVICE_KINDS",
    "EventIn",
    "Placement",
    "ServiceIn",
    "create_event",
    "event_payload",
    "find_event",
    "find_events",
    "list_services",
    "place_by_locator",
    "place_event",
    "purge_events",
    "put_service",
    "shown_event",
]

EVENT_STATUSES = ("open", "acknowledged", "closed")
SERVICE_KINDS = ("event", "registration", "deployment")
RISK_BY_HEALTH_CODE = {"red": "close_contact", "yellow": "returnee"}
"""The transfer request's risk class a newcomer's health code makes (green: none): red
is a close contact, yellow a returnee from a risk area to observe."""

HealthCode = Literal["green", "yellow", "red"]


@dataclass(frozen=True)
class EventIn:
    """What a client reports (WGS 84 point, and/or an address text, or a grid code)."""

    service_code: str
    lon: float | None = None
    lat: float | None = None
    address_string: str | None = None
    grid_code: str | None = None
    description: str = ""
    contact_name: str | None = None
    phone: str | None = None
    health_code: HealthCode | None = None
    household_size: int = 1

    def digest(self) -> str:
        """Return a digest of the request (an idempotency key's retry must match it)."""
        blob = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class ServiceIn:
    """A service as an admin configures it."""

    code: str
    name: str
    kind: str
    deadline_minutes: int
    remind_minutes: int = 0
    description: str = ""
    active: bool = True


@dataclass(frozen=True)
class Placement:
    """Where an event was placed (all None: unplaced)."""

    grid_code: str | None = None
    village_code: str | None = None
    town_code: str | None = None
    agency_code: str | None = None
    worker_code: str | None = None
    lon: float | None = None
    lat: float | None = None

    @property
    def placed(self) -> bool:
        """True when a responsible grid was found."""
        return self.agency_code is not None


# -- services -------------------------------------------------------------------------------


def list_services(workspace: Workspace, *, active_only: bool = True) -> list[dict[str, Any]]:
    """Return the services (by default only the active ones), in code order."""
    with database_errors(), workspace.engine.connect() as conn:
        return q.read_services(conn, active_only=active_only)


def put_service(workspace: Workspace, service: ServiceIn) -> tuple[dict[str, Any], bool]:
    """Create or replace a service; return it and whether it is new. Events already
    created keep the deadline they were given."""
    if service.kind not in SERVICE_KINDS:
        raise InvalidRequestError(
            f"kind must be one of {', '.join(SERVICE_KINDS)}", details={"field": "kind"}
        )
    if not 0 <= service.remind_minutes < service.deadline_minutes:
        raise InvalidRequestError(
            "remind_minutes must be at least 0 and less than deadline_minutes",
            details={"field": "remind_minutes"},
        )
    with database_errors(), workspace.engine.begin() as conn:
        return q.upsert_service(conn, asdict(service))


# -- placing --------------------------------------------------------------------------------


def place_event(
    workspace: Workspace,
    conn: Connection,
    *,
    lon: float | None,
    lat: float | None,
    address: str | None,
    grid_code: str | None,
) -> Placement:
    """Find the grids and the worker an event belongs to: by grid code, else by point,
    else by address text; an unplaceable one gets an empty :class:`Placement` (keeping
    its point, if any).

    Raises
    ------
    NotFoundError
        ``grid_code`` names no grid.
    """
    if grid_code is not None:
        chain = q.grid_chain(conn, grid_code)
        if not chain:
            raise NotFoundError(
                f"there is no grid {grid_code[:64]!r}", details={"grid_code": grid_code[:64]}
            )
        by_level = {g["level"]: g["code"] for g in chain}
        agency = by_level.get("village", grid_code)
        worker = q.worker_of_grid(conn, agency) or q.worker_of_grid(conn, grid_code)
        return Placement(
            grid_code=grid_code,
            village_code=by_level.get("village"),
            town_code=by_level.get("town"),
            agency_code=agency,
            worker_code=worker,
            lon=lon,
            lat=lat,
        )
    return place_by_locator(workspace, lon=lon, lat=lat, address=address)


def place_by_locator(
    workspace: Workspace, *, lon: float | None, lat: float | None, address: str | None
) -> Placement:
    """Place an event by its point, else by its address text, with the workspace's cached
    locator (no database round trip); an unplaceable one gets an empty
    :class:`Placement` (keeping its point, if any)."""
    if lon is not None and lat is not None:
        answer = workspace.locate_point(lon, lat)
    elif address is not None:
        answer = workspace.locate_address(address)
    else:
        return Placement()
    village, micro = answer.code("village"), answer.code("micro")
    if answer.status not in ("ok", "gap") or village is None:
        return Placement(lon=answer.lon, lat=answer.lat)
    return Placement(
        grid_code=micro or village,
        village_code=village,
        town_code=answer.code("town"),
        agency_code=village,
        worker_code=answer.worker.code if answer.worker is not None else None,
        lon=answer.lon,
        lat=answer.lat,
    )


# -- creating -------------------------------------------------------------------------------


def create_event(
    workspace: Workspace,
    new: EventIn,
    caller: Caller,
    *,
    idempotency_key: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Store an event placed where it belongs; return it (as the caller may see it) and
    True when it is the answer to an earlier request with the same idempotency key.

    Raises
    ------
    InvalidRequestError
        An unknown or inactive service, a lone latitude or longitude, no place at all, a
        deployment without a grid, a health code on a service that is not a
        registration, or an idempotency key reused for a different request.
    NotFoundError
        A grid code that names no grid.
    PermissionDeniedError
        A grid worker naming a grid outside their jurisdiction.
    """
    _check_new(new, caller)
    digest = new.digest()
    now = workspace.clock.now()
    place = None
    if new.grid_code is None and new.health_code not in RISK_BY_HEALTH_CODE:
        # the common request: placed from the cached locator, stored in one statement
        place = place_by_locator(workspace, lon=new.lon, lat=new.lat, address=new.address_string)
        with database_errors(), workspace.engine.connect() as conn:
            stored = insert_event_logged(
                conn.execution_options(isolation_level="AUTOCOMMIT"),
                _event_values(new, place, caller, idempotency_key, digest),
                now=now,
                role=_role(caller),
            )
        if stored is not None:
            return shown_event(stored, caller), False
    # a deployment, a grid code, a risky health code; or the statement stored nothing (a
    # refused service, a taken idempotency key): the careful way says why
    return _create_carefully(workspace, new, caller, idempotency_key, digest, now, place)


def _create_carefully(
    workspace: Workspace,
    new: EventIn,
    caller: Caller,
    idempotency_key: str | None,
    digest: str,
    now: datetime,
    place: Placement | None,
) -> tuple[dict[str, Any], bool]:
    """Create an event in a transaction of several statements, checking each step."""
    with database_errors(), workspace.engine.begin() as conn:
        if idempotency_key is not None:
            replay = _replay(conn, caller, idempotency_key, digest)
            if replay is not None:
                return replay, True
        service = q.read_service(conn, new.service_code)
        if service is None or not service["active"]:
            raise InvalidRequestError(
                f"there is no active service {new.service_code[:64]!r} "
                "(GET /open311/v2/services.json lists them)",
                details={"field": "service_code"},
            )
        if service["kind"] == "deployment" and new.grid_code is None:
            raise InvalidRequestError(
                "a deployment names the grid whose workers it goes to (grid_code)",
                details={"field": "grid_code"},
            )
        if new.health_code is not None and service["kind"] != "registration":
            raise InvalidRequestError(
                "a health code goes with a registration service only",
                details={"field": "health_code"},
            )
        if place is None:
            place = place_event(
                workspace,
                conn,
                lon=new.lon,
                lat=new.lat,
                address=new.address_string,
                grid_code=new.grid_code,
            )
        deadline = int(service["deadline_minutes"])
        remind = int(service["remind_minutes"])
        expected = now + timedelta(minutes=deadline)
        event_id = q.insert_event(
            conn,
            {
                **_event_values(new, place, caller, idempotency_key, digest),
                "requested_at": now,
                "expected_at": expected,
                "deadline_minutes": deadline,
                "remind_at": expected - timedelta(minutes=remind) if remind else None,
            },
        )
        if event_id is None:  # a concurrent twin with the same key committed first
            assert idempotency_key is not None
            replay = _replay(conn, caller, idempotency_key, digest)
            if replay is None:  # pragma: no cover - the conflicting row is committed
                raise InvalidRequestError("retry the request", details={})
            return replay, True
        if service["kind"] == "deployment" and new.grid_code is not None:
            q.insert_assignments(conn, event_id, new.grid_code)
        if new.health_code in RISK_BY_HEALTH_CODE and place.lon is not None:
            make_transfer_request(conn, event_id, new, place, now)
        q.insert_log(
            conn,
            event_id,
            at=now,
            actor=caller.name,
            role=_role(caller),
            action="create",
            status="open",
            agency_code=place.agency_code,
        )
        stored = q.read_event(conn, event_id)
        assert stored is not None
        insert_outbox(conn, event_id, "created", event_payload(stored, "created", now))
    return shown_event(stored, caller), False


def _event_values(
    new: EventIn, place: Placement, caller: Caller, idempotency_key: str | None, digest: str
) -> dict[str, Any]:
    """Return the columns of a new event that do not depend on its service."""
    return {
        "service_code": new.service_code,
        "placement": "placed" if place.placed else "unplaced",
        "agency_code": place.agency_code,
        "grid_code": place.grid_code,
        "village_code": place.village_code,
        "town_code": place.town_code,
        "worker_code": place.worker_code,
        "lon": place.lon,
        "lat": place.lat,
        "address_string": new.address_string,
        "description": new.description,
        "contact_name": new.contact_name,
        "phone": new.phone,
        "health_code": new.health_code,
        "created_by": caller.name,
        "idempotency_key": idempotency_key,
        "request_digest": digest,
    }


def make_transfer_request(
    conn: Connection, event_id: int, new: EventIn, place: Placement, now: datetime
) -> str:
    """Store the transfer request of a newcomer with a yellow or red code; link it to the
    event and tell the transport caches (in the caller's transaction)."""
    code = q.insert_transfer_request(
        conn,
        {
            "code": f"EV{event_id}",
            "contact_name": new.contact_name,
            "phone": new.phone,
            "group_size": new.household_size,
            "risk_class": RISK_BY_HEALTH_CODE[str(new.health_code)],
            "health_status": new.health_code,
            "ready_at": now,
            "address_text": new.address_string,
            "lon": place.lon,
            "lat": place.lat,
        },
    )
    q.update_event(conn, event_id, {"transfer_code": code})
    bump_version(conn, "transfer_requests")
    return code


def _check_new(new: EventIn, caller: Caller) -> None:
    if (new.lon is None) != (new.lat is None):
        raise InvalidRequestError(
            "give both lat and long, or neither", details={"fields": ["lat", "long"]}
        )
    if new.lon is None and new.address_string is None and new.grid_code is None:
        raise InvalidRequestError(
            "say where: lat and long, an address_string, or a grid_code",
            details={"fields": ["lat", "long", "address_string", "grid_code"]},
        )
    if new.grid_code is not None and not caller.covers_grid(new.grid_code):
        raise PermissionDeniedError(
            "a grid worker names grids of their own jurisdiction only",
            details={"grid_code": new.grid_code[:64]},
        )


def _replay(conn: Connection, caller: Caller, key: str, digest: str) -> dict[str, Any] | None:
    found = q.event_by_idempotency_key(conn, caller.name, key)
    if found is None:
        return None
    event_id, stored_digest = found
    if stored_digest != digest:
        raise InvalidRequestError(
            "this Idempotency-Key was used for a different request; use a new key",
            details={"header": "Idempotency-Key"},
        )
    stored = q.read_event(conn, event_id)
    assert stored is not None
    return shown_event(stored, caller)


def purge_events(workspace: Workspace, created_by: str) -> int:
    """Delete every event (and what it made) that ``created_by`` created: the end of a
    drill or a notebook replaying a day. Return how many events went."""
    with database_errors(), workspace.engine.begin() as conn:
        gone = q.purge_events(conn, created_by)
        bump_version(conn, "transfer_requests")
    return gone


# -- reading --------------------------------------------------------------------------------


def find_event(workspace: Workspace, event_id: int, caller: Caller) -> dict[str, Any]:
    """Return one event as the caller may see it.

    Raises
    ------
    NotFoundError
        No such event, or one the caller may not read (outside a grid worker's
        jurisdiction, another client's for an app): the same answer either way.
    """
    with database_errors(), workspace.engine.connect() as conn:
        found = q.read_event(conn, event_id, **_scope(caller))
    if found is None:
        raise NotFoundError(f"there is no event {event_id}", details={"event": event_id})
    return shown_event(found, caller)


def find_events(
    workspace: Workspace,
    caller: Caller,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: list[str] | None = None,
    service_codes: list[str] | None = None,
    placement: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Return the events the caller may read, newest first."""
    if start is not None and end is not None and start >= end:
        raise InvalidRequestError(
            "start_date must be before end_date", details={"fields": ["start_date", "end_date"]}
        )
    with database_errors(), workspace.engine.connect() as conn:
        rows = q.read_events(
            conn,
            **_scope(caller),
            start=start,
            end=end,
            statuses=statuses,
            service_codes=service_codes,
            placement=placement,
            limit=limit,
        )
    return [shown_event(r, caller) for r in rows]


def _scope(caller: Caller) -> dict[str, str | None]:
    return {
        "subtree": caller.subtree,
        "created_by": caller.name if caller.role is Role.APP else None,
    }


def shown_event(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """Return an event with its personal data masked unless the caller may read it."""
    if caller.sees_personal_data:
        return event
    return {
        **event,
        "contact_name": mask_name(event["contact_name"]),
        "phone": mask_phone(event["phone"]),
        "health_code": None,
        "address_string": mask_personal(event["address_string"])
        if event["address_string"]
        else event["address_string"],
        "description": mask_personal(event["description"] or ""),
        "status_notes": mask_personal(event["status_notes"])
        if event["status_notes"]
        else event["status_notes"],
    }


def event_payload(event: dict[str, Any], topic: str, at: datetime) -> dict[str, Any]:
    """Return the notification of an event change: codes and times, no personal data."""
    return {
        "event_id": event["id"],
        "topic": topic,
        "service_code": event["service_code"],
        "status": event["status"],
        "agency_code": event["agency_code"],
        "grid_code": event["grid_code"],
        "village_code": event["village_code"],
        "worker_code": event["worker_code"],
        "expected_datetime": event["expected_at"].isoformat(),
        "at": at.isoformat(),
    }


def _role(caller: Caller) -> str | None:
    return str(caller.role) if caller.role is not None else None
