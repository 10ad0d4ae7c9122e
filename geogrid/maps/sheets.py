"""Printable grid sheets: one grid on one page of A4 or A3 paper.

A sheet is a full HTML page sized to the paper (``@page``) with the grid's map (legend,
north arrow, metric scale), a title with the grid's name and code, its parent chain, its
grid worker (name only), the counts the caller passes in, and the date. Under the grids it
draws the offline street base the caller passes in (see :mod:`geogrid.maps.streets`), with
street names of at least :data:`SHEET_LABEL_PX` CSS pixels: printed at scale 1 a CSS pixel
is 0.75 pt, so names are at least 7.5 pt on paper. Names the map had no room for are listed
under the map ("Also 另有: ..."), so every street of the sheet is named on it. Print it with
:func:`geogrid.maps.printing.print_html`; a county's village sheets go through one
:class:`geogrid.maps.printing.Printer`.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import numpy as np
import shapely
from branca.element import Figure

from geogrid.errors import UnknownGridError
from geogrid.maps._base import GeoLayer, RawHtml, as_wgs84_frame, cell_text, require_columns
from geogrid.maps.canvas import legend_html, map_to_html, new_map
from geogrid.maps.layers import checkpoint_layer, grid_layer, site_layer
from geogrid.maps.overlays import entry_layer
from geogrid.maps.printing import paper_size_mm

__all__ = [
    "SHEET_COUNTS",
    "SHEET_LABEL_PX",
    "SheetFrame",
    "grid_chain",
    "render_child_sheets",
    "render_grid_sheet",
    "sheet_extent",
    "sheet_frame",
]

SHEET_LABEL_PX = 10.0
"""Street names on sheets are this many CSS pixels or more (7.5 pt printed; 7 pt is the
least legible size on paper)."""

SHEET_COUNTS: dict[str, str] = {
    "households": "Households 户数",
    "addresses": "Addresses 地址",
    "checkpoints": "Checkpoints 卡口",
    "guarded_entries": "Guarded entries 有卡口入口",
    "unguarded_entries": "Unguarded entries 无卡口入口",
}
"""The counts a sheet shows, by key, with their labels."""

_MARGIN_MM = 10.0
_HEADER_MM = 30.0
_FOOTER_MM = 8.0
_PANEL_PORTRAIT_MM = 56.0
_PANEL_LANDSCAPE_MM = 62.0
_INDEX_MM = 6.0  # the street names the map had no room for, two lines
_CONTEXT_GREY = "#868e96"


@dataclass(frozen=True, slots=True)
class SheetFrame:
    """Where the map sits on the paper, in millimetres from the top-left corner."""

    left: float
    top: float
    width: float
    height: float


def sheet_frame(paper: str = "A4", orientation: str = "portrait") -> SheetFrame:
    """Return the map frame of a sheet: below the title, beside or above the facts panel.

    Examples
    --------
    >>> sheet_frame("A4", "portrait")
    SheetFrame(left=10.0, top=40.0, width=190.0, height=177.0)
    """
    width, height = paper_size_mm(paper, orientation)
    top = _MARGIN_MM + _HEADER_MM
    bottom = _MARGIN_MM + _FOOTER_MM + _INDEX_MM
    if orientation == "portrait":
        inner_height = height - top - bottom - _PANEL_PORTRAIT_MM
        return SheetFrame(_MARGIN_MM, top, width - 2 * _MARGIN_MM, inner_height)
    inner_width = width - 2 * _MARGIN_MM - _PANEL_LANDSCAPE_MM
    return SheetFrame(_MARGIN_MM, top, inner_width, height - top - bottom)


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _latitude(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)


def sheet_extent(
    bounds: tuple[float, float, float, float],
    paper: str = "A4",
    orientation: str = "portrait",
    *,
    margin: float = 0.2,
) -> tuple[float, float, float, float]:
    """Return the box (WGS 84) a sheet's map shows around a grid's bounds, with a margin.

    The map fits the grid into its frame; the frame's other side shows more land. This is
    the extent the street base is read and clipped to, grown by ``margin`` (a share of each
    side) for the zoom step the map snaps to.

    Examples
    --------
    >>> west, south, east, north = sheet_extent((120.0, 27.0, 120.01, 27.01))
    >>> round(east - west, 4) > 0.01 and round(north - south, 4) > 0.01
    True
    """
    frame = sheet_frame(paper, orientation)
    west, south, east, north = (float(v) for v in bounds)
    x0, x1 = math.radians(west), math.radians(east)
    y0, y1 = _mercator_y(south), _mercator_y(north)
    width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    if width / height > frame.width / frame.height:
        height = width * frame.height / frame.width
    else:
        width = height * frame.width / frame.height
    width, height = width * (1 + 2 * margin), height * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (
        math.degrees(cx - width / 2),
        _latitude(cy - height / 2),
        math.degrees(cx + width / 2),
        _latitude(cy + height / 2),
    )


def grid_chain(grids: gpd.GeoDataFrame, grid_code: str) -> list[tuple[str, str]]:
    """Return ``[(code, name), ...]`` from the top ancestor down to the grid itself.

    Parameters
    ----------
    grids
        Columns ``code``, ``name`` and ``parent_code``.
    grid_code
        The grid.

    Returns
    -------
    list of tuple
        Ancestors known to ``grids``; a parent code missing from the frame ends the chain.

    Raises
    ------
    UnknownGridError
        If ``grid_code`` is not in ``grids``.
    """
    by_code = {str(code): row for code, row in zip(grids["code"], grids.itertuples(), strict=True)}
    if str(grid_code) not in by_code:
        raise UnknownGridError(f"no grid has the code {grid_code!r}", details={"code": grid_code})
    chain: list[tuple[str, str]] = []
    code: Any = str(grid_code)
    while code is not None and str(code) in by_code and len(chain) < 16:
        row = by_code[str(code)]
        chain.append((str(code), str(row.name)))
        code = getattr(row, "parent_code", None)
        if code is None or (isinstance(code, float) and math.isnan(code)):
            break
    return chain[::-1]


def _near(frame: gpd.GeoDataFrame | None, view: shapely.Geometry, what: str) -> Any:
    if frame is None:
        return None
    frame = as_wgs84_frame(frame, what)
    return frame.loc[frame.intersects(view)]


def _entry_counts(entries: gpd.GeoDataFrame, code: str, shape: shapely.Geometry) -> tuple[int, int]:
    """Guarded and unguarded ways into one grid among ``entries``."""
    frame = as_wgs84_frame(entries, "entries")
    if "grid_code" in frame:
        frame = frame.loc[frame["grid_code"].astype(str) == code]
    else:
        frame = frame.loc[frame.intersects(shape.boundary.buffer(1e-6))]
    if "way_in" in frame:
        frame = frame.loc[frame["way_in"].fillna(False).astype(bool)]
    guarded = frame["guarded"].fillna(False).astype(bool)
    return int(guarded.sum()), int((~guarded).sum())


def _count_text(value: Any) -> str:
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, (int, float)) and not math.isnan(value):
        return f"{int(value):,}"
    return cell_text(value)


def _sheet_css(paper: str, orientation: str, frame: SheetFrame, map_id: str) -> str:
    width, height = paper_size_mm(paper, orientation)
    panel_left = frame.left + frame.width + 4
    panel = (
        f"left:{frame.left}mm;top:{frame.top + frame.height + 4}mm;width:{frame.width}mm;"
        f"height:{_PANEL_PORTRAIT_MM - 4}mm;"
        if orientation == "portrait"
        else f"left:{panel_left}mm;top:{frame.top}mm;width:{_PANEL_LANDSCAPE_MM - 4}mm;"
        f"height:{frame.height}mm;"
    )
    portrait = orientation == "portrait"
    direction = "row" if portrait else "column"
    fact_columns, legend_columns = (3, 2) if portrait else (2, 1)
    facts_flex = "0 0 100mm" if portrait else "0 0 auto"
    index_top = (
        frame.top + frame.height + _PANEL_PORTRAIT_MM if portrait else frame.top + frame.height
    ) + 0.5
    return f"""<style>
