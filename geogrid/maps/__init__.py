"""Maps for planners: Folium layers, offline pages, printable grid sheets.

Layers take GeoDataFrames in WGS 84 and return ``folium.FeatureGroup``\\ s with a legend;
:func:`new_map` puts them on a map with a legend, layer control, scale bar, fullscreen and
measure controls, fitted to the data, loading nothing from the Internet. The background is
either drawn from the data itself (:func:`street_layer`: roads by class with their names,
water, house numbers; :mod:`geogrid.workspace.streets` reads them from PostGIS) or, when a
network is there, tiles from Tianditu or Amap (:mod:`geogrid.maps.basemaps`).
:func:`render_grid_sheet` makes the printable page of one grid and :func:`print_html` prints
any page to PNG or PDF through headless Chromium.

Examples
--------
>>> import geopandas as gpd, shapely
>>> grids = gpd.GeoDataFrame(
...     {"code": ["330326-101"], "name": ["鳌江镇"], "level": ["town"]},
...     geometry=[shapely.box(120.55, 27.55, 120.65, 27.65)], crs=4326)
>>> m = new_map(grid_layer(grids), basemap="plain")
>>> page = map_to_html(m)  # one self-contained, offline page
"""

from __future__ import annotations

from geogrid.errors import BrowserError, MapError
from geogrid.maps._base import GeoLayer, LegendEntry
from geogrid.maps.assets import asset_dir, asset_files, external_links, use_local_assets
from geogrid.maps.basemaps import BASEMAPS, Basemap, basemap_from_name
from geogrid.maps.browser import MapCheck, check_map_html, start_browser
from geogrid.maps.canvas import legend_html, map_to_html, new_map, save_map
from geogrid.maps.layers import checkpoint_layer, grid_layer, grid_layers, site_layer
from geogrid.maps.overlays import area_layer, entry_layer, hexagon_layer, point_layer, route_layer
from geogrid.maps.printing import Printer, print_html, print_html_process
from geogrid.maps.sheets import grid_chain, render_child_sheets, render_grid_sheet
from geogrid.maps.streets import ROAD_STYLES, street_layer
from geogrid.privacy import find_personal, mask_personal, mask_phone

__all__ = [
    "BASEMAPS",
    "ROAD_STYLES",
    "Basemap",
    "BrowserError",
    "GeoLayer",
    "LegendEntry",
    "MapCheck",
    "MapError",
    "Printer",
    "area_layer",
    "asset_dir",
    "asset_files",
    "basemap_from_name",
    "check_map_html",
    "checkpoint_layer",
    "entry_layer",
    "external_links",
    "find_personal",
    "grid_chain",
    "grid_layer",
    "grid_layers",
    "hexagon_layer",
    "legend_html",
    "map_to_html",
    "mask_personal",
    "mask_phone",
    "new_map",
    "point_layer",
    "print_html",
    "print_html_process",
    "render_child_sheets",
    "render_grid_sheet",
    "route_layer",
    "save_map",
    "site_layer",
    "start_browser",
    "street_layer",
    "use_local_assets",
]
