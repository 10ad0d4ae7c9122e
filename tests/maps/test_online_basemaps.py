"""Tianditu and Amap base maps line up with geogrid's overlays, in real headless Chromium.

A local tile server stands in for each service (its URL template replaces the service's):
on every tile it draws a red ring where a known place lies *in that service's
coordinates*. For Amap that is the place's GCJ-02 position, taken from published test
vectors of an independent implementation (eviltransform), not from geogrid's own
conversion; for Tianditu (CGCS2000, drawn as WGS 84) the WGS 84 position. geogrid draws the
place (in WGS 84) as an overlay marker; at zoom 17 its centre must lie within 2 px of the
ring's. The GCJ-02 shift there is about 470 m, some 480 px at zoom 17, so an overlay left
unshifted on Amap (checked too) misses by far.
"""

from __future__ import annotations

import http.server
import io
import math
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image, ImageDraw

from geogrid.maps import check_map_html, map_to_html, new_map, point_layer

pytestmark = pytest.mark.browser

# eviltransform (github.com/googollee/eviltransform, go/transform_test.go): Shanghai
PLACE_WGS84 = (121.5272106, 31.1774276)
PLACE_GCJ02 = (121.531541859215, 31.17530398364597)
ZOOM = 17
TOLERANCE_PX = 2.0


def world_px(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Global Web Mercator pixel of a point (256-px tiles)."""
    scale = 256 * 2**zoom
    x = (lon + 180) / 360 * scale
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * scale
    return x, y


def tile_png(place: tuple[float, float] | None, z: int, x: int, y: int) -> bytes:
    """A light tile with a red ring (radius 9-12 px) around ``place``, if it is near."""
    image = Image.new("RGBA", (256, 256), (240, 240, 236, 255 if place else 0))
    if place is not None:
        px, py = world_px(*place, z)
        cx, cy = px - 256 * x, py - 256 * y
        draw = ImageDraw.Draw(image)
        draw.ellipse((cx - 12, cy - 12, cx + 12, cy + 12), fill=(255, 0, 0, 255))
        draw.ellipse((cx - 9, cy - 9, cx + 9, cy + 9), fill=(240, 240, 236, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """Serves /amap/{z}/{x}/{y}.png and /tianditu/{layer}/{z}/{x}/{y}.png?tk=KEY."""
    requests: list[str] = []
    route = re.compile(r"^/(amap|tianditu)/(?:(vec|cva)/)?(\d+)/(\d+)/(\d+)\.png(\?tk=\w+)?$")

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            found = route.match(self.path)
            if not found:
                self.send_error(404)
                return
            service, layer, z, x, y, key = found.groups()
            if service == "tianditu" and key != "?tk=testkey":
                self.send_error(403)
                return
            place = PLACE_GCJ02 if service == "amap" else PLACE_WGS84
            body = tile_png(None if layer == "cva" else place, int(z), int(x), int(y))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def place_layer() -> Any:
    frame = gpd.GeoDataFrame(
        {"name": ["known place"]}, geometry=[shapely.Point(*PLACE_WGS84)], crs=4326
    )
    return point_layer(frame, color="#0000ff")


def offset_px(browser: Any, page: str) -> tuple[float, list[str]]:
    """Open ``page``, show the place at zoom 17, return ring-to-marker distance (CSS px)."""
    check = check_map_html(page, driver=browser)
    assert check.errors == []
    assert check.external_requests == []
    browser.execute_script(
        "var m = window[document.querySelector('.folium-map').id], c = null;"
        "m.eachLayer(function (l) { if (l instanceof L.CircleMarker) c = l.getLatLng(); });"
        f"m.setView(c, {ZOOM}, {{animate: false}});"
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        loading = browser.execute_script(
            "var m = window[document.querySelector('.folium-map').id], busy = false;"
            "m.eachLayer(function (l) {"
            "  if (l instanceof L.GridLayer && l.isLoading()) busy = true; });"
            "return busy || m.getZoom() !== " + str(ZOOM) + ";"
        )
        if not loading:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # tiles fade in (Leaflet's opacity transition)
    ratio = browser.execute_script("return window.devicePixelRatio;")
    shot = np.asarray(Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB"))
    red, green, blue = (shot[..., i].astype(int) for i in range(3))
    ring = (red > 200) & (green < 60) & (blue < 60)
    marker = (blue > 200) & (red < 60) & (green < 60)
    assert ring.sum() > 50, "the tile's ring is not on screen"
    assert marker.sum() > 20, "the overlay marker is not on screen"
    ring_y, ring_x = np.nonzero(ring)
    mark_y, mark_x = np.nonzero(marker)
    distance = math.hypot(ring_x.mean() - mark_x.mean(), ring_y.mean() - mark_y.mean()) / ratio
    return distance, check.requests


def test_amap_overlays_are_shifted_onto_gcj02_tiles(
    browser: Any, tile_server: tuple[str, list[str]]
) -> None:
    base, requests = tile_server
    page = map_to_html(
        new_map(
            place_layer(),
            basemap="amap",
            tile_url=base + "/amap/{z}/{x}/{y}.png",
            legend=False,
        )
    )
    distance, seen = offset_px(browser, page)
    assert distance <= TOLERANCE_PX
    assert any(f"/amap/{ZOOM}/" in path for path in requests)
    assert all(url.startswith(("file:", "data:", base)) for url in seen)


def test_unshifted_overlays_would_miss_the_amap_tiles_by_far(
    browser: Any, tile_server: tuple[str, list[str]]
) -> None:
    base, _ = tile_server
    # the same tiles taken as WGS 84: nothing is shifted, as a naive map would do
    page = map_to_html(new_map(place_layer(), basemap=base + "/amap/{z}/{x}/{y}.png", legend=False))
    distance, _ = offset_px(browser, page)
    assert distance > 300


def test_tianditu_tiles_line_up_with_wgs84_overlays(
    browser: Any, tile_server: tuple[str, list[str]]
) -> None:
    base, requests = tile_server
    page = map_to_html(
        new_map(
            place_layer(),
            basemap="tianditu",
            tianditu_key="testkey",
            tile_url=base + "/tianditu/{layer}/{z}/{x}/{y}.png?tk={key}",
            legend=False,
        )
    )
    distance, _ = offset_px(browser, page)
    assert distance <= TOLERANCE_PX
    assert any(f"/tianditu/vec/{ZOOM}/" in path for path in requests)
    assert any(f"/tianditu/cva/{ZOOM}/" in path for path in requests)
