"""Create an event in one statement: the row, its log entry and its outbox notification.

The common request (a hotline event or a registration without a risky health code,
placed by point or address) is one round trip: a single ``INSERT`` with data-modifying
CTEs reads the service (active, and of a kind this path takes), computes the deadline
and the reminder time from it, stores the event, appends the ``create`` log entry and
queues the ``created`` notification, and returns the event as
:func:`geogrid.db.queries.events.read_event` would. One statement is atomic by itself:
it runs without ``BEGIN``/``COMMIT`` (autocommit), and none of the three rows exists
without the others.

It stores nothing and returns None when the service is unknown, inactive, a deployment,
or not a registration while a health code is given, and when the client's idempotency
key is taken: the caller then goes the careful way (a transaction of several
statements), which says precisely why or answers the first request again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from geogrid.db.queries.events import EVENT_COLUMNS, EVENT_FIELDS

__all__ = ["insert_event_logged"]

_INSERT = (
    """
WITH s AS (
    SELECT code, name, kind, deadline_minutes, remind_minutes FROM event_services
    WHERE code = :service_code AND active AND kind <> 'deployment'
      AND (CAST(:health_code AS text) IS NULL OR kind = 'registration')
), e AS (
    INSERT INTO events (service_code, status, placement, requested_at, expected_at,
        deadline_minutes, remind_at, updated_at, agency_code, grid_code, village_code,
        town_code, worker_code, geom, address_string, description, contact_name, phone,
        health_code, created_by, idempotency_key, request_digest)
    SELECT s.code, 'open', :placement, t.now, t.now + s.deadline_minutes * interval '1 minute',
        s.deadline_minutes,
        CASE WHEN s.remind_minutes > 0 THEN
            t.now + (s.deadline_minutes - s.remind_minutes) * interval '1 minute' END,
        t.now, :agency_code, :grid_code, :village_code, :town_code, :worker_code,
        CASE WHEN CAST(:lon AS float8) IS NOT NULL AND CAST(:lat AS float8) IS NOT NULL
             THEN ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END,
        :address_string, :description, :contact_name, :phone, :health_code, :created_by,
        :idempotency_key, :request_digest
    FROM s CROSS JOIN (SELECT CAST(:now AS timestamptz) AS now) t
    ON CONFLICT (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *
), logged AS (
    INSERT INTO event_log (event_id, at, actor, role, action, status, agency_code, note)
    SELECT e.id, e.requested_at, :created_by, :role, 'create', 'open', e.agency_code, NULL
    FROM e
), queued AS (
    INSERT INTO event_outbox (event_id, topic, payload)
    SELECT e.id, 'created', jsonb_build_object('event_id', e.id, 'topic', 'created',
        'service_code', e.service_code, 'status', e.status, 'agency_code', e.agency_code,
        'grid_code', e.grid_code, 'village_code', e.village_code,
        'worker_code', e.worker_code, 'expected_datetime', e.expected_at,
        'at', e.requested_at)
    FROM e
)
SELECT"""
    + EVENT_FIELDS
    + """,
       0 AS assigned, 0 AS assigned_acknowledged
FROM e CROSS JOIN s
"""
)

_OPTIONAL = (
    "agency_code",
    "grid_code",
    "village_code",
    "town_code",
    "worker_code",
    "lon",
    "lat",
    "address_string",
    "contact_name",
    "phone",
    "health_code",
    "idempotency_key",
    "request_digest",
)


def insert_event_logged(
    conn: Connection, values: dict[str, Any], *, now: datetime, role: str | None
) -> dict[str, Any] | None:
    """Store an event requested at ``now`` with its ``create`` log entry (by
    ``values["created_by"]`` in ``role``) and its ``created`` outbox row, in one
    statement; return the stored event, or None when nothing was stored (see the
    module's note: the caller then takes the careful way).

    ``values`` holds ``service_code``, ``placement``, ``description``, ``created_by`` and
    any of the placement's codes, ``lon``/``lat``, the reporter's data, the idempotency
    key and the request's digest (missing ones are NULL).
    """
    params = dict.fromkeys(_OPTIONAL) | values | {"now": now, "role": role}
    row = conn.execute(text(_INSERT), params).mappings().first()
    return {c: row[c] for c in EVENT_COLUMNS} if row is not None else None
