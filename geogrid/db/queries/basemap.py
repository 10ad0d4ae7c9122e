"""The offline base map's data: roads, water and house numbers inside a box, from PostGIS.

Roads and water are clipped to the box in the database, so a map or a sheet embeds only
what it shows.
"""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import Connection

from geogrid.db.queries import sql_file

__all__ = ["read_base_addresses", "read_base_roads", "read_base_water"]

Box = tuple[float, float, float, float]


def _box(bounds: Box) -> dict[str, float]:
    west, south, east, north = (float(v) for v in bounds)
    return {"west": west, "south": south, "east": east, "north": north}


def read_base_roads(conn: Connection, bounds: Box) -> gpd.GeoDataFrame:
    """Return the roads inside ``bounds`` (lon/lat), clipped to it: ``name``,
    ``road_class``, ``bridge`` and one LineString per part (EPSG:4326)."""
    return gpd.read_postgis(
        sql_file("base_roads"), conn, params=_box(bounds), geom_col="geom", crs=4326
    )


def read_base_water(conn: Connection, bounds: Box) -> gpd.GeoDataFrame:
    """Return the water polygons inside ``bounds``, clipped to it: ``name`` and geometry."""
    return gpd.read_postgis(
        sql_file("base_water"), conn, params=_box(bounds), geom_col="geom", crs=4326
    )


def read_base_addresses(conn: Connection, bounds: Box, limit: int) -> gpd.GeoDataFrame:
    """Return up to ``limit + 1`` addresses with a house number inside ``bounds``:
    ``road``, ``number`` and the point (more than ``limit`` rows: there were too many)."""
    params = {**_box(bounds), "limit": int(limit)}
    return gpd.read_postgis(
        sql_file("base_addresses"), conn, params=params, geom_col="geom", crs=4326
    )
