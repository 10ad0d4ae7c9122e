"""Sheets and maps of the demo county with the street base read from PostGIS.

The names a printed village sheet must carry, and the roads the base holds, are checked
against independent PostGIS queries; the sheet's entry counts against the coverage
analysis (``analyse_grid``) and against the markers it draws.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import text

from geogrid.maps import check_map_html, external_links, find_personal, map_to_html
from geogrid.settings import get_settings
from geogrid.workspace import Workspace
from geogrid.workspace.coverage import analyse_grid, coverage_map
from geogrid.workspace.sheets import child_codes, child_sheets, grid_sheet
from geogrid.workspace.streets import street_frames

pytestmark = pytest.mark.browser

VILLAGE = "330326-105-003"


def names_in_grid(workspace: Workspace, code: str) -> set[str]:
    """Names of the roads that intersect a grid, asked of PostGIS directly."""
    with workspace.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT r.name FROM roads r JOIN grids g ON ST_Intersects(r.geom, g.geom)"
                " WHERE g.code = :code AND r.name IS NOT NULL AND r.name <> ''"
            ),
            {"code": code},
        ).scalars()
        return set(rows)


def fact(html: str, label: str) -> int:
    found = re.search(r"<b>([\d,]+)</b><span>" + re.escape(label), html)
    assert found, label
    return int(found.group(1).replace(",", ""))


def test_base_is_clipped_to_the_extent_and_has_every_road_in_it(
    demo_workspace: Workspace,
) -> None:
    box = (120.60, 27.55, 120.62, 27.565)
    frames = street_frames(demo_workspace, box)
    extent = shapely.box(*box)
    assert len(frames.roads) > 50
    assert shapely.covers(extent.buffer(1e-9), frames.roads.geometry.values).all()
    with demo_workspace.engine.connect() as conn:
        expected = conn.execute(
            text(
                "SELECT count(DISTINCT id) FROM roads "
                "WHERE ST_Intersects(geom, ST_MakeEnvelope(120.60, 27.55, 120.62, 27.565, 4326))"
            )
        ).scalar_one()
    roads = demo_workspace.roads()
    assert int(roads.intersects(extent).sum()) == expected  # shapely agrees with PostGIS
    lengths = frames.roads.to_crs(32651).length.sum()
    clipped = roads.loc[roads.intersects(extent)].clip(extent).to_crs(32651).length.sum()
    assert lengths == pytest.approx(clipped, rel=1e-6)
    assert set(frames.addresses["number"])
    assert frames.addresses.intersects(extent).all()


def test_village_sheet_prints_its_streets_and_true_entry_counts(
    demo_workspace: Workspace, printer: Any, tmp_path: Path
) -> None:
    sheet = grid_sheet(demo_workspace, VILLAGE)
    summary = analyse_grid(demo_workspace, VILLAGE).summary()
    assert fact(sheet, "Unguarded entries") == summary["unguarded"]
    assert fact(sheet, "Guarded entries") == summary["guarded"]
    assert "<b>—</b><span>Unguarded" not in sheet

    out = printer.print(sheet, tmp_path / "village.pdf")
    page = PdfReader(out).pages[0]
    printed = "".join(page.extract_text().split())
    expected = names_in_grid(demo_workspace, VILLAGE)
    assert len(expected) >= 5
    assert sorted(n for n in expected if n not in printed) == []
    assert find_personal(page.extract_text()) == []

    drawn = printer.driver.execute_script(
        "var m = window[document.querySelector('.folium-map').id], red = 0, green = 0;"
        "m.eachLayer(function (l) {"
        "  if (!(l instanceof L.CircleMarker) || !l.feature) return;"
        "  var o = l.options;"
        "  if (o.fillColor === '#c92a2a' && o.radius === 7) red += 1;"
        "  if (o.fillColor === '#2b8a3e' && o.radius === 5) green += 1; });"
        "return [red, green, (window.geogridPlacedStreets || []).length];"
    )
    assert drawn[:2] == [summary["unguarded"], summary["guarded"]]
    assert drawn[2] > 5


def test_sheet_and_coverage_map_load_nothing_from_the_network(
    demo_workspace: Workspace, browser: Any
) -> None:
    town = "330326-110"
    page = map_to_html(coverage_map(demo_workspace, analyse_grid(demo_workspace, town)))
    check = check_map_html(page, driver=browser, timeout_s=60)
    assert check.errors == []
    assert check.external_requests == []
    assert check.overlays[0] == "Streets 街道"
    placed = browser.execute_script("return window.geogridPlacedStreets;")
    with demo_workspace.engine.connect() as conn:
        in_town = set(
            conn.execute(
                text(
                    "SELECT DISTINCT r.name FROM roads r JOIN grids g ON "
                    "ST_Intersects(r.geom, ST_Envelope(ST_Buffer(g.geom, 0.01))) "
                    "WHERE g.code = :code AND r.name IS NOT NULL"
                ),
                {"code": town},
            ).scalars()
        )
    assert len(set(placed)) >= 20
    assert set(placed) <= in_town

    check = check_map_html(grid_sheet(demo_workspace, VILLAGE), driver=browser)
    assert check.errors == []
    assert check.external_requests == []


def test_children_are_one_sheet_each_in_code_order(demo_workspace: Workspace) -> None:
    town = "330326-111"
    codes = child_codes(demo_workspace, town)
    with demo_workspace.engine.connect() as conn:
        expected = conn.execute(
            text('SELECT code FROM grids WHERE parent_code = :c ORDER BY code COLLATE "C"'),
            {"c": town},
        ).scalars()
        assert codes == list(expected)
    first_two = list(child_sheets(demo_workspace, town, children=codes[:2]))
    assert [code for code, _ in first_two] == codes[:2]
    for code, html in first_two:
        assert code in html
        assert (
            fact(html, "Unguarded entries")
            == analyse_grid(demo_workspace, code).summary()["unguarded"]
        )


def test_map_routes_take_an_online_basemap_or_refuse_it(
    demo_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = demo_client.get(f"/maps/grids/{VILLAGE}.html")
    assert offline.status_code == 200
    assert "geogrid.roadLabels(" in offline.text
    assert not external_links(offline.text)
    amap = demo_client.get(f"/maps/grids/{VILLAGE}.html", params={"basemap": "amap"})
    assert amap.status_code == 200
    assert "autonavi.com" in amap.text
    assert "geogrid.roadLabels(" not in amap.text  # the tiles carry the streets
    monkeypatch.delenv("GEOGRID_TIANDITU_KEY", raising=False)
    get_settings.cache_clear()
    try:
        refused = demo_client.get(f"/maps/grids/{VILLAGE}.html", params={"basemap": "tianditu"})
    finally:
        get_settings.cache_clear()
    assert refused.status_code == 422
    assert "GEOGRID_TIANDITU_KEY" in refused.json()["message"]
    unknown = demo_client.get(f"/maps/grids/{VILLAGE}.html", params={"basemap": "osm2"})
    assert unknown.status_code == 422
