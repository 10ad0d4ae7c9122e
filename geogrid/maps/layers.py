"""Map layers of the grid system: grids by level, checkpoints, isolation sites.

Each function takes a GeoDataFrame in EPSG:4326 and returns a :class:`GeoLayer` (a
``folium.FeatureGroup``) with its legend. Only the listed columns reach the page; a grid
worker appears by name only, and a phone column, if the frame has one, is never read.

Examples
--------
>>> import geopandas as gpd, shapely
>>> grids = gpd.GeoDataFrame(
...     {"code": ["330326-101"], "name": ["鳌江镇"], "level": ["town"], "parent_code": ["330326"],
...      "population": [320000], "households": [98000]},
...     geometry=[shapely.box(120.55, 27.55, 120.65, 27.65)], crs=4326)
>>> layer = grid_layer(grids)
>>> layer.layer_name, [entry.label for entry in layer.legend]
('Grids 网格', ['Towns 镇街'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
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

__all__ = [
    "CHECKPOINT_KINDS",
    "GRID_LEVELS",
    "checkpoint_layer",
    "grid_layer",
    "grid_layers",
    "site_layer",
]

GRID_LEVELS: dict[str, dict[str, Any]] = {
    "county": {"label": "County 县", "color": "#212529", "weight": 3.5, "fillOpacity": 0.02},
    "town": {"label": "Towns 镇街", "color": "#1c5fbf", "weight": 2.5, "fillOpacity": 0.05},
    "village": {"label": "Village grids 村社网格", "color": "#2b8a3e", "weight": 1.5},
    "micro": {"label": "Micro-grids 微网格", "color": "#d9480f", "weight": 1.0},
    "industry": {"label": "Industry grids 行业网格", "color": "#ae3ec9", "dashArray": "6 3"},
}
"""Levels in drawing order (bottom first), with their layer names and default styles."""

CHECKPOINT_KINDS: dict[str, dict[str, Any]] = {
    "traffic_station": {"label": "Traffic station 交通卡口", "color": "#c92a2a", "radius": 8},
    "village_gate": {"label": "Village gate 村口卡口", "color": "#e67700", "radius": 6},
    "temporary": {"label": "Temporary 临时卡口", "color": "#1971c2", "radius": 5},
}
"""Checkpoint kinds with their legend labels, colours and marker sizes."""

_CLOSED_FILL = "#ced4da"
_SITE_COLORS = (
    ("Room left 有空房", "#2b8a3e"),
    ("≥ 80 % full 将满", "#e67700"),
    ("Full 已满", "#c92a2a"),
)


def _level_style(level: str, colors: Mapping[str, str] | None) -> dict[str, Any]:
    base = GRID_LEVELS[level]
    color = (colors or {}).get(level, base["color"])
    style = {"color": color, "fillColor": color, "weight": base.get("weight", 1.5)}
    style["fillOpacity"] = base.get("fillOpacity", 0.12)
    if "dashArray" in base:
        style["dashArray"] = base["dashArray"]
    return style


def _grid_tooltip(row: Any) -> str:
    return html_table(
        row["name"],
        [
            ("Code 编码", row["code"]),
            ("Level 层级", row["level"]),
            ("Parent 上级", row.get("parent_code")),
            ("Population 人口", row.get("population")),
            ("Households 户数", row.get("households")),
            ("Grid worker 网格员", row.get("worker_name")),
        ],
    )


def _valid_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = as_wgs84_frame(grids, "grids")
    require_columns(frame, ("code", "name", "level"), "grids")
    unknown = sorted(set(frame["level"].astype(str)) - set(GRID_LEVELS))
    if unknown:
        raise MapError(
            f"unknown grid level(s) {', '.join(unknown)}; expected one of {', '.join(GRID_LEVELS)}"
        )
    rank = {level: i for i, level in enumerate(GRID_LEVELS)}
    order = np.argsort(frame["level"].map(rank).to_numpy(), kind="stable")
    return frame.iloc[order]


def grid_layer(
    grids: gpd.GeoDataFrame,
    *,
    name: str = "Grids 网格",
    labels: bool = True,
    colors: Mapping[str, str] | None = None,
    show: bool = True,
) -> GeoLayer:
    """Draw grids coloured by level, labelled with name and code, with a tooltip each.

    Parameters
    ----------
    grids
        Columns ``code``, ``name``, ``level`` (county, town, village, micro, industry);
        optional ``parent_code``, ``population``, ``households``, ``worker_name``.
    name
        Layer name in the layer control.
    labels
        Label every grid below county level with its name and code.
    colors
        Colour per level, replacing the defaults of :data:`GRID_LEVELS`.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    GeoLayer
    """
    frame = _valid_grids(grids)
    present = [level for level in GRID_LEVELS if (frame["level"] == level).any()]
    styles = [_level_style(level, colors) for level in present]
    index = frame["level"].map({level: i for i, level in enumerate(present)}).to_numpy()
    tooltips = [_grid_tooltip(row) for _, row in frame.iterrows()]
    labelled = frame["level"].to_numpy() != "county"
    texts = [
        f"{cell_text(row['name'])}<br><small>{cell_text(row['code'])}</small>"
        for _, row in frame.loc[labelled].iterrows()
    ]
    classes = [f"geogrid-label-{level}" for level in frame.loc[labelled, "level"]]

    def draw(layer: GeoLayer, crs: str) -> None:
        shown = display_frame(frame, crs)
        FeatureSet(shown.geometry.values, styles, index, tooltips).add_to(layer)
        if labels and texts:
            points = shapely.point_on_surface(np.asarray(shown.geometry.values[labelled]))
            Labels(points, texts, classes).add_to(layer)

    legend = [
        LegendEntry(GRID_LEVELS[level]["label"], style["color"], style["fillColor"])
        for level, style in zip(present, styles, strict=True)
    ]
    return GeoLayer(name, draw, legend=legend, bounds=frame_bounds(frame), show=show)


def grid_layers(
    grids: gpd.GeoDataFrame,
    *,
    labels: bool | Sequence[str] = ("town", "village", "industry"),
    colors: Mapping[str, str] | None = None,
) -> list[GeoLayer]:
    """Draw grids as one layer per level, so the layer control can switch levels.

    Parameters
    ----------
    grids
        As for :func:`grid_layer`.
    labels
        True, False, or the levels to label (micro-grids are many; they are not labelled
        by default).
    colors
        Colour per level.

    Returns
    -------
    list of GeoLayer
        One per level present, county first; named as in :data:`GRID_LEVELS`.
    """
    frame = _valid_grids(grids)
    layers = []
    for level, spec in GRID_LEVELS.items():
        part = frame.loc[frame["level"] == level]
        if part.empty:
            continue
        label = labels if isinstance(labels, bool) else level in labels
        layers.append(grid_layer(part, name=spec["label"], labels=label, colors=colors))
    return layers


def checkpoint_layer(
    checkpoints: gpd.GeoDataFrame, *, name: str = "Checkpoints 卡口", show: bool = True
) -> GeoLayer:
    """Draw checkpoints coloured by kind; closed ones grey-filled with a dashed ring.

    Parameters
    ----------
    checkpoints
        Point geometries; columns ``code``, ``name``, ``kind`` (traffic_station,
        village_gate, temporary), ``status`` (active or closed); optional ``staff``.
    name
        Layer name in the layer control.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    GeoLayer
    """
    frame = as_wgs84_frame(checkpoints, "checkpoints")
    require_columns(frame, ("code", "name", "kind", "status"), "checkpoints")
    unknown = sorted(set(frame["kind"].astype(str)) - set(CHECKPOINT_KINDS))
    if unknown:
        raise MapError(f"unknown checkpoint kind(s) {', '.join(unknown)}")
    closed = frame["status"].astype(str).str.lower().eq("closed").to_numpy()
    kinds = list(CHECKPOINT_KINDS)
    styles = []
    for kind in kinds:
        spec = CHECKPOINT_KINDS[kind]
        open_style = {"color": "#ffffff", "fillColor": spec["color"], "fillOpacity": 0.95}
        open_style |= {"weight": 1.5, "radius": spec["radius"]}
        closed_style = {"color": spec["color"], "fillColor": _CLOSED_FILL, "fillOpacity": 0.9}
        closed_style |= {"weight": 2, "dashArray": "3 2", "radius": spec["radius"]}
        styles += [open_style, closed_style]
    index = frame["kind"].map({kind: 2 * i for i, kind in enumerate(kinds)}).to_numpy() + closed
    tooltips = [
        html_table(
            row["name"],
            [
                ("Code 编码", row["code"]),
                ("Kind 类型", CHECKPOINT_KINDS[row["kind"]]["label"]),
                ("Status 状态", "closed 已撤" if is_closed else "active 值守"),
                ("Staff 人员", row.get("staff")),
            ],
        )
        for (_, row), is_closed in zip(frame.iterrows(), closed, strict=True)
    ]

    def draw(layer: GeoLayer, crs: str) -> None:
        shown = display_frame(frame, crs)
        FeatureSet(shown.geometry.values, styles, index, tooltips, point_tooltips=True).add_to(
            layer
        )

    present = [kind for kind in kinds if (frame["kind"] == kind).any()]
    legend = [
        LegendEntry(CHECKPOINT_KINDS[k]["label"], "#ffffff", CHECKPOINT_KINDS[k]["color"], "point")
        for k in present
    ]
    if closed.any():
        legend.append(LegendEntry("Closed 已撤", "#495057", _CLOSED_FILL, "point", dashed=True))
    return GeoLayer(name, draw, legend=legend, bounds=frame_bounds(frame), show=show)


def site_layer(
    sites: gpd.GeoDataFrame, *, name: str = "Isolation sites 隔离点", show: bool = True
) -> GeoLayer:
    """Draw isolation sites sized by capacity and coloured by how full they are.

    Parameters
    ----------
    sites
        Point geometries; columns ``code``, ``name``, ``capacity``, ``occupied``; optional
        ``risk_classes``.
    name
        Layer name in the layer control.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    GeoLayer
    """
    frame = as_wgs84_frame(sites, "isolation sites")
    require_columns(frame, ("code", "name", "capacity", "occupied"), "isolation sites")
    capacity = frame["capacity"].astype(float).to_numpy()
    occupied = frame["occupied"].astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(capacity > 0, occupied / capacity, 1.0)
    band = np.select([ratio >= 1.0, ratio >= 0.8], [2, 1], 0)
    radius = np.clip(6 + np.sqrt(np.maximum(capacity, 0)) / 2, 8, 18).round().astype(int)
    styles = []
    index = []
    for b, r in zip(band, radius, strict=True):
        style = {"color": "#212529", "weight": 2.5, "fillColor": _SITE_COLORS[b][1]}
        style |= {"fillOpacity": 0.85, "radius": int(r)}
        if style not in styles:
            styles.append(style)
        index.append(styles.index(style))
    tooltips = [
        html_table(
            row["name"],
            [
                ("Code 编码", row["code"]),
                ("Capacity 房间", row["capacity"]),
                ("Occupied 已住", row["occupied"]),
                ("Free 空余", max(int(c - o), 0)),
                ("Risk classes 人员类别", row.get("risk_classes")),
            ],
        )
        for (_, row), c, o in zip(frame.iterrows(), capacity, occupied, strict=True)
    ]

    def draw(layer: GeoLayer, crs: str) -> None:
        shown = display_frame(frame, crs)
        FeatureSet(shown.geometry.values, styles, index, tooltips, point_tooltips=True).add_to(
            layer
        )

    legend = [LegendEntry(label, "#212529", color, "point") for label, color in _SITE_COLORS]
    legend = [entry for i, entry in enumerate(legend) if (band == i).any()]
    return GeoLayer(name, draw, legend=legend, bounds=frame_bounds(frame), show=show)
