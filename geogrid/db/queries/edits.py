"""Write single features: insert, update and delete by code, inside the caller's transaction.

Every function takes a :class:`~sqlalchemy.engine.Connection` in a transaction the caller
owns, so a write, its audit entry and the layer's version bump commit (or roll back)
together. Layer and column names come from geogrid's catalogue, never from user text;
geometry is bound as WKB in EPSG:4326.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import Connection, Row, Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import BYTEA

from geogrid.crs import WGS84_CRS
from geogrid.db.models import Base

__all__ = [
    "delete_feature",
    "grid_dependents",
    "insert_feature",
    "lock_layer",
    "read_grid_family",
    "read_grid_neighbourhood",
    "update_feature",
]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _geometry(geometry: shapely.Geometry) -> Any:
    return func.ST_GeomFromWKB(bindparam("geom_wkb", shapely.to_wkb(geometry), type_=BYTEA), 4326)


def lock_layer(conn: Connection, layer: str) -> None:
    """Serialise edits of ``layer`` until the transaction ends (an advisory lock).

    Edits check their neighbours (a grid's parent and siblings) before writing; holding
    the layer's lock keeps two edits from passing those checks against each other's
    old state. Readers are not blocked.
    """
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"geogrid:edit:{layer}"))))


def insert_feature(
    conn: Connection, layer: str, values: Mapping[str, Any], geometry: shapely.Geometry
) -> None:
    """Insert one feature (``values`` includes ``code``)."""
    conn.execute(insert(_table(layer)).values(**values, geom=_geometry(geometry)))


def update_feature(
    conn: Connection,
    layer: str,
    code: str,
    values: Mapping[str, Any],
    geometry: shapely.Geometry,
) -> int:
    """Replace the stored values and geometry of feature ``code``; return rows changed."""
    table = _table(layer)
    statement = (
        update(table)
        .where(table.c.code == code)
        .values(**values, geom=_geometry(geometry), updated_at=func.clock_timestamp())
    )
    return int(conn.execute(statement).rowcount)


def delete_feature(conn: Connection, layer: str, code: str) -> int:
    """Delete feature ``code``; return rows deleted."""
    table = _table(layer)
    return int(conn.execute(delete(table).where(table.c.code == code)).rowcount)


def grid_dependents(conn: Connection, code: str) -> dict[str, list[str]]:
    """Return what refers to grid ``code``: child grid codes, grid worker codes, and the
    ids of API credentials limited to it."""
    grids, workers, keys = (_table(t) for t in ("grids", "grid_workers", "api_credentials"))
    out = {
        "children": conn.execute(
            select(grids.c.code).where(grids.c.parent_code == code).order_by(grids.c.code)
        ).scalars(),
        "grid_workers": conn.execute(
            select(workers.c.code).where(workers.c.grid_code == code).order_by(workers.c.code)
        ).scalars(),
        "credentials": conn.execute(
            select(keys.c.key_id).where(keys.c.grid_code == code).order_by(keys.c.key_id)
        ).scalars(),
    }
    return {name: list(values) for name, values in out.items()}


def read_grid_neighbourhood(
    conn: Connection, *, code: str, parent_code: str | None, replaced: str | None
) -> gpd.GeoDataFrame:
    """Return the grids an edit of grid ``code`` is checked against (EPSG:4326).

    They are: grids with the edited or replaced code, the parent, the parent's children
    (the siblings; top-level grids when there is no parent), and the replaced grid's
    children. Columns: ``code``, ``level``, ``parent_code`` and geometry.
    """
    grids = _table("grids")
    codes = [c for c in (code, parent_code, replaced) if c is not None]
    siblings = (
        grids.c.parent_code == parent_code
        if parent_code is not None
        else grids.c.parent_code.is_(None)
    )
    wanted = [grids.c.code.in_(codes), siblings]
    if replaced is not None:
        wanted.append(grids.c.parent_code == replaced)
    rows = conn.execute(
        select(grids.c.code, grids.c.level, grids.c.parent_code, func.ST_AsBinary(grids.c.geom))
        .where(or_(*wanted))
        .order_by(grids.c.code)
    ).all()
    return _grid_frame(rows)


def read_grid_family(conn: Connection, parent_code: str) -> gpd.GeoDataFrame:
    """Return grid ``parent_code`` and its children (EPSG:4326), as this transaction sees
    them. Columns: ``code``, ``level``, ``parent_code`` and geometry; the parent first."""
    grids = _table("grids")
    rows = conn.execute(
        select(grids.c.code, grids.c.level, grids.c.parent_code, func.ST_AsBinary(grids.c.geom))
        .where(or_(grids.c.code == parent_code, grids.c.parent_code == parent_code))
        .order_by(grids.c.code != parent_code, grids.c.code)
    ).all()
    return _grid_frame(rows)


def _grid_frame(rows: Sequence[Row[Any, Any, Any, Any]]) -> gpd.GeoDataFrame:
    """Return ``(code, level, parent_code, WKB)`` rows as a frame in EPSG:4326."""
    return gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "level": [r[1] for r in rows],
            "parent_code": [r[2] for r in rows],
        },
        geometry=shapely.from_wkb([bytes(r[3]) for r in rows]) if rows else [],
        crs=WGS84_CRS,
    )
