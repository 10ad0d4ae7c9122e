"""Test fixtures: a real PostGIS cluster, started once per test session.

Tests marked ``db`` get it. The suite starts geogrid's own embedded cluster in a temporary
folder (as the ``postgres`` user when run as root), creates a migrated, empty template
database, and a database loaded with the demo data. Tests that write get a fresh copy of
the template, so they never see each other's rows.

Set ``GEOGRID_TEST_DATABASE_URL`` (a superuser URL) to use an existing server instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import hypothesis
import pandas as pd
import psycopg
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from geogrid.api.app import create_app
from geogrid.db.bootstrap import prepare_database
from geogrid.db.cluster import EmbeddedCluster
from geogrid.db.engine import create_geogrid_engine
from geogrid.ingest.load import LoadRequest, load_files
from geogrid.settings import Settings
from geogrid.workspace import Workspace

# Property tests draw the same examples on every run by default, so a red CI run can be
# repeated; `pytest --hypothesis-profile=explore` draws fresh random examples.
hypothesis.settings.register_profile("repeatable", derandomize=True, print_blob=True)
hypothesis.settings.register_profile("explore", print_blob=True)
hypothesis.settings.load_profile("repeatable")

TEMPLATE = "geogrid_template"
DEMO = "geogrid_demo"


@dataclass
class TestServer:
    """A PostgreSQL server the tests may create databases on."""

    admin_url: str  # SQLAlchemy URL of a maintenance database
    home: Path

    def url(self, database: str) -> str:
        """Return the SQLAlchemy URL of ``database`` on this server."""
        return make_url(self.admin_url).set(database=database).render_as_string(False)

    def execute(self, statement: str) -> None:
        """Run one statement outside a transaction on the maintenance database."""
        conninfo = make_url(self.admin_url).set(drivername="postgresql")
        with psycopg.connect(conninfo.render_as_string(False), autocommit=True) as conn:
            conn.execute(statement)

    def settings(self, database: str) -> Settings:
        """Return settings that point geogrid at ``database``."""
        return Settings(home=self.home, database_url=self.url(database))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TestServer]:
    """Start (or reach) the PostgreSQL server for the whole session."""
    home = Path(tempfile.mkdtemp(prefix="geogrid-test-"))
    home.chmod(0o755)  # the postgres user must reach it when tests run as root
    external = os.environ.get("GEOGRID_TEST_DATABASE_URL")
    cluster = None
    try:
        if external:
            server = TestServer(admin_url=external, home=home)
        else:
            cluster = EmbeddedCluster(home / "postgres", port=55432, fast=True)
            cluster.start()
            server = TestServer(admin_url=cluster.url("postgres"), home=home)
        server.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        server.execute(f"CREATE DATABASE \"{TEMPLATE}\" TEMPLATE template0 ENCODING 'UTF8'")
        prepare_database(server.settings(TEMPLATE))
        yield server
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


_counter = itertools.count()


@contextmanager
def database_copy(pg_server: TestServer, template: str) -> Iterator[Engine]:
    """Yield an engine on a new copy of database ``template``, dropped afterwards.

    A template may have no other sessions while it is copied: those on it are ended
    first (tests hold pooled connections to the demo database).
    """
    name = f"geogrid_t{os.getpid()}_{next(_counter)}"
    for attempt in range(5):
        pg_server.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{template}' AND pid <> pg_backend_pid()"
        )
        try:
            pg_server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            break
        except psycopg.Error:
            if attempt == 4:
                raise
            time.sleep(0.5)
    engine = create_geogrid_engine(pg_server.url(name))
    try:
        yield engine
    finally:
        engine.dispose()
        pg_server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_db(pg_server: TestServer) -> Iterator[Engine]:
    """Return an engine on a fresh, migrated, empty database (dropped afterwards)."""
    with database_copy(pg_server, TEMPLATE) as engine:
        yield engine


@pytest.fixture(scope="session")
def demo_db(pg_server: TestServer) -> Iterator[Engine]:
    """Return an engine on a database loaded with the demo data (read-only for tests)."""
    from geogrid.ingest.demo import demo_requests
    from geogrid.ingest.load import load_files

    pg_server.execute(f'DROP DATABASE IF EXISTS "{DEMO}" WITH (FORCE)')
    pg_server.execute(f'CREATE DATABASE "{DEMO}" TEMPLATE "{TEMPLATE}"')
    engine = create_geogrid_engine(pg_server.url(DEMO))
    load_files(engine, demo_requests())
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def demo_workspace(demo_db: Engine) -> Workspace:
    """Return a workspace on the demo database (indexes kept for the module)."""
    return Workspace(demo_db, Settings(cache_check_interval_s=60))


DEMO_WORKER_GRID = "330326-101-022"  # the demo village with the most people waiting


def bearer(key: str) -> dict[str, str]:
    """Return the header that sends an API key."""
    return {"Authorization": f"Bearer {key}"}


def api_key(engine: Engine, role: str, grid_code: str | None = None) -> str:
    """Create an API key on ``engine``'s database (through the real queries); return it."""
    from geogrid.workspace.credentials import issue_key

    name = f"test {role} {next(_counter)}"
    return issue_key(Workspace(engine), name, role, grid_code).key


