"""The gazetteer county by county: each county's data version and its addresses.

``address_county_versions`` (migration 0014) holds a version per county text (``''`` for
addresses without one), bumped by statement triggers on every insert, update, delete or
truncate of ``addresses``: an API worker that matches addresses county by county rebuilds
only the counties whose addresses changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
from sqlalchemy import Connection, bindparam, text

__all__ = ["address_county_versions", "read_addresses_by_code", "read_county_addresses"]

_COLUMNS = "code, full_text, county, town, village, road, number, building, unit, room, geom"


def address_county_versions(conn: Connection) -> dict[str, int]:
    """Return the data version of every county text of the gazetteer (``''``: none)."""
    rows = conn.execute(text("SELECT county, version FROM address_county_versions")).all()
    return {str(county): int(version) for county, version in rows}


def read_county_addresses(conn: Connection, counties: Sequence[str]) -> gpd.GeoDataFrame:
    """Return the addresses whose county text is one of ``counties`` (``''`` for none),
    in code order, as :func:`~geogrid.db.queries.snapshots.read_addresses` does."""
    statement = text(
        f"SELECT {_COLUMNS} FROM addresses WHERE coalesce(county, '') IN :counties ORDER BY code"
    ).bindparams(bindparam("counties", expanding=True))
    return gpd.read_postgis(
        statement, conn, geom_col="geom", crs=4326, params={"counties": list(counties)}
    ).rename_geometry("geometry")


def read_addresses_by_code(conn: Connection, codes: Sequence[str]) -> gpd.GeoDataFrame:
    """Return the addresses with these codes (the ones operators' corrections name)."""
    statement = text(
        f"SELECT {_COLUMNS} FROM addresses WHERE code IN :codes ORDER BY code"
    ).bindparams(bindparam("codes", expanding=True))
    return gpd.read_postgis(
        statement, conn, geom_col="geom", crs=4326, params={"codes": list(codes) or [""]}
    ).rename_geometry("geometry")
