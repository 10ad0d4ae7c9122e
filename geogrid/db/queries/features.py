"""Read layers as pages of features: filters, a search area, paging and row versions.

Every function takes the layer's table name and the columns to return; callers pass
names from geogrid's own layer catalogue, never user text. Geometry comes back as WKB in
EPSG:4326. Rows are ordered by ``code`` (byte order), so pages are stable.

Grids can be restricted to a jurisdiction (``subtree``, a grid code): the grid itself, its
descendants (``code`` starting with ``subtree-``) and its ancestors (the codes ``subtree``
starts with, followed by ``-``), so a grid worker sees the chain above their grid and the
tree below it, and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    Text,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import BYTEA, aggregate_order_by

from geogrid.db.models import Base

__all__ = [
    "FeatureRows",
    "count_features",
    "jurisdiction_condition",
    "layer_extent",
    "read_feature",
    "read_features",
    "read_features_geojson",
    "read_layer_geojson",
]


@dataclass(frozen=True)
class FeatureRows:
    """Rows of a layer: property values by column, WKB geometries (EPSG:4326), and (for
    single features) row versions."""

    columns: tuple[str, ...]
    values: list[tuple[Any, ...]]
    wkb: list[bytes]
    versions: list[str]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _row_version(table: Table) -> ColumnElement[str]:
    """Return ``md5`` of the whole row as text: changes whenever any stored value does."""
    return func.md5(cast(literal_column(f'"{table.name}"'), Text)).label("row_version")


def jurisdiction_condition(table: Table, subtree: str) -> ColumnElement[bool]:
    """Return the condition "row ``code`` is in the chain or subtree of grid ``subtree``"."""
    code = table.c.code
    return or_(
        code == subtree,
        code.startswith(subtree + "-", autoescape=True),
        func.starts_with(literal(subtree), code.concat("-")),
    )


def _conditions(
    table: Table,
    *,
    area: shapely.Geometry | None,
    filters: Mapping[str, Any],
    subtree: str | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        table.c[column] == value for column, value in filters.items()
    ]
    if area is not None:
        shape = func.ST_GeomFromWKB(bindparam("area", shapely.to_wkb(area), type_=BYTEA), 4326)
        # && lets the planner use the GiST index; ST_Intersects is the exact test
        conditions.append(table.c.geom.op("&&")(shape))
        conditions.append(func.ST_Intersects(table.c.geom, shape))
    if subtree is not None and table.name == "grids":
        conditions.append(jurisdiction_condition(table, subtree))
    return conditions


def read_features(
    conn: Connection,
    layer: str,
    columns: Sequence[str],
    *,
    area: shapely.Geometry | None = None,
    filters: Mapping[str, Any] | None = None,
    subtree: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> FeatureRows:
    """Return one page of a layer's rows, ordered by code.

    Parameters
    ----------
    conn
        An open connection.
    layer
        The table.
    columns
        Property columns to return (``code`` should be one of them).
    area
        Only rows whose geometry intersects this WGS 84 geometry.
    filters
        Equality filters, column -> value.
    subtree
        For grids: only the chain and subtree of this grid code.
    limit, offset
        The page.
    """
    table = _table(layer)
    conditions = _conditions(table, area=area, filters=filters or {}, subtree=subtree)
    order = table.c.code.collate("C")
    # the page's ids first: sorting narrow rows is cheap, converting every geometry is not
    page = select(table.c.id).where(*conditions).order_by(order).limit(limit).offset(offset)
    chosen = page.subquery("page")
    statement = (
        select(*(table.c[c] for c in columns), func.ST_AsBinary(table.c.geom).label("wkb"))
        .join_from(table, chosen, table.c.id == chosen.c.id)
        .order_by(order)
    )
    return _feature_rows(columns, conn.execute(statement).all(), with_versions=False)


GEOJSON_DECIMALS = 15
"""Decimals of coordinates written by PostGIS: enough to give back every stored double."""


def read_features_geojson(
    conn: Connection,
    layer: str,
    columns: Sequence[str],
    *,
    area: shapely.Geometry | None = None,
    filters: Mapping[str, Any] | None = None,
    subtree: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, int, str]:
    """Return one page of a layer as GeoJSON Feature texts written by PostgreSQL.

    The same page as :func:`read_features` (same conditions, order and paging) in one
    statement: the rows matched (counted in the same pass as the page, by a window
    function), the features returned, and the features as JSON texts joined by commas
    (each ``{"type":"Feature","id":code,"geometry":...,"properties":{...}}``, WGS 84).
    """
    table = _table(layer)
    conditions = _conditions(table, area=area, filters=filters or {}, subtree=subtree)
    order = table.c.code.collate("C")
    chosen = (
        select(table.c.id, func.count().over().label("matched"))
        .where(*conditions)
        .order_by(order)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    feature = _feature_text(table, columns)
    statement = select(
        func.max(chosen.c.matched),
        func.count(),
        func.string_agg(feature, aggregate_order_by(_sql_text(","), order)),
    ).join_from(table, chosen, table.c.id == chosen.c.id)
    matched, returned, text_ = conn.execute(statement).one()
    if matched is None:  # no row on this page: count them apart (an offset past the end)
        matched = count_features(conn, layer, area=area, filters=filters, subtree=subtree)
    return int(matched), int(returned), text_ or ""


def _feature_text(table: Table, columns: Sequence[str]) -> ColumnElement[str]:
    """Return a row as the text of a GeoJSON Feature (``code`` its id), WGS 84."""
    pairs = [part for c in columns for part in (_sql_text(c), table.c[c])]
    return (
        _sql_text('{"type":"Feature","id":')
        + cast(func.to_json(table.c.code), Text)
        + _sql_text(',"geometry":')
        + func.ST_AsGeoJSON(table.c.geom, GEOJSON_DECIMALS)
        + _sql_text(',"properties":')
        + cast(func.json_build_object(*pairs), Text)
        + _sql_text("}")
    )


def read_layer_geojson(
    conn: Connection, layer: str, columns: Sequence[str]
) -> tuple[list[str], list[bytes], list[bytes]]:
    """Return every row of a layer, ordered by code: the codes, the geometries (WKB) and
    each feature as the GeoJSON text :func:`read_features_geojson` writes (UTF-8).

    The features an in-memory index answers pages from; rows without geometry are
    returned with an empty WKB.
    """
    table = _table(layer)
    statement = select(
        table.c.code,
        func.ST_AsBinary(table.c.geom),
        func.convert_to(_feature_text(table, columns), "UTF8"),
    ).order_by(table.c.code.collate("C"))
    codes: list[str] = []
    wkb: list[bytes] = []
    features: list[bytes] = []
    for code, geometry, feature in conn.execute(statement):
        codes.append(code)
        wkb.append(bytes(geometry) if geometry is not None else b"")
        features.append(bytes(feature) if feature is not None else b"")
    return codes, wkb, features


def _sql_text(value: str) -> ColumnElement[str]:
    """Return a constant text written into the SQL (geogrid's own words, never user text)."""
    assert "'" not in value
    return literal_column(f"'{value}'", Text)


def count_features(
    conn: Connection,
    layer: str,
    *,
    area: shapely.Geometry | None = None,
    filters: Mapping[str, Any] | None = None,
    subtree: str | None = None,
) -> int:
    """Return how many rows :func:`read_features` would page through."""
    table = _table(layer)
    conditions = _conditions(table, area=area, filters=filters or {}, subtree=subtree)
    statement = select(func.count()).select_from(table).where(*conditions)
    return int(conn.execute(statement).scalar_one())


def read_feature(
    conn: Connection,
    layer: str,
    columns: Sequence[str],
    code: str,
    *,
    subtree: str | None = None,
    for_update: bool = False,
) -> FeatureRows:
    """Return the row with ``code`` (zero or one row); ``for_update`` locks it."""
    table = _table(layer)
    conditions = _conditions(table, area=None, filters={"code": code}, subtree=subtree)
    statement = select(
        *(table.c[c] for c in columns),
        func.ST_AsBinary(table.c.geom).label("wkb"),
        _row_version(table),
    ).where(*conditions)
    if for_update:
        statement = statement.with_for_update()
    return _feature_rows(columns, conn.execute(statement).all(), with_versions=True)


def _feature_rows(
    columns: Sequence[str], rows: Sequence[Any], *, with_versions: bool
) -> FeatureRows:
    """Split result rows (the columns, then the WKB, then maybe the version) into FeatureRows."""
    width = len(columns)
    return FeatureRows(
        columns=tuple(columns),
        values=[tuple(row[:width]) for row in rows],
        wkb=[bytes(row[width]) for row in rows],
        versions=[row[width + 1] for row in rows] if with_versions else [],
    )


def layer_extent(conn: Connection, layer: str) -> tuple[float, float, float, float] | None:
    """Return the bounding box of a layer (min lon, min lat, max lon, max lat), None if empty."""
    table = _table(layer)
    extent = func.ST_Extent(table.c.geom).label("extent")
    box = select(extent).select_from(table).subquery()
    row = conn.execute(
        select(
            func.ST_XMin(box.c.extent),
            func.ST_YMin(box.c.extent),
            func.ST_XMax(box.c.extent),
            func.ST_YMax(box.c.extent),
        )
    ).one()
    if row[0] is None:
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
