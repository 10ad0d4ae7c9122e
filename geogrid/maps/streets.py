"""The offline base map: roads by class with their names along them, water, house numbers.

Every geogrid map can draw its own background from PostGIS instead of tiles from a
server: :func:`street_layer` takes the roads (``name``, ``road_class``), the water polygons
and the address points of the map's extent (see :mod:`geogrid.workspace.streets`, which
reads them clipped to the extent) and returns one :class:`~geogrid.maps._base.GeoLayer`:

- roads drawn as a casing and a fill, wider and warmer for higher classes
  (:data:`ROAD_STYLES`), merged per name and class so a town stays a few hundred paths;
- road names as upright text rotated to the road's direction at a point along it, placed
  in the browser for the zoom shown: candidates along each road are tried in order of
  class and length and a name that would overlap a placed one moves to the next candidate
  (or is left out, and listed in ``window.geogridUnplacedStreets`` and in a page element
  ``.geogrid-street-index`` if the page has one, as printed sheets do);
- water polygons (light blue) with their names;
- house numbers at the address points from zoom :data:`HOUSE_NUMBER_ZOOM` on.

Everything is drawn in panes below the grids (``geogridWater``, ``geogridRoads``) and the
names in a pane above them (``geogridStreetNames``), so the layer control can switch the
base without putting it on top. Nothing is loaded from the network.

Examples
--------
>>> import geopandas as gpd, shapely
>>> roads = gpd.GeoDataFrame(
...     {"name": ["人民路", None], "road_class": ["primary", "service"]},
...     geometry=[shapely.LineString([(120.60, 27.60), (120.61, 27.60)]),
...               shapely.LineString([(120.60, 27.60), (120.60, 27.61)])], crs=4326)
>>> layer = street_layer(roads)
>>> [entry.label for entry in layer.legend]
['Primary road 一级道路', 'Service road 辅路']
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from branca.element import MacroElement
from folium.template import Template

from geogrid.maps._base import (
    FeatureSet,
    GeoLayer,
    Labels,
    LegendEntry,
    as_wgs84_frame,
    cell_text,
    display_frame,
    frame_bounds,
    require_columns,
    safe_json,
)

__all__ = [
    "HOUSE_NUMBER_ZOOM",
    "ROAD_STYLES",
    "WATER_STYLE",
    "label_candidates",
    "street_layer",
]

ROAD_STYLES: dict[str, dict[str, Any]] = {
    "motorway": {
        "label": "Expressway 高速公路",
        "fill": "#e8590c",
        "casing": "#a63c06",
        "width": 6,
    },
    "trunk": {"label": "Trunk road 国道", "fill": "#f59f00", "casing": "#b35c00", "width": 5.5},
    "primary": {
        "label": "Primary road 一级道路",
        "fill": "#ffd43b",
        "casing": "#a18300",
        "width": 5,
    },
    "secondary": {
        "label": "Secondary road 二级道路",
        "fill": "#fff3bf",
        "casing": "#a89a4c",
        "width": 4.5,
    },
    "tertiary": {
        "label": "Tertiary road 三级道路",
        "fill": "#ffffff",
        "casing": "#868e96",
        "width": 4,
    },
    "residential": {"label": "Street 街巷", "fill": "#ffffff", "casing": "#adb5bd", "width": 3},
    "service": {"label": "Service road 辅路", "fill": "#ffffff", "casing": "#ced4da", "width": 2},
    "path": {"label": "Path 小路", "fill": "#f8f9fa", "casing": "#ced4da", "width": 1.5},
}
"""Road classes from highest to lowest: legend label, fill and casing colours, fill width
(px). Classes not listed are drawn as ``residential``; ``footway``, ``cycleway`` and
``track`` as ``path``; ``*_link`` as their road."""

WATER_STYLE: dict[str, Any] = {
    "color": "#74c0fc",
    "weight": 0.8,
    "fillColor": "#a5d8ff",
    "fillOpacity": 0.9,
}
"""Leaflet style of water polygons."""

HOUSE_NUMBER_ZOOM = 17
"""House numbers are shown from this zoom on (about 1:4,000 on a screen)."""

_ALIASES = {"footway": "path", "cycleway": "path", "track": "path", "pedestrian": "path"}
_CASING_PX = 1.5  # each side
_SEGMENT_M = 800.0  # a road longer than this gets a label candidate set per stretch
_FRACTIONS = (0.5, 0.3, 0.7, 0.15, 0.85)
_EARTH_M = 6_371_008.8


def _road_class(value: Any) -> str:
    text = str(value or "").lower().removesuffix("_link")
    text = _ALIASES.get(text, text)
    return text if text in ROAD_STYLES else "residential"


def _lengths_m(lines: np.ndarray) -> np.ndarray:
    """Approximate lengths (m) of lon/lat lines (equirectangular at each line's latitude)."""
    if len(lines) == 0:
        return np.zeros(0)
    lat = shapely.get_coordinates(shapely.centroid(lines))[:, 1]
    scale = np.cos(np.radians(lat))
    out = np.empty(len(lines))
    for i, (line, k) in enumerate(zip(lines, scale, strict=True)):
        xy = shapely.get_coordinates(line)
        d = np.diff(xy, axis=0)
        out[i] = np.sum(np.hypot(d[:, 0] * k, d[:, 1])) * math.pi / 180 * _EARTH_M
    return out


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _screen_angle(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Angle (degrees, clockwise from east on screen) of a → b, kept upright (-90, 90]."""
    dx = math.radians(b[0] - a[0])
    dy = -(_mercator_y(b[1]) - _mercator_y(a[1]))  # screen y grows downwards
    angle = math.degrees(math.atan2(dy, dx))
    if angle > 90:
        angle -= 180
    elif angle <= -90:
        angle += 180
    return round(angle, 1)


def label_candidates(
    line: shapely.LineString, fractions: Sequence[float] = _FRACTIONS
) -> list[list[float]]:
    """Return ``[lat, lon, angle]`` label positions along a line, best first.

    The angle is the road's direction on a Web Mercator screen (clockwise from east, kept
    between -90 and 90 degrees so text is never upside down), measured over a short stretch
    around the point so a bend does not twist the name.

    Examples
    --------
    >>> label_candidates(shapely.LineString([(120.0, 27.0), (120.01, 27.0)]), [0.5])
    [[27.0, 120.005, 0.0]]
    >>> label_candidates(shapely.LineString([(120.0, 27.0), (120.0, 27.01)]), [0.5])[0][2]
    90.0
    """
    return _candidates([(line, 0.0, 1.0)], fractions)[0]


def _candidates(
    pieces: Sequence[tuple[shapely.LineString, float, float]],
    fractions: Sequence[float] = _FRACTIONS,
) -> list[list[list[float]]]:
    """:func:`label_candidates` of many stretches ``(line, start, end)`` at once; start and
    end are fractions of the line's length."""
    n, k = len(pieces), len(fractions)
    if n == 0:
        return []
    geoms = np.repeat(np.asarray([p[0] for p in pieces], dtype=object), k)
    start = np.repeat(np.asarray([p[1] for p in pieces], dtype=float), k)
    span = np.repeat(np.asarray([p[2] - p[1] for p in pieces], dtype=float), k)
    f = start + np.tile(np.asarray(fractions, dtype=float), n) * span
    window = 0.08 * span
    mid = shapely.get_coordinates(shapely.line_interpolate_point(geoms, f, normalized=True))
    a = shapely.get_coordinates(
        shapely.line_interpolate_point(geoms, np.maximum(f - window, 0.0), normalized=True)
    )
    b = shapely.get_coordinates(
        shapely.line_interpolate_point(geoms, np.minimum(f + window, 1.0), normalized=True)
    )
    dx = np.radians(b[:, 0] - a[:, 0])
    merc = lambda lat: np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))  # noqa: E731
    dy = -(merc(b[:, 1]) - merc(a[:, 1]))
    angle = np.degrees(np.arctan2(dy, dx))
    angle = np.where(angle > 90, angle - 180, np.where(angle <= -90, angle + 180, angle))
    same = (dx == 0) & (dy == 0)
    out: list[list[list[float]]] = [[] for _ in range(n)]
    for i in range(n * k):
        if not same[i]:
            out[i // k].append(
                [
                    round(float(mid[i, 1]), 6),
                    round(float(mid[i, 0]), 6),
                    round(float(angle[i]), 1) + 0.0,
                ]
            )
    return out


