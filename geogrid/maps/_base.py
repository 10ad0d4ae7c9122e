"""Building blocks shared by the layer modules: the layer class, compact GeoJSON, HTML text.

Layers embed only what they show. A feature's properties in the page are ``s`` (an index
into the layer's style table), ``t`` (tooltip HTML) and ``p`` (popup HTML), built here from
whitelisted columns with every value HTML-escaped and passed through
:func:`geogrid.privacy.mask_personal`. Coordinates are rounded to 1e-6 degrees
(about 0.1 m), which keeps pages small.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.template import Template

from geogrid.crs import geometries_from_wgs84, parse_crs
from geogrid.errors import MapError
from geogrid.privacy import mask_personal

__all__ = [
    "FeatureSet",
    "GeoLayer",
    "Labels",
    "LegendEntry",
    "RawHtml",
    "as_wgs84_frame",
    "cell_text",
    "display_frame",
    "frame_bounds",
    "html_table",
    "require_columns",
    "safe_json",
]

Shape = Literal["area", "point", "line"]


@dataclass(frozen=True, slots=True)
class LegendEntry:
    """One row of a map legend: a swatch and its label.

    Parameters
    ----------
    label
        Text shown beside the swatch.
    color
        Outline (or line, or point) colour.
    fill
        Fill colour; None for no fill.
    shape
        ``"area"``, ``"point"`` or ``"line"``.
    dashed
        Whether the outline is dashed (closed checkpoints, unreached areas).
    """

    label: str
    color: str
    fill: str | None = None
    shape: Shape = "area"
    dashed: bool = False


DrawFunction = Callable[["GeoLayer", str], None]


class GeoLayer(folium.FeatureGroup):
    """A feature group that knows its legend and bounds and can redraw itself for GCJ-02.

    Layer functions return these. Add them to any folium map as they are (WGS 84), or give
    them to :func:`geogrid.maps.new_map`, which redraws them in GCJ-02 for Amap tiles.

    Parameters
    ----------
    name
        Name in the layer control.
    draw
        ``draw(layer, crs)`` adds the children, in ``crs`` (``"wgs84"`` or ``"gcj02"``).
    legend
        The legend rows for this layer.
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS 84; None when the layer is empty.
    show
        Whether the layer is on when the map opens.

    Attributes
    ----------
    categories
        Colour of each category the layer tells apart by colour (vehicles of a route
        layer), for callers that draw their own key.
    """

    def __init__(
        self,
        name: str,
        draw: DrawFunction,
        *,
        legend: Sequence[LegendEntry] = (),
        bounds: tuple[float, float, float, float] | None = None,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self.legend: tuple[LegendEntry, ...] = tuple(legend)
        self.bounds = bounds
        self.categories: dict[str, str] = {}  # colour per category, e.g. per vehicle
        self._draw = draw
        self.display_crs = ""
        self.set_display_crs("wgs84")

    def set_display_crs(self, crs: str) -> GeoLayer:
        """Redraw the layer's features in ``crs`` (``"wgs84"`` or ``"gcj02"``) if needed."""
        name = parse_crs(crs).name
        if name == "cgcs2000":
            name = "wgs84"
        if name not in ("wgs84", "gcj02"):
            raise MapError(f"a map layer can be drawn in wgs84 or gcj02, not {name}")
        if name != self.display_crs:
            self._children.clear()
            self._draw(self, name)
            self.display_crs = name
        return self


class RawHtml(Element):
    """HTML put into a page as it is (built by geogrid, escaped where it holds data).

    Unlike ``branca.element.Element(html)``, the text is not a Jinja template, so braces in
    data or CSS are safe.
    """

    def __init__(self, html_text: str) -> None:
        super().__init__()
        self._html = html_text

    def render(self, **kwargs: object) -> str:  # noqa: ARG002 - branca passes kwargs
        """Return the HTML."""
        return self._html


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Refuse a frame that lacks any of ``columns``, naming them."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise MapError(
            f"{what} need the column(s) {', '.join(missing)}",
            details={"missing": missing, "columns": [str(c) for c in frame.columns]},
        )


