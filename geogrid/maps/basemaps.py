"""Base maps: a plain background (the default), a local tile folder, or an online service.

``"plain"`` (or ``"offline"``)
    No tiles, a light background: works offline, prints fast; the default. geogrid's own
    maps draw their streets on it from PostGIS (:func:`geogrid.maps.street_layer`).
a tile folder or URL template
    ``/srv/tiles`` (a folder of ``{z}/{x}/{y}.png``), ``file:///srv/tiles/{z}/{x}/{y}.png``
    or a served path such as ``/tiles/{z}/{x}/{y}.png``. Tiles are taken to be WGS 84 web
    Mercator unless ``tiles_crs="gcj02"`` says they were cut from a GCJ-02 map.
``"osm"``
    OpenStreetMap's standard tiles (WGS 84).
``"tianditu"``
    天地图, China's national map service (CGCS2000, the same as WGS 84 at map scale, so
    overlays are drawn as they are): the Web Mercator vector map ``vec_w`` and Chinese
    annotations ``cva_w``. Needs a key, passed in or from ``GEOGRID_TIANDITU_KEY``.
``"amap"``
    高德 Amap/Gaode road map. Its tiles are in GCJ-02, so :func:`geogrid.maps.new_map`
    redraws every geogrid layer in GCJ-02 over them, and refuses other overlays, rather
    than draw them 100-700 m off.

Both online services' tile URL templates can be replaced (``url=``, or
``GEOGRID_TIANDITU_URL`` / ``GEOGRID_AMAP_URL``): a mirror inside a private network, or a
local test server. A Tianditu template may hold ``{layer}`` (``vec`` or ``cva``) and
``{key}``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from geogrid.errors import MapError

__all__ = ["BASEMAPS", "Basemap", "TileSpec", "basemap_from_name", "tianditu_key_from_settings"]

BASEMAPS = ("plain", "offline", "osm", "tianditu", "amap")
"""Named base maps; a tile folder or URL template is accepted as well."""

_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)
_AMAP = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)
_LOCAL_URL = re.compile(r"^(?:file:|/|\.|https?://(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])[:/])")


@dataclass(frozen=True, slots=True)
class TileSpec:
    """One tile layer of a base map.

    Parameters
    ----------
    url
        Leaflet URL template with ``{z}``, ``{x}``, ``{y}`` (and ``{s}`` for subdomains).
    attribution
        Attribution HTML the service asks for.
    name
        Name in the layer control.
    subdomains
        Characters substituted for ``{s}``.
    max_zoom
        Deepest zoom the service has.
    overlay
        Whether this layer lies on another (annotations) rather than being a base layer.
    """

    url: str
    attribution: str
    name: str
    subdomains: str = "abc"
    max_zoom: int = 18
    overlay: bool = False


@dataclass(frozen=True, slots=True)
class Basemap:
    """A resolved base map.

    Parameters
    ----------
    name
        ``"plain"``, ``"osm"``, ``"tianditu"``, ``"amap"`` or ``"tiles"`` (a folder or URL).
    display_crs
        The frame the tiles are drawn in, and so the overlays must be: ``"wgs84"`` or
        ``"gcj02"``.
    tiles
        Tile layers, base first.
    online
        Whether the tiles come from a service on the Internet.
    """

    name: str
    display_crs: str
    tiles: tuple[TileSpec, ...] = ()
    online: bool = False


def _setting(name: str) -> str | None:
    try:
        from geogrid.settings import get_settings

        value = getattr(get_settings(), name, None)
    except Exception:  # settings that fail to load mean "not set here"
        value = None
    return str(value) if value else None


def tianditu_key_from_settings() -> str | None:
    """Return the Tianditu key from geogrid's settings or ``GEOGRID_TIANDITU_KEY``, if set."""
    try:
        from geogrid.settings import get_settings

        key = getattr(get_settings(), "tianditu_key", None)
    except Exception:  # settings that fail to load mean "no key here"
        key = None
    if key is not None and hasattr(key, "get_secret_value"):
        key = key.get_secret_value()
    return key or os.environ.get("GEOGRID_TIANDITU_KEY") or None


