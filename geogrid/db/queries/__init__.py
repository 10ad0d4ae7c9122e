"""Queries by concept; hand-written PostGIS SQL lives in ``geogrid/db/sql/*.sql``."""

from __future__ import annotations

from functools import cache
from importlib import resources

from sqlalchemy import TextClause, text

__all__ = ["sql_file"]


@cache
def sql_file(name: str) -> TextClause:
    """Return the statement in ``geogrid/db/sql/<name>.sql``."""
    return text(resources.files("geogrid.db").joinpath("sql", f"{name}.sql").read_text("utf-8"))