def as_wgs84_frame(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Return the frame in EPSG:4326 with empty and missing geometries dropped.

    A frame with no CRS is taken to be WGS 84 already; any other CRS is converted.
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        raise MapError(f"{what} must be a GeoDataFrame, not {type(frame).__name__}")
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    keep = ~(frame.geometry.isna() | frame.geometry.is_empty)
    return frame.loc[keep]


def display_frame(frame: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """Return a copy of a WGS 84 frame with its geometries in ``crs`` (wgs84 or gcj02)."""
    if crs == "wgs84":
        return frame
    moved = geometries_from_wgs84(np.asarray(frame.geometry.values, dtype=object), crs)
    return frame.set_geometry(gpd.GeoSeries(moved, index=frame.index, crs=None))


def frame_bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    """Return a frame's total bounds as a tuple, or None when it has no geometry."""
    if frame.empty:
        return None
    bounds = tuple(float(v) for v in frame.total_bounds)
    return None if any(math.isnan(v) for v in bounds) else bounds  # type: ignore[return-value]


def cell_text(value: Any) -> str:
    """Return a value as escaped, masked text for a tooltip; ``—`` for missing values."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float):
        value = round(value) if abs(value) >= 1000 else float(f"{value:.4g}")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
    if isinstance(value, (list, tuple, set, np.ndarray)):
        value = ", ".join(str(v) for v in value)
    return html.escape(mask_personal(str(value)))


def html_table(caption: str, rows: Sequence[tuple[str, Any]]) -> str:
    """Return a small tooltip table: an escaped caption and ``label: value`` rows."""
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{cell_text(v)}</td></tr>" for k, v in rows)
    return f'<table class="geogrid-tip"><caption>{cell_text(caption)}</caption>{body}</table>'


def safe_json(value: Any) -> str:
    """Return JSON for a page's script: compact, UTF-8, with ``<``, ``>`` and ``&`` escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _rounded(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda coords: np.round(coords, 6))


class FeatureSet(MacroElement):
    """Features drawn by ``geogrid.geoJson``: styles by index, tooltip and popup HTML.

    Parameters
    ----------
    geometries
        Shapely geometries in the display CRS.
    styles
        Leaflet path options, one dict per style.
    style_index
        For each geometry, the index of its style.
    tooltips, popups
        For each geometry, HTML (already escaped) or None.
    point_tooltips
        Show tooltips at the point rather than following the mouse (for markers).
    pane
        Leaflet pane to draw in (``geogridWater``, ``geogridRoads``; made by
        :func:`geogrid.maps.new_map`), or None for the overlay pane.
    casings
        Styles (by the same index) of a wider line drawn under every line first: road
        casings, sent once with the geometry.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        geogrid.geoJson({{ this.data }}, {{ this.styles }}, {{ this._parent.get_name() }},
                        {{ this.options }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        geometries: Sequence[Any] | np.ndarray,
        styles: Sequence[Mapping[str, Any]],
        style_index: Sequence[int],
        tooltips: Sequence[str | None] | None = None,
        popups: Sequence[str | None] | None = None,
        *,
        point_tooltips: bool = False,
        pane: str | None = None,
        casings: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self._name = "GeogridFeatures"
        geoms = _rounded(np.asarray(geometries, dtype=object))
        texts = shapely.to_geojson(geoms)
        count = len(texts)
        tooltips = tooltips if tooltips is not None else [None] * count
        popups = popups if popups is not None else [None] * count
        features = []
        for text, index, tip, pop in zip(texts, style_index, tooltips, popups, strict=True):
            props: dict[str, Any] = {"s": int(index)}
            if tip:
                props["t"] = tip
            if pop:
                props["p"] = pop
            features.append(
                f'{{"type":"Feature","geometry":{text},"properties":{safe_json(props)}}}'
            )
        self.data = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
        self.styles = safe_json([dict(style) for style in styles])
        options: dict[str, Any] = {"pointTooltips": point_tooltips}
        if pane:
            options["pane"] = pane
        if casings is not None:
            options["casings"] = [dict(style) for style in casings]
        self.options = safe_json(options)


class Labels(MacroElement):
    """Text labels (HTML, already escaped) at points, drawn by ``geogrid.labels``.

    Parameters
    ----------
    points
        Shapely points in the display CRS.
    texts
        HTML for each label.
    classes
        CSS class (or classes) for each label, or one for all.
    styles
        Inline CSS for each label (built by geogrid, never from data), or None.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        geogrid.labels({{ this.items }}, {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        points: Sequence[Any] | np.ndarray,
        texts: Sequence[str],
        classes: Sequence[str] | str,
        styles: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self._name = "GeogridLabels"
        coords = np.round(shapely.get_coordinates(np.asarray(points, dtype=object)), 6)
        if isinstance(classes, str):
            classes = [classes] * len(texts)
        looks = styles if styles is not None else [""] * len(texts)
        items = [
            [float(y), float(x), text, cls, look]
            for (x, y), text, cls, look in zip(coords, texts, classes, looks, strict=True)
        ]
        self.items = safe_json(items)
