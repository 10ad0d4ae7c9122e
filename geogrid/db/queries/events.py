"""Events (Open311 service requests) and their services: store, read, change, log.

Every change of an event goes with its :data:`event_log` entry and its outbox row
(:mod:`geogrid.db.queries.outbox`) in the caller's transaction, so none exists without
the others. Times come from the caller (the workspace's clock), never from ``now()``.

Reads take ``subtree`` (a grid worker's jurisdiction: events placed in it, or with a
worker of it assigned) and ``created_by`` (an app's own events); None for no limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "EVENTS_LAYER",
    "EVENT_COLUMNS",
    "EVENT_FIELDS",
    "acknowledge_assignments",
    "event_by_idempotency_key",
    "grid_chain",
    "grid_subtree_condition",
    "insert_assignments",
    "insert_event",
    "insert_log",
    "insert_transfer_request",
    "lock_event",
    "purge_events",
    "read_event",
    "read_events",
    "read_service",
    "read_services",
    "update_event",
    "upsert_service",
    "worker_of_grid",
]

EVENTS_LAYER = "events"
"""The name of the events' data version (maps and reports key on it)."""

EVENT_COLUMNS = (
    "id",
    "service_code",
    "service_name",
    "kind",
    "status",
    "placement",
    "requested_at",
    "expected_at",
    "deadline_minutes",
    "updated_at",
    "acknowledged_at",
    "closed_at",
    "reminded_at",
    "escalated_at",
    "escalation_level",
    "agency_code",
    "grid_code",
    "village_code",
    "town_code",
    "worker_code",
    "lon",
    "lat",
    "address_string",
    "description",
    "status_notes",
    "contact_name",
    "phone",
    "health_code",
    "transfer_code",
    "created_by",
    "assigned",
    "assigned_acknowledged",
)
EVENT_FIELDS = """
       e.id, e.service_code, s.name AS service_name, s.kind, e.status, e.placement,
       e.requested_at, e.expected_at, e.deadline_minutes, e.updated_at, e.acknowledged_at,
       e.closed_at, e.reminded_at, e.escalated_at, e.escalation_level, e.agency_code,
       e.grid_code, e.village_code, e.town_code, e.worker_code,
       ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat, e.address_string, e.description,
       e.status_notes, e.contact_name, e.phone, e.health_code, e.transfer_code, e.created_by"""
"""The columns of :data:`EVENT_COLUMNS` but the assignment counts, from events ``e`` and
their service ``s``."""
_SELECT = (
    "SELECT"
    + EVENT_FIELDS
    + """,
       (SELECT count(*) FROM event_assignments a WHERE a.event_id = e.id) AS assigned,
       (SELECT count(a.acknowledged_at) FROM event_assignments a
         WHERE a.event_id = e.id) AS assigned_acknowledged
FROM events e JOIN event_services s ON s.code = e.service_code
"""
)
_IN_SUBTREE = """(
    e.grid_code = :root OR starts_with(e.grid_code, :root || '-')
    OR EXISTS (SELECT 1 FROM event_assignments a WHERE a.event_id = e.id
               AND (a.grid_code = :root OR starts_with(a.grid_code, :root || '-'))))"""
_SERVICE_COLUMNS = "code, name, description, kind, deadline_minutes, remind_minutes, active"


def grid_subtree_condition(subtree: str | None, params: dict[str, Any]) -> str:
    """Return ``AND`` the condition "event ``e`` placed in grid ``subtree``'s subtree"
    (and put its parameter in ``params``), or nothing when ``subtree`` is None."""
    if subtree is None:
        return ""
    params["root"] = subtree
    return "AND (e.grid_code = :root OR starts_with(e.grid_code, :root || '-'))"


# -- services -------------------------------------------------------------------------------


def read_services(conn: Connection, *, active_only: bool = False) -> list[dict[str, Any]]:
    """Return the services in code order."""
    where = "WHERE active" if active_only else ""
    rows = conn.execute(
        text(f'SELECT {_SERVICE_COLUMNS} FROM event_services {where} ORDER BY code COLLATE "C"')
    ).mappings()
    return [dict(r) for r in rows]


