"""Maps and sheets in headless Chromium with no network: errors, layers, pixels, PDF pages.

The session's browser resolves no host name but localhost, and the checks list every
request a page made, so a page that needed the Internet would fail here twice.
"""

from __future__ import annotations

import http.server
import io
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pytest
import shapely
from PIL import Image
from pypdf import PdfReader

from geogrid.maps import (
    check_map_html,
    checkpoint_layer,
    entry_layer,
    find_personal,
    grid_layer,
    grid_layers,
    hexagon_layer,
    map_to_html,
    new_map,
    print_html,
    print_html_process,
    render_child_sheets,
    render_grid_sheet,
    route_layer,
    site_layer,
)
from geogrid.maps.assets import asset_dir
from geogrid.maps.browser import MapCheck
from geogrid.maps.printing import paper_size_px

pytestmark = pytest.mark.browser

MM = 72 / 25.4  # PDF points per millimetre
BACKGROUND = (246, 244, 239)  # .geogrid-plain


def assert_clean(check: MapCheck) -> None:
    assert check.errors == []
    assert check.external_requests == []
    assert check.ready == "drawn"


def test_full_map_draws_offline_with_every_layer(county: dict, browser: Any) -> None:
    m = new_map(
        grid_layers(county["grids"]),
        checkpoint_layer(county["checkpoints"]),
        site_layer(county["sites"]),
        entry_layer(county["entries"]),
        route_layer(county["routes"], county["stops"]),
        hexagon_layer(county["cells"], name="Newcomers 新来人员"),
    )
    check = check_map_html(map_to_html(m), driver=browser)
    assert_clean(check)
    assert check.overlays == [
        "County 县",
        "Towns 镇街",
        "Village grids 村社网格",
        "Micro-grids 微网格",
        "Checkpoints 卡口",
        "Isolation sites 隔离点",
        "Road entries 入口",
        "Transfer routes 转运路线",
        "Newcomers 新来人员",
    ]
    state = browser.execute_script(
        "var m = window[document.querySelector('.folium-map').id];"
        "return {paths: document.querySelectorAll('.leaflet-overlay-pane path').length,"
        " labels: document.querySelectorAll('.geogrid-label').length,"
        " legend: document.querySelector('.geogrid-legend').textContent,"
        " scale: !!document.querySelector('.leaflet-control-scale'),"
        " fullscreen: !!document.querySelector('.geogrid-fullscreen'),"
        " measure: !!document.querySelector('.geogrid-measure'),"
        " zoom: m.getZoom()};"
    )
    assert state["paths"] > 30
    assert state["labels"] >= 10
    assert "Traffic station 交通卡口" in state["legend"]
    assert state["scale"]
    assert state["fullscreen"]
    assert state["measure"]
    assert 9 <= state["zoom"] <= 13  # fitted to a 0.24° county, not the default view of China


def test_folium_markers_get_their_icons_offline(county: dict, browser: Any) -> None:
    m = new_map(site_layer(county["sites"]))
    folium.Marker((27.55, 120.45), tooltip="default icon").add_to(m)
    check = check_map_html(map_to_html(m), driver=browser)
    assert_clean(check)
    icon = browser.execute_script("return document.querySelector('.leaflet-marker-icon').src;")
    assert icon.startswith("data:image/png;base64,")


def test_the_check_catches_a_page_that_wants_the_internet(browser: Any) -> None:
    page = '<html><body><img src="https://tile.example.org/1/1/1.png"></body></html>'
    check = check_map_html(page, driver=browser)
    assert check.external_requests == ["https://tile.example.org/1/1/1.png"]
    assert check.errors  # the name did not resolve
    assert not check.ok


