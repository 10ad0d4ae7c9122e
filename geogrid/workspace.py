"""One object that joins the database and the pure spatial core, and holds the caches.

The API, the CLI, notebooks and map printing all go through a :class:`Workspace`: it
reads snapshots from PostGIS (``geogrid.db``), builds in-memory indexes from them
(``geogrid.spatial``) and rebuilds those when a layer's data version changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from geogrid.db.engine import get_engine
from geogrid.db.models import LAYER_TABLES
from geogrid.db.queries.health import database_versions, layer_counts
from geogrid.errors import DatabaseUnavailableError
from geogrid.settings import Settings, get_settings

__all__ = ["Workspace"]


class Workspace:
    """geogrid's data and answers, for one database.

    Examples
    --------
    >>> ws = Workspace.open()          # doctest: +SKIP
    >>> ws.layer_counts()["grids"]     # doctest: +SKIP
    3391
    """

    def __init__(self, engine: Engine, settings: Settings | None = None) -> None:
        self.engine = engine
        self.settings = settings or get_settings()

    @classmethod
    def open(cls, settings: Settings | None = None) -> Workspace:
        """Return a workspace on the configured database (embedded unless a URL is set)."""
        settings = settings or get_settings()
        return cls(get_engine(settings), settings)

    def database_versions(self) -> dict[str, str]:
        """Return the PostgreSQL, PostGIS and pgRouting versions."""
        with _database_errors():
            return database_versions(self.engine)

    def layer_counts(self) -> dict[str, Any]:
        """Return the number of rows in every layer."""
        with _database_errors():
            return layer_counts(self.engine, list(LAYER_TABLES))


@contextmanager
def _database_errors() -> Iterator[None]:
    """Turn a lost or refused connection into :class:`DatabaseUnavailableError`."""
    try:
        yield
    except OperationalError as exc:
        raise DatabaseUnavailableError(
            "the database is not reachable right now; try again shortly"
        ) from exc
