"""The embedded cluster: idempotent start/stop, status, and a clear message when
PostgreSQL is missing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from geogrid.db import cluster as cluster_module
from geogrid.db.cluster import EmbeddedCluster, find_pg_bin
from geogrid.errors import PostgresNotInstalledError


@pytest.mark.db
def test_cluster_lifecycle_is_idempotent() -> None:
    home = Path(tempfile.mkdtemp(prefix="geogrid-cluster-"))
    home.chmod(0o755)
    cluster = EmbeddedCluster(home / "pg", port=55433, fast=True)
    try:
        assert not cluster.status().initialised
        assert cluster.start() is True
        assert cluster.start() is False  # already running: nothing to do
        status = cluster.status()
        assert status.running
        assert str(home / "pg") in status.describe()
        conninfo = make_url(cluster.url("postgres")).set(drivername="postgresql")
        with psycopg.connect(conninfo.render_as_string(False)) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert cluster.stop() is True
        assert cluster.stop() is False
        assert not cluster.status().running
        assert cluster.status().initialised
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


def test_missing_postgres_names_the_packages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cluster_module, "DEBIAN_PG_ROOT", tmp_path / "nothing")
    monkeypatch.setattr(cluster_module.shutil, "which", lambda _name: None)
    with pytest.raises(PostgresNotInstalledError, match="postgresql-15-postgis-3"):
        find_pg_bin(tmp_path)