def _tile_template(basemap: str) -> str:
    if "{z}" in basemap and "{x}" in basemap and "{y}" in basemap:
        return basemap
    folder = Path(basemap).expanduser()
    if folder.is_dir():
        return folder.resolve().as_uri() + "/{z}/{x}/{y}.png"
    raise MapError(
        f"unknown basemap {basemap!r}: use one of {', '.join(BASEMAPS)}, a tile folder, "
        "or a URL template with {z}, {x} and {y}"
    )


def basemap_from_name(
    basemap: str = "plain",
    *,
    tianditu_key: str | None = None,
    tiles_crs: str = "wgs84",
    url: str | None = None,
) -> Basemap:
    """Resolve a base map name, folder or URL template.

    Parameters
    ----------
    basemap
        See the module docstring.
    tianditu_key
        The Tianditu key; when None, :func:`tianditu_key_from_settings` is asked.
    tiles_crs
        For a tile folder or template: ``"wgs84"`` (default) or ``"gcj02"``.
    url
        For ``"tianditu"`` and ``"amap"``: a tile URL template replacing the service's
        (default: ``GEOGRID_TIANDITU_URL`` / ``GEOGRID_AMAP_URL``, else the service's own).

    Returns
    -------
    Basemap

    Raises
    ------
    MapError
        For an unknown name or folder, or Tianditu without a key.

    Examples
    --------
    >>> basemap_from_name("amap").display_crs
    'gcj02'
    >>> basemap_from_name("plain").tiles
    ()
    """
    name = str(basemap).strip()
    if name.lower() in ("plain", "offline"):
        return Basemap("plain", "wgs84")
    if name.lower() == "osm":
        osm = TileSpec(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
            "contributors",
            "OpenStreetMap",
            subdomains="",
            max_zoom=19,
        )
        return Basemap("osm", "wgs84", (osm,), online=True)
    if name.lower() == "tianditu":
        key = tianditu_key or tianditu_key_from_settings()
        if not key:
            raise MapError(
                "the Tianditu basemap needs a key: pass tianditu_key=... or set "
                "GEOGRID_TIANDITU_KEY (apply for one at the Tianditu developer site)"
            )
        attribution = "&copy; 天地图 Tianditu"
        template = url or _setting("tianditu_url") or _TIANDITU
        subdomains = "01234567" if "{s}" in template else ""
        vector = TileSpec(
            template.replace("{layer}", "vec").replace("{key}", key),
            attribution,
            "天地图 Tianditu",
            subdomains=subdomains,
        )
        notes = TileSpec(
            template.replace("{layer}", "cva").replace("{key}", key),
            attribution,
            "天地图注记 Tianditu labels",
            subdomains=subdomains,
            overlay=True,
        )
        online = not _LOCAL_URL.match(template)
        return Basemap("tianditu", "wgs84", (vector, notes), online=online)
    if name.lower() == "amap":
        template = url or _setting("amap_url") or _AMAP
        amap = TileSpec(
            template,
            "&copy; 高德地图 AutoNavi",
            "高德地图 Amap",
            subdomains="1234" if "{s}" in template else "",
        )
        return Basemap("amap", "gcj02", (amap,), online=not _LOCAL_URL.match(template))
    crs = str(tiles_crs).lower()
    if crs not in ("wgs84", "gcj02", "cgcs2000"):
        raise MapError(f"tiles_crs must be wgs84 or gcj02, not {tiles_crs!r}")
    template = _tile_template(name)
    local = TileSpec(template, "local tiles 本地瓦片", "Tiles 瓦片", subdomains="")
    online = not _LOCAL_URL.match(template)
    return Basemap("tiles", "gcj02" if crs == "gcj02" else "wgs84", (local,), online=online)
