"""Map layers, pages and sheets without a browser: content, privacy, assets, base maps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geogrid.crs import wgs84_to_gcj02
from geogrid.errors import UnknownGridError
from geogrid.maps import (
    MapError,
    area_layer,
    asset_dir,
    asset_files,
    basemap_from_name,
    checkpoint_layer,
    entry_layer,
    external_links,
    find_personal,
    grid_chain,
    grid_layer,
    grid_layers,
    hexagon_layer,
    map_to_html,
    new_map,
    point_layer,
    render_grid_sheet,
    route_layer,
    site_layer,
)

HTTP_URL = re.compile(r"""https?://[^\s"'<>)\\]+""")


def full_map(county: dict, **kwargs: object) -> folium.Map:
    return new_map(
        grid_layers(county["grids"]),
        checkpoint_layer(county["checkpoints"]),
        site_layer(county["sites"]),
        entry_layer(county["entries"]),
        route_layer(county["routes"], county["stops"]),
        hexagon_layer(county["cells"], name="Newcomers 新来人员"),
        title="平阳县",
        **kwargs,
    )


def features_of(page: str) -> list[dict]:
    """The GeoJSON feature collections geogrid embedded in a page."""
    found = re.findall(r"geogrid\.geoJson\((\{.*?\}\]\})\s*,", page, flags=re.DOTALL)
    return [feature for text in found for feature in json.loads(text)["features"]]


def test_full_map_page_is_offline_and_has_every_part(county: dict) -> None:
    page = map_to_html(full_map(county))
    assert external_links(page) == []
    # the only http(s) addresses in the page are in Leaflet's own code and comments (its
    # attribution link, bug references); geogrid's part of the page has none at all. The
    # browser test checks that no request leaves the machine.
    script = re.search(r"<script>/\* @preserve\s+\* Leaflet 1\.9\.\d+.*?</script>", page, re.DOTALL)
    style = re.search(r"<style>/\* required styles \*/.*?</style>", page, re.DOTALL)
    assert script is not None
    assert style is not None
    rest = page.replace(script.group(0), "").replace(style.group(0), "")
    assert HTTP_URL.findall(rest) == []
    for part in ("L.control.layers", "geogrid.addControls", "fitBounds", "geogrid.whenDrawn"):
        assert part in page
    assert "Leaflet 1.9." in page
    assert "平阳县" in page


def test_pages_carry_no_phone_or_id_number(county: dict) -> None:
    grids = county["grids"]
    assert grids["worker_phone"].notna().any()
    assert grids["worker_id_number"].notna().any()
    page = map_to_html(full_map(county))
    sheet = render_grid_sheet("330326-101-001", grids, checkpoints=county["checkpoints"])
    secrets = [*grids["worker_phone"].dropna(), *grids["worker_id_number"].dropna()]
    for text in (page, sheet):
        assert find_personal(text) == []
        assert [value for value in secrets if value in text] == []
        # a bare mobile number anywhere outside an identifier (element ids are hex: a run of
        # eleven digits inside one is no phone) or a coordinate's decimals
        assert not re.search(r"(?<![0-9A-Za-z_.])1[3-9]\d{9}(?!\d)", text)
    first_worker = grids.loc[grids["code"] == "330326-101-001", "worker_name"].iloc[0]
    assert first_worker in page
    assert first_worker in sheet


def test_a_phone_typed_into_a_name_is_masked(county: dict) -> None:
    grids = county["grids"].copy()
    grids.loc[grids["level"] == "village", "worker_name"] = "李四 13912345678"
    page = map_to_html(new_map(grid_layer(grids)))
    assert "139****5678" in page
    assert find_personal(page) == []


def test_features_embed_only_style_tooltip_and_popup(county: dict) -> None:
    features = features_of(map_to_html(full_map(county)))
    assert features
    assert {key for f in features for key in f["properties"]} <= {"s", "t", "p"}
    tooltips = " ".join(f["properties"].get("t", "") for f in features)
    assert "Grid worker" in tooltips
    assert "Households" in tooltips


def test_grid_layers_one_per_level_with_legend(county: dict) -> None:
    layers = grid_layers(county["grids"])
    assert [layer.layer_name for layer in layers] == [
        "County 县",
        "Towns 镇街",
        "Village grids 村社网格",
        "Micro-grids 微网格",
    ]
    assert all(len(layer.legend) == 1 for layer in layers)
    assert layers[0].bounds[:2] == pytest.approx((120.40, 27.50))


