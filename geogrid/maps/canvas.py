"""Put layers on a map with its controls, and write it out as one offline HTML page.

Every map from :func:`new_map` has a legend, a layer control, a metric scale bar,
fullscreen and measure controls, fits its data, loads nothing from a CDN, and sets
``window.geogridReady`` once it has drawn (what the printer waits for).

Examples
--------
>>> import geopandas as gpd, shapely
>>> from geogrid.maps.layers import grid_layer
>>> grids = gpd.GeoDataFrame({"code": ["330326"], "name": ["平阳县"], "level": ["county"]},
...                          geometry=[shapely.box(120.3, 27.4, 120.9, 27.8)], crs=4326)
>>> html = map_to_html(new_map(grid_layer(grids)))
>>> "cdn.jsdelivr.net" in html, "window.geogridReady" in html
(False, True)
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import folium
from branca.element import Figure, MacroElement
from folium.template import Template

from geogrid.crs import wgs84_to_gcj02
from geogrid.errors import MapError
from geogrid.maps._base import GeoLayer, LegendEntry
from geogrid.maps.assets import external_links, use_local_assets
from geogrid.maps.basemaps import Basemap, basemap_from_name

__all__ = ["legend_html", "map_to_html", "new_map", "save_map"]

_CHINA_VIEW = (35.0, 105.0)


class _Controls(MacroElement):
    """geogrid's controls, the legend and the plain background, added by geogrid-maps.js."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        geogrid.addControls({{ this._parent.get_name() }}, {{ this.options|tojson }});
        {%- if this.plain %}
        {{ this._parent.get_name() }}.getContainer().classList.add("geogrid-plain");
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, *, legend: str, north_arrow: bool, plain: bool) -> None:
        super().__init__()
        self._name = "GeogridControls"
        self.options = {"legend": legend, "northArrow": north_arrow}
        self.plain = plain


