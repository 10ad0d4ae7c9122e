"""The audit log of layer edits: append one entry per write, read them back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from geogrid.db.models import Base

__all__ = ["insert_audit", "read_audit"]

_AUDIT = Base.metadata.tables["audit_log"]


def insert_audit(
    conn: Connection,
    *,
    actor: str,
    role: str | None,
    action: str,
    layer: str,
    code: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request_id: str | None,
) -> int:
    """Append an entry in the caller's transaction; return its id."""
    statement = (
        insert(_AUDIT)
        .values(
            actor=actor,
            role=role,
            action=action,
            layer=layer,
            code=code,
            before=before,
            after=after,
            request_id=request_id,
        )
        .returning(_AUDIT.c.id)
    )
    return int(conn.execute(statement).scalar_one())


def read_audit(
    conn: Connection, *, layer: str | None = None, code: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Return entries, newest first, optionally of one layer and one feature code."""
    statement = select(_AUDIT).order_by(_AUDIT.c.id.desc()).limit(limit)
    if layer is not None:
        statement = statement.where(_AUDIT.c.layer == layer)
    if code is not None:
        statement = statement.where(_AUDIT.c.code == code)
    return [dict(row) for row in conn.execute(statement).mappings()]
