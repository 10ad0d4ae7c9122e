"""Grid edits update the indexes in place of rebuilding them, and the answers are those of
indexes built from scratch: in the editing server (which reads its own write) and in
another server that learns of the edit by LISTEN/NOTIFY. Real PostGIS, the API's edits."""

from __future__ import annotations

import time

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from geopandas.testing import assert_geodataframe_equal
from sqlalchemy import Engine

from geogrid.api.app import create_app
from geogrid.db.queries.snapshots import read_grids
from geogrid.settings import Settings
from geogrid.spatial.gridindex import GridIndex
from geogrid.workspace import LOCATOR_LAYERS, Workspace
from tests.conftest import X0, Y0, api_key, bearer, county_box

ADDRESSES = [
    f"平阳县{town}{village}工业路{n}号"
    for town, village in (("鳌江镇", "甲村"), ("鳌江镇", "乙村"), ("昆阳镇", "丙村"))
    for n in (2, 4, 6, 7)
] + ["鳌江镇乙村工业路8号", "昆阳镇丁村", "平阳县鳌江镇", "杭州市西湖区"]


def feature(geometry: shapely.Geometry, **properties: object) -> dict:
    return {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(geometry),
        "properties": properties,
    }


def probe_points() -> tuple[np.ndarray, np.ndarray]:
    """Points over the county and around it, on a lattice that hits the grids' borders."""
    xs = X0 + np.linspace(-0.005, 0.085, 91)
    ys = Y0 + np.linspace(-0.005, 0.045, 51)
    x, y = np.meshgrid(xs, ys)
    rng = np.random.default_rng(3)
    return (
        np.r_[x.ravel(), X0 + rng.uniform(0, 0.08, 2000)],
        np.r_[y.ravel(), Y0 + rng.uniform(0, 0.04, 2000)],
    )


def assert_answers_as_built_from_scratch(engine: Engine, server: Workspace) -> None:
    """The server's locators answer every point and address as a new workspace would."""
    fresh = Workspace(engine, Settings(cache_check_interval_s=60))
    assert_geodataframe_equal(server.grids(), fresh._read(read_grids))
    x, y = probe_points()
    ours, theirs = server.grid_index().locate(x, y), fresh.grid_index().locate(x, y)
    for name in ("owner_row", "status", "gap_row", "gap_distance_m", "industry_row"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name)
    x, y = x[::13], y[::13]  # whole answers (names, workers) are slower: fewer points
    for reveal in (False, True):
        mine, new = (ws.locator(reveal_personal=reveal) for ws in (server, fresh))
        assert mine.points(x, y) == new.points(x, y)
        assert [mine.points([a], [b]) for a, b in zip(x[::5], y[::5], strict=True)] == [
            new.points([a], [b]) for a, b in zip(x[::5], y[::5], strict=True)
        ]
        assert mine.addresses(ADDRESSES) == new.addresses(ADDRESSES)


def assert_same_index(made: GridIndex, expected: GridIndex) -> None:
    """Two indexes hold the same rasters, candidates, chains and polygons, array for array
    (one made by the helper process, one by ``GridIndex.updated`` here)."""
    np.testing.assert_array_equal(made.codes, expected.codes)
    for ours, theirs in zip(
        (*made._territorial, made._industry),
        (*expected._territorial, expected._industry),
        strict=True,
    ):
        np.testing.assert_array_equal(ours.rows, theirs.rows)
        assert shapely.equals_identical(ours.geoms, theirs.geoms).all()
        for name in ("label", "offsets", "candidate", "full"):
            a, b = getattr(ours.cache, name), getattr(theirs.cache, name)
            assert a.dtype == b.dtype, name
            np.testing.assert_array_equal(a, b, err_msg=name)
    for name in ("label", "members"):
        np.testing.assert_array_equal(getattr(made._chains, name), getattr(expected._chains, name))
    np.testing.assert_array_equal(made._chain_rows, expected._chain_rows)


def wait_until_current(server: Workspace, engine: Engine, timeout_s: float = 20.0) -> None:
    """Wait until a listening server's locators are built from the latest data."""
    written = Workspace(engine, Settings(cache_check_interval_s=0))._read_versions()
    deadline = time.monotonic() + timeout_s
    while not all(
        server._cache.built_from(f"locator:{reveal}", written, LOCATOR_LAYERS)
        for reveal in (False, True)
    ):
        assert time.monotonic() < deadline, "the listening server did not follow the edit"
        time.sleep(0.05)
    assert server.wait_for_refresh(timeout_s)


