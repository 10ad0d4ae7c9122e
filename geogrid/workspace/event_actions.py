"""The events' clock: acknowledge, update, close, reassign, and the deadline scan.

Who may act (the API checks the permission, this module the jurisdiction):

- a grid worker acts (acknowledge, update, close) only on events of their subtree: placed
  in it, or assigned to a worker of it; any other event is "not found", as if absent;
- dispatchers (and admins) act on every event, and alone reassign one to another grid
  (which also places an unplaced event from the operators' queue).

Every action reads "now" from the workspace's clock, locks the event row, changes it,
appends its log entry and queues its notification in one transaction. An action that
does not fit the event's state (acknowledging or closing a closed event) is a conflict
and changes nothing; acknowledging an acknowledged event answers it unchanged.

:func:`scan_deadlines` is the clock's tick: reminders for events near their deadline and
escalation of overdue ones to the parent grid (``geogrid.db.queries.deadlines``), in
chunks of ``events_scan_chunk`` events, each chunk its own transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from geogrid.access import Caller
from geogrid.db.errors import database_errors
from geogrid.db.queries import deadlines
from geogrid.db.queries import events as q
from geogrid.db.queries.outbox import insert_outbox
from geogrid.errors import ConflictError, InvalidRequestError, NotFoundError
from geogrid.workspace.events import (
    RISK_BY_HEALTH_CODE,
    EventIn,
    event_payload,
    make_transfer_request,
    place_event,
    shown_event,
)

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = [
    "ScanOutcome",
    "acknowledge_event",
    "close_event",
    "reassign_event",
    "scan_deadlines",
    "update_event",
]

MAX_NOTE = 4000


@dataclass(frozen=True)
class ScanOutcome:
    """What one deadline scan did, at which "now", in how many transactions (and how
    long the longest took)."""

    now: datetime
    reminded: int
    escalated: int
    transactions: int = 0
    longest_transaction_s: float = 0.0


def acknowledge_event(
    workspace: Workspace,
    event_id: int,
    caller: Caller,
    *,
    worker_code: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Record the first response to an event. For a deployment, acknowledge it for one
    worker (``worker_code``), or for the workers of the calling grid worker's own grid
    (a dispatcher without ``worker_code``: for every worker); the deployment is
    acknowledged once every assigned worker has."""

    def act(conn: Connection, event: dict[str, Any], now: datetime) -> dict[str, Any] | None:
        if event["status"] == "closed":
            raise ConflictError(
                f"event {event_id} is closed", details={"event": event_id, "status": "closed"}
            )
        changes: dict[str, Any] = {}
        if event["kind"] == "deployment" and event["assigned"]:
            own_grid = caller.subtree if worker_code is None else None
            done, left = q.acknowledge_assignments(
                conn,
                event_id,
                now,
                grid_code=own_grid,
                worker=worker_code,
                subtree=caller.subtree,
            )
            if done == 0:  # nothing of the caller's left to acknowledge
                return None
            if left == 0 and event["status"] == "open":
                changes = {"status": "acknowledged", "acknowledged_at": now}
        elif event["status"] == "open":
            changes = {"status": "acknowledged", "acknowledged_at": now}
        else:
            return None
        if note is not None:
            changes["status_notes"] = note
        return changes

    return _act(workspace, event_id, caller, "acknowledge", "acknowledged", act)


def update_event(
    workspace: Workspace, event_id: int, caller: Caller, *, note: str
) -> dict[str, Any]:
    """Add a progress note (``status_notes``) to an event not closed."""

    def act(_conn: Connection, event: dict[str, Any], _now: datetime) -> dict[str, Any]:
        if event["status"] == "closed":
            raise ConflictError(
                f"event {event_id} is closed", details={"event": event_id, "status": "closed"}
            )
        return {"status_notes": note}

    return _act(workspace, event_id, caller, "update", "updated", act)


def close_event(
    workspace: Workspace, event_id: int, caller: Caller, *, note: str | None = None
) -> dict[str, Any]:
    """Close an event with its result (闭环处置)."""

    def act(_conn: Connection, event: dict[str, Any], now: datetime) -> dict[str, Any]:
        if event["status"] == "closed":
            raise ConflictError(
                f"event {event_id} is closed already",
                details={"event": event_id, "status": "closed"},
            )
        changes: dict[str, Any] = {"status": "closed", "closed_at": now}
        if note is not None:
            changes["status_notes"] = note
        return changes

    return _act(workspace, event_id, caller, "close", "closed", act)


