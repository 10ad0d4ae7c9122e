"""PostGIS going away and coming back, and writes cut off by a dropped connection.

The outage test runs its OWN PostgreSQL cluster (it stops it), not the session's
``pg_server``: while the database is down every endpoint that needs it answers 503 with
``Retry-After`` and the JSON error body, ``/health`` says the database is unreachable,
and once the cluster is back the same application answers again, with nothing lost.

The interrupted-write tests hold a lock the loader must wait for, so the load is
certainly in the middle of its transaction (rows of earlier files already written)
when its connection is killed with ``pg_terminate_backend``; then nothing of it may be
left, and the same load succeeds when retried.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from geogrid.api.app import create_app
from geogrid.db.bootstrap import prepare_database
from geogrid.db.cluster import EmbeddedCluster
from geogrid.db.engine import create_geogrid_engine
from geogrid.errors import DatabaseUnavailableError
from geogrid.ingest.load import LoadRequest, load_files
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace._cache import VersionedCache
from geogrid.workspace.credentials import issue_key
from tests.conftest import X0, Y0, county_box, small_county

PORT = 55433  # the socket lives in the cluster's own folder: no clash with other clusters
INTERVAL_S = 0.3  # cache_check_interval_s: how long indexes answer without asking


@dataclass
class Call:
    """One request per operation; ``up`` is its status while the database is up (None:
    only sent while it is down, e.g. writes), ``needs_db`` whether it must answer 503."""

    path: str
    up: int | None = 200
    kwargs: dict[str, Any] = field(default_factory=dict)
    needs_db: bool = True


POINT = {"lon": X0 + 0.01, "lat": Y0 + 0.01}
CHECKPOINT = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [X0 + 0.01, Y0 + 0.01]},
    "properties": {"code": "K1", "name": "卡口", "kind": "temporary", "status": "active"},
}
TILE = (  # the zoom-12 tile (column, row) under POINT
    int((POINT["lon"] + 180) / 360 * 2**12),
    int((1 - math.asinh(math.tan(math.radians(POINT["lat"]))) / math.pi) / 2 * 2**12),
)
CALLS: dict[tuple[str, str], Call] = {
    ("GET", "/health"): Call("/health"),
    ("GET", "/locate"): Call("/locate", kwargs={"params": POINT}),
    ("POST", "/locate/batch"): Call("/locate/batch", kwargs={"json": {"rows": [POINT]}}),
    ("GET", "/coverage/gaps"): Call("/coverage/gaps", kwargs={"params": {"grid": "C-001"}}),
    ("POST", "/coverage/plan"): Call("/coverage/plan", kwargs={"json": {"grid": "C-001"}}),
    ("GET", "/transport/requests"): Call("/transport/requests"),
    ("GET", "/transport/requests/{code}"): Call("/transport/requests/R1", up=404),
    ("POST", "/transport/plans"): Call("/transport/plans", up=422),  # nobody waits here
    ("POST", "/transport/plans/{plan_id}/replan"): Call("/transport/plans/1/replan", up=404),
    ("GET", "/transport/plans/{plan_id}"): Call("/transport/plans/1", up=404),
    ("GET", "/maps/grids/{code}.html"): Call("/maps/grids/C-001.html"),
    # printing needs headless Chromium (tests/api/test_maps.py): asked only while down
    ("GET", "/maps/grids/{code}.pdf"): Call("/maps/grids/C-001.pdf", up=None),
    ("GET", "/maps/coverage/{grid}.html"): Call("/maps/coverage/C-001.html"),
    ("GET", "/maps/transport/{plan_id}.html"): Call("/maps/transport/1.html", up=404),
    # the landing page and conformance classes are static: they need no database
    ("GET", "/"): Call("/", needs_db=False),
    ("GET", "/conformance"): Call("/conformance", needs_db=False),
    ("GET", "/collections"): Call("/collections"),
    ("GET", "/collections/{collection_id}"): Call("/collections/grids"),
    ("GET", "/collections/{collection_id}/items"): Call(
        "/collections/grids/items", kwargs={"params": {"limit": 5}}
    ),
    ("GET", "/collections/{collection_id}/items/{feature_id}"): Call(
        "/collections/grids/items/C-001"
    ),
    ("GET", "/tileMatrixSets"): Call("/tileMatrixSets", needs_db=False),
    ("GET", "/tileMatrixSets/WebMercatorQuad"): Call(
        "/tileMatrixSets/WebMercatorQuad", needs_db=False
    ),
    ("GET", "/collections/{collection_id}/tiles"): Call("/collections/grids/tiles"),
    ("GET", "/collections/{collection_id}/tiles/WebMercatorQuad"): Call(
        "/collections/grids/tiles/WebMercatorQuad"
    ),
    ("GET", "/collections/{collection_id}/tiles/WebMercatorQuad/tilejson.json"): Call(
        "/collections/grids/tiles/WebMercatorQuad/tilejson.json"
    ),
    ("GET", "/collections/{collection_id}/tiles/WebMercatorQuad/{z}/{x}/{y}"): Call(
        "/collections/grids/tiles/WebMercatorQuad/12/{}/{}".format(*TILE)
    ),
    ("GET", "/maps/vector"): Call("/maps/vector", needs_db=False),
    ("GET", "/maps/vector/style.json"): Call("/maps/vector/style.json"),
    ("GET", "/static/maplibre/{name}"): Call("/static/maplibre/maplibre-gl.css", needs_db=False),
    ("GET", "/audit"): Call("/audit"),
    ("GET", "/grids/validate"): Call("/grids/validate", kwargs={"params": {"parent": "C"}}),
    ("GET", "/addresses/corrections"): Call("/addresses/corrections"),
    ("GET", "/open311/v2/discovery.json"): Call("/open311/v2/discovery.json", needs_db=False),
    ("GET", "/open311/v2/services.json"): Call("/open311/v2/services.json"),
    ("GET", "/open311/v2/requests.json"): Call("/open311/v2/requests.json"),
    ("GET", "/open311/v2/requests/{request_id}.json"): Call("/open311/v2/requests/1.json", up=404),
    ("GET", "/events/map.html"): Call("/events/map.html"),
    ("GET", "/events/report"): Call("/events/report", kwargs={"params": {"start": "2020-01-31"}}),
    ("GET", "/events/report/workers"): Call(
        "/events/report/workers", kwargs={"params": {"start": "2020-01-31"}}
    ),
    ("POST", "/open311/v2/requests.json"): Call(
        "/open311/v2/requests.json",
        up=None,
        kwargs={"json": {"service_code": "hotline", **{"lat": POINT["lat"], "long": POINT["lon"]}}},
    ),
    ("POST", "/events/{event_id}/acknowledge"): Call(
        "/events/1/acknowledge", up=None, kwargs={"json": {}}
    ),
    ("POST", "/events/{event_id}/update"): Call(
        "/events/1/update", up=None, kwargs={"json": {"note": "在办"}}
    ),
    ("POST", "/events/{event_id}/close"): Call("/events/1/close", up=None, kwargs={"json": {}}),
    ("POST", "/events/{event_id}/reassign"): Call(
        "/events/1/reassign", up=None, kwargs={"json": {"grid_code": "C-001"}}
    ),
    ("POST", "/events/scan"): Call("/events/scan", up=None),
    ("PUT", "/events/services/{service_code}"): Call(
        "/events/services/x",
        up=None,
        kwargs={"json": {"name": "x", "kind": "event", "deadline_minutes": 30}},
    ),
    # writes are only sent while the database is down: they must store nothing
    ("POST", "/addresses/corrections"): Call(
        "/addresses/corrections", up=None, kwargs={"json": {"text": "甲村", "grid_code": "C-001"}}
    ),
    ("DELETE", "/addresses/corrections/{correction_id}"): Call("/addresses/corrections/1", up=None),
    ("POST", "/collections/{collection_id}/items"): Call(
        "/collections/checkpoints/items", up=None, kwargs={"json": CHECKPOINT}
    ),
    ("PUT", "/collections/{collection_id}/items/{feature_id}"): Call(
        "/collections/checkpoints/items/K1",
        up=None,
        kwargs={"json": CHECKPOINT, "headers": {"If-Match": "*"}},
    ),
    ("PATCH", "/collections/{collection_id}/items/{feature_id}"): Call(
        "/collections/checkpoints/items/K1",
        up=None,
        kwargs={"json": {"properties": {"name": "卡口"}}, "headers": {"If-Match": "*"}},
    ),
    ("DELETE", "/collections/{collection_id}/items/{feature_id}"): Call(
        "/collections/checkpoints/items/K1", up=None, kwargs={"headers": {"If-Match": "*"}}
    ),
    ("POST", "/collections/{collection_id}/edits"): Call(
        "/collections/checkpoints/edits",
        up=None,
        kwargs={
            "json": {
                "type": "FeatureCollection",
                "features": [{**CHECKPOINT, "id": "K1", "if_match": "*"}],
            }
        },
    ),
}


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[tuple[EmbeddedCluster, str, Path]]:
    """Start a private cluster with a migrated database; stopped and removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="geogrid-outage-"))
    home.chmod(0o755)  # the postgres user must reach it when the tests run as root
    cluster = EmbeddedCluster(home / "postgres", port=PORT, fast=True)
    try:
        cluster.start()
        admin = make_url(cluster.url("postgres")).set(drivername="postgresql")
        with psycopg.connect(admin.render_as_string(False), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "geogrid_outage"')
        url = cluster.url("geogrid_outage")
        prepare_database(Settings(home=home, database_url=url))
        yield cluster, url, home
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


def _send(client: TestClient, method: str, call: Call, auth: dict[str, str]) -> Any:
    kwargs = dict(call.kwargs)
    headers = {**auth, **kwargs.pop("headers", {})}
    return client.request(method, call.path, headers=headers, **kwargs)


def test_every_endpoint_is_503_while_postgis_is_down_and_recovers(
    own_cluster: tuple[EmbeddedCluster, str, Path], tmp_path: Path
) -> None:
    cluster, url, home = own_cluster
    settings = Settings(home=home, database_url=url, cache_check_interval_s=INTERVAL_S)
    engine = create_geogrid_engine(url, settings)
    load_files(engine, small_county(tmp_path))
    workspace = Workspace(engine, settings)
    auth = {"Authorization": f"Bearer {issue_key(workspace, 'outage test', 'admin').key}"}
    app = create_app(settings.model_copy(update={"warm_up": False}), workspace=workspace)
    client = TestClient(app)
    operations = {
        (method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops
    }
    assert operations == set(CALLS), "every operation needs a call in CALLS"

    def answers_when_up() -> dict[tuple[str, str], int]:
        return {
            op: _send(client, op[0], call, auth).status_code
            for op, call in CALLS.items()
            if call.up is not None
        }

    expected_up = {op: call.up for op, call in CALLS.items() if call.up is not None}
    assert answers_when_up() == expected_up  # the indexes are warm now, too
    # without a key, the open reads (health, layers) reach the database on their own path
    anonymous = {
        op: _send(client, op[0], call, {}).status_code
        for op, call in CALLS.items()
        if call.up is not None and op[0] == "GET"
    }
    assert 200 in anonymous.values()
    before = workspace.layer_counts()
    assert before["grids"] == 16

    cluster.stop()  # pg_ctl stop -m fast: sessions are cut, new ones refused
    try:
        time.sleep(INTERVAL_S + 0.1)  # past the time the warm indexes answer unasked
        down = {op: _send(client, op[0], call, auth) for op, call in CALLS.items()}
        for (method, path), response in down.items():
            call = CALLS[(method, path)]
            if not call.needs_db:
                assert response.status_code == 200, path
                continue
            assert response.status_code == 503, (method, path, response.text[:200])
            assert response.headers["Retry-After"].isdigit(), path
            assert response.headers["X-Request-ID"], path
            body = response.json()
            assert body["code"] == "database_unavailable", path  # the key cannot be checked
            assert set(body) == {"code", "message", "details"}
        for op, status in anonymous.items():
            response = _send(client, op[0], CALLS[op], {})
            if status == 401 or not CALLS[op].needs_db:  # refused or answered unasked
                assert response.status_code == status, op
                continue
            assert response.status_code == 503, (op, response.text[:200])
            assert response.headers["Retry-After"].isdigit(), op
            if op[1] == "/health":  # the health answer itself says so
                assert response.json()["status"] == "unavailable"
                assert response.json()["database"]["reachable"] is False
            else:
                assert response.json()["code"] == "database_unavailable", op
    finally:
        cluster.start()

    time.sleep(INTERVAL_S + 0.1)  # a failed check is trusted for one interval
    assert answers_when_up() == expected_up  # the same app, no restart
    assert workspace.layer_counts() == before  # nothing lost
    engine.dispose()


def test_a_failed_version_check_is_not_repeated_within_the_interval() -> None:
    """While the database is down, requests do not each wait for a connection attempt."""
    attempts = []

    def unreachable() -> dict[str, int]:
        attempts.append(time.monotonic())
        raise DatabaseUnavailableError("the database is not reachable right now")

    cache = VersionedCache(unreachable, check_interval_s=0.2)
    for _ in range(50):
        with pytest.raises(DatabaseUnavailableError):
            cache.get("index", ("grids",), dict)
    assert len(attempts) == 1
    time.sleep(0.25)
    with pytest.raises(DatabaseUnavailableError):
        cache.versions()
    assert len(attempts) == 2  # asked again once the interval has passed
    cache.recheck()  # a write just went through: the database is back
    with pytest.raises(DatabaseUnavailableError):
        cache.versions()
    assert len(attempts) == 3


# -- writes cut off by a dropped connection ---------------------------------------------


def _kill_when_waiting(engine: Engine, database: str, stop: threading.Event) -> int:
    """Terminate the loader's backend once it waits for a lock; return how many died."""
    with engine.connect() as conn:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not stop.is_set():
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND wait_event_type = 'Lock' "
                    "AND application_name = 'geogrid' AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).scalar_one()
            conn.commit()
            if killed:
                return int(killed)
            time.sleep(0.05)
    return 0


def _versions(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT layer, version FROM layer_versions")).all()
    return {layer: int(version) for layer, version in rows}


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("grids", "grid_workers", "addresses")
        }


@pytest.mark.parametrize(
    ("held", "where"),
    [
        # CREATE TEMP TABLE ... (LIKE addresses): the driver's own cursor (COPY path)
        ("LOCK TABLE addresses IN ACCESS EXCLUSIVE MODE", "upserting addresses"),
        # the version counters are bumped last, through SQLAlchemy
        ("LOCK TABLE layer_versions IN ACCESS EXCLUSIVE MODE", "bumping versions"),
    ],
)
def test_load_cut_off_by_a_dropped_connection_leaves_nothing(
    county_db: Engine, tmp_path: Path, held: str, where: str
) -> None:
    before_counts, before_versions = _counts(county_db), _versions(county_db)
    park = gpd.GeoDataFrame(
        [("C-I02", "新市场", "industry", "C", county_box(0, 0, 0.01, 0.01))],
        columns=["code", "name", "level", "parent_code", "geometry"],
        crs=4326,
    )
    park.to_file(tmp_path / "park.gpkg")
    # the new park is written first: the load is cut off after it, in the same transaction
    requests = [LoadRequest(tmp_path / "park.gpkg", "grids"), *small_county(tmp_path)]
    database = county_db.url.database
    assert database is not None
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_files(county_db, requests)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    stop = threading.Event()
    with county_db.connect() as holder:
        holder.execute(text(held))
        loader = threading.Thread(target=load)
        loader.start()
        killed = _kill_when_waiting(county_db, database, stop)
        loader.join(60)
        holder.rollback()
    stop.set()
    assert killed == 1, f"the loader never waited while {where}"
    (error,) = outcome
    assert isinstance(error, DatabaseUnavailableError), repr(error)
    assert "nothing was stored" in error.message
    assert _counts(county_db) == before_counts
    assert _versions(county_db) == before_versions
    reports = load_files(county_db, requests)  # the same load, retried, goes through
    assert sum(r.inserted for r in reports) == 1  # the new park; the rest was there
    assert _counts(county_db)["grids"] == before_counts["grids"] + 1
    assert _versions(county_db)["grids"] == before_versions["grids"] + 1
