"""Generic layers for the coverage and transport results: entries, areas, H3 summaries,
routes and located points.

Like :mod:`geogrid.maps.layers`, each function takes a frame in WGS 84 and returns a
:class:`~geogrid.maps._base.GeoLayer` with its legend; only the named columns reach the page.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geogrid.errors import MapError
from geogrid.maps._base import (
    FeatureSet,
    GeoLayer,
    Labels,
    LegendEntry,
    as_wgs84_frame,
    cell_text,
    display_frame,
    frame_bounds,
    html_table,
    require_columns,
)

__all__ = ["area_layer", "entry_layer", "hexagon_layer", "point_layer", "route_layer"]

VEHICLE_COLORS = (
    "#1971c2", "#c2255c", "#2b8a3e", "#e67700", "#7048e8",
    "#0c8599", "#a61e4d", "#5c940d", "#d9480f", "#364fc7",
)  # fmt: skip
"""Route colours, one per vehicle, in order of first appearance."""

_SEQUENTIAL = ("#fff3bf", "#ffd43b", "#fd7e14", "#e8590c", "#c92a2a", "#862e9c")
_AREA_STYLES: dict[str, tuple[str, dict[str, Any]]] = {
    "service": ("Service area 可达范围", {"color": "#1971c2", "fillOpacity": 0.15, "weight": 1.5}),
    "unreached": (
        "Unreached 不可达",
        {"color": "#c92a2a", "fillOpacity": 0.25, "weight": 1.5, "dashArray": "5 4"},
    ),
}


def _rows(row: pd.Series, fields: Sequence[tuple[str, str]]) -> list[tuple[str, Any]]:
    return [(label, row.get(column)) for column, label in fields if column in row.index]


def entry_layer(
    entries: gpd.GeoDataFrame,
    *,
    guarded: str = "guarded",
    name: str = "Road entries 入口",
    show: bool = True,
) -> GeoLayer:
    """Draw the road entries of an area: guarded ones green, unguarded ones red and larger.

    Parameters
    ----------
    entries
        Point geometries and a boolean column ``guarded``; optional ``road_name``,
        ``road_class``, ``checkpoint_code``, ``distance_m``.
    guarded
        Name of the boolean column.
    name
        Layer name in the layer control.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    GeoLayer
    """
    frame = as_wgs84_frame(entries, "entries")
    require_columns(frame, (guarded,), "entries")
    is_guarded = frame[guarded].fillna(False).astype(bool).to_numpy()
    styles = [
        {"color": "#ffffff", "fillColor": "#c92a2a", "fillOpacity": 1, "weight": 2, "radius": 7},
        {"color": "#ffffff", "fillColor": "#2b8a3e", "fillOpacity": 1, "weight": 1, "radius": 5},
    ]
    fields = (
        ("road_name", "Road 道路"),
        ("road_class", "Class 等级"),
        ("checkpoint_code", "Checkpoint 卡口"),
        ("distance_m", "Distance 距离 (m)"),
    )
    tooltips = [
        html_table("Guarded entry 有卡口" if g else "Unguarded entry 无卡口", _rows(row, fields))
        for (_, row), g in zip(frame.iterrows(), is_guarded, strict=True)
    ]

    def draw(layer: GeoLayer, crs: str) -> None:
        shown = display_frame(frame, crs)
        index = is_guarded.astype(int)
        FeatureSet(shown.geometry.values, styles, index, tooltips, point_tooltips=True).add_to(
            layer
        )

    legend = [
        LegendEntry("Unguarded entry 无卡口入口", "#ffffff", "#c92a2a", "point"),
        LegendEntry("Guarded entry 有卡口入口", "#ffffff", "#2b8a3e", "point"),
    ]
    return GeoLayer(name, draw, legend=legend, bounds=frame_bounds(frame), show=show)


def area_layer(
    areas: gpd.GeoDataFrame,
    *,
    kind: Literal["service", "unreached"] = "service",
    name: str | None = None,
    color: str | None = None,
    show: bool = True,
) -> GeoLayer:
    """Draw polygons: areas checkpoints reach (blue) or areas nobody reaches (red, dashed).

    Parameters
    ----------
    areas
        Polygon geometries; optional ``name``, ``reach_s``, ``area_km2``.
    kind
        ``"service"`` or ``"unreached"``.
    name
        Layer name; defaults to the kind's label.
    color
        Colour replacing the kind's default.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    GeoLayer
    """
    if kind not in _AREA_STYLES:
        raise MapError(f"kind must be one of {', '.join(_AREA_STYLES)}, not {kind!r}")
    label, base = _AREA_STYLES[kind]
    frame = as_wgs84_frame(areas, "areas")
    style = dict(base)
    style["color"] = style["fillColor"] = color or base["color"]
    fields = (("name", "Name 名称"), ("reach_s", "Reach 时限 (s)"), ("area_km2", "Area 面积 (km²)"))
    tooltips = [html_table(label, _rows(row, fields)) for _, row in frame.iterrows()]

    def draw(layer: GeoLayer, crs: str) -> None:
        shown = display_frame(frame, crs)
        FeatureSet(shown.geometry.values, [style], [0] * len(shown), tooltips).add_to(layer)

    legend = [LegendEntry(label, style["color"], style["fillColor"], dashed=kind == "unreached")]
    return GeoLayer(name or label, draw, legend=legend, bounds=frame_bounds(frame), show=show)


def _class_breaks(values: np.ndarray, classes: int) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.array([0.0, 1.0])
    breaks = np.unique(np.quantile(finite, np.linspace(0, 1, classes + 1)))
    return breaks if breaks.size > 1 else np.array([breaks[0], breaks[0] + 1])


def hexagon_layer(
    cells: pd.DataFrame,
    *,
    value: str = "value",
    cell: str = "cell",
    name: str | None = None,
    classes: int = 5,
    show: bool = True,
) -> GeoLayer:
    """Draw an H3 summary: one hexagon per cell, shaded by quantile class of ``value``.

    Parameters
    ----------
    cells
        A frame (no geometry needed) with H3 cell ids (strings) and a numeric value.
    value, cell
        Column names.
    name
        Layer name; defaults to the value column.
    classes
        Number of quantile classes (at most 6).
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    GeoLayer
    """
    require_columns(cells, (cell, value), "hexagon summaries")
    ids = cells[cell].astype(str).tolist()
    bad = [c for c in ids if not h3.is_valid_cell(c)]
    if bad:
        raise MapError(f"{len(bad)} value(s) are not H3 cells, e.g. {bad[0]!r}")
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in ids]
    frame = gpd.GeoDataFrame(
        {"cell": ids, "value": pd.to_numeric(cells[value], errors="coerce").to_numpy()},
        geometry=shapely.polygons(rings) if rings else [],
        crs=4326,
    )
    values = frame["value"].to_numpy(dtype=float)
    breaks = _class_breaks(values, max(1, min(classes, len(_SEQUENTIAL))))
    band = np.clip(np.searchsorted(breaks, values, side="right") - 1, 0, len(breaks) - 2)
    palette = _SEQUENTIAL[: len(breaks) - 1] if len(breaks) > 2 else (_SEQUENTIAL[2],)
    styles = [{"color": c, "fillColor": c, "weight": 0.5, "fillOpacity": 0.6} for c in palette]
    title = name or str(value)
    tooltips = [
        html_table(title, [("Cell 单元", c), (str(value), v)])
        for c, v in zip(ids, values, strict=True)
    ]

    def draw(layer: GeoLayer, crs: str) -> None:
        shown = display_frame(frame, crs)
        FeatureSet(shown.geometry.values, styles, band, tooltips).add_to(layer)

    legend = [
        LegendEntry(f"{cell_text(lo)} – {cell_text(hi)}", palette[i], palette[i])
        for i, (lo, hi) in enumerate(itertools.pairwise(breaks))
    ]
    return GeoLayer(title, draw, legend=legend, bounds=frame_bounds(frame), show=show)


def _schedule_html(vehicle: str, stops: pd.DataFrame) -> str:
    rows = "".join(
        f"<tr><td>{cell_text(s.get('order'))}</td><td>{cell_text(s.get('name'))}</td>"
        f"<td>{cell_text(s.get('arrival'))}</td><td>{cell_text(s.get('departure'))}</td></tr>"
        for _, s in stops.iterrows()
    )
    head = "<tr><th>#</th><th>Stop 站点</th><th>Arrive 到达</th><th>Leave 出发</th></tr>"
    return (
        f'<table class="geogrid-tip"><caption>Vehicle 车辆 {cell_text(vehicle)}</caption>'
        f"{head}{rows}</table>"
    )


def route_layer(
    routes: gpd.GeoDataFrame,
    stops: gpd.GeoDataFrame | None = None,
    *,
    vehicle: str = "vehicle",
    name: str = "Transfer routes 转运路线",
    show: bool = True,
) -> GeoLayer:
    """Draw transfer routes, a colour per vehicle, with numbered stops and schedule popups.

    Parameters
    ----------
    routes
        Line geometries and a ``vehicle`` column (id or plate); optional ``trip``.
    stops
        Point geometries with ``vehicle`` and ``order``; optional ``name``, ``arrival``,
        ``departure`` (text or times). A route's popup lists its vehicle's stops.
    vehicle
        Name of the vehicle column in both frames.
    name
        Layer name in the layer control.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    GeoLayer
    """
    lines = as_wgs84_frame(routes, "routes")
    require_columns(lines, (vehicle,), "routes")
    points = as_wgs84_frame(stops, "stops") if stops is not None else None
    if points is not None:
        require_columns(points, (vehicle, "order"), "stops")
        points = points.sort_values([vehicle, "order"], kind="stable")
    vehicles = list(dict.fromkeys(lines[vehicle].astype(str)))
    if points is not None:
        vehicles += [v for v in dict.fromkeys(points[vehicle].astype(str)) if v not in vehicles]
    colors = {v: VEHICLE_COLORS[i % len(VEHICLE_COLORS)] for i, v in enumerate(vehicles)}
    styles = [{"color": colors[v], "weight": 4, "opacity": 0.85} for v in vehicles]
    line_index = [vehicles.index(v) for v in lines[vehicle].astype(str)]
    schedules = {
        v: _schedule_html(v, points.loc[points[vehicle].astype(str) == v])
        for v in vehicles
        if points is not None
    }
    tips = [f"Vehicle 车辆 {cell_text(v)}" for v in lines[vehicle].astype(str)]
    popups = [schedules.get(v) for v in lines[vehicle].astype(str)]

    def draw(layer: GeoLayer, crs: str) -> None:
        shown = display_frame(lines, crs)
        FeatureSet(shown.geometry.values, styles, line_index, tips, popups).add_to(layer)
        if points is not None and not points.empty:
            stop_geoms = display_frame(points, crs).geometry.values
            texts = [cell_text(o) for o in points["order"]]
            looks = [f"background:{colors[v]}" for v in points[vehicle].astype(str)]
            Labels(stop_geoms, texts, "geogrid-stop", looks).add_to(layer)

    legend = [LegendEntry(f"Vehicle 车辆 {v}", colors[v], shape="line") for v in vehicles]
    parts = [lines.geometry] if points is None else [lines.geometry, points.geometry]
    bounds = frame_bounds(gpd.GeoDataFrame(geometry=pd.concat(parts, ignore_index=True)))
    layer = GeoLayer(name, draw, legend=legend, bounds=bounds, show=show)
    layer.categories = colors
    return layer


def point_layer(
    points: gpd.GeoDataFrame,
    *,
    fields: Sequence[str] = ("name", "address", "grid_code", "match_level", "confidence"),
    name: str = "Located points 定位点",
    color: str = "#7048e8",
    show: bool = True,
) -> GeoLayer:
    """Draw located points (addresses, newcomers, phone positions) with a tooltip each.

    Parameters
    ----------
    points
        Point geometries; the ``fields`` present are shown (masked for phone and ID
        numbers); other columns never reach the page.
    fields
        Columns to show in the tooltip, in order; the first present one is the caption.
    name
        Layer name in the layer control.
    color
        Marker colour.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    GeoLayer
    """
    frame = as_wgs84_frame(points, "points")
    shown_fields = [f for f in fields if f in frame.columns]
    style = {"color": "#ffffff", "fillColor": color, "fillOpacity": 0.9, "weight": 1, "radius": 5}
    tooltips = [
        html_table(
            row[shown_fields[0]] if shown_fields else name,
            [(f, row[f]) for f in shown_fields[1:]],
        )
        for _, row in frame.iterrows()
    ]

    def draw(layer: GeoLayer, crs: str) -> None:
        shown = display_frame(frame, crs)
        features = FeatureSet(
            shown.geometry.values, [style], [0] * len(shown), tooltips, point_tooltips=True
        )
        features.add_to(layer)

    legend = [LegendEntry(name, "#ffffff", color, "point")]
    return GeoLayer(name, draw, legend=legend, bounds=frame_bounds(frame), show=show)
