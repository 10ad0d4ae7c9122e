"""Two API servers on one primary and one streaming replica (two real PostgreSQL clusters
this test starts: initdb, then ``pg_basebackup -R``).

Server A and server B both read their indexes on the replica and write on the primary.
Their data versions are re-read only once a minute (``cache_check_interval_s=60``), so
what makes B see A's edit is the primary's NOTIFY, not polling. While the replica's replay
is paused, A still reads its own write (on the primary) and B does not see it yet (it reads
the replica); an edit with the replica running reaches B within 2 s.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid.api.app import create_app
from geogrid.db.bootstrap import prepare_database
from geogrid.db.cluster import EmbeddedCluster
from geogrid.db.engine import create_geogrid_engine
from geogrid.ingest.load import load_files
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.credentials import issue_key
from tests.conftest import small_county

pytestmark = pytest.mark.db

POINT = {"lon": 120.555, "lat": 27.515}  # in village C-002-001 (丙村), micro C-002-001-01
VILLAGE = "/collections/grids/items/C-002-001"


@dataclass
class Pair:
    primary: EmbeddedCluster
    replica: EmbeddedCluster
    primary_engine: Engine
    replica_engine: Engine
    folder: Path

    def replica_sql(self, statement: str) -> object:
        url = self.replica.url("geogrid").replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(statement).fetchone()

    def caught_up(self, timeout_s: float = 20.0) -> None:
        """Wait until the replica has replayed everything the primary wrote so far."""
        with self.primary_engine.connect() as conn:
            lsn = conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            row = self.replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn")
            if row and row[0]:
                return
            time.sleep(0.05)
        raise AssertionError("the replica did not catch up")


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    folder = Path(tempfile.mkdtemp(prefix="geogrid-replica-"))
    folder.chmod(0o755)  # the postgres user must reach it when tests run as root
    primary = EmbeddedCluster(folder / "primary", port=55461, fast=True)
    replica: EmbeddedCluster | None = None
    engines: list[Engine] = []
    try:
        primary.start()
        with psycopg.connect(
            primary.url("postgres").replace("postgresql+psycopg", "postgresql"), autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE geogrid TEMPLATE template0 ENCODING 'UTF8'")
        prepare_database(Settings(home=folder, database_url=primary.url("geogrid")))
        primary_engine = create_geogrid_engine(primary.url("geogrid"))
        engines.append(primary_engine)
        data = folder / "data"
        data.mkdir()
        load_files(primary_engine, small_county(data))
        replica = primary.replicate_to(folder / "replica", port=55462)
        replica.start()
        replica_engine = create_geogrid_engine(replica.url("geogrid"))
        engines.append(replica_engine)
        yield Pair(primary, replica, primary_engine, replica_engine, folder)
    finally:
        for engine in engines:
            engine.dispose()
        for cluster in (replica, primary):
            if cluster is not None:
                cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def server(pair: Pair, key: str) -> TestClient:
    """An API server reading on the replica, writing on the primary, listening."""
    settings = Settings(
        home=pair.folder,
        database_url=pair.primary.url("geogrid"),
        database_read_url=pair.replica.url("geogrid"),
        cache_check_interval_s=60,
        warm_up=False,
    )
    workspace = Workspace(pair.primary_engine, settings, read_engine=pair.replica_engine)
    return TestClient(create_app(settings, workspace=workspace), headers={"Authorization": key})


def village_name(client: TestClient) -> str:
    answer = client.get("/locate", params=POINT)
    assert answer.status_code == 200, answer.text
    return next(g["name"] for g in answer.json()["chain"] if g["level"] == "village")


def rename(client: TestClient, name: str) -> None:
    etag = client.get(VILLAGE).headers["ETag"]
    changed = client.patch(
        VILLAGE, json={"type": "Feature", "properties": {"name": name}}, headers={"If-Match": etag}
    )
    assert changed.status_code == 200, changed.text


def test_the_replica_is_a_streaming_standby(pair: Pair) -> None:
    assert pair.replica_sql("SELECT pg_is_in_recovery()") == (True,)
    with pair.primary_engine.connect() as conn:
        senders = conn.execute(text("SELECT count(*) FROM pg_stat_replication")).scalar_one()
    assert senders == 1
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        pair.replica_sql("CREATE TABLE nope (x int)")


def test_two_servers_see_an_edit_and_read_their_own_writes(pair: Pair) -> None:
    key = "Bearer " + issue_key(Workspace(pair.primary_engine), "planner", "planner").key
    pair.caught_up()  # the key is on the replica, where the servers read credentials
    with server(pair, key) as a, server(pair, key) as b:  # lifespan: both LISTEN
        for client in (a, b):
            assert client.app.state.workspace.wait_listening(10)
            assert village_name(client) == "丙村"

        # the replica stops replaying: A must read its write on the primary, B cannot see it
        pair.replica_sql("SELECT pg_wal_replay_pause()")
        try:
            rename(a, "丙甲村")
            assert village_name(a) == "丙甲村"  # read-your-write, at once
            time.sleep(1.0)
            assert village_name(b) == "丙村"  # B reads the (paused) replica
            with pair.replica_engine.connect() as conn:
                on_replica = conn.execute(
                    text("SELECT name FROM grids WHERE code = 'C-002-001'")
                ).scalar_one()
            assert on_replica == "丙村"
        finally:
            pair.replica_sql("SELECT pg_wal_replay_resume()")
        deadline = time.monotonic() + 2.0
        while village_name(b) != "丙甲村":
            assert time.monotonic() < deadline, "B did not see the edit within 2 s of replay"
            time.sleep(0.05)

        # with the replica streaming, an edit on A reaches B within 2 s (NOTIFY, not polling)
        started = time.monotonic()
        rename(a, "丙乙村")
        assert village_name(a) == "丙乙村"
        while village_name(b) != "丙乙村":
            assert time.monotonic() - started < 2.0, "B did not see the edit within 2 s"
            time.sleep(0.05)
        seen_after = time.monotonic() - started
        # and the other way round
        rename(b, "丙丙村")
        assert village_name(b) == "丙丙村"
        while village_name(a) != "丙丙村":
            assert time.monotonic() - started - seen_after < 2.5, "A did not see B's edit"
            time.sleep(0.05)
