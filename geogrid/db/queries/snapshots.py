"""Read whole layers as GeoDataFrames for the in-memory indexes (EPSG:4326).

The workspace builds its indexes from these snapshots and rebuilds them when
:func:`layer_versions` reports a newer data version.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

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
    """Return every grid: code, name, level, parent_code, population, households."""
    return _read(
        conn,
        "SELECT code, name, level, parent_code, population, households, geom "
        'FROM grids ORDER BY code COLLATE "C"',
    )


def read_grids_since(
    conn: Connection, known: Mapping[str, str]
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Return every grid as :func:`read_grids` does, and each one's row version; the
    geometry is read only for the grids not in ``known`` (code → row version) at that
    version, and is None for the others (the caller has it).

    The row version is the row's ``xmin``, the transaction that wrote it: any write of
    the row (an edit, a load, an update by hand) gives a new one. One statement, so
    the versions and the rows are of the same moment.
    """
    frame = gpd.read_postgis(
        text(
            "SELECT g.code, g.name, g.level, g.parent_code, g.population, g.households, "
            "g.xmin::text AS row_version, "
            "CASE WHEN k.code IS NULL THEN g.geom END AS geom "
            "FROM grids g LEFT JOIN unnest(CAST(:codes AS text[]), CAST(:versions AS text[])) "
            "AS k(code, version) ON k.code = g.code AND k.version = g.xmin::text "
            'ORDER BY g.code COLLATE "C"'
        ),
        conn,
        geom_col="geom",
        crs=4326,
        params={"codes": list(known), "versions": list(known.values())},
    )
    versions = pd.Series(frame.pop("row_version").to_numpy(), index=frame["code"].to_numpy())
    return frame, versions


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
