"""The MapLibre GL page in headless Chromium with no network: it draws the tiles' features."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import DEMO_WORKER_GRID

_STATE = """
var m = window.geogridMap;
function codes(layer) {
  return m.queryRenderedFeatures({layers: [layer]}).map(function (f) { return f.properties.code; });
}
return {
  ready: window.geogridReady === true,
  errors: (window.geogridMapErrors || []).concat(window.__geogridErrors || []),
  bounds: m.getBounds().toArray(),
  grids: codes("grids-line"),
  roads: codes("roads"),
  checkpoints: codes("checkpoints")
};
"""


@pytest.fixture(scope="module")
def server(demo_app: FastAPI) -> Iterator[str]:
    """Serve the demo app over HTTP on loopback (the browser needs a real server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(demo_app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Chromium that resolves no host but localhost."""
    from geogrid.maps.browser import find_chromium, start_browser

    try:
        find_chromium()
    except Exception:
        pytest.skip("needs Debian's chromium and chromium-driver")
    driver = start_browser(offline=True)
    try:
        yield driver
    finally:
        driver.quit()


def open_map(driver: Any, url: str, lon: float, lat: float, zoom: float) -> dict[str, Any]:
    """Open the page, move to a place, wait until every tile is drawn; return what shows."""
    driver.get("about:blank")  # a new document even where only the fragment (key) differs
    driver.get_log("performance")
    driver.get(url)
    deadline = time.monotonic() + 60
    while not driver.execute_script("return window.geogridReady === true"):
        assert time.monotonic() < deadline, driver.execute_script("return window.geogridMapErrors")
        time.sleep(0.1)
    driver.execute_script(
        "window.moved = false; var m = window.geogridMap;"
        "m.once('idle', function () { window.moved = true; });"
        f"m.jumpTo({{center: [{lon}, {lat}], zoom: {zoom}}});"
    )
    while not driver.execute_script("return window.moved === true"):
        assert time.monotonic() < deadline, "the map did not settle"
        time.sleep(0.1)
    state = driver.execute_script(_STATE)
    state["requests"] = [
        json.loads(e["message"])["message"]["params"]["request"]["url"]
        for e in driver.get_log("performance")
        if json.loads(e["message"])["message"].get("method") == "Network.requestWillBeSent"
    ]
    return state


def codes_in(engine: Engine, layer: str, bounds: list[list[float]], grow: float) -> set[str]:
    """Codes of a layer intersecting the view, grown (or shrunk) by a fraction of its size."""
    (west, south), (east, north) = bounds
    dx, dy = (east - west) * grow, (north - south) * grow
    with engine.connect() as conn:
        return set(
            conn.execute(
                text(
                    f"SELECT code FROM {layer} WHERE ST_Intersects(geom, "
                    "ST_MakeEnvelope(:w, :s, :e, :n, 4326))"
                ),
                {"w": west - dx, "s": south - dy, "e": east + dx, "n": north + dy},
            ).scalars()
        )


@pytest.mark.browser
def test_the_page_draws_grids_roads_and_checkpoints_from_the_tiles_offline(
    server: str, chromium: Any, demo_db: Engine, demo_keys: dict[str, str]
) -> None:
    with demo_db.connect() as conn:
        lon, lat = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM checkpoints ORDER BY code LIMIT 1")
        ).one()
    state = open_map(chromium, f"{server}/maps/vector#key={demo_keys['app']}", lon, lat, 15)
    assert state["errors"] == []
    assert all(url.startswith((server, "data:", "blob:")) for url in state["requests"]), [
        url for url in state["requests"] if not url.startswith((server, "data:", "blob:"))
    ]
    assert any("/static/maplibre/maplibre-gl.js" in url for url in state["requests"])
    for layer in ("grids", "roads", "checkpoints"):
        drawn = set(state[layer])
        assert drawn, layer
        # everything drawn is in view (a stroke may reach in from a little outside) ...
        assert drawn <= codes_in(demo_db, layer, state["bounds"], 0.1), layer
    # ... and every checkpoint well inside the view is drawn
    assert codes_in(demo_db, "checkpoints", state["bounds"], -0.1) <= set(state["checkpoints"])


@pytest.mark.browser
def test_a_grid_worker_sees_only_their_grids_on_the_page(
    server: str,
    chromium: Any,
    demo_db: Engine,
    demo_keys: dict[str, str],
    demo_client_as: Callable[[str | None], TestClient],
) -> None:
    with demo_db.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM grids WHERE code = :c"
            ),
            {"c": DEMO_WORKER_GRID},
        ).one()
    key = demo_keys["grid_worker"]
    state = open_map(chromium, f"{server}/maps/vector#key={key}", lon, lat, 12)
    assert state["errors"] == []
    drawn = set(state["grids"])
    assert DEMO_WORKER_GRID in drawn
    reach = {
        c
        for c in codes_in(demo_db, "grids", state["bounds"], 0.1)
        if c == DEMO_WORKER_GRID
        or c.startswith(DEMO_WORKER_GRID + "-")
        or DEMO_WORKER_GRID.startswith(c + "-")
    }
    assert drawn <= reach
    assert codes_in(demo_db, "grids", state["bounds"], -0.1) - reach  # others exist there
    page = demo_client_as(None).get("/maps/vector")
    assert page.status_code == 200
    hosts = set(re.findall(r"https?://[^/\"']*", page.text))
    assert hosts == {"http://testserver"}  # the page names no host but its own
