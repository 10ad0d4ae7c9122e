"""OGC API – Features documents: links, conformance, collections and GeoJSON pages.

Feature pages are written as JSON text here, geometry by GEOS (``shapely.to_geojson``)
in one vectorised call, so a page of 10,000 grids is not built as Python dicts first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import shapely
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import JSONResponse

from geogrid import crs as gcrs
from geogrid.errors import InvalidRequestError
from geogrid.workspace.features import FeatureLayer, FeaturePage, GeoJSONPage

__all__ = [
    "CONFORMANCE",
    "GEOJSON",
    "GeoJSONResponse",
    "base_url",
    "collection_document",
    "content_crs",
    "entity_tag",
    "feature_bytes",
    "feature_href",
    "link",
    "page_bytes",
    "page_links",
    "reject_unknown_params",
]

GEOJSON = "application/geo+json"
JSON = "application/json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)
"""What geogrid conforms to. Not ``oas30``: FastAPI writes OpenAPI 3.1. Not Part 2
(``crs``): ``crs`` takes geogrid's names and keeps x before y for every system, where
Part 2 wants URIs and each CRS's own axis order (latitude first for EPSG:4326)."""


def link(href: str | URL, rel: str, type_: str = JSON, title: str | None = None) -> dict[str, str]:
    """Return one link object."""
    out = {"href": str(href), "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def content_crs(system: gcrs.CoordSystem) -> str:
    """Return the ``Content-Crs`` header value of output in ``system`` (x before y)."""
    if system.kind == "wgs84" and system.epsg == 4326:
        uri = CRS84
    elif system.epsg is not None:
        uri = f"http://www.opengis.net/def/crs/EPSG/0/{system.epsg}"
    else:  # GCJ-02 and BD-09 have no registered identifier
        uri = f"urn:geogrid:crs:{system.name}"
    return f"<{uri}>"


def entity_tag(version: str, system: gcrs.CoordSystem) -> str:
    """Return the strong ``ETag`` of a stored row as shown in ``system``.

    Each coordinate system is a different representation, so it gets its own tag; all
    of them name the same row version, which is what ``If-Match`` is checked against.
    """
    if system.kind == "wgs84" and system.epsg == 4326:
        return f'"{version}"'
    return f'"{version}.{system.name.replace(":", "")}"'


def matches_none(request: Request, tag: str) -> bool:
    """Tell whether ``If-None-Match`` names ``tag`` (or is ``*``): the client's copy is current.

    Comparison is weak (RFC 9110 13.1.2): ``W/"x"`` matches ``"x"``.
    """
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    wanted = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in wanted or tag.removeprefix("W/") in wanted


def collection_document(
    layer: FeatureLayer, base: str, extent: tuple[float, float, float, float] | None
) -> dict[str, Any]:
    """Return the ``/collections/{id}`` document of a layer."""
    href = f"{base}/collections/{layer.name}"
    doc: dict[str, Any] = {
        "id": layer.name,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "links": [
            link(href, "self", JSON, layer.title),
            link(f"{href}/items", "items", GEOJSON, f"{layer.title} as GeoJSON"),
            link(f"{href}/tiles", TILESETS_VECTOR, JSON, f"{layer.title} as vector tiles"),
        ],
    }
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return doc


def page_links(url: URL, base: str, page: FeaturePage | GeoJSONPage) -> list[dict[str, str]]:
    """Return self, collection, next and prev links of a page; the query is kept."""
    links = [
        link(url, "self", GEOJSON, "this page"),
        link(f"{base}/collections/{page.layer.name}", "collection", JSON, page.layer.title),
    ]
    after = page.offset + page.limit
    if after < page.number_matched:
        nxt = url.include_query_params(offset=after, limit=page.limit)
        links.append(link(nxt, "next", GEOJSON, "next page"))
    if page.offset > 0:
        before = max(0, page.offset - page.limit)
        prev = url.include_query_params(offset=before, limit=page.limit)
        links.append(link(prev, "prev", GEOJSON, "previous page"))
    return links


def _features(page: FeaturePage, links: list[list[dict[str, str]]] | None = None) -> list[str]:
    geometries = shapely.to_geojson(page.geometries) if len(page.geometries) else []
    out = []
    for i, (code, props, geometry) in enumerate(
        zip(page.codes, page.properties, geometries, strict=True)
    ):
        extra = f',"links":{json.dumps(links[i])}' if links else ""
        out.append(
            f'{{"type":"Feature","id":{json.dumps(code, ensure_ascii=False)},'
            f'"geometry":{geometry},'
            f'"properties":{json.dumps(props, ensure_ascii=False)}{extra}}}'
        )
    return out


def page_bytes(page: FeaturePage | GeoJSONPage, links: list[dict[str, str]]) -> bytes:
    """Return a page as an RFC 7946 FeatureCollection with OGC paging members."""
    head = {
        "type": "FeatureCollection",
        "numberMatched": page.number_matched,
        "numberReturned": page.number_returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    text = json.dumps(head, ensure_ascii=False)[:-1]
    features = page.features if isinstance(page, GeoJSONPage) else ",".join(_features(page))
    if isinstance(features, bytes):
        return b"".join((text.encode(), b',"features":[', features, b"]}"))
    return f'{text},"features":[{features}]}}'.encode()


def feature_bytes(page: FeaturePage, base: str, extra: Mapping[str, Any] | None = None) -> bytes:
    """Return the first feature of a page as a GeoJSON Feature with its links, plus the
    ``extra`` members (foreign members, RFC 7946 section 6.1)."""
    collection = f"{base}/collections/{page.layer.name}"
    links = [
        link(feature_href(base, page.layer.name, page.codes[0]), "self", GEOJSON, "this feature"),
        link(collection, "collection", JSON, page.layer.title),
    ]
    text = _features(page, [links])[0]
    if extra:
        text = text[:-1] + "," + json.dumps(extra, ensure_ascii=False)[1:]
    return text.encode()


def feature_href(base: str, layer: str, code: str) -> str:
    """Return the URL of a feature."""
    return f"{base}/collections/{layer}/items/{quote(code, safe='')}"


class GeoJSONResponse(JSONResponse):
    """A JSON response of media type ``application/geo+json``; bytes are sent as they are
    (pages are written as JSON text here), anything else is serialised as JSON."""

    media_type = GEOJSON

    def render(self, content: Any) -> bytes:
        """Return ``content`` as the body."""
        return content if isinstance(content, bytes) else super().render(content)


def reject_unknown_params(request: Request, allowed: Iterable[str]) -> None:
    """Refuse a request whose query names a parameter the operation does not take."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        shown = [u[:64] for u in unknown]
        raise InvalidRequestError(
            f"unknown query parameter(s): {', '.join(shown)}", details={"unknown": shown}
        )


def base_url(request: Request) -> str:
    """Return the service's base URL, without a trailing slash."""
    return str(request.base_url).rstrip("/")