def test_checkpoints_closed_ones_look_different(county: dict) -> None:
    layer = checkpoint_layer(county["checkpoints"])
    assert any(entry.dashed for entry in layer.legend)
    page = map_to_html(new_map(layer))
    styles = json.loads(re.search(r"\}\]\}\s*,\s*(\[.*?\])\s*,", page, re.DOTALL).group(1))
    closed = [s for s in styles if s.get("dashArray")]
    active = [s for s in styles if not s.get("dashArray")]
    assert closed
    assert active
    assert {s["fillColor"] for s in closed}.isdisjoint({s["fillColor"] for s in active})


def test_layers_refuse_bad_input(county: dict) -> None:
    with pytest.raises(MapError, match="level"):
        grid_layer(county["grids"].drop(columns="level"))
    bad = county["grids"].assign(level="province")
    with pytest.raises(MapError, match="unknown grid level"):
        grid_layer(bad)
    with pytest.raises(MapError, match="checkpoint kind"):
        checkpoint_layer(county["checkpoints"].assign(kind="tollgate"))
    with pytest.raises(MapError, match="H3"):
        hexagon_layer(pd.DataFrame({"cell": ["not-a-cell"], "value": [1]}))
    with pytest.raises(MapError, match="GeoDataFrame"):
        grid_layer(pd.DataFrame(county["grids"].drop(columns="geometry")))


def test_frames_in_another_crs_are_converted(county: dict) -> None:
    utm = county["sites"].to_crs(32651)
    layer = site_layer(utm)
    assert layer.bounds[0] == pytest.approx(county["sites"].total_bounds[0], abs=1e-6)


def test_generic_overlays(county: dict) -> None:
    areas = gpd.GeoDataFrame(
        {"name": ["卡口 15 分钟"], "reach_s": [900]},
        geometry=[shapely.box(120.42, 27.52, 120.46, 27.56)],
        crs=4326,
    )
    points = gpd.GeoDataFrame(
        {
            "address": ["鳌江镇 东门村 12号"],
            "grid_code": ["330326-101-001"],
            "phone": ["13812345678"],
        },
        geometry=[shapely.Point(120.43, 27.53)],
        crs=4326,
    )
    routes = route_layer(county["routes"], county["stops"])
    assert len(set(routes.categories.values())) == 2
    page = map_to_html(
        new_map(
            area_layer(areas),
            area_layer(areas, kind="unreached"),
            point_layer(points),
            routes,
        )
    )
    assert find_personal(page) == []
    popups = [f["properties"]["p"] for f in features_of(page) if "p" in f["properties"]]
    assert len(popups) == 2
    assert "昆阳大酒店" in popups[1]
    assert "08:40" in popups[1]


def test_hexagons_use_h3_boundaries(county: dict) -> None:
    layer = hexagon_layer(county["cells"])
    page = map_to_html(new_map(layer))
    hexagons = features_of(page)
    assert len(hexagons) == len(county["cells"])
    assert all(len(f["geometry"]["coordinates"][0]) == 7 for f in hexagons)  # 6 + closing
    assert len(layer.legend) >= 2


def test_folium_defaults_stay_untouched(county: dict) -> None:
    map_to_html(full_map(county))
    assert any("cdn.jsdelivr.net" in url for _, url in folium.Map.default_js)
    plain = folium.Map(tiles=None)
    assert external_links(plain.get_root().render())


def test_a_cdn_plugin_is_refused(county: dict) -> None:
    m = new_map(grid_layer(county["grids"]))
    folium.plugins.MiniMap().add_to(m)
    with pytest.raises(MapError, match="Internet"):
        map_to_html(m)


def test_assets_come_from_the_installed_package() -> None:
    files = asset_files()
    assert {"leaflet.js", "leaflet.css", "images/layers.png"} <= set(files)
    assert all(
        path.is_file() and path.parent.is_relative_to(asset_dir()) for path in files.values()
    )
    assert "Leaflet 1.9." in files["leaflet.js"].read_text()[:200]
    repo = Path(__file__).resolve().parents[2]
    assert not list(repo.glob("geogrid/**/leaflet*.js"))  # nothing vendored into the repo