def test_measure_and_fullscreen_controls_work(county: dict, browser: Any) -> None:
    check = check_map_html(map_to_html(new_map(grid_layer(county["grids"]))), driver=browser)
    assert_clean(check)
    result = browser.execute_script(
        "var m = window[document.querySelector('.folium-map').id], c = m.geogridMeasure;"
        "c.start();"
        "[[27.5, 120.4], [27.5, 120.5], [27.6, 120.5]].forEach(function (p) {"
        "  m.fire('click', {latlng: L.latLng(p[0], p[1])}); });"
        "var r = c.result(); c.finish();"
        "document.querySelector('.geogrid-fullscreen a').click();"
        "return [r, document.querySelector('.geogrid-measure-panel').textContent,"
        "        window.__geogridErrors];"
    )
    measured, panel, errors = result
    east_m = 0.1 * 111_320 * math.cos(math.radians(27.5))
    assert measured["length_m"] == pytest.approx(east_m + 0.1 * 110_950, rel=0.01)
    assert measured["area_m2"] == pytest.approx(east_m * 0.1 * 110_950 / 2, rel=0.02)
    assert "km" in panel
    assert errors == []


def web_mercator_px(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    """Leaflet's global pixel coordinates of a point at a zoom (256-px tiles)."""
    scale = 256 * 2**zoom
    x = (lon + 180) / 360 * scale
    y = 1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi
    return x, y / 2 * scale


def fit_zoom(bounds: tuple[float, ...], size: tuple[int, int], padding: int, snap: float) -> float:
    """The zoom Leaflet's fitBounds picks (getBoundsZoom, zoom snapped down)."""
    west, south, east, north = bounds
    x0, y0 = web_mercator_px(west, north, 0)
    x1, y1 = web_mercator_px(east, south, 0)
    scale = min((size[0] - 2 * padding) / (x1 - x0), (size[1] - 2 * padding) / (y1 - y0))
    zoom = math.log2(scale)
    zoom = round(zoom / (snap / 100)) * (snap / 100)
    return math.floor(zoom / snap) * snap


def test_sheet_png_draws_the_grid_where_the_data_says(county: dict, printer: Any) -> None:
    code = "330326-102-004"  # a village with no sub-grids, in the second town
    grids = county["grids"]
    sheet = render_grid_sheet(code, grids, colors={"village": "#ff00ff"}, date="2020-02-05")
    scale = 1.0
    png = printer.render(sheet, format="png", paper="A4", scale=scale)
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    assert image.shape[:2] == paper_size_px("A4")[::-1]

    driver = printer.driver
    frame = driver.execute_script(
        "var el = document.querySelector('.folium-map'), r = el.getBoundingClientRect();"
        "var m = window[el.id];"
        "return {left: r.left + el.clientLeft, top: r.top + el.clientTop,"
        " width: el.clientWidth, height: el.clientHeight, zoom: m.getZoom()};"
    )
    bounds = tuple(grids.loc[grids["code"] == code].total_bounds)
    zoom = fit_zoom(bounds, (frame["width"], frame["height"]), padding=16, snap=0.25)
    assert frame["zoom"] == pytest.approx(zoom)

    # Leaflet centres the fitted bounds: the midpoint of their projected corners sits at the
    # centre of the map frame
    north_west = web_mercator_px(bounds[0], bounds[3], zoom)
    south_east = web_mercator_px(bounds[2], bounds[1], zoom)
    mid_x, mid_y = (north_west[0] + south_east[0]) / 2, (north_west[1] + south_east[1]) / 2

    def to_image(lon: float, lat: float) -> tuple[float, float]:
        x, y = web_mercator_px(lon, lat, zoom)
        return (
            (frame["left"] + frame["width"] / 2 + x - mid_x) * scale,
            (frame["top"] + frame["height"] / 2 + y - mid_y) * scale,
        )

    left, top = to_image(bounds[0], bounds[3])
    right, bottom = to_image(bounds[2], bounds[1])
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]
    magenta = (red - green > 15) & (blue - green > 15)  # the grid's fill and outline
    in_frame = np.zeros_like(magenta)  # the legend beside the map has a magenta swatch too
    f_left, f_top = int(frame["left"] * scale), int(frame["top"] * scale)
    f_right = int((frame["left"] + frame["width"]) * scale)
    f_bottom = int((frame["top"] + frame["height"]) * scale)
    in_frame[f_top:f_bottom, f_left:f_right] = True
    magenta &= in_frame
    ys, xs = np.nonzero(magenta)
    assert xs.size > 10_000
    assert xs.min() == pytest.approx(left, abs=3)
    assert xs.max() == pytest.approx(right, abs=3)
    assert ys.min() == pytest.approx(top, abs=3)
    assert ys.max() == pytest.approx(bottom, abs=3)

    inside = image[int(top) + 20 : int(bottom) - 20, int(left) + 20 : int(right) - 20]
    above = image[int(frame["top"] * scale) + 5 : int(top) - 5, int(left) + 20 : int(right) - 20]
    assert above.shape[0] > 10  # the grid is wider than tall: the frame has room above it
    inside_colour = np.median(inside.reshape(-1, 3), axis=0)
    above_colour = np.median(above.reshape(-1, 3), axis=0)
    assert np.abs(above_colour - BACKGROUND).max() <= 3  # nothing drawn outside the county
    assert np.abs(inside_colour - BACKGROUND).max() > 15  # tinted by the grid's fill
    assert inside_colour[0] > inside_colour[1] < inside_colour[2]  # magenta-ish


