"""Feature pages answered from each process's copy of the layers equal PostgreSQL's pages.

Two applications on the same database: one answers WGS 84 pages from memory
(``features_in_memory``), the other writes every page with one SQL statement. For random
boxes, pages and every role (a grid worker sees their chain and subtree only), the
answers hold the same features in the same order, the same texts, counts and links;
after an edit (a new data version) too.
"""

from __future__ import annotations

import json
import random

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid.access import Role
from geogrid.api.app import create_app
from geogrid.db.queries.layers import bump_version
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.credentials import issue_key
from geogrid.workspace.features import layer_index, ready_layer_index
from tests.api.test_features import stored
from tests.conftest import bearer

LAYERS = ("grids", "checkpoints", "isolation_sites", "addresses", "roads")


def clients(engine: Engine, interval: float) -> tuple[Workspace, TestClient, TestClient]:
    """Return the memory workspace, and a client answering from memory and one from SQL."""
    memory = Workspace(engine, Settings(cache_check_interval_s=interval))
    sql = Workspace(engine, Settings(cache_check_interval_s=interval, features_in_memory=False))
    for layer in LAYERS:  # built now: a page never waits for a copy, SQL answers meanwhile
        layer_index(memory, layer)
    app = Settings(warm_up=False)
    return (
        memory,
        TestClient(create_app(app, workspace=memory)),
        TestClient(create_app(app, workspace=sql)),
    )


def split(body: bytes) -> tuple[dict, bytes]:
    """Return a page's members but its features, and the features' text as sent."""
    head, _, features = body.partition(b',"features":[')
    members = json.loads(head + b"}")
    members.pop("timeStamp")
    return members, features


def assert_same_page(memory: TestClient, sql: TestClient, url: str, key: str) -> dict:
    """Ask both applications; assert the same answer (but the time stamp); return it."""
    a = memory.get(url, headers=bearer(key))
    b = sql.get(url, headers=bearer(key))
    assert a.status_code == b.status_code == 200, (url, a.text[:200], b.text[:200])
    assert a.headers["content-type"] == b.headers["content-type"]
    assert split(a.content) == split(b.content), url
    return a.json()


@pytest.fixture(scope="module")
def both(demo_db: Engine) -> tuple[Workspace, TestClient, TestClient]:
    return clients(demo_db, 60)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_random_boxes_give_the_sql_pages_for_every_role(
    both: tuple[Workspace, TestClient, TestClient],
    demo_db: Engine,
    demo_keys: dict[str, str],
    role: str,
) -> None:
    workspace, memory, sql = both
    key = demo_keys[role]
    x0, y0, x1, y1 = stored(demo_db, "grids").total_bounds
    rng = random.Random(f"boxes {role}")
    matched = 0
    for _ in range(12):
        layer = rng.choice(LAYERS)
        size = rng.choice([0.005, 0.02, 0.08])
        x, y = rng.uniform(x0, x1 - size), rng.uniform(y0, y1 - size)
        limit, offset = rng.choice([3, 50, 1000]), rng.choice([0, 0, 2, 40])
        url = (
            f"/collections/{layer}/items?bbox={x:.5f},{y:.5f},{x + size:.5f},{y + size:.5f}"
            f"&limit={limit}&offset={offset}"
        )
        matched += assert_same_page(memory, sql, url, key)["numberMatched"]
    # a whole layer, a page past its end, and a box given in GCJ-02 (not a box in WGS 84)
    for url in (
        "/collections/grids/items?limit=10000",
        "/collections/checkpoints/items?offset=100000",
        f"/collections/addresses/items?bbox={x0 + 0.1},{y0 + 0.1},{x0 + 0.13},{y0 + 0.12}"
        "&bbox-crs=gcj02&limit=20",
    ):
        assert_same_page(memory, sql, url, key)
    assert matched > 0
    assert workspace._cache.is_cached("feature_index:grids")  # pages came from memory


