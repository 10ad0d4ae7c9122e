"""The /locate fast path answers exactly as the FastAPI route does, or leaves it the request."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from geogrid.api.app import create_app
from geogrid.api.fastpath import LocateFastPath
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from tests.conftest import bearer


@pytest.fixture(scope="module")
def apps(demo_workspace: Workspace, demo_keys: dict[str, str]) -> tuple[FastAPI, FastAPI]:
    settings = Settings(warm_up=False)
    demo_workspace.warm_up()
    for reveal in (False, True):
        demo_workspace.locator(reveal_personal=reveal)
    fast = create_app(settings, workspace=demo_workspace)
    slow = create_app(settings, workspace=demo_workspace, fast_locate=False)
    return fast, slow


class Recorder:
    """The fast path alone in front of an app that records what reaches it."""

    def __init__(self, app: FastAPI) -> None:
        self.app, self.reached = app, 0
        self.fast = LocateFastPath(self._behind)

    async def _behind(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.reached += 1
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self.app  # as Starlette sets it for its middleware
        await self.fast(scope, receive, send)


ROLES = ("admin", "app", "grid_worker", "dispatcher", "planner")


def points() -> list[tuple[str, str]]:
    """Twelve random point questions per role that may locate, over the demo town."""
    rng = np.random.default_rng(7)
    xy = zip(rng.uniform(120.50, 120.70, 60), rng.uniform(27.50, 27.66, 60), strict=True)
    return [
        (role, f"/locate?lon={x:.6f}&lat={y:.6f}")
        for role, (x, y) in zip(np.repeat(ROLES, 12), xy, strict=True)
    ]


def questions(keys: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """URLs and headers: plain points for every role, and requests the route must take."""
    for role, url in points():
        yield url, bearer(keys[role])
    app = bearer(keys["app"])
    yield "/locate?lon=120.6312&lat=27.5876&crs=gcj02", app
    yield "/locate?lon=121.9&lat=27.6", app  # outside every grid: status outside
    yield "/locate?lat=27.5876&lon=120.6312", app  # order does not matter
    yield "/locate?lon=120.6312&lat=27.5876", {}  # no key: 401
    yield "/locate?lon=120.6312&lat=27.5876", bearer("gg_0000_wrong")  # 401
    yield "/locate?lon=27.5876&lat=120.6312", app  # swapped: 422
    yield "/locate?lon=1e2&lat=27.5", app  # another spelling: the route decides
    yield "/locate?lon=120.6&lat=27.6&lat=27.7", app  # repeated
    yield "/locate?lon=120.6&lat=27.6&crs=EPSG:999999", app  # unknown CRS
    yield "/locate?lon=120.6&lat=27.6&extra=1", app
    yield "/locate?address=平阳县鳌江镇", app
    yield "/locate?lon=nan&lat=27.6", app


def test_fast_path_answers_like_the_route(
    apps: tuple[FastAPI, FastAPI], demo_keys: dict[str, str]
) -> None:
    fast, slow = apps
    recorder = Recorder(fast)
    through_fast, through_route = TestClient(recorder), TestClient(slow)
    answered_fast = 0
    for url, headers in questions(demo_keys):
        before = recorder.reached
        got, want = through_fast.get(url, headers=headers), through_route.get(url, headers=headers)
        assert (got.status_code, got.content) == (want.status_code, want.content), url
        assert got.headers["content-type"] == want.headers["content-type"], url
        if recorder.reached == before:
            answered_fast += 1
            assert got.status_code == 200, url  # only plain answers are taken here
    # every plain point question that has an answer for its caller (a grid worker's
    # points outside their subtree are refused), and no other, was answered fast
    worker = bearer(demo_keys["grid_worker"])
    refused = sum(
        through_route.get(url, headers=worker).status_code != 200
        for role, url in points()
        if role == "grid_worker"
    )
    assert answered_fast == len(points()) + 3 - refused


def test_the_served_app_logs_and_tags_fast_answers(
    apps: tuple[FastAPI, FastAPI], demo_keys
) -> None:
    fast, _ = apps
    response = TestClient(fast).get(
        "/locate?lon=120.6312&lat=27.5876",
        headers={**bearer(demo_keys["app"]), "X-Request-ID": "r-1"},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "r-1"  # the request log still wraps it
    assert response.json()["chain"]


def test_no_database_round_trip_on_the_event_loop(demo_db, demo_keys: dict[str, str]) -> None:
    # the versions' check (due once per interval) and the credentials' reload after a
    # grid edit are database reads: the fast path leaves those requests to the route
    workspace = Workspace(demo_db, Settings(cache_check_interval_s=60))
    workspace.warm_up()
    recorder = Recorder(create_app(Settings(warm_up=False), workspace=workspace))
    client = TestClient(recorder, headers=bearer(demo_keys["app"]))
    url = "/locate?lon=120.6312&lat=27.5876"
    reads = []
    read_versions = workspace._cache._read_versions

    def counted() -> dict[str, int]:
        reads.append(1)
        return read_versions()

    workspace._cache._read_versions = counted

    def taken_by_the_route() -> bool:
        before, read_before = recorder.reached, len(reads)
        assert client.get(url).status_code == 200
        if recorder.reached == before:
            assert len(reads) == read_before  # answered on the loop: no read there
        return recorder.reached > before

    assert not taken_by_the_route()
    workspace.recheck()  # the versions are due: read them off the loop
    assert taken_by_the_route()
    assert len(reads) == 1
    assert not taken_by_the_route()
    # a newer grids version: the credentials are reloaded by the route, once
    workspace._cache._versions = {**workspace._cache._versions, "grids": 10**9}
    assert taken_by_the_route()
    assert not taken_by_the_route()