def test_sheets_print_one_pdf_page_each(county: dict, printer: Any, tmp_path: Path) -> None:
    grids = county["grids"]
    batch = list(
        render_child_sheets(
            "330326-101",
            grids,
            checkpoints=county["checkpoints"],
            counts={"330326-101-002": {"addresses": 321}},
        )
    )
    villages = [code for code, _ in batch]
    assert villages == [f"330326-101-00{i}" for i in range(1, 5)]
    out = printer.print_many((sheet for _, sheet in batch), tmp_path / "villages.pdf")
    reader = PdfReader(out)
    assert len(reader.pages) == 4
    assert "321" in reader.pages[1].extract_text()
    for page, code in zip(reader.pages, villages, strict=True):
        assert float(page.mediabox.width) == pytest.approx(210 * MM, abs=2)
        assert float(page.mediabox.height) == pytest.approx(297 * MM, abs=2)
        text = page.extract_text()
        assert code in text
        assert find_personal(text) == []

    a3 = render_grid_sheet(villages[0], grids, paper="A3", orientation="landscape")
    out = print_html(a3, tmp_path / "a3.pdf", paper="A3", orientation="landscape", printer=printer)
    single = PdfReader(out)
    assert len(single.pages) == 1
    assert float(single.pages[0].mediabox.width) == pytest.approx(420 * MM, abs=2)
    assert float(single.pages[0].mediabox.height) == pytest.approx(297 * MM, abs=2)


def test_one_process_per_sheet_prints_too(county: dict, tmp_path: Path) -> None:
    sheet = render_grid_sheet("330326-101-001", county["grids"])
    out = print_html_process(sheet, tmp_path / "sheet.pdf")
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    assert "330326-101-001" in reader.pages[0].extract_text()


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A localhost server with Leaflet mounted at /static/vendor, as the API will."""
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "vendor").symlink_to(asset_dir(), target_is_directory=True)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def test_served_assets_work_from_a_static_route(
    county: dict, browser: Any, static_server: tuple[str, Path]
) -> None:
    base, folder = static_server
    page = map_to_html(new_map(grid_layer(county["grids"]), assets="/static/vendor"))
    (folder / "map.html").write_text(page, encoding="utf-8")
    browser.get(f"{base}/map.html")
    check = browser.execute_script(
        "return [typeof L !== 'undefined' && L.version, window.geogridReady,"
        " document.querySelectorAll('.leaflet-overlay-pane path').length];"
    )
    assert check[0].startswith("1.9.")
    assert check[2] > 5


def test_amap_overlays_draw_without_tiles(county: dict, browser: Any) -> None:
    point = shapely.Point(120.57, 27.67)
    sites = county["sites"].iloc[:1].set_geometry([point], crs=4326)
    check = check_map_html(map_to_html(new_map(site_layer(sites), basemap="amap")), driver=browser)
    assert check.overlays == ["Isolation sites 隔离点"]
    assert check.base_layers == ["高德地图 Amap"]
    assert all("autonavi.com" in url for url in check.external_requests)  # tiles, refused here
    drawn = browser.execute_script(
        "var m = window[document.querySelector('.folium-map').id], found = [];"
        "m.eachLayer(function (l) { if (l instanceof L.CircleMarker) found.push(l.getLatLng()); });"
        "return found;"
    )
    assert drawn[0]["lng"] == pytest.approx(120.57392, abs=2e-6)
    assert drawn[0]["lat"] == pytest.approx(27.666639, abs=2e-6)
