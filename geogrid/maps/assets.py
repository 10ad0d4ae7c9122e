"""Serve Leaflet from an installed package, never from a CDN.

Folium links Leaflet, jQuery, Bootstrap and its plugins from public CDNs, so on a machine
with no Internet its maps render blank. geogrid's maps need only Leaflet itself (from the
PyPI package ``XStatic-Leaflet``, byte-identical to Leaflet's own ``dist`` build) and
geogrid's own small controls (``geogrid/maps/static``). :func:`use_local_assets` swaps a
map's links, on that map instance only, for one of:

``"inline"`` (the default)
    Everything embedded in the page: a saved map is one self-contained file.
``"local"``
    ``file://`` links to the installed package folder: small pages for this machine only.
a URL prefix such as ``"/static/vendor"``
    Links under a route that serves :func:`asset_dir` (FastAPI: ``app.mount("/static/vendor",
    StaticFiles(directory=asset_dir()))``). geogrid's own controls stay inline.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import folium
from branca.element import Figure

from geogrid.errors import MapError
from geogrid.maps._base import RawHtml

__all__ = [
    "LEAFLET_VERSION",
    "asset_dir",
    "asset_files",
    "external_links",
    "own_asset",
    "use_local_assets",
]

LEAFLET_VERSION = "1.9.3"
"""The Leaflet release geogrid's maps are written for (folium 0.20's); any 1.9.x is accepted."""

_VENDOR_NAMES = (
    "leaflet.js",
    "leaflet.css",
    "images/layers.png",
    "images/layers-2x.png",
    "images/marker-icon.png",
    "images/marker-icon-2x.png",
    "images/marker-shadow.png",
)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[\w.-]+\.png)\1\)")
_EXTERNAL_LINK = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?((?:https?:)?//[^\"' >]+)",
    re.IGNORECASE,
)
_LOCAL_HOSTS = re.compile(r"^(?:https?:)?//(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])(?:[:/]|$)")


def asset_dir() -> Path:
    """Return the folder holding Leaflet's files (``leaflet.js``, ``leaflet.css``, ``images/``).

    Returns
    -------
    pathlib.Path
        The installed ``XStatic-Leaflet`` data folder; mount it as a static route.

    Raises
    ------
    MapError
        If ``XStatic-Leaflet`` is not installed.
    """
    try:
        from xstatic.pkg import leaflet
    except ImportError:  # pragma: no cover - the package is a dependency
        raise MapError(
            "geogrid's maps need the XStatic-Leaflet package: pip install XStatic-Leaflet"
        ) from None
    version = str(getattr(leaflet, "VERSION", LEAFLET_VERSION))
    if version.split(".")[:2] != LEAFLET_VERSION.split(".")[:2]:  # pragma: no cover
        raise MapError(
            f"geogrid's maps are written for Leaflet {LEAFLET_VERSION} (1.9.x); "
            f"XStatic-Leaflet carries {version}",
        )
    return Path(leaflet.BASE_DIR)


def asset_files() -> dict[str, Path]:
    """Return the files a map may load, by the name it asks for under the asset prefix.

    Returns
    -------
    dict
        ``{"leaflet.js": Path(...), "leaflet.css": ..., "images/layers.png": ..., ...}``.

    Examples
    --------
    >>> sorted(asset_files())[:2]
    ['images/layers-2x.png', 'images/layers.png']
    """
    folder = asset_dir()
    return {name: folder / name for name in _VENDOR_NAMES if (folder / name).is_file()}


def own_asset(name: str) -> str:
    """Return the text of one of geogrid's own map assets (``geogrid-maps.js`` or ``.css``)."""
    return resources.files("geogrid.maps").joinpath("static", name).read_text("utf-8")


@lru_cache(maxsize=1)
def _data_uris() -> dict[str, str]:
    uris = {}
    for name, path in asset_files().items():
        if name.endswith(".png"):
            mime = mimetypes.guess_type(name)[0] or "image/png"
            uris[name] = f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"
    return uris


def _script(code: str) -> str:
    return "<script>" + code.replace("</script", "<\\/script") + "</script>"


def _style(css: str) -> str:
    return "<style>" + css.replace("</style", "<\\/style") + "</style>"


@lru_cache(maxsize=1)
def _inline_leaflet() -> str:
    files = asset_files()
    uris = _data_uris()
    css = _CSS_URL.sub(lambda m: f'url("{uris[m.group(2)]}")', files["leaflet.css"].read_text())
    # L.Icon.Default prefixes imagePath to its icon URLs; with "" the data URIs work as they are.
    icons = (
        "L.Icon.Default.imagePath = '';"
        "L.Icon.Default.mergeOptions({"
        f"iconUrl: '{uris['images/marker-icon.png']}',"
        f"iconRetinaUrl: '{uris['images/marker-icon-2x.png']}',"
        f"shadowUrl: '{uris['images/marker-shadow.png']}'}});"
    )
    return _style(css) + _script(files["leaflet.js"].read_text()) + _script(icons)


@lru_cache(maxsize=1)
def _own_inline() -> str:
    return _style(own_asset("geogrid-maps.css")) + _script(own_asset("geogrid-maps.js"))


def _linked_leaflet(prefix: str) -> str:
    prefix = prefix.rstrip("/")
    return (
        f'<link rel="stylesheet" href="{prefix}/leaflet.css"/>'
        f'<script src="{prefix}/leaflet.js"></script>'
    )


def use_local_assets(m: folium.Map, assets: str = "inline") -> folium.Map:
    """Make a map load Leaflet and geogrid's controls from this machine, not from a CDN.

    Only this map instance changes: folium's defaults stay as they are for other maps.

    Parameters
    ----------
    m
        The map; it must still be in its own figure (the one folium made for it).
    assets
        ``"inline"``, ``"local"``, or a URL prefix serving :func:`asset_dir` (see the module
        docstring).

    Returns
    -------
    folium.Map
        The same map.

    Raises
    ------
    MapError
        If ``assets`` is empty or the map has no figure.
    """
    if not assets:
        raise MapError('assets must be "inline", "local" or a URL prefix such as /static/vendor')
    root = m.get_root()
    if not isinstance(root, Figure):
        raise MapError("the map must belong to a figure before its assets can be set")
    m.default_js = []  # instance attributes: folium's class-level CDN lists stay untouched
    m.default_css = []
    if assets == "inline":
        leaflet = _inline_leaflet()
    elif assets == "local":
        leaflet = _linked_leaflet(asset_dir().as_uri())
    else:
        leaflet = _linked_leaflet(assets)
    root.header.add_child(RawHtml(leaflet + _own_inline()), name="geogrid_assets")
    return m


def external_links(html: str) -> list[str]:
    """Return the URLs a page's script, link, img and iframe tags load from other machines.

    Tile URLs inside scripts are not counted (an online basemap is a choice); this finds CDN
    links that would leave an offline page blank.

    Parameters
    ----------
    html
        A page's HTML.

    Returns
    -------
    list of str
        Every ``http(s)://`` or protocol-relative URL not on localhost; empty when the page
        needs no network.

    Examples
    --------
    >>> external_links('<script src="https://cdn.example.org/leaflet.js"></script>')
    ['https://cdn.example.org/leaflet.js']
    >>> external_links('<link href="http://localhost:8000/static/vendor/leaflet.css">')
    []
    """
    return [url for url in _EXTERNAL_LINK.findall(html) if not _LOCAL_HOSTS.match(url)]