@page {{ size: {paper} {orientation}; margin: 0; }}
html, body {{ width: {width}mm !important; height: {height - 0.5}mm !important; margin: 0;
  overflow: hidden; background: #fff; color: #212529;
  font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
#{map_id} {{ position: absolute !important; left: {frame.left}mm !important;
  top: {frame.top}mm !important; width: {frame.width}mm !important;
  height: {frame.height}mm !important; border: 0.4mm solid #343a40; box-sizing: border-box; }}
.sheet-header {{ position: absolute; left: {frame.left}mm; top: {_MARGIN_MM}mm;
  width: {width - 2 * _MARGIN_MM}mm; height: {_HEADER_MM - 2}mm; }}
.sheet-header .kind {{ font-size: 3.2mm; color: #495057; display: flex;
  justify-content: space-between; }}
.sheet-header h1 {{ font-size: 7mm; margin: 1mm 0 1mm; }}
.sheet-header h1 .code {{ font-size: 4.2mm; font-weight: normal; color: #495057;
  margin-left: 3mm; }}
.sheet-header .chain {{ font-size: 3.4mm; color: #343a40; }}
.sheet-panel {{ position: absolute; {panel} display: flex; gap: 3mm;
  flex-direction: {direction}; }}
.sheet-facts {{ display: grid; grid-template-columns: repeat({fact_columns}, 1fr); gap: 2mm;
  align-content: start; flex: {facts_flex}; }}
.sheet-facts .fact {{ border: 0.3mm solid #adb5bd; border-radius: 1mm; padding: 1.2mm 2mm;
  box-sizing: border-box; overflow: hidden; }}
.sheet-facts .fact b {{ display: block; font-size: 5mm; white-space: nowrap; }}
.sheet-facts .fact span {{ font-size: 2.6mm; color: #495057; word-break: keep-all; }}
.sheet-panel .geogrid-legend {{ box-shadow: none; border: 0.3mm solid #adb5bd;
  max-height: none; flex: 1 1 auto; overflow: hidden; border-radius: 1mm; font-size: 2.6mm;
  line-height: 1.25; columns: {legend_columns}; column-gap: 3mm;
  word-break: keep-all; overflow-wrap: normal; hyphens: none; }}
.sheet-panel .geogrid-legend > div {{ break-inside: avoid; }}
.sheet-panel .geogrid-legend h4 {{ font-size: 2.7mm; margin: 0.6mm 0 0.2mm;
  break-after: avoid; }}
.geogrid-street-index {{ position: absolute; left: {frame.left}mm; top: {index_top}mm;
  width: {width - 2 * _MARGIN_MM}mm; height: {_INDEX_MM - 0.5}mm; overflow: hidden;
  font-size: 2.6mm; line-height: 1.1; color: #343a40; word-break: keep-all; }}
.leaflet-control-scale-line {{ font-size: 2.8mm; }}
.sheet-footer {{ position: absolute; left: {frame.left}mm; bottom: {_MARGIN_MM - 2}mm;
  width: {width - 2 * _MARGIN_MM}mm; font-size: 2.8mm; color: #6c757d;
  display: flex; justify-content: space-between; }}
</style>"""


def _sheet_body(
    row: Any,
    chain: list[tuple[str, str]],
    counts: Mapping[str, Any],
    *,
    title: str,
    date: str,
    paper: str,
    orientation: str,
    legend: str,
) -> str:
    names = " › ".join(html.escape(name) for _, name in chain[:-1]) or "—"
    facts = [("Grid worker 网格员", cell_text(row.get("worker_name")))]
    facts += [(label, _count_text(counts.get(key))) for key, label in SHEET_COUNTS.items()]
    if "population" in row.index:
        facts.append(("Population 人口", _count_text(row.get("population"))))
    boxes = "".join(
        f'<div class="fact"><b>{v}</b><span>{html.escape(k)}</span></div>' for k, v in facts
    )
    return (
        f'<div class="sheet-header"><div class="kind"><span>{html.escape(title)}</span>'
        f"<span>{html.escape(date)}</span></div>"
        f'<h1>{cell_text(row["name"])}<span class="code">{cell_text(row["code"])}</span></h1>'
        f'<div class="chain">{names}</div></div>'
        f'<div class="sheet-panel"><div class="sheet-facts">{boxes}</div>'
        f'<div class="geogrid-legend">{legend}</div></div>'
        '<div class="geogrid-street-index"></div>'
        f'<div class="sheet-footer"><span>geogrid · WGS 84 · {html.escape(paper)} '
        f"{html.escape(orientation)}</span><span>Printed 打印 {html.escape(date)}</span></div>"
    )


def render_grid_sheet(
    grid_code: str,
    grids: gpd.GeoDataFrame,
    *,
    checkpoints: gpd.GeoDataFrame | None = None,
    entries: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    streets: GeoLayer | None = None,
    counts: Mapping[str, Any] | None = None,
    paper: str = "A4",
    orientation: str = "portrait",
    date: dt.date | str | None = None,
    title: str = "网格图 Grid sheet",
    basemap: str = "plain",
    tianditu_key: str | None = None,
    colors: Mapping[str, str] | None = None,
    assets: str = "inline",
) -> str:
    """Render the printable sheet of one grid as a full HTML page.

    Parameters
    ----------
    grid_code
        The grid the sheet is for.
    grids
        Grids with ``code``, ``name``, ``level`` and ``parent_code`` (for the parent chain),
        optionally ``population``, ``households`` and ``worker_name``. The grid, its children
        and its neighbours (grey) are drawn.
    checkpoints, entries, sites
        Optional layers; features near the grid are drawn. ``entries`` has a boolean
        ``guarded`` column (see :func:`geogrid.maps.entry_layer`).
    streets
        The offline base under the grids (:func:`geogrid.maps.street_layer`, with
        ``label_px`` at least :data:`SHEET_LABEL_PX`), read for :func:`sheet_extent`.
    counts
        Numbers to print: ``households``, ``addresses``, ``checkpoints``,
        ``guarded_entries``, ``unguarded_entries``; households default to the grid's own
        column, and the entry counts to the ``entries`` of this grid (rows whose
        ``grid_code`` is the grid's, or, without that column, those on its boundary; rows
        with ``way_in`` False are exits only and not counted).
    paper, orientation
        ``"A4"`` or ``"A3"``; ``"portrait"`` or ``"landscape"``.
    date
        Printed date; today when None.
    title
        The sheet's kind, above the grid's name.
    basemap, tianditu_key
        As for :func:`geogrid.maps.new_map`; ``"plain"`` prints fastest.
    colors
        Colour per grid level for the sheet's own grid and its children.
    assets
        As for :func:`geogrid.maps.new_map`.

    Returns
    -------
    str
        The page's HTML.

    Raises
    ------
    UnknownGridError
        If ``grid_code`` is not in ``grids``.
    """
    frame = as_wgs84_frame(grids, "grids")
    require_columns(frame, ("code", "name", "level"), "grids")
    chain = grid_chain(frame, grid_code)
    row = frame.loc[frame["code"].astype(str) == str(grid_code)].iloc[0]
    own = frame.loc[frame["code"].astype(str) == str(grid_code)]
    west, south, east, north = own.total_bounds
    pad = max(east - west, north - south) * 0.08
    view = shapely.box(west - pad, south - pad, east + pad, north + pad)
    parents = frame.get("parent_code")
    children = frame.loc[parents.astype(str) == str(grid_code)] if parents is not None else None
    neighbours = frame.loc[
        (frame["level"] == row["level"])
        & (frame["code"].astype(str) != str(grid_code))
        & frame.intersects(view)
    ]
    layers: list[Any] = [streets] if streets is not None else []
    if not neighbours.empty:
        grey = dict.fromkeys(("county", "town", "village", "micro", "industry"), _CONTEXT_GREY)
        layers.append(grid_layer(neighbours, name="Neighbours 相邻网格", colors=grey))
    if children is not None and not children.empty:
        layers.append(grid_layer(children, name="Sub-grids 下级网格", colors=colors))
    layers.append(grid_layer(own, name="This grid 本网格", colors=colors, labels=False))
    near_checkpoints = _near(checkpoints, view, "checkpoints")
    if near_checkpoints is not None and not near_checkpoints.empty:
        layers.append(checkpoint_layer(near_checkpoints))
    near_entries = _near(entries, view, "entries")
    if near_entries is not None and not near_entries.empty:
        layers.append(entry_layer(near_entries))
    near_sites = _near(sites, view, "isolation sites")
    if near_sites is not None and not near_sites.empty:
        layers.append(site_layer(near_sites))

    m = new_map(
        *layers,
        basemap=basemap,
        tianditu_key=tianditu_key,
        title=f"{row['name']} {row['code']} {title}",
        bounds=(west, south, east, north),
        assets=assets,
        legend=False,
        north_arrow=True,
        collapsed=True,
        padding_px=16,
        zoom_snap=0.25,
    )
    shown = dict(counts or {})
    shown.setdefault("households", row.get("households"))
    if entries is not None and "unguarded_entries" not in shown:
        guarded, unguarded = _entry_counts(entries, str(grid_code), own.geometry.iloc[0])
        shown.setdefault("guarded_entries", guarded)
        shown["unguarded_entries"] = unguarded
    day = date.isoformat() if isinstance(date, dt.date) else (date or dt.date.today().isoformat())
    root = cast("Figure", m.get_root())
    root.header.add_child(
        RawHtml(_sheet_css(paper, orientation, sheet_frame(paper, orientation), m.get_name())),
        name="geogrid_sheet_css",
    )
    body = _sheet_body(
        row,
        chain,
        shown,
        title=title,
        date=day,
        paper=paper,
        orientation=orientation,
        legend=legend_html(layers),
    )
    root.html.add_child(RawHtml(body), name="geogrid_sheet_body")
    return map_to_html(m)


def render_child_sheets(
    parent_code: str, grids: gpd.GeoDataFrame, **kwargs: Any
) -> Iterator[tuple[str, str]]:
    """Yield ``(code, html)`` for the sheet of every child of a grid, in code order.

    This is the ``--children`` batch: a town's village sheets, a village's micro-grid
    sheets. Print them through one :class:`geogrid.maps.printing.Printer`.

    Parameters
    ----------
    parent_code
        The parent grid.
    grids
        As for :func:`render_grid_sheet`; must have ``parent_code``.
    **kwargs
        Passed to :func:`render_grid_sheet` (checkpoints, counts, paper, ...). ``counts``
        may be a mapping from child code to that child's counts.

    Yields
    ------
    tuple of str
        The child's code and its sheet's HTML.

    Raises
    ------
    UnknownGridError
        If ``parent_code`` is not in ``grids``.
    """
    require_columns(grids, ("code", "parent_code"), "grids")
    if not (grids["code"].astype(str) == str(parent_code)).any():
        raise UnknownGridError(
            f"no grid has the code {parent_code!r}", details={"code": parent_code}
        )
    children = sorted(
        grids.loc[grids["parent_code"].astype(str) == str(parent_code), "code"].astype(str)
    )
    all_counts = kwargs.pop("counts", None) or {}
    for code in children:
        counts = all_counts.get(code) if isinstance(all_counts.get(code), Mapping) else all_counts
        yield code, render_grid_sheet(code, grids, counts=counts, **kwargs)