@pytest.mark.db
@pytest.mark.parametrize("helper", [False, True], ids=["in-process", "helper-process"])
def test_edits_update_the_indexes_of_both_servers_exactly(
    county_db: Engine, helper: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # polling is off (60 s): the editor reads its own write, the other hears the NOTIFY
    settings = Settings(cache_check_interval_s=60, warm_up=False)
    editor = Workspace(county_db, settings)
    other = Workspace(county_db, settings)
    planner = bearer(api_key(county_db, "planner"))
    api = TestClient(create_app(settings, workspace=editor), headers=planner)
    for server in (editor, other):
        for reveal in (False, True):
            server.locator(reveal_personal=reveal)
    if helper:  # as API servers do: the editor's index is updated by its helper process
        editor.start_helper_process()
    other.start_listening()
    try:
        assert other.wait_listening(10)
        first_index = editor.grid_index()
        here = [first_index]  # the same updates made in this process, to compare

        def check() -> None:
            wait_until_current(other, county_db)
            for server in (editor, other):
                assert_answers_as_built_from_scratch(county_db, server)
            here.append(here[-1].updated(editor.grids()))
            assert_same_index(editor.grid_index(), here[-1])

        # a multi-feature edit moves the border between two micro-grids
        features = []
        for code, shape in (
            ("C-001-001-01", county_box(0, 0, 0.02, 0.023)),
            ("C-001-001-02", county_box(0, 0.023, 0.02, 0.04)),
        ):
            got = api.get(f"/collections/grids/items/{code}")
            body = feature(shape, name=got.json()["properties"]["name"], level="micro")
            body["properties"]["parent_code"] = "C-001-001"
            features.append({**body, "id": code, "if_match": got.headers["ETag"]})
        edited = api.post(
            "/collections/grids/edits", json={"type": "FeatureCollection", "features": features}
        )
        assert edited.status_code == 200, edited.text
        point = editor.locate_point(X0 + 0.01, Y0 + 0.021)
        assert point.chain[-1].code == "C-001-001-01"  # the editor reads its own write
        # updated, not built again: the levels the edit did not touch kept their rasters
        index = editor.grid_index()
        assert index is not first_index
        assert index._territorial[2].cache.label is first_index._territorial[2].cache.label
        assert index._territorial[3].cache.label is not first_index._territorial[3].cache.label
        check()
        if helper:  # edited and updated by the helper; killed now, the next made here
            assert editor._helper_process is not None
            assert editor._helper_process.holds() == {"index", "workspace"}
            assert editor._helper_process._mirrored is index
            pool = editor._helper_process._pool
            assert pool is not None
            for process in pool._processes.values():
                process.kill()

        # a new industry park, then a village renamed (the address matcher reads names)
        park = feature(
            county_box(0.045, 0.005, 0.06, 0.02),
            code="C-I02",
            name="新市场",
            level="industry",
            parent_code="C",
        )
        assert api.post("/collections/grids/items", json=park).status_code == 201
        check()
        if helper:
            assert "helper failed" in caplog.text
        url = "/collections/grids/items/C-002-001"
        etag = api.get(url).headers["ETag"]
        renamed = api.patch(
            url,
            json={"type": "Feature", "properties": {"name": "丙甲村"}},
            headers={"If-Match": etag},
        )
        assert renamed.status_code == 200, renamed.text
        assert editor.locate_address("平阳县昆阳镇丙甲村").chain[-1].name == "丙甲村"
        check()
        if helper:  # a new helper took over
            assert editor._helper_process is not None
            assert editor._helper_process._mirrored is editor.grid_index()

        # a micro-grid deleted (its place is a gap at that level), then created again
        url = "/collections/grids/items/C-001-002-02"
        gone = api.get(url)
        deleted = api.delete(url, headers={"If-Match": gone.headers["ETag"]})
        assert deleted.status_code == 204, deleted.text
        assert editor.locate_point(X0 + 0.03, Y0 + 0.03).status == "gap"
        check()
        again = feature(
            shapely.geometry.shape(gone.json()["geometry"]),
            **{**gone.json()["properties"], "code": "C-001-002-02"},
        )
        assert api.post("/collections/grids/items", json=again).status_code == 201
        assert editor.locate_point(X0 + 0.03, Y0 + 0.03).chain[-1].code == "C-001-002-02"
        check()
    finally:
        other.stop_listening()
        editor.stop_helper_process()