def _stretches(length_m: float) -> list[tuple[float, float]]:
    """Stretches of at most about :data:`_SEGMENT_M`, as (start, end) fractions."""
    pieces = max(1, math.ceil(length_m / _SEGMENT_M))
    cuts = np.linspace(0.0, 1.0, pieces + 1)
    return [(float(a), float(b)) for a, b in itertools.pairwise(cuts)]


def _merged_roads(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One (multi)line per name and class, parts joined where they meet."""
    names = frame["name"].where(frame["name"].notna(), "").astype(str).str.strip().to_numpy()
    classes = np.array([_road_class(c) for c in frame["road_class"]], dtype=object)
    parts, source = shapely.get_parts(
        np.asarray(frame.geometry.values, dtype=object), return_index=True
    )
    lines = shapely.get_type_id(parts) == 1
    parts, source = parts[lines], source[lines]
    keys = pd.MultiIndex.from_arrays([names[source], classes[source]])
    codes, uniques = pd.factorize(keys, sort=False)
    order = np.argsort(codes, kind="stable")
    multis = shapely.multilinestrings(parts[order], indices=codes[order])
    merged = shapely.line_merge(multis)
    return gpd.GeoDataFrame(
        {
            "name": [u[0] for u in uniques],
            "cls": [u[1] for u in uniques],
        },
        geometry=merged,
    )


def _inside(
    line: shapely.LineString, start: float, end: float, focus: shapely.Geometry | None
) -> Any:
    """The longest part of a stretch of ``line`` inside ``focus``, or None."""
    if focus is None or not line.intersects(focus):
        return None
    if (start, end) != (0.0, 1.0):
        line = shapely.ops.substring(line, start, end, normalized=True)
    inner = shapely.intersection(line, focus)
    parts = [
        g
        for g in shapely.get_parts(
            shapely.line_merge(inner) if inner.geom_type == "MultiLineString" else inner
        )
        if g.geom_type == "LineString" and g.length > 0
    ]
    return max(parts, key=lambda g: g.length) if parts else None


def _label_items(
    merged: gpd.GeoDataFrame, focus: shapely.Geometry | None = None
) -> list[list[Any]]:
    """``[name_html, rank, [[lat, lon, angle], ...]]`` per stretch of a named road, in the
    order the browser tries them: stretches in ``focus`` first, then higher class, then
    longer."""
    rank = {cls: i for i, cls in enumerate(ROAD_STYLES)}
    stretches: list[tuple[int, int, float, str, list[tuple[Any, float, float]]]] = []
    for name, cls, geom in zip(merged["name"], merged["cls"], merged.geometry, strict=True):
        if not name:
            continue
        parts = np.asarray(shapely.get_parts(geom), dtype=object)
        parts = parts[shapely.get_type_id(parts) == 1]
        for part, length in zip(parts, _lengths_m(parts), strict=True):
            for start, end in _stretches(float(length)):
                inner = _inside(part, start, end, focus)
                pieces = [(part, start, end)]
                if inner is not None:
                    pieces.insert(0, (inner, 0.0, 1.0))
                outside = int(focus is not None and inner is None)
                stretches.append((outside, rank[cls], float(length), name, pieces))
    stretches.sort(key=lambda s: (s[0], s[1], -s[2]))
    flat = [piece for *_, pieces in stretches for piece in pieces]
    found = iter(_candidates(flat))
    items = []
    for _, cls_rank, _, name, pieces in stretches:
        candidates = [c for _ in pieces for c in next(found)]
        if candidates:
            items.append([cell_text(name), cls_rank, candidates])
    return items


class _RoadLabels(MacroElement):
    """Road names placed in the browser, drawn by ``geogrid.roadLabels``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        geogrid.roadLabels({{ this.items }}, {{ this._parent.get_name() }}, {{ this.options }});
        {% endmacro %}
        """
    )

    def __init__(self, items: list[list[Any]], options: dict[str, Any]) -> None:
        super().__init__()
        self._name = "GeogridRoadLabels"
        self.items = safe_json(items)
        self.options = safe_json(options)


class _HouseNumbers(MacroElement):
    """House numbers shown from a zoom on, drawn by ``geogrid.houseNumbers``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        geogrid.houseNumbers({{ this.items }}, {{ this._parent.get_name() }}, {{ this.options }});
        {% endmacro %}
        """
    )

    def __init__(self, items: list[list[Any]], options: dict[str, Any]) -> None:
        super().__init__()
        self._name = "GeogridHouseNumbers"
        self.items = safe_json(items)
        self.options = safe_json(options)


def street_layer(
    roads: gpd.GeoDataFrame,
    water: gpd.GeoDataFrame | None = None,
    addresses: gpd.GeoDataFrame | None = None,
    *,
    name: str = "Streets 街道",
    label_px: float = 11.0,
    number_zoom: float = HOUSE_NUMBER_ZOOM,
    focus: shapely.Geometry | None = None,
    show: bool = True,
) -> GeoLayer:
    """Draw the offline base: water, roads by class with their names, house numbers.

    Parameters
    ----------
    roads
        Line geometries (EPSG:4326) with ``name`` (may be empty) and ``road_class``
        (motorway, trunk, primary, secondary, tertiary, residential, service, path, ...).
    water
        Polygons with an optional ``name``.
    addresses
        Points with ``number`` (the house number shown) and optionally ``road``.
    name
        Layer name in the layer control.
    label_px
        Font size of road names in CSS pixels (printed: 0.75 pt per pixel; 10 px is
        7.5 pt). Higher classes get up to 2 px more.
    number_zoom
        Zoom from which house numbers are shown.
    focus
        An area (WGS 84) whose streets are named first, on their part inside it (a
        sheet's grid).
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    GeoLayer
    """
    road_frame = as_wgs84_frame(roads, "roads")
    require_columns(road_frame, ("name", "road_class"), "roads")
    water_frame = as_wgs84_frame(water, "water") if water is not None else None
    number_frame = as_wgs84_frame(addresses, "addresses") if addresses is not None else None
    if number_frame is not None:
        require_columns(number_frame, ("number",), "addresses")
    present = sorted(
        {_road_class(c) for c in road_frame["road_class"]}, key=list(ROAD_STYLES).index
    )

    def draw(layer: GeoLayer, crs: str) -> None:
        if water_frame is not None and not water_frame.empty:
            shown_water = display_frame(water_frame, crs)
            FeatureSet(
                shown_water.geometry.values,
                [WATER_STYLE],
                [0] * len(shown_water),
                pane="geogridWater",
            ).add_to(layer)
            if "name" in shown_water:
                named = shown_water.loc[shown_water["name"].notna()]
                if not named.empty:
                    points = shapely.point_on_surface(np.asarray(named.geometry.values))
                    texts = [cell_text(n) for n in named["name"]]
                    Labels(points, texts, "geogrid-water-label").add_to(layer)
        if not road_frame.empty:
            merged = _merged_roads(display_frame(road_frame, crs))
            order = np.argsort([-list(ROAD_STYLES).index(c) for c in merged["cls"]], kind="stable")
            merged = merged.iloc[order]
            classes = list(ROAD_STYLES)
            casings = [
                {
                    "color": ROAD_STYLES[c]["casing"],
                    "weight": ROAD_STYLES[c]["width"] + 2 * _CASING_PX,
                    "opacity": 1,
                    "lineCap": "round",
                    "lineJoin": "round",
                    "interactive": False,
                }
                for c in classes
            ]
            fills = [
                {
                    "color": ROAD_STYLES[c]["fill"],
                    "weight": ROAD_STYLES[c]["width"],
                    "opacity": 1,
                    "lineCap": "round",
                    "lineJoin": "round",
                    "interactive": False,
                }
                for c in classes
            ]
            index = [classes.index(c) for c in merged["cls"]]
            geoms = merged.geometry.values
            FeatureSet(geoms, fills, index, pane="geogridRoads", casings=casings).add_to(layer)
            shown_focus = None
            if focus is not None:
                shown_focus = display_frame(
                    gpd.GeoDataFrame(geometry=[focus], crs=4326), crs
                ).geometry.iloc[0]
            items = _label_items(merged, shown_focus)
            if items:
                _RoadLabels(items, {"fontPx": float(label_px)}).add_to(layer)
        if number_frame is not None and not number_frame.empty:
            shown_numbers = display_frame(number_frame, crs)
            xy = np.round(shapely.get_coordinates(shown_numbers.geometry.values), 6)
            items = [
                [float(y), float(x), cell_text(n)]
                for (x, y), n in zip(xy, shown_numbers["number"], strict=True)
            ]
            _HouseNumbers(items, {"minZoom": float(number_zoom)}).add_to(layer)

    legend = [
        LegendEntry(
            ROAD_STYLES[c]["label"],
            ROAD_STYLES[c]["casing"]
            if ROAD_STYLES[c]["fill"] == "#ffffff"
            else ROAD_STYLES[c]["fill"],
            shape="line",
        )
        for c in present
    ]
    if water_frame is not None and not water_frame.empty:
        legend.append(LegendEntry("Water 水系", WATER_STYLE["color"], WATER_STYLE["fillColor"]))
    geoms = [road_frame.geometry.values]
    if water_frame is not None:
        geoms.append(water_frame.geometry.values)
    bounds = frame_bounds(gpd.GeoDataFrame(geometry=np.concatenate(geoms), crs=4326))
    return GeoLayer(name, draw, legend=legend, bounds=bounds, show=show)
