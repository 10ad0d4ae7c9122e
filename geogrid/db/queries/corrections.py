"""Operators' address corrections: store, list, remove, and check what they point at."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, exists, insert, select

from geogrid.db.models import Base

__all__ = [
    "CORRECTIONS_LAYER",
    "address_exists",
    "correction_by_normalized",
    "delete_correction",
    "grid_exists",
    "insert_correction",
    "read_corrections",
]

CORRECTIONS_LAYER = "address_corrections"
"""The name the corrections' data version is kept under in ``layer_versions``."""

_TABLE = Base.metadata.tables["address_corrections"]
_GRIDS = Base.metadata.tables["grids"]
_ADDRESSES = Base.metadata.tables["addresses"]


def insert_correction(
    conn: Connection,
    *,
    text: str,
    normalized: str,
    grid_code: str | None,
    address_code: str | None,
    created_by: str,
) -> dict[str, Any]:
    """Store a correction in the caller's transaction; return the stored row."""
    statement = (
        insert(_TABLE)
        .values(
            text=text,
            normalized=normalized,
            grid_code=grid_code,
            address_code=address_code,
            created_by=created_by,
        )
        .returning(*_TABLE.c)
    )
    return dict(conn.execute(statement).mappings().one())


def correction_by_normalized(conn: Connection, normalized: str) -> dict[str, Any] | None:
    """Return the correction of a normalised text, or None."""
    row = conn.execute(select(_TABLE).where(_TABLE.c.normalized == normalized)).mappings().first()
    return dict(row) if row is not None else None


def delete_correction(conn: Connection, correction_id: int) -> dict[str, Any] | None:
    """Delete a correction; return the deleted row, or None when there was none."""
    statement = delete(_TABLE).where(_TABLE.c.id == correction_id).returning(*_TABLE.c)
    row = conn.execute(statement).mappings().first()
    return dict(row) if row is not None else None


def read_corrections(conn: Connection) -> pd.DataFrame:
    """Return every correction, oldest first."""
    rows = conn.execute(select(_TABLE).order_by(_TABLE.c.id)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in _TABLE.c])


def grid_exists(conn: Connection, code: str) -> bool:
    """Return True when a grid ``code`` is stored."""
    return bool(conn.execute(select(exists().where(_GRIDS.c.code == code))).scalar())


def address_exists(conn: Connection, code: str) -> bool:
    """Return True when a standard address ``code`` is stored."""
    return bool(conn.execute(select(exists().where(_ADDRESSES.c.code == code))).scalar())
