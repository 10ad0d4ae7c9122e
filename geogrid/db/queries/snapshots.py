"""Read whole layers as GeoDataFrames for the in-memory indexes (EPSG:4326).

The workspace builds its indexes from these snapshots and rebuilds them when
:func:`layer_versions` reports a newer data version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geogrid.crs import WGS84_CRS

__all__ = [
    "layer_versions",
    "read_addresses",
    "read_checkpoints",
    "read_grid_workers",
    "read_grids",
    "read_grids_since",
    "read_isolation_sites",
]


def _read(conn: Connection, sql: str) -> gpd.GeoDataFrame:
    return gpd.read_postgis(text(sql), conn, geom_col="geom", crs=4326)


def read_grids(conn: Connection) -> gpd.GeoDataFrame:
    """Return every grid: code, name, level, parent_code, population, households (as
    floats, NaN where unknown: the dtypes of :func:`read_grids_since`)."""
    grids = _read(
        conn,
        "SELECT code, name, level, parent_code, population, households, geom "
        'FROM grids ORDER BY code COLLATE "C"',
    )
    return grids.astype({"population": float, "households": float})


KnownGrids = Mapping[str, tuple[str, shapely.Geometry]]
"""Grids read before: code → (row version, geometry)."""


def read_grids_since(
    conn: Connection, known: KnownGrids
) -> tuple[gpd.GeoDataFrame, dict[str, tuple[str, shapely.Geometry]]]:
    """Return every grid as :func:`read_grids` does, reading the geometry only of the
    grids not in ``known`` at their row version (the others keep the known geometry
    object); and the grids as known now, for the next call.

    The row version is the row's ``xmin``, the transaction that wrote it: any write of
    the row (an edit, a load, an update by hand) gives a new one. One statement, so
    the versions and the rows are of the same moment. The versions go as one JSON
    parameter, the rows come back as tuples: for a grid edit this costs a few
    milliseconds, where pandas' SQL reader and two text arrays of a county's codes cost
    more than the statement.
    """
    versions = json.dumps({code: version for code, (version, _) in known.items()})
    rows = conn.execute(
        text(
            "SELECT g.code, g.name, g.level, g.parent_code, g.population, g.households, "
            "g.xmin::text, CASE WHEN k.code IS NULL THEN ST_AsBinary(g.geom) END "
            "FROM grids g LEFT JOIN jsonb_each_text(CAST(:known AS jsonb)) AS k(code, version) "
            "ON k.code = g.code AND k.version = g.xmin::text "
            'ORDER BY g.code COLLATE "C"'
        ),
        {"known": versions},
    ).all()
    code, name, level, parent, population, households, version, wkb = (
        (list(column) for column in zip(*rows, strict=True)) if rows else ([] for _ in range(8))
    )
    geoms = shapely.from_wkb(np.array(wkb, dtype=object))
    for i in np.flatnonzero(shapely.is_missing(geoms)):
        geoms[i] = known[code[i]][1]
    frame = gpd.GeoDataFrame(
        {
            "code": pd.array(code, dtype="str"),
            "name": pd.array(name, dtype="str"),
            "level": pd.array(level, dtype="str"),
            "parent_code": pd.array(parent, dtype="str"),
            "population": np.array(population, dtype=float),
            "households": np.array(households, dtype=float),
            "geom": gpd.GeoSeries(geoms, crs=WGS84_CRS),
        },
        geometry="geom",
    )
    return frame, dict(zip(code, zip(version, geoms, strict=True), strict=True))


def read_addresses(conn: Connection) -> gpd.GeoDataFrame:
    """Return the standard-address gazetteer with its parsed components."""
    return _read(
        conn,
        "SELECT code, full_text, county, town, village, road, number, building, unit, room, "
        "geom FROM addresses ORDER BY code",
    )


def read_checkpoints(conn: Connection) -> gpd.GeoDataFrame:
    """Return every checkpoint (active and closed)."""
    return _read(
        conn, "SELECT code, name, kind, status, staff, geom FROM checkpoints ORDER BY code"
    )


def read_isolation_sites(conn: Connection) -> gpd.GeoDataFrame:
    """Return every isolation site with its capacity and accepted risk classes."""
    return _read(
        conn,
        "SELECT code, name, kind, capacity, occupied, risk_classes, address, geom "
        "FROM isolation_sites ORDER BY code",
    )


def read_grid_workers(conn: Connection) -> pd.DataFrame:
    """Return grid workers (personal data: the caller masks what it may not show)."""
    return pd.read_sql(
        text("SELECT code, name, phone, grid_code FROM grid_workers ORDER BY code"), conn
    )


def layer_versions(conn: Connection) -> dict[str, int]:
    """Return the data version of every layer that was ever written."""
    rows = conn.execute(text("SELECT layer, version FROM layer_versions")).all()
    return {layer: int(version) for layer, version in rows}