def test_a_grid_worker_sees_in_memory_what_the_sql_shows(
    both: tuple[Workspace, TestClient, TestClient],
    demo_db: Engine,
    demo_keys: dict[str, str],
) -> None:
    _, memory, sql = both
    worker = "330326-101-022"
    body = assert_same_page(
        memory, sql, "/collections/grids/items?limit=10000", demo_keys["grid_worker"]
    )
    codes = [f["id"] for f in body["features"]]
    every = stored(demo_db, "grids")["code"].tolist()
    # independent of both: the chain above the worker's grid and the tree below it
    chain = [c for c in every if worker == c or worker.startswith(c + "-")]
    below = [c for c in every if c.startswith(worker + "-")]
    assert codes == sorted(chain + below)
    assert "330326" in codes
    assert len(codes) < len(every)
    # a box around the worker's grid also crosses the neighbours they must not see
    grid = stored(demo_db, "grids").set_index("code").geometry[worker]
    x0, y0, x1, y1 = shapely.buffer(grid, 0.01).bounds
    url = f"/collections/grids/items?bbox={x0},{y0},{x1},{y1}&limit=50"
    seen = [
        f["id"] for f in assert_same_page(memory, sql, url, demo_keys["grid_worker"])["features"]
    ]
    everyone = [f["id"] for f in assert_same_page(memory, sql, url, demo_keys["admin"])["features"]]
    assert set(seen) < set(everyone)
    assert set(seen) <= set(codes)


def test_an_edit_is_in_the_next_memory_page(county_db: Engine) -> None:
    workspace, memory, sql = clients(county_db, 0)
    admin = issue_key(workspace, "admin", "admin").key
    worker = issue_key(workspace, "王芳", "grid_worker", "C-001-002").key
    url = "/collections/grids/items?bbox=120.4,27.4,120.6,27.6&limit=100"
    before = assert_same_page(memory, sql, url, admin)
    built = layer_index(workspace, "grids")
    with county_db.begin() as conn:
        conn.execute(text("UPDATE grids SET name = '改名村' WHERE code = 'C-001-002'"))
        # C-002 moves far away: out of the box
        conn.execute(
            text("UPDATE grids SET geom = ST_Translate(geom, 1, 1) WHERE code = 'C-002-001'")
        )
        bump_version(conn, "grids")
    for key in (admin, worker):
        after = assert_same_page(memory, sql, url, key)
        names = {f["id"]: f["properties"]["name"] for f in after["features"]}
        assert names["C-001-002"] == "改名村"
        assert "C-002-001" not in names
    assert after["numberMatched"] < before["numberMatched"]
    # those pages came from PostgreSQL while the new copy was built; then from the copy
    assert workspace.wait_for_refresh(60)
    fresh = ready_layer_index(workspace, "grids")
    assert fresh is not None
    assert fresh is not built
    for key in (admin, worker):  # the copy's pages equal PostgreSQL's
        names = {
            f["id"]: f["properties"]["name"]
            for f in assert_same_page(memory, sql, url, key)["features"]
        }
        assert names["C-001-002"] == "改名村"


def test_no_page_waits_for_a_copy_of_its_layer(county_db: Engine) -> None:
    workspace = Workspace(county_db, Settings(cache_check_interval_s=0))
    sql = Workspace(county_db, Settings(cache_check_interval_s=0, features_in_memory=False))
    admin = issue_key(workspace, "admin", "admin").key
    url = "/collections/grids/items?bbox=120.4,27.4,120.6,27.6&limit=100"
    memory = TestClient(create_app(Settings(warm_up=False), workspace=workspace))
    other = TestClient(create_app(Settings(warm_up=False), workspace=sql))
    workspace.refresh_gate.clear()  # hold every background build
    try:
        first = assert_same_page(memory, other, url, admin)  # answered all the same
        assert ready_layer_index(workspace, "grids") is None  # by PostgreSQL
    finally:
        workspace.refresh_gate.set()
    assert workspace.wait_for_refresh(60)
    index = ready_layer_index(workspace, "grids")
    assert index is not None
    again = assert_same_page(memory, other, url, admin)  # now from the copy
    for page in (first, again):  # the time of the answer: a second may have passed
        page.pop("timeStamp")
    assert again == first


def test_property_filters_and_other_systems_are_left_to_postgresql(
    both: tuple[Workspace, TestClient, TestClient], demo_keys: dict[str, str]
) -> None:
    _, memory, sql = both
    for url in (
        "/collections/grids/items?level=village&limit=30",
        "/collections/roads/items?bbox=120.55,27.55,120.57,27.57&road_class=residential",
        "/collections/checkpoints/items?bbox=120.5,27.5,120.6,27.6&crs=gcj02&limit=5",
    ):
        a = memory.get(url, headers=bearer(demo_keys["planner"]))
        b = sql.get(url, headers=bearer(demo_keys["planner"]))
        assert a.status_code == b.status_code == 200, a.text
        assert split(a.content) == split(b.content)
