"""Read road edges and write their routing topology (pgRouting's columns)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from psycopg import sql
from sqlalchemy import Connection, text

__all__ = ["read_roads", "write_topology"]

ROAD_COLUMNS = (
    "id, code, name, road_class, speed_kmh, oneway, bridge, car, foot, length_m, source, target, "
    "cost, reverse_cost"
)


def read_roads(conn: Connection) -> gpd.GeoDataFrame:
    """Return every road edge with its topology columns, ordered by id, in EPSG:4326."""
    return gpd.read_postgis(
        text(f"SELECT {ROAD_COLUMNS}, geom FROM roads ORDER BY id"),
        conn,
        geom_col="geom",
        crs=4326,
    )


def write_topology(conn: Connection, topology: pd.DataFrame) -> int:
    """Store ``source``, ``target``, ``cost`` and ``reverse_cost`` by road ``id``.

    Only rows whose values differ are written; returns how many changed.
    """
    columns = ["id", "source", "target", "cost", "reverse_cost"]
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE stage_topology (id bigint, source bigint, target bigint, "
            "cost double precision, reverse_cost double precision) ON COMMIT DROP"
        )
        with cur.copy(
            "COPY stage_topology (id, source, target, cost, reverse_cost) FROM STDIN"
        ) as copy:
            for row in topology[columns].itertuples(index=False):
                copy.write_row(
                    (
                        int(row.id),
                        int(row.source),
                        int(row.target),
                        float(row.cost),
                        float(row.reverse_cost),
                    )
                )
        cur.execute(
            sql.SQL(
                "UPDATE roads r SET source = s.source, target = s.target, cost = s.cost, "
                "reverse_cost = s.reverse_cost, updated_at = now() FROM stage_topology s "
                "WHERE r.id = s.id AND (r.source, r.target, r.cost, r.reverse_cost) "
                "IS DISTINCT FROM (s.source, s.target, s.cost, s.reverse_cost)"
            )
        )
        changed = cur.rowcount
        cur.execute("DROP TABLE stage_topology")
    return int(np.int64(changed))
