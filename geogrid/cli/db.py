"""``geogrid db up | down | status | url | migrate``."""

from __future__ import annotations

from geogrid.cli._app import console, db_app, errors_as_messages
from geogrid.db.bootstrap import prepare_database
from geogrid.db.engine import embedded_cluster, get_engine, resolve_url
from geogrid.db.migrate import upgrade
from geogrid.settings import get_settings
from geogrid.workspace import Workspace


@db_app.command()
@errors_as_messages
def up() -> None:
    """Start the embedded PostGIS (or check GEOGRID_DATABASE_URL) and migrate it."""
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
    settings = get_settings()
    if settings.database_url:
        console.print(f"external database: {resolve_url(settings)}")
        return
    console.print(embedded_cluster(settings).status().describe())


@db_app.command()
@errors_as_messages
def url() -> None:
    """Print the SQLAlchemy URL of the database in use."""
    print(resolve_url())


@db_app.command()
@errors_as_messages
def migrate() -> None:
    """Apply the schema migrations (``db up`` does this too)."""
    upgrade(get_engine())
    console.print("schema is up to date")