@pytest.fixture(scope="session")
def demo_keys(demo_db: Engine) -> dict[str, str]:
    """Return one API key per role on the demo database (the grid worker's jurisdiction
    is :data:`DEMO_WORKER_GRID`)."""
    from geogrid.access import Role

    return {
        role.value: api_key(
            demo_db, role.value, DEMO_WORKER_GRID if role == "grid_worker" else None
        )
        for role in Role
    }


@pytest.fixture(scope="module")
def demo_app(demo_workspace: Workspace, demo_keys: dict[str, str]) -> FastAPI:
    """Return the API application on the demo workspace (its keys made first)."""
    return create_app(Settings(warm_up=False), workspace=demo_workspace)


@pytest.fixture(scope="module")
def demo_client(demo_app: FastAPI, demo_keys: dict[str, str]) -> TestClient:
    """Return an API client on the demo workspace that sends the admin's key."""
    return TestClient(demo_app, headers=bearer(demo_keys["admin"]))


@pytest.fixture(scope="module")
def demo_client_as(
    demo_app: FastAPI, demo_keys: dict[str, str]
) -> Callable[[str | None], TestClient]:
    """Return a function giving an API client that sends the key of a role (None: no key)."""

    def client(role: str | None) -> TestClient:
        return TestClient(demo_app, headers=bearer(demo_keys[role]) if role else None)

    return client


@pytest.fixture
def demo_settings(pg_server: TestServer, demo_db: Engine) -> Settings:
    """Return settings pointing at the demo database."""
    return pg_server.settings(DEMO)


X0, Y0 = 120.50, 27.50


def county_box(x0: float, y0: float, x1: float, y1: float) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)])


def small_county(folder: Path) -> list[LoadRequest]:
    """A county of 2 towns × 2 villages × 2 micro-grids, an industry park, workers and
    addresses, written as files the loader reads."""
    rows = [("C", "平阳县", "county", None, county_box(0, 0, 0.08, 0.04))]
    for t in range(2):
        town = f"C-{t + 1:03d}"
        rows.append(
            (
                town,
                ["鳌江镇", "昆阳镇"][t],
                "town",
                "C",
                county_box(0.04 * t, 0, 0.04 * (t + 1), 0.04),
            )
        )
        for v in range(2):
            village = f"{town}-{v + 1:03d}"
            x = 0.04 * t + 0.02 * v
            rows.append(
                (
                    village,
                    f"{'甲乙丙丁'[2 * t + v]}村",
                    "village",
                    town,
                    county_box(x, 0, x + 0.02, 0.04),
                )
            )
            for m in range(2):
                rows.append(
                    (
                        f"{village}-{m + 1:02d}",
                        f"{'甲乙丙丁'[2 * t + v]}村第{m + 1}微网格",
                        "micro",
                        village,
                        county_box(x, 0.02 * m, x + 0.02, 0.02 * (m + 1)),
                    )
                )
    rows.append(("C-I01", "工业园区", "industry", "C", county_box(0.01, 0.01, 0.03, 0.03)))
    grids = gpd.GeoDataFrame(
        rows, columns=["code", "name", "level", "parent_code", "geometry"], crs=4326
    )
    grids.to_file(folder / "grids.gpkg")
    villages = grids[grids["level"] == "village"]
    pd.DataFrame(
        {
            "code": [f"W{i}" for i in range(len(villages))],
            "name": [f"网格员{i}" for i in range(len(villages))],
            "phone": [f"1701234{i:04d}" for i in range(len(villages))],
            "grid_code": villages["code"].to_numpy(),
        }
    ).to_csv(folder / "workers.csv", index=False)
    addresses = []
    for (_, village), town in zip(
        villages.iterrows(), ["鳌江镇", "鳌江镇", "昆阳镇", "昆阳镇"], strict=True
    ):
        centre = village.geometry.centroid
        for n in range(1, 6):
            addresses.append(
                {
                    "code": f"{village['code']}-A{n}",
                    "full_text": f"平阳县{town}{village['name']}工业路{n * 2}号",
                    "county": "平阳县",
                    "town": town,
                    "village": village["name"],
                    "road": "工业路",
                    "number": str(n * 2),
                    "lon": centre.x,
                    "lat": centre.y - 0.015 + n * 0.001,
                }
            )
    pd.DataFrame(addresses).to_csv(folder / "addresses.csv", index=False)
    return [
        LoadRequest(folder / "grids.gpkg", "grids"),
        LoadRequest(folder / "workers.csv", "grid_workers"),
        LoadRequest(folder / "addresses.csv", "addresses"),
    ]


@pytest.fixture
def county_db(empty_db: Engine, tmp_path: Path) -> Engine:
    """Return an engine on a database holding :func:`small_county`."""
    load_files(empty_db, small_county(tmp_path))
    return empty_db


@pytest.fixture
def cli_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Return a function that points the ``geogrid`` CLI (settings, engine) at a URL."""
    from geogrid.db import engine as engine_module
    from geogrid.settings import get_settings

    def forget() -> None:
        get_settings.cache_clear()
        engine_module._engine_for.cache_clear()

    def use(url: str) -> None:
        monkeypatch.setenv("GEOGRID_DATABASE_URL", url)
        forget()

    yield use
    forget()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the database fixtures with ``db``."""
    db_fixtures = {
        "pg_server",
        "empty_db",
        "demo_db",
        "demo_settings",
        "county_db",
        "demo_workspace",
        "demo_client",
        "demo_keys",
        "demo_app",
        "demo_client_as",
    }
    for item in items:
        if db_fixtures & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
