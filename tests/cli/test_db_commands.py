"""``geogrid db url [--libpq]`` and ``geogrid db status`` on the test cluster.

The ``--libpq`` output is handed to the real ``psql``, which must connect with it; the
plain output must stay the SQLAlchemy URL the engine takes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.settings import get_settings
from tests.cli.test_startup import heavy_loaded, run_cli

if TYPE_CHECKING:
    from tests.conftest import TestServer

runner = CliRunner()
PSQL = shutil.which("psql") or "/usr/bin/psql"
EMBEDDED = pytest.mark.skipif(
    bool(os.environ.get("GEOGRID_TEST_DATABASE_URL")),
    reason="the suite runs on an external server, not on geogrid's own cluster",
)


def run_psql(url: str, sql: str) -> subprocess.CompletedProcess[str]:
    """Run ``sql`` with psql on ``url`` (no psqlrc, no PG* variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(
        [PSQL, "-X", "-v", "ON_ERROR_STOP=1", "-tA", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def psql(url: str, sql: str) -> str:
    """Return what psql prints for ``sql`` on ``url``; it must succeed."""
    result = run_psql(url, sql)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def url_printed(*args: str) -> str:
    result = runner.invoke(app, ["db", "url", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.fixture
def embedded_settings(
    pg_server: TestServer, empty_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Point the CLI at the test cluster as its embedded cluster; yield the database name."""
    assert empty_db.url.database is not None
    monkeypatch.delenv("GEOGRID_DATABASE_URL", raising=False)
    monkeypatch.setenv("GEOGRID_HOME", str(pg_server.home))
    monkeypatch.setenv("GEOGRID_PG_PORT", "55432")
    monkeypatch.setenv("GEOGRID_DATABASE_NAME", empty_db.url.database)
    get_settings.cache_clear()
    yield empty_db.url.database
    get_settings.cache_clear()


@EMBEDDED
def test_psql_connects_with_the_libpq_url_of_the_embedded_cluster(
    embedded_settings: str,
) -> None:
    libpq = url_printed("--libpq")
    assert libpq.startswith("postgresql://postgres@/")
    assert psql(libpq, "SELECT 1") == "1"
    assert psql(libpq, "SELECT current_database()") == embedded_settings
    plain = url_printed()
    assert plain.startswith("postgresql+psycopg://")
    engine = create_engine(plain)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == embedded_settings
    finally:
        engine.dispose()


def test_psql_connects_with_the_libpq_url_of_database_url(
    empty_db: Engine, cli_database: Callable[[str], None]
) -> None:
    cli_database(empty_db.url.render_as_string(False))
    plain = url_printed()
    assert plain == empty_db.url.render_as_string(False)
    libpq = url_printed("--libpq")
    assert libpq.startswith("postgresql://")
    assert psql(libpq, "SELECT 1") == "1"
    assert psql(libpq, "SELECT current_database()") == empty_db.url.database
    # why --libpq exists: psql takes the SQLAlchemy URL for a database name and fails
    assert run_psql(plain, "SELECT 1").returncode != 0


@EMBEDDED
def test_db_status_of_the_running_cluster_loads_nothing_heavy(pg_server: TestServer) -> None:
    env = {"GEOGRID_HOME": str(pg_server.home), "GEOGRID_PG_PORT": "55432"}
    output, status, modules = run_cli("db", "status", env=env)
    assert status == 0, output
    assert output.strip() == (
        f"running: cluster in {pg_server.home / 'postgres'}, "
        f"socket {pg_server.home / 'postgres' / 'run'} port 55432"
    )
    assert not heavy_loaded(modules), heavy_loaded(modules)
