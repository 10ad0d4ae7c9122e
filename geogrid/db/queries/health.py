"""What ``/health`` and ``geogrid db status`` report about the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from geogrid.db.cluster import server_version

__all__ = ["database_versions", "layer_counts"]


def database_versions(engine: Engine) -> dict[str, str]:
    """Return the PostgreSQL, PostGIS and pgRouting versions of the database."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT version(), postgis_lib_version(), pgr_version()")).one()
    return {"postgresql": server_version(row[0]), "postgis": row[1], "pgrouting": row[2]}


def layer_counts(engine: Engine, tables: list[str]) -> dict[str, Any]:
    """Return the row count of each table (exact; the tables are county-sized)."""
    with engine.connect() as conn:
        return {
            table: conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
            for table in tables
        }