def test_served_and_local_assets_are_links(county: dict) -> None:
    served = map_to_html(new_map(grid_layer(county["grids"]), assets="/static/vendor"))
    assert '<script src="/static/vendor/leaflet.js">' in served
    assert "a JS library for interactive maps" not in served  # Leaflet's own header
    local = map_to_html(new_map(grid_layer(county["grids"]), assets="local"))
    assert asset_dir().as_uri() + "/leaflet.js" in local


def test_amap_overlays_are_shifted_to_gcj02() -> None:
    point = gpd.GeoDataFrame(
        {"code": ["KK1"], "name": ["测试卡口"], "kind": ["temporary"], "status": ["active"]},
        geometry=[shapely.Point(120.57, 27.67)],
        crs=4326,
    )
    amap = map_to_html(new_map(checkpoint_layer(point), basemap="amap"))
    plain = map_to_html(new_map(checkpoint_layer(point)))
    drawn_amap = features_of(amap)[0]["geometry"]["coordinates"]
    drawn_plain = features_of(plain)[0]["geometry"]["coordinates"]
    assert drawn_plain == [120.57, 27.67]
    # the known point: WGS 84 (120.57, 27.67) is GCJ-02 (120.57392, 27.666639)
    assert drawn_amap == pytest.approx([120.57392, 27.666639], abs=2e-6)
    assert drawn_amap == pytest.approx(list(wgs84_to_gcj02(120.57, 27.67)), abs=1e-6)
    assert "autonavi.com" in amap


def test_amap_refuses_layers_it_cannot_shift(county: dict) -> None:
    marker = folium.CircleMarker((27.67, 120.57))
    with pytest.raises(MapError, match="GCJ-02"):
        new_map(grid_layer(county["grids"]), marker, basemap="amap")
    # the same layer object can go on a WGS 84 map afterwards: it redraws itself
    layer = site_layer(county["sites"])
    new_map(layer, basemap="amap")
    assert layer.display_crs == "gcj02"
    new_map(layer)
    assert layer.display_crs == "wgs84"


def test_tianditu_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEOGRID_TIANDITU_KEY", raising=False)
    with pytest.raises(MapError, match="key"):
        basemap_from_name("tianditu")
    chosen = basemap_from_name("tianditu", tianditu_key="abc123")
    assert all("tk=abc123" in spec.url for spec in chosen.tiles)
    monkeypatch.setenv("GEOGRID_TIANDITU_KEY", "fromenv")
    assert "tk=fromenv" in basemap_from_name("tianditu").tiles[0].url


def test_local_tile_folder_and_unknown_basemap(tmp_path: Path) -> None:
    chosen = basemap_from_name(str(tmp_path))
    assert chosen.tiles[0].url == tmp_path.as_uri() + "/{z}/{x}/{y}.png"
    assert not chosen.online
    assert basemap_from_name("/tiles/{z}/{x}/{y}.png", tiles_crs="gcj02").display_crs == "gcj02"
    with pytest.raises(MapError, match="unknown basemap"):
        basemap_from_name("google")


def test_grid_chain_and_unknown_grid(county: dict) -> None:
    chain = grid_chain(county["grids"], "330326-101-001-02")
    assert [code for code, _ in chain] == [
        "330326",
        "330326-101",
        "330326-101-001",
        "330326-101-001-02",
    ]
    with pytest.raises(UnknownGridError):
        render_grid_sheet("999", county["grids"])


def test_sheet_content(county: dict) -> None:
    sheet = render_grid_sheet(
        "330326-101-001",
        county["grids"],
        checkpoints=county["checkpoints"],
        entries=county["entries"],
        counts={"addresses": 1234, "checkpoints": 3, "unguarded_entries": 2},
        paper="A3",
        orientation="landscape",
        date="2020-02-05",
    )
    for text in (
        "330326-101-001",
        "平阳县 › 鳌江镇",
        "1,234",
        "2020-02-05",
        "@page { size: A3 landscape",
    ):
        assert text in sheet
    assert external_links(sheet) == []
    assert "Sub-grids 下级网格" in sheet
    assert "Neighbours 相邻网格" in sheet