class _Panes(MacroElement):
    """The offline base's panes (water, roads, street names); added before any layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        geogrid.panes({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GeogridPanes"


class _ReadyFlag(MacroElement):
    """Sets ``window.geogridReady`` when the map has drawn; must be the map's last child."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        geogrid.whenDrawn({{ this._parent.get_name() }}, {{ this.timeout_ms }});
        {% endmacro %}
        """
    )

    def __init__(self, timeout_ms: int) -> None:
        super().__init__()
        self._name = "GeogridReady"
        self.timeout_ms = int(timeout_ms)


def _swatch(entry: LegendEntry) -> str:
    style = [f"border-color:{entry.color}"]
    if entry.shape != "line":
        style.append(f"background:{entry.fill or 'transparent'}")
    if entry.dashed:
        style.append("border-style:dashed")
    shape = {"point": " geogrid-point", "line": " geogrid-line"}.get(entry.shape, "")
    return f'<span class="geogrid-swatch{shape}" style="{";".join(style)}"></span>'


def legend_html(layers: Iterable[Any], title: str | None = None) -> str:
    """Return the legend HTML for layers: a heading per layer and a swatch per entry.

    Parameters
    ----------
    layers
        Layers; those without a ``legend`` attribute (plain folium layers) are skipped.
    title
        Optional heading above everything.

    Returns
    -------
    str
        Escaped HTML; empty when no layer has a legend.
    """
    parts = [f"<h4>{html_lib.escape(title)}</h4>"] if title else []
    for layer in layers:
        entries = getattr(layer, "legend", ())
        if not entries:
            continue
        name = html_lib.escape(str(layer.layer_name))
        if len(entries) == 1:  # one swatch: the layer's name says it
            parts.append(f"<div>{_swatch(entries[0])}{name}</div>")
            continue
        parts.append(f"<h4>{name}</h4>")
        parts += [f"<div>{_swatch(e)}{html_lib.escape(e.label)}</div>" for e in entries]
    return "".join(parts) if len(parts) > (1 if title else 0) else ""


def _flatten(items: Iterable[Any]) -> list[Any]:
    flat: list[Any] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, (list, tuple)):
            flat += _flatten(item)
        else:
            flat.append(item)
    return flat


def _union_bounds(layers: list[Any]) -> tuple[float, float, float, float] | None:
    boxes = [b for b in (getattr(layer, "bounds", None) for layer in layers) if b is not None]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _display_bounds(bounds: tuple[float, float, float, float], crs: str) -> list[list[float]]:
    west, south, east, north = bounds
    if crs == "gcj02":
        west, south = wgs84_to_gcj02(west, south)
        east, north = wgs84_to_gcj02(east, north)
    return [[float(south), float(west)], [float(north), float(east)]]


def _add_tiles(m: folium.Map, basemap: Basemap) -> None:
    for spec in basemap.tiles:
        options: dict[str, Any] = {"max_zoom": spec.max_zoom}
        if spec.subdomains:
            options["subdomains"] = spec.subdomains
        folium.TileLayer(
            tiles=spec.url,
            attr=spec.attribution,
            name=spec.name,
            overlay=spec.overlay,
            control=True,
            **options,
        ).add_to(m)


def new_map(
    *layers: Any,
    basemap: str = "plain",
    tianditu_key: str | None = None,
    tiles_crs: str = "wgs84",
    tile_url: str | None = None,
    title: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    assets: str = "inline",
    legend: bool = True,
    north_arrow: bool = False,
    collapsed: bool = True,
    padding_px: int = 12,
    zoom_snap: float = 1.0,
    ready_timeout_ms: int = 15_000,
) -> folium.Map:
    """Make a map of geogrid layers with legend, controls and an offline page.

    Parameters
    ----------
    *layers
        Layers from :mod:`geogrid.maps.layers` and :mod:`geogrid.maps.overlays` (or lists
        of them); plain folium layers are accepted on WGS 84 base maps.
    basemap
        ``"plain"`` (default), ``"osm"``, ``"tianditu"``, ``"amap"``, a tile folder or a URL
        template; see :mod:`geogrid.maps.basemaps`.
    tianditu_key
        Key for ``basemap="tianditu"``.
    tiles_crs
        Frame of a tile folder or template: ``"wgs84"`` or ``"gcj02"``.
    tile_url
        Tile URL template replacing Tianditu's or Amap's (a mirror, a test server).
    title
        Page title and legend heading.
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS 84 to show; default: all the data.
    assets
        How Leaflet is loaded: ``"inline"``, ``"local"`` or a URL prefix; see
        :func:`geogrid.maps.assets.use_local_assets`.
    legend
        Draw the legend on the map (a printed sheet puts it beside the map instead).
    north_arrow
        Draw a north arrow (printed sheets have one).
    collapsed
        Collapse the layer control to a button.
    padding_px
        Space kept around the data when fitting it.
    zoom_snap
        Leaflet's zoom step; a fraction lets a sheet fill its frame.
    ready_timeout_ms
        Longest wait for tiles before ``window.geogridReady`` is set anyway.

    Returns
    -------
    folium.Map

    Raises
    ------
    MapError
        For an unknown base map, Tianditu without a key, or a non-geogrid layer on a GCJ-02
        base map (it would be drawn 100-700 m off).
    """
    chosen = basemap_from_name(
        basemap, tianditu_key=tianditu_key, tiles_crs=tiles_crs, url=tile_url
    )
    flat = _flatten(layers)
    for layer in flat:
        if isinstance(layer, GeoLayer):
            layer.set_display_crs(chosen.display_crs)
        elif chosen.display_crs != "wgs84":
            raise MapError(
                f"{type(layer).__name__} cannot be shifted to GCJ-02 for the {chosen.name} "
                "basemap: use geogrid.maps layers, or basemap='plain', 'osm' or 'tianditu'"
            )
    m = folium.Map(
        location=_CHINA_VIEW,
        zoom_start=4,
        tiles=None,
        control_scale=False,
        zoomSnap=zoom_snap,
        zoomDelta=max(zoom_snap, 0.5),
    )
    use_local_assets(m, assets)
    if title:
        cast("Figure", m.get_root()).title = title
    _add_tiles(m, chosen)
    m.add_child(_Panes(), name="geogrid_panes")
    for layer in flat:
        m.add_child(layer)
    _Controls(
        legend=legend_html(flat, title) if legend else "",
        north_arrow=north_arrow,
        plain=not chosen.tiles,
    ).add_to(m)
    folium.LayerControl(collapsed=collapsed).add_to(m)
    view = bounds or _union_bounds(flat)
    if view is not None:
        m.fit_bounds(_display_bounds(view, chosen.display_crs), padding=(padding_px, padding_px))
    m.add_child(_ReadyFlag(ready_timeout_ms), name="geogrid_ready")
    return m


def map_to_html(m: folium.Map) -> str:
    """Render a map to one HTML page, refusing any CDN link.

    Parameters
    ----------
    m
        A map from :func:`new_map` (or any folium map given local assets).

    Returns
    -------
    str
        The page.

    Raises
    ------
    MapError
        If the page would load a script, style or image from another machine (a folium
        plugin with CDN links was added, for instance).
    """
    # folium has no public way to move a child: take the flag out and add it again
    flag = m._children.pop("geogrid_ready", None)  # noqa: SLF001
    if flag is not None:  # keep the ready flag last, after anything added since new_map
        m.add_child(flag, name="geogrid_ready")
    page = m.get_root().render()
    links = external_links(page)
    if links:
        raise MapError(
            f"the map would load {len(links)} file(s) from the Internet, e.g. {links[0]}; "
            "geogrid maps must work offline",
            details={"links": links},
        )
    return page


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write a map's page to ``path`` (UTF-8) and return the path."""
    out = Path(path)
    out.write_text(map_to_html(m), encoding="utf-8")
    return out