def reassign_event(
    workspace: Workspace,
    event_id: int,
    caller: Caller,
    *,
    grid_code: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Send an event to another grid (by grid code, or by a point located as at
    creation); an unplaced event becomes placed. Its deadline stays."""
    if grid_code is None and (lon is None or lat is None):
        raise InvalidRequestError(
            "name the grid (grid_code), or the point (lat and long)",
            details={"fields": ["grid_code", "lat", "long"]},
        )

    def act(conn: Connection, event: dict[str, Any], now: datetime) -> dict[str, Any]:
        if event["status"] == "closed":
            raise ConflictError(
                f"event {event_id} is closed", details={"event": event_id, "status": "closed"}
            )
        place = place_event(workspace, conn, lon=lon, lat=lat, address=None, grid_code=grid_code)
        if not place.placed:
            raise InvalidRequestError(
                "this point lies in no village grid; name the grid instead",
                details={"fields": ["lat", "long"]},
            )
        changes: dict[str, Any] = {
            "placement": "placed",
            "agency_code": place.agency_code,
            "grid_code": place.grid_code,
            "village_code": place.village_code,
            "town_code": place.town_code,
            "worker_code": place.worker_code,
        }
        if place.lon is not None and place.lat is not None:
            changes |= {"lon": place.lon, "lat": place.lat}
        if note is not None:
            changes["status_notes"] = note
        point = (place.lon, place.lat) if place.lon is not None else (event["lon"], event["lat"])
        if (
            event["health_code"] in RISK_BY_HEALTH_CODE
            and event["transfer_code"] is None
            and point[0] is not None
        ):
            new = EventIn(
                service_code=event["service_code"],
                address_string=event["address_string"],
                contact_name=event["contact_name"],
                phone=event["phone"],
                health_code=event["health_code"],
            )
            where = type(place)(lon=point[0], lat=point[1])
            make_transfer_request(conn, event_id, new, where, now)
        return changes

    return _act(workspace, event_id, caller, "reassign", "reassigned", act)


def scan_deadlines(
    workspace: Workspace, now: datetime | None = None, *, chunk: int | None = None
) -> ScanOutcome:
    """Queue reminders for events near their deadline and escalate overdue ones to the
    parent grid, at ``now`` (default: the workspace's clock).

    Each step goes in chunks of ``chunk`` events (default: the setting
    ``events_scan_chunk``), each chunk committed in its own transaction, until a chunk
    comes back short: a transaction never holds more than ``chunk`` event rows, however
    many fell due at once. Scanners may run at the same time (each chunk skips the
    events another holds): every due event is acted on once.
    """
    at = now or workspace.clock.now()
    size = chunk or workspace.settings.events_scan_chunk
    times: list[float] = []
    reminded = _in_chunks(workspace, deadlines.send_reminders, at, size, times)
    escalated = _in_chunks(workspace, deadlines.escalate_overdue, at, size, times)
    return ScanOutcome(at, reminded, escalated, len(times), max(times))


def _in_chunks(
    workspace: Workspace,
    step: Callable[[Connection, datetime, int], int],
    at: datetime,
    size: int,
    times: list[float],
) -> int:
    """Run ``step`` in transactions of up to ``size`` events until one does fewer; return
    the events done (``times`` gets each transaction's seconds)."""
    total = 0
    while True:
        started = time.perf_counter()
        with database_errors(), workspace.engine.begin() as conn:
            done = step(conn, at, size)
        times.append(time.perf_counter() - started)
        total += done
        if done < size:
            return total


# ----------------------------------------------------------------------------- internals

Action = Callable[[Connection, dict[str, Any], datetime], "dict[str, Any] | None"]


def _act(
    workspace: Workspace, event_id: int, caller: Caller, action: str, topic: str, act: Action
) -> dict[str, Any]:
    """Lock the event (within the caller's jurisdiction), apply ``act``'s changes, log and
    queue them; an action that changes nothing answers the event as it is."""
    now = workspace.clock.now()
    with database_errors(), workspace.engine.begin() as conn:
        event = q.lock_event(conn, event_id, subtree=caller.subtree)
        if not event:
            raise NotFoundError(f"there is no event {event_id}", details={"event": event_id})
        changes = act(conn, event, now)
        if changes is None:
            return shown_event(event, caller)
        q.update_event(conn, event_id, {**changes, "updated_at": now})
        stored = q.read_event(conn, event_id)
        assert stored is not None
        q.insert_log(
            conn,
            event_id,
            at=now,
            actor=caller.name,
            role=str(caller.role) if caller.role is not None else None,
            action=action,
            status=stored["status"],
            agency_code=stored["agency_code"],
        )
        insert_outbox(conn, event_id, topic, event_payload(stored, topic, now))
    return shown_event(stored, caller)
