"""Browser apps on other origins: CORS only for the origins the settings name."""

from __future__ import annotations

from fastapi.testclient import TestClient

from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from tests.conftest import bearer

MAP_APP = "https://map.example.gov.cn"
POINT = {"lon": 120.63, "lat": 27.59}


def client(workspace: Workspace, origins: str) -> TestClient:
    settings = Settings(warm_up=False, cors_origins=origins)
    return TestClient(create_app(settings, workspace=workspace))


def test_a_listed_origin_may_call_and_read_the_headers(
    demo_workspace: Workspace, demo_keys: dict[str, str]
) -> None:
    api = client(demo_workspace, f"{MAP_APP}/, https://other.example")
    preflight = api.options(
        "/collections/grids/items/330326",
        headers={
            "Origin": MAP_APP,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, if-match, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == MAP_APP
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert "if-match" in preflight.headers["access-control-allow-headers"].lower()

    headers = {"Origin": MAP_APP, **bearer(demo_keys["app"])}
    located = api.get("/locate", params=POINT, headers=headers)  # the fast path
    assert located.status_code == 200
    assert located.headers["access-control-allow-origin"] == MAP_APP
    item = api.get("/collections/grids/items/330326", headers={"Origin": MAP_APP})
    assert item.headers["access-control-allow-origin"] == MAP_APP
    exposed = item.headers["access-control-expose-headers"].lower()
    assert {"etag", "content-crs", "x-request-id"} <= set(exposed.replace(" ", "").split(","))
    refused = api.get("/locate", params=POINT, headers={"Origin": MAP_APP})  # no key: 401
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == MAP_APP  # the app can read why


def test_other_origins_and_the_default_get_no_cors(
    demo_workspace: Workspace, demo_keys: dict[str, str]
) -> None:
    listed = client(demo_workspace, MAP_APP)
    stranger = listed.get(
        "/locate",
        params=POINT,
        headers={"Origin": "https://evil.example", **bearer(demo_keys["app"])},
    )
    assert stranger.status_code == 200  # CORS is the browser's check, not an access check
    assert "access-control-allow-origin" not in stranger.headers
    preflight = listed.options(
        "/locate",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 400
    default = client(demo_workspace, "")
    plain = default.get(
        "/locate", params=POINT, headers={"Origin": MAP_APP, **bearer(demo_keys["app"])}
    )
    assert plain.status_code == 200
    assert "access-control-allow-origin" not in plain.headers