def read_service(conn: Connection, code: str) -> dict[str, Any] | None:
    """Return one service, or None."""
    row = (
        conn.execute(
            text(f"SELECT {_SERVICE_COLUMNS} FROM event_services WHERE code = :code"),
            {"code": code},
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def upsert_service(conn: Connection, values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create or replace a service; return it and whether it is new."""
    row = (
        conn.execute(
            text(
                f"INSERT INTO event_services ({_SERVICE_COLUMNS}) VALUES (:code, :name, "
                ":description, :kind, :deadline_minutes, :remind_minutes, :active) "
                "ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
                "description = excluded.description, kind = excluded.kind, "
                "deadline_minutes = excluded.deadline_minutes, "
                "remind_minutes = excluded.remind_minutes, active = excluded.active, "
                f"updated_at = now() RETURNING {_SERVICE_COLUMNS}, (xmax = 0) AS created"
            ),
            values,
        )
        .mappings()
        .one()
    )
    out = dict(row)
    created = bool(out.pop("created"))
    return out, created


# -- places ---------------------------------------------------------------------------------


def grid_chain(conn: Connection, code: str) -> list[dict[str, Any]]:
    """Return a grid and its ancestors (``code``, ``level``, ``parent_code``), finest
    first; empty when there is no such grid."""
    rows = conn.execute(
        text(
            "WITH RECURSIVE up AS (SELECT code, level, parent_code, 0 AS depth FROM grids "
            "WHERE code = :code UNION ALL SELECT g.code, g.level, g.parent_code, up.depth + 1 "
            "FROM grids g JOIN up ON g.code = up.parent_code WHERE up.depth < 10) "
            "SELECT code, level, parent_code FROM up ORDER BY depth"
        ),
        {"code": code},
    ).mappings()
    return [dict(r) for r in rows]


def worker_of_grid(conn: Connection, grid_code: str) -> str | None:
    """Return the code of the first grid worker of a grid, or None."""
    found = conn.execute(
        text(
            'SELECT code FROM grid_workers WHERE grid_code = :g ORDER BY code COLLATE "C" LIMIT 1'
        ),
        {"g": grid_code},
    ).scalar()
    return str(found) if found is not None else None


# -- events ---------------------------------------------------------------------------------


def insert_event(conn: Connection, values: dict[str, Any]) -> int | None:
    """Store an event in the caller's transaction; return its id, or None when the
    caller's idempotency key is taken (a concurrent twin waits for the first to commit)."""
    has_point = values.get("lon") is not None and values.get("lat") is not None
    geom = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)" if has_point else "NULL"
    params = {
        "agency_code": None,
        "grid_code": None,
        "village_code": None,
        "town_code": None,
        "worker_code": None,
        "address_string": None,
        "contact_name": None,
        "phone": None,
        "health_code": None,
        "idempotency_key": None,
        "request_digest": None,
        **values,
    }
    found = conn.execute(
        text(
            "INSERT INTO events (service_code, status, placement, requested_at, expected_at, "
            "deadline_minutes, remind_at, updated_at, agency_code, grid_code, "
            "village_code, town_code, worker_code, geom, address_string, description, "
            "contact_name, phone, health_code, created_by, idempotency_key, request_digest) "
            "VALUES (:service_code, 'open', :placement, :requested_at, :expected_at, "
            ":deadline_minutes, :remind_at, :requested_at, :agency_code, :grid_code, "
            f":village_code, :town_code, :worker_code, {geom}, :address_string, :description, "
            ":contact_name, :phone, :health_code, :created_by, :idempotency_key, "
            ":request_digest) ON CONFLICT (created_by, idempotency_key) "
            "WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id"
        ),
        params,
    ).scalar()
    return int(found) if found is not None else None


def event_by_idempotency_key(
    conn: Connection, created_by: str, key: str
) -> tuple[int, str | None] | None:
    """Return the id and request digest of the event a client stored under ``key``."""
    row = conn.execute(
        text(
            "SELECT id, request_digest FROM events WHERE created_by = :by "
            "AND idempotency_key = :key"
        ),
        {"by": created_by, "key": key},
    ).first()
    return (int(row[0]), row[1]) if row is not None else None


def insert_assignments(conn: Connection, event_id: int, root: str) -> int:
    """Assign an event to every grid worker under grid ``root``; return how many."""
    result = conn.execute(
        text(
            "INSERT INTO event_assignments (event_id, worker_code, grid_code) "
            "SELECT :id, code, grid_code FROM grid_workers "
            "WHERE grid_code = :root OR starts_with(grid_code, :root || '-')"
        ),
        {"id": event_id, "root": root},
    )
    return int(result.rowcount)


def acknowledge_assignments(
    conn: Connection,
    event_id: int,
    at: datetime,
    *,
    grid_code: str | None,
    worker: str | None,
    subtree: str | None = None,
) -> tuple[int, int]:
    """Acknowledge the open assignments of one worker, or of the workers of one grid (both
    None: of everyone), within ``subtree``; return (newly acknowledged, still open in the
    event)."""
    clauses = ["event_id = :id", "acknowledged_at IS NULL"]
    params: dict[str, Any] = {"id": event_id, "at": at}
    if subtree is not None:
        clauses.append("(grid_code = :root OR starts_with(grid_code, :root || '-'))")
        params["root"] = subtree
    if worker is not None:
        clauses.append("worker_code = :worker")
        params["worker"] = worker
    if grid_code is not None:
        clauses.append("grid_code = :grid")
        params["grid"] = grid_code
    done = conn.execute(
        text(f"UPDATE event_assignments SET acknowledged_at = :at WHERE {' AND '.join(clauses)}"),
        params,
    ).rowcount
    left = conn.execute(
        text(
            "SELECT count(*) FROM event_assignments WHERE event_id = :id "
            "AND acknowledged_at IS NULL"
        ),
        {"id": event_id},
    ).scalar_one()
    return int(done), int(left)


def lock_event(conn: Connection, event_id: int, *, subtree: str | None = None) -> dict[str, Any]:
    """Lock an event row for a change and return it (empty dict: none in the subtree)."""
    where = "e.id = :id" + (f" AND {_IN_SUBTREE}" if subtree is not None else "")
    locked = conn.execute(
        text(f"SELECT e.id FROM events e WHERE {where} FOR UPDATE OF e"),
        {"id": event_id, "root": subtree},
    ).scalar()
    if locked is None:
        return {}
    return read_event(conn, event_id) or {}


def update_event(conn: Connection, event_id: int, values: dict[str, Any]) -> None:
    """Set columns of an event (``lon``/``lat`` set its point)."""
    values = dict(values)
    sets = [f"{name} = :{name}" for name in values if name not in ("lon", "lat")]
    if "lon" in values:
        sets.append("geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)")
    conn.execute(
        text(f"UPDATE events SET {', '.join(sets)} WHERE id = :event_id"),
        {**values, "event_id": event_id},
    )


def insert_log(
    conn: Connection,
    event_id: int,
    *,
    at: datetime,
    actor: str,
    role: str | None,
    action: str,
    status: str,
    agency_code: str | None,
    note: str | None = None,
) -> None:
    """Append an entry to the event's log."""
    conn.execute(
        text(
            "INSERT INTO event_log (event_id, at, actor, role, action, status, agency_code, "
            "note) VALUES (:id, :at, :actor, :role, :action, :status, :agency, :note)"
        ),
        {
            "id": event_id,
            "at": at,
            "actor": actor,
            "role": role,
            "action": action,
            "status": status,
            "agency": agency_code,
            "note": note,
        },
    )


def read_event(
    conn: Connection,
    event_id: int,
    *,
    subtree: str | None = None,
    created_by: str | None = None,
) -> dict[str, Any] | None:
    """Return one event, or None (also when it lies outside ``subtree``, or another client
    created it)."""
    clauses, params = _where(subtree, created_by)
    clauses.insert(0, "e.id = :id")
    row = (
        conn.execute(text(f"{_SELECT} WHERE {' AND '.join(clauses)}"), {**params, "id": event_id})
        .mappings()
        .first()
    )
    return {c: row[c] for c in EVENT_COLUMNS} if row is not None else None


def read_events(
    conn: Connection,
    *,
    subtree: str | None = None,
    created_by: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: list[str] | None = None,
    service_codes: list[str] | None = None,
    placement: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Return events requested in ``[start, end)``, newest first."""
    clauses, params = _where(subtree, created_by)
    if start is not None:
        clauses.append("e.requested_at >= :start")
        params["start"] = start
    if end is not None:
        clauses.append("e.requested_at < :end")
        params["end"] = end
    if statuses:
        clauses.append("e.status = ANY(:statuses)")
        params["statuses"] = statuses
    if service_codes:
        clauses.append("e.service_code = ANY(:services)")
        params["services"] = service_codes
    if placement is not None:
        clauses.append("e.placement = :placement")
        params["placement"] = placement
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        text(f"{_SELECT} {where} ORDER BY e.requested_at DESC, e.id DESC LIMIT :limit"),
        {**params, "limit": limit},
    ).mappings()
    return [{c: r[c] for c in EVENT_COLUMNS} for r in rows]


def _where(subtree: str | None, created_by: str | None) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if subtree is not None:
        clauses.append(_IN_SUBTREE)
        params["root"] = subtree
    if created_by is not None:
        clauses.append("e.created_by = :created_by")
        params["created_by"] = created_by
    return clauses, params


def purge_events(conn: Connection, created_by: str) -> int:
    """Delete every event a client created (a drill, a notebook), with their log, outbox
    rows, assignments and the transfer requests they made; return how many events."""
    conn.execute(
        text(
            "DELETE FROM transfer_requests WHERE code IN (SELECT transfer_code FROM events "
            "WHERE created_by = :by AND transfer_code IS NOT NULL)"
        ),
        {"by": created_by},
    )
    result = conn.execute(text("DELETE FROM events WHERE created_by = :by"), {"by": created_by})
    return int(result.rowcount)


# -- the transport planner's side -----------------------------------------------------------


def insert_transfer_request(conn: Connection, values: dict[str, Any]) -> str:
    """Store a transfer request (a person to move to isolation); return its code."""
    return str(
        conn.execute(
            text(
                "INSERT INTO transfer_requests (code, contact_name, phone, group_size, "
                "risk_class, health_status, ready_at, address_text, status, geom) "
                "VALUES (:code, :contact_name, :phone, :group_size, :risk_class, "
                ":health_status, :ready_at, :address_text, 'waiting', "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING code"
            ),
            values,
        ).scalar_one()
    )
