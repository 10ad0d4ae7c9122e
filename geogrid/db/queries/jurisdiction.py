"""A grid worker's jurisdiction in SQL: the grid subtree their reads are limited to.

The subtree of a root grid is the grid and every grid whose code continues it after a
``-`` (codes are hierarchical). Queries that serve a grid worker take ``subtree`` (the
root's code, or None for no limit) and add one of these fragments, bound to ``:root``:

- :data:`GRID_IN_SUBTREE` for rows of ``grids`` (``code`` column);
- :data:`POINT_IN_SUBTREE` for rows with a ``geom`` inside the root grid's area (people,
  addresses): ``ST_Covers`` of the root grid's geometry, so a root that does not exist
  matches nothing.

``starts_with`` rather than ``LIKE :root || '-%'``: ``_`` and ``%`` in a code must not act
as wildcards.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

__all__ = ["GRID_IN_SUBTREE", "POINT_IN_SUBTREE", "grids_in_subtree"]

GRID_IN_SUBTREE = "(code = :root OR starts_with(code, :root || '-'))"
POINT_IN_SUBTREE = "ST_Covers((SELECT g.geom FROM grids g WHERE g.code = :root), geom)"


def grids_in_subtree(conn: Connection, root: str, code_or_name: str) -> list[str]:
    """Return the codes of the grids in ``root``'s subtree with this code or name."""
    rows = conn.execute(
        text(
            f"SELECT code FROM grids WHERE {GRID_IN_SUBTREE} "
            "AND (code = :q OR name = :q) ORDER BY (code = :q) DESC, code"
        ),
        {"root": root, "q": code_or_name},
    ).scalars()
    return list(rows)
