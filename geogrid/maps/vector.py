"""A MapLibre GL page of geogrid's vector tiles: grids, roads and checkpoints, offline.

MapLibre GL JS and its CSS come from an installed registry package (PyPI ``maplibre``,
whose wheel ships MapLibre GL JS's ``dist`` build as ``maplibre/srcjs/maplibre-gl.js``);
:func:`maplibre_dir` finds that folder without importing the package (its import loads
widget frameworks). The page and its style name nothing off the serving host: the tiles
are geogrid's own (``/collections/{id}/tiles/WebMercatorQuad/{z}/{x}/{y}``) and there are
no glyphs or sprites, so the page draws no text labels (MapLibre would fetch glyph PBFs
for them, and no installed package ships those); names show in a popup on click.

An API key given in the page's fragment (``/maps/vector#key=gg_...``) is sent with the
style and tile requests as ``Authorization: Bearer``; a fragment never reaches a server
or its logs.
"""

from __future__ import annotations

import html
import importlib.util
import json
from pathlib import Path
from typing import Any

from geogrid.errors import MapError

__all__ = ["MAPLIBRE_FILES", "maplibre_dir", "vector_page", "vector_style"]

MAPLIBRE_FILES = ("maplibre-gl.js", "maplibre-gl.css")
"""The files of MapLibre GL JS the page loads."""

_LEVEL_COLOURS = [
    "match",
    ["get", "level"],
    "county",
    "#6a3d9a",
    "town",
    "#1f78b4",
    "village",
    "#33a02c",
    "micro",
    "#b2df8a",
    "industry",
    "#ff7f00",
    "#999999",
]
_ROAD_WIDTH = [
    "match",
    ["get", "road_class"],
    ["motorway", "trunk"],
    4,
    ["primary", "secondary"],
    3,
    "tertiary",
    2,
    1.2,
]


def maplibre_dir() -> Path:
    """Return the folder of the installed MapLibre GL JS build (``maplibre-gl.js``, ``.css``).

    Raises
    ------
    MapError
        If the PyPI package ``maplibre`` is not installed (or lacks the files).
    """
    spec = importlib.util.find_spec("maplibre")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        candidate = Path(folder) / "srcjs"
        if all((candidate / name).is_file() for name in MAPLIBRE_FILES):
            return candidate
    raise MapError(
        "the vector map needs MapLibre GL JS from the PyPI package maplibre: pip install maplibre"
    )


def vector_style(
    base: str, bounds: tuple[float, float, float, float] | None, *, max_zoom: int = 22
) -> dict[str, Any]:
    """Return a MapLibre style drawing grids, roads and checkpoints from geogrid's tiles.

    Parameters
    ----------
    base
        The API's base URL (no trailing slash).
    bounds
        West, south, east, north (WGS 84) to centre on; None: the whole world.
    max_zoom
        The deepest tile zoom served.
    """

    def source(layer: str) -> dict[str, Any]:
        url = f"{base}/collections/{layer}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"
        return {"type": "vector", "tiles": [url], "minzoom": 0, "maxzoom": max_zoom}

    style: dict[str, Any] = {
        "version": 8,
        "name": "geogrid",
        "sources": {name: source(name) for name in ("grids", "roads", "checkpoints")},
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": "#f4f1ea"}},
            {
                "id": "grids-fill",
                "type": "fill",
                "source": "grids",
                "source-layer": "grids",
                "filter": ["in", ["get", "level"], ["literal", ["village", "micro", "industry"]]],
                "paint": {"fill-color": _LEVEL_COLOURS, "fill-opacity": 0.12},
            },
            {
                "id": "grids-line",
                "type": "line",
                "source": "grids",
                "source-layer": "grids",
                "paint": {
                    "line-color": _LEVEL_COLOURS,
                    "line-width": ["match", ["get", "level"], ["county", "town"], 2.5, 1],
                },
            },
            {
                "id": "roads",
                "type": "line",
                "source": "roads",
                "source-layer": "roads",
                "layout": {"line-cap": "round", "line-join": "round"},
                "paint": {"line-color": "#8c7b6b", "line-width": _ROAD_WIDTH},
            },
            {
                "id": "checkpoints",
                "type": "circle",
                "source": "checkpoints",
                "source-layer": "checkpoints",
                "paint": {
                    "circle-radius": 5,
                    "circle-color": [
                        "match",
                        ["get", "status"],
                        "active",
                        "#e31a1c",
                        "#fb9a99",
                    ],
                    "circle-stroke-color": "#ffffff",
                    "circle-stroke-width": 1.5,
                },
            },
        ],
    }
    if bounds is not None:
        west, south, east, north = bounds
        style["center"] = [(west + east) / 2, (south + north) / 2]
        style["zoom"] = 10
    return style


_PAGE = """<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title)s</title>
<link rel="stylesheet" href="%(assets)s/maplibre-gl.css">
<script src="%(assets)s/maplibre-gl.js"></script>
<style>
html, body, #map { margin: 0; height: 100%%; }
.legend { position: absolute; bottom: 24px; left: 8px; background: #fff; padding: 6px 8px;
          font: 12px sans-serif; border-radius: 4px; box-shadow: 0 0 4px #0004; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; }
</style>
</head>
<body>
<div id="map"></div>
<div class="legend">
<div><i style="background:#1f78b4"></i>Grids 网格</div>
<div><i style="background:#8c7b6b"></i>Roads 道路</div>
<div><i style="background:#e31a1c;border-radius:6px"></i>Checkpoints 卡口</div>
</div>
<script>
(function () {
  var key = new URLSearchParams(location.hash.slice(1)).get("key");
  var base = %(base)s;
  var map = new maplibregl.Map({
    container: "map",
    style: %(style_url)s,
    hash: false,
    transformRequest: function (url) {
      if (key && url.indexOf(base) === 0) {
        return {url: url, headers: {Authorization: "Bearer " + key}};
      }
      return {url: url};
    }
  });
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  map.addControl(new maplibregl.ScaleControl({unit: "metric"}), "bottom-right");
  map.on("click", function (e) {
    var hit = map.queryRenderedFeatures(e.point)[0];
    if (!hit) { return; }
    var p = hit.properties;
    var div = document.createElement("div");
    div.textContent = (p.name || "") + " " + (p.code || "");
    new maplibregl.Popup().setLngLat(e.lngLat).setDOMContent(div).addTo(map);
  });
  map.once("idle", function () { window.geogridReady = true; });
  map.on("error", function (e) {
    window.geogridMapErrors = (window.geogridMapErrors || []).concat(
      [String(e.error && e.error.message || e.error)]);
  });
  window.geogridMap = map;
})();
</script>
</body>
</html>
"""


def vector_page(
    base: str, assets: str, *, title: str = "geogrid: grids, roads, checkpoints"
) -> str:
    """Return the MapLibre GL page.

    Parameters
    ----------
    base
        The API's base URL (no trailing slash); the style is ``{base}/maps/vector/style.json``.
    assets
        Where :func:`maplibre_dir` is served (a URL prefix).
    title
        The page's title.
    """
    return _PAGE % {
        "title": html.escape(title),
        "assets": html.escape(assets, quote=True),
        "base": json.dumps(base),
        "style_url": json.dumps(f"{base}/maps/vector/style.json"),
    }
