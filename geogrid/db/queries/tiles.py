"""Read a layer as one Mapbox Vector Tile of the WebMercatorQuad tile matrix set.

PostGIS builds the tile: ``ST_TileEnvelope`` gives the tile's square in EPSG:3857,
``ST_AsMVTGeom`` clips each geometry to it (plus a buffer) and snaps it to the tile's
integer grid, ``ST_AsMVT`` encodes the rows as one layer. Rows are found through the
GiST index on the stored WGS 84 geometry with the tile's square (and its buffer)
converted to WGS 84, and each is cut to the tile's neighbourhood in WGS 84
(``ST_ClipByBox2D``) before it is projected. The properties are the columns the caller
names (geogrid's own layer catalogue, never user text); the grid jurisdiction is the
same SQL condition as the feature pages'
(:func:`geogrid.db.queries.features.jurisdiction_condition`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    bindparam,
    func,
    literal_column,
    select,
    true,
)

from geogrid.db.models import Base
from geogrid.db.queries.features import jurisdiction_condition

__all__ = ["TILE_BUFFER", "TILE_EXTENT", "read_tile"]

TILE_EXTENT = 4096
"""The tile's integer coordinate space (ST_AsMVT's default)."""
TILE_BUFFER = 64
"""How far (in tile units) geometries reach past the tile's edge, so strokes join."""
CLIP_REACH = TILE_EXTENT / TILE_BUFFER
"""Geometries are cut this many buffers beyond the buffer (one tile width) before they
are projected and clipped by ST_AsMVTGeom."""


def read_tile(
    conn: Connection,
    layer: str,
    columns: Sequence[str],
    z: int,
    x: int,
    y: int,
    *,
    subtree: str | None = None,
) -> bytes:
    """Return the tile ``z/x/y`` of ``layer`` as MVT bytes (empty when nothing is in it).

    Parameters
    ----------
    conn
        An open connection.
    layer
        The table, also the name of the tile's one layer.
    columns
        The columns to carry as feature properties.
    z, x, y
        The tile (zoom, column, row from the top-left), already checked to exist.
    subtree
        For grids: only the chain and subtree of this grid code.
    """
    statement = _tile_statement(layer, tuple(columns), subtree)
    value = conn.execute(statement, {"z": z, "x": x, "y": y}).scalar_one()
    return bytes(value) if value is not None else b""


@lru_cache(maxsize=64)
def _tile_statement(layer: str, columns: tuple[str, ...], subtree: str | None) -> Select[Any]:
    """Build (once per layer, columns and jurisdiction) the tile's statement."""
    table = Base.metadata.tables[layer]
    zxy = [bindparam(k, type_=Integer) for k in ("z", "x", "y")]
    square = func.ST_TileEnvelope(*zxy)
    margin = (func.ST_XMax(square) - func.ST_XMin(square)) * (TILE_BUFFER / TILE_EXTENT)
    search = func.ST_Transform(func.ST_Expand(square, margin), 4326)
    # Cut each geometry to the tile's neighbourhood before projecting it: a town's outline
    # crosses many tiles, and projecting all its vertices for each one was most of the
    # work. The cut lies a tile's width beyond the buffer, where ST_AsMVTGeom clips: a
    # segment reaching from the tile past it (longer than a tile) is the only one whose
    # clipped end might move, by a rounding of the projection.
    reach = func.ST_Transform(func.ST_Expand(square, margin + CLIP_REACH * margin), 4326)
    clipped = func.ST_ClipByBox2D(table.c.geom, func.Box2D(reach))
    shape = func.ST_AsMVTGeom(
        func.ST_Transform(clipped, 3857), square, TILE_EXTENT, TILE_BUFFER, true()
    )
    conditions: list[ColumnElement[bool]] = [table.c.geom.op("&&")(search)]
    if subtree is not None and layer == "grids":
        conditions.append(jurisdiction_condition(table, subtree))
    rows = (
        select(shape.label("mvt_geom"), *(table.c[c] for c in columns))
        .where(*conditions)
        .subquery("tile_rows")
    )
    return (
        select(
            func.ST_AsMVT(
                literal_column("tile_rows"),
                bindparam("layer", layer),
                TILE_EXTENT,
                "mvt_geom",
            )
        )
        .select_from(rows)
        .where(rows.c.mvt_geom.is_not(None))
    )
