"""Write whole layers: transactional upserts by code, deletes, version counters.

Every function takes an open :class:`~sqlalchemy.engine.Connection` inside a transaction
the caller owns, so a load of several steps commits or rolls back as one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from psycopg import sql
from sqlalchemy import Connection, text

from geogrid.db.queries.replication import notify_version

__all__ = [
    "UpsertCounts",
    "bump_version",
    "check_deferred_constraints",
    "layer_version",
    "upsert_rows",
]


@dataclass(frozen=True)
class UpsertCounts:
    """How many rows an upsert inserted, changed, left as they were and deleted.

    ``deleted_codes`` are the codes of the deleted rows, sorted.
    """

    inserted: int
    updated: int
    unchanged: int
    deleted: int = 0
    deleted_codes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True when the table is different afterwards."""
        return bool(self.inserted or self.updated or self.deleted)


def upsert_rows(
    conn: Connection,
    table: str,
    frame: pd.DataFrame,
    *,
    replace: bool = False,
    within: Sequence[str] = (),
    parent: str | None = None,
) -> UpsertCounts:
    """Insert or update ``frame``'s rows in ``table`` by their ``code``.

    Rows whose values are all equal to the stored ones are left untouched (so loading a
    file twice changes nothing, ``updated_at`` included). A GeoDataFrame's geometry goes
    to the ``geom`` column as EPSG:4326.

    With ``replace`` the rows of the table whose code is not in ``frame`` are deleted:
    all of them, or with ``within`` (column names) only those whose values in these
    columns equal those of some row of ``frame`` (NULLs match nothing). With ``parent``
    (a column naming a parent row of the same table) a row that ``frame`` names as a
    parent is kept, and the rows under a deleted row are deleted too.
    """
    columns, rows = _copy_rows(frame)
    stage = f"stage_{table}"
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(
            sql.SQL(
                "CREATE TEMP TABLE {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
            ).format(stage=sql.Identifier(stage), table=sql.Identifier(table))
        )
        copy_sql = sql.SQL("COPY {stage} ({cols}) FROM STDIN").format(
            stage=sql.Identifier(stage), cols=sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with cur.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
        cols = sql.SQL(", ").join(map(sql.Identifier, columns))
        mine = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in columns)
        theirs = sql.SQL(", ").join(
            sql.SQL("excluded.{}").format(sql.Identifier(c)) for c in columns
        )
        assignments = sql.SQL(", ").join(
            sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c))
            for c in columns
            if c != "code"
        )
        cur.execute(
            sql.SQL(
                "INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM {stage} "
                "ON CONFLICT (code) DO UPDATE SET {assignments}, updated_at = now() "
                "WHERE ({mine}) IS DISTINCT FROM ({theirs}) "
                "RETURNING (xmax = 0)"
            ).format(
                table=sql.Identifier(table),
                stage=sql.Identifier(stage),
                cols=cols,
                assignments=assignments,
                mine=mine,
                theirs=theirs,
            )
        )
        flags = [bool(r[0]) for r in cur.fetchall()]
        deleted: list[str] = []
        if replace:
            cur.execute(_replace_sql(table, stage, within, parent))
            deleted = sorted(str(r[0]) for r in cur.fetchall())
        cur.execute(sql.SQL("DROP TABLE {stage}").format(stage=sql.Identifier(stage)))
    inserted = sum(flags)
    updated = len(flags) - inserted
    return UpsertCounts(inserted, updated, len(frame) - len(flags), len(deleted), tuple(deleted))


def _replace_sql(table: str, stage: str, within: Sequence[str], parent: str | None) -> sql.Composed:
    """Return the DELETE of the rows ``--replace`` removes, returning their codes."""
    names = {"table": sql.Identifier(table), "stage": sql.Identifier(stage)}
    lacking = sql.SQL("NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.code = t.code)").format(**names)
    conditions = [lacking]
    if within:
        mine = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in within)
        theirs = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in within)
        present = sql.SQL(" AND ").join(
            sql.SQL("s.{} IS NOT NULL").format(sql.Identifier(c)) for c in within
        )
        conditions.append(
            sql.SQL("({mine}) IN (SELECT {theirs} FROM {stage} s WHERE {present})").format(
                mine=mine, theirs=theirs, present=present, **names
            )
        )
    if parent is None:
        return sql.SQL("DELETE FROM {table} t WHERE {where} RETURNING t.code").format(
            where=sql.SQL(" AND ").join(conditions), **names
        )
    up = sql.Identifier(parent)
    conditions.append(
        sql.SQL("NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.{up} = t.code)").format(up=up, **names)
    )
    return sql.SQL(
        "WITH RECURSIVE doomed AS ("
        "SELECT t.code FROM {table} t WHERE {where} "
        "UNION SELECT t.code FROM {table} t JOIN doomed d ON t.{up} = d.code WHERE {lacking}) "
        "DELETE FROM {table} t USING doomed d WHERE t.code = d.code RETURNING t.code"
    ).format(where=sql.SQL(" AND ").join(conditions), up=up, lacking=lacking, **names)


def check_deferred_constraints(conn: Connection) -> None:
    """Check the deferred constraints now, as a commit would (for a run rolled back)."""
    conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def _copy_rows(frame: pd.DataFrame) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Return column names and rows ready for COPY (geometry as hex EWKB)."""
    geometry = frame.active_geometry_name if isinstance(frame, gpd.GeoDataFrame) else None
    columns = [c for c in frame.columns if c != geometry]
    data = [[_null_if_missing(v) for v in frame[c].tolist()] for c in columns]
    if geometry is not None:
        geoms = shapely.set_srid(frame.geometry.to_numpy(), 4326)
        columns.append("geom")
        data.append(list(shapely.to_wkb(geoms, hex=True, include_srid=True)))
    return columns, list(zip(*data, strict=True))


def _null_if_missing(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    return value


def bump_version(conn: Connection, layer: str) -> int:
    """Increase the data version of ``layer`` and return the new value; the new version is
    announced (NOTIFY) to every listening server when the transaction commits."""
    version = int(
        conn.execute(
            text(
                "INSERT INTO layer_versions (layer, version) VALUES (:layer, 1) "
                "ON CONFLICT (layer) DO UPDATE SET version = layer_versions.version + 1, "
                "updated_at = now() RETURNING version"
            ),
            {"layer": layer},
        ).scalar_one()
    )
    notify_version(conn, layer, version)
    return version


def layer_version(conn: Connection, layer: str) -> int:
    """Return the data version of ``layer`` (0 if it was never written)."""
    value = conn.execute(
        text("SELECT version FROM layer_versions WHERE layer = :layer"), {"layer": layer}
    ).scalar()
    return int(value or 0)
