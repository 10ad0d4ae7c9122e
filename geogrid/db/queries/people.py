"""People waiting for transfer (``transfer_requests``), personal data included, read
within a jurisdiction: with ``subtree`` set, only the people inside that grid's area are
ever read (:data:`~geogrid.db.queries.jurisdiction.POINT_IN_SUBTREE`); a person outside
is not found, exactly as if absent. The caller masks what its reader may not see.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from geogrid.db.queries.jurisdiction import POINT_IN_SUBTREE

__all__ = ["PERSON_COLUMNS", "read_people", "read_person"]

PERSON_COLUMNS = (
    "code",
    "group_size",
    "risk_class",
    "status",
    "ready_at",
    "lon",
    "lat",
    "contact_name",
    "phone",
    "id_number",
    "health_status",
    "address_text",
)
_SELECT = (
    "SELECT code, group_size, risk_class, status, ready_at, ST_X(geom) AS lon, "
    "ST_Y(geom) AS lat, contact_name, phone, id_number, health_status, address_text"
)


def _where(subtree: str | None, status: str | None) -> tuple[list[str], dict[str, Any]]:
    clauses, params = [], {}
    if subtree is not None:
        clauses.append(POINT_IN_SUBTREE)
        params["root"] = subtree
    if status is not None:
        clauses.append("status = :status")
        params["status"] = status
    return clauses, params


def read_people(
    conn: Connection,
    *,
    subtree: str | None = None,
    status: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of transfer requests in code order, and how many match in all."""
    clauses, params = _where(subtree, status)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        text(
            f"{_SELECT}, count(*) OVER () AS matched FROM transfer_requests {where} "
            'ORDER BY code COLLATE "C" LIMIT :limit OFFSET :offset'
        ),
        {**params, "limit": limit, "offset": offset},
    ).mappings()
    people, matched = [], 0
    for row in rows:
        matched = int(row["matched"])
        people.append({c: row[c] for c in PERSON_COLUMNS})
    if not people and offset > 0:  # a page past the end: count without it
        matched = int(
            conn.execute(
                text(f"SELECT count(*) FROM transfer_requests {where}"), params
            ).scalar_one()
        )
    return people, matched


def read_person(
    conn: Connection, code: str, *, subtree: str | None = None
) -> dict[str, Any] | None:
    """Return one transfer request by code, or None (also when it lies outside ``subtree``)."""
    clauses, params = _where(subtree, None)
    where = " AND ".join(["code = :code", *clauses])
    row = (
        conn.execute(
            text(f"{_SELECT} FROM transfer_requests WHERE {where}"), {**params, "code": code}
        )
        .mappings()
        .first()
    )
    return {c: row[c] for c in PERSON_COLUMNS} if row is not None else None
