"""``geogrid db up | down | status | url | migrate``.

``status``, ``url`` and ``down`` need only the settings and the cluster folder: they import
neither SQLAlchemy nor the spatial stack, so they answer in well under a second.
"""

from __future__ import annotations

from typing import Annotated

import typer

from geogrid.cli._app import console, db_app, errors_as_messages


@db_app.command()
@errors_as_messages
def up() -> None:
    """Start the embedded PostGIS (or check GEOGRID_DATABASE_URL) and migrate it."""
    from geogrid.db.bootstrap import prepare_database
    from geogrid.workspace import Workspace

    ready = prepare_database()
    if ready.embedded:
        verb = "started" if ready.started else "already running"
        console.print(f"embedded PostGIS {verb}: {ready.location}")
    else:
        console.print(f"using the database at {ready.url}")
    versions = Workspace.open().database_versions()
    console.print(", ".join(f"{name} {version}" for name, version in versions.items()))


@db_app.command()
@errors_as_messages
def down() -> None:
    """Stop the embedded cluster (nothing happens with GEOGRID_DATABASE_URL)."""
    from geogrid.db.urls import embedded_cluster
    from geogrid.settings import get_settings

    settings = get_settings()
    if settings.database_url:
        console.print("GEOGRID_DATABASE_URL is set: geogrid runs no cluster of its own")
        return
    stopped = embedded_cluster(settings).stop()
    console.print("stopped" if stopped else "not running")


@db_app.command()
@errors_as_messages
def status() -> None:
    """Say where the database lives and whether it runs."""
    from geogrid.db.urls import embedded_cluster, password_hidden, resolve_url
    from geogrid.settings import get_settings

    settings = get_settings()
    if settings.database_url:
        console.print(f"external database: {password_hidden(resolve_url(settings))}")
        return
    console.print(embedded_cluster(settings).status().describe())


@db_app.command()
@errors_as_messages
def url(
    libpq: Annotated[
        bool,
        typer.Option(
            "--libpq",
            help="Print the libpq URI (postgresql://…) that psql, pg_dump and psycopg take.",
        ),
    ] = False,
) -> None:
    """Print the URL of the database in use: SQLAlchemy's form (for create_engine and
    notebooks), or with --libpq the form psql takes (``psql "$(geogrid db url --libpq)"``)."""
    from geogrid.db.urls import libpq_url, resolve_url

    found = resolve_url()
    print(libpq_url(found) if libpq else found)


@db_app.command()
@errors_as_messages
def migrate() -> None:
    """Apply the schema migrations (``db up`` does this too)."""
    from geogrid.db.engine import get_engine
    from geogrid.db.migrate import upgrade

    upgrade(get_engine())
    console.print("schema is up to date")
