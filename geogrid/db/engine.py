"""Engines on the database in use: the embedded cluster's, or ``GEOGRID_DATABASE_URL``.

``embedded_cluster`` and ``resolve_url`` live in :mod:`geogrid.db.urls` (no SQLAlchemy
import) and are kept here under their old names.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine

from geogrid.db.errors import translate_engine_errors
from geogrid.db.urls import embedded_cluster, resolve_url, sqlalchemy_url
from geogrid.settings import Settings, get_settings

__all__ = [
    "create_geogrid_engine",
    "embedded_cluster",
    "get_engine",
    "get_read_engine",
    "resolve_url",
]


def create_geogrid_engine(url: str, settings: Settings | None = None) -> Engine:
    """Create an engine with geogrid's pool and session settings.

    Connections are checked before use (``pool_pre_ping``), so the engine recovers by
    itself once a database that went away is back; every statement is bounded by
    ``statement_timeout``. Failures surface as geogrid's errors (``QueryTimeoutError``,
    ``DatabaseUnavailableError``; see :mod:`geogrid.db.errors`), and error messages never
    quote statement parameters (they may carry personal data).
    """
    settings = settings or get_settings()
    engine = create_engine(
        url,
        hide_parameters=True,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": 5,
            "options": f"-c statement_timeout={settings.statement_timeout_ms}",
            "application_name": "geogrid",
        },
    )
    return translate_engine_errors(engine, timeout_ms=settings.statement_timeout_ms)


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    return create_geogrid_engine(url)


def get_engine(settings: Settings | None = None) -> Engine:
    """Return the process-wide engine for the configured database."""
    return _engine_for(resolve_url(settings))


def get_read_engine(settings: Settings | None = None) -> Engine:
    """Return the engine for index reads: on ``GEOGRID_DATABASE_READ_URL`` (a streaming
    replica) when set, else the primary's (:func:`get_engine`)."""
    settings = settings or get_settings()
    if settings.database_read_url:
        return _engine_for(sqlalchemy_url(settings.database_read_url))
    return get_engine(settings)
