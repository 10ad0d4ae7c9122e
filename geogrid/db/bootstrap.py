"""Bring a database to a usable state: cluster up, database, extensions, migrations."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from geogrid.db.cluster import PACKAGES_HINT
from geogrid.db.engine import create_geogrid_engine
from geogrid.db.migrate import upgrade
from geogrid.db.urls import embedded_cluster, libpq_url, resolve_url
from geogrid.errors import DatabaseUnavailableError, PostgresNotInstalledError
from geogrid.settings import Settings, get_settings

__all__ = ["EXTENSIONS", "DatabaseReady", "prepare_database"]

EXTENSIONS = ("postgis", "pgrouting", "pg_trgm")


@dataclass(frozen=True)
class DatabaseReady:
    """Where the database lives and what ``prepare_database`` did."""

    url: str
    embedded: bool
    started: bool
    location: str


def prepare_database(settings: Settings | None = None, *, migrate: bool = True) -> DatabaseReady:
    """Start the embedded cluster if it is the one in use, then create what is missing.

    Idempotent: on a ready database it only checks. With ``GEOGRID_DATABASE_URL`` set no
    cluster is ever started.
    """
    settings = settings or get_settings()
    url = resolve_url(settings)
    embedded = not settings.database_url
    started = False
    location = url if not embedded else str(settings.cluster_dir)
    if embedded:
        cluster = embedded_cluster(settings)
        started = cluster.start()
        _create_database(cluster.url("postgres"), settings.database_name)
    engine = create_geogrid_engine(url, settings)
    try:
        _create_extensions(engine)
        if migrate:
            upgrade(engine)
    finally:
        engine.dispose()
    return DatabaseReady(
        url=make_url(url).render_as_string(hide_password=True),
        embedded=embedded,
        started=started,
        location=location,
    )


def _create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                    psycopg.sql.Identifier(name)
                )
            )


def _create_extensions(engine: Engine) -> None:
    try:
        with engine.begin() as conn:
            available = set(
                conn.execute(
                    text("SELECT name FROM pg_available_extensions WHERE name = ANY(:names)"),
                    {"names": list(EXTENSIONS)},
                ).scalars()
            )
            missing = [name for name in EXTENSIONS if name not in available]
            if missing:
                raise PostgresNotInstalledError(
                    f"the PostgreSQL server lacks the extension(s) {', '.join(missing)}; "
                    f"{PACKAGES_HINT}"
                )
            for name in EXTENSIONS:
                conn.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{name}"'))
    except DatabaseUnavailableError as exc:  # translated by the engine (geogrid.db.errors)
        raise DatabaseUnavailableError(f"cannot reach the database: {exc.__cause__}") from exc
