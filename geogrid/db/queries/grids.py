"""Questions about particular grids."""

from __future__ import annotations

from sqlalchemy import Connection

from geogrid.db.queries import sql_file

__all__ = ["grid_counts"]


def grid_counts(conn: Connection, codes: list[str]) -> dict[str, dict[str, int]]:
    """Return, per grid code, how many addresses and active checkpoints lie inside it."""
    rows = conn.execute(sql_file("grid_counts"), {"codes": list(codes)}).all()
    return {code: {"addresses": int(a), "checkpoints": int(c)} for code, a, c in rows}
