"""The layers as OGC API – Features: landing page, conformance, collections and items.

``crs`` and ``bbox-crs`` take the systems geogrid takes everywhere (``wgs84``,
``cgcs2000``, ``gcj02``, ``bd09``, ``EPSG:n``) and coordinates are always x first
(longitude or easting). Grid workers see only the grids of their chain and subtree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from geogrid import __version__
from geogrid import crs as gcrs
from geogrid.access import Caller
from geogrid.api import ogc
from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.api.routes import edits
from geogrid.api.schemas.common import CRS_SCHEMA, INSTANT
from geogrid.api.schemas.features import (
    CollectionPublic,
    CollectionsPublic,
    ConformancePublic,
    FeatureCollectionPublic,
    FeaturePublic,
    LandingPublic,
    LinkPublic,
)
from geogrid.errors import InvalidRequestError
from geogrid.workspace.features import (
    FEATURE_LAYERS,
    FeaturePage,
    GeoJSONPage,
    collection_extent,
    feature_layer,
    read_feature_item,
    read_feature_page,
    read_geojson_page,
)

router = APIRouter(tags=["features"])

Reader = Annotated[Caller, require("layers:read")]
CollectionId = Annotated[
    str, Path(max_length=64, description="collection id, e.g. `grids`", examples=["grids"])
]
FeatureId = Annotated[
    str,
    Path(max_length=64, description="feature id: the feature's code", examples=["330326-101"]),
]
CRS = Annotated[
    str,
    Query(
        max_length=200,
        description="output coordinates: wgs84, cgcs2000, gcj02, bd09 or EPSG:n (any code "
        "PROJ relates to WGS 84; the common ones are listed)",
        json_schema_extra=CRS_SCHEMA,
    ),
]
FILTER_MAX_LENGTH = 200
"""The longest value a property filter takes (as the OpenAPI schema declares)."""
WGS84 = gcrs.parse_crs("wgs84")
COMMON_PARAMS = frozenset({"bbox", "bbox-crs", "crs", "limit", "offset", "datetime"})

_NUMBER = r"-?[0-9]{1,20}(\.[0-9]{1,20})?"  # finite, no exponent: what float() reads exactly
BBOX_PATTERN = rf"^{_NUMBER}(,{_NUMBER}){{3}}((,{_NUMBER}){{2}})?$"
"""OGC API - Features ``bbox``: four numbers, or six (3D: min z after min y, max z after
max y; the layers are 2D, so z is checked for order only). The server takes exactly this."""
DATETIME_PATTERN = rf"^({INSTANT}|({INSTANT}|\.\.)?/({INSTANT}|\.\.)?)$"
"""OGC API - Features ``datetime``: an RFC 3339 instant, or an interval of two with either
end open (``..`` or empty); checked by form only, as these layers have no time."""
FILTER_PARAMS = {
    param: [name for name, layer in FEATURE_LAYERS.items() if param in layer.filters]
    for layer in FEATURE_LAYERS.values()
    for param in layer.filters
}


def _filter_parameters() -> list[dict[str, Any]]:
    """Document the simple property filters (checked against the collection in code)."""
    out = []
    for param, layers in FILTER_PARAMS.items():
        per_layer = [FEATURE_LAYERS[name].choices.get(param, ()) for name in layers]
        schema: dict[str, Any] = {"type": "string", "maxLength": FILTER_MAX_LENGTH}
        if all(per_layer):  # a layer with free values (isolation sites' kind) takes any
            schema["enum"] = sorted({c for choices in per_layer for c in choices})
        out.append(
            {
                "name": param,
                "in": "query",
                "required": False,
                "schema": schema,
                "description": f"equality filter, for {', '.join(layers)} only",
            }
        )
    return out


@router.get("/", response_model=LandingPublic)
async def landing_page(request: Request) -> LandingPublic:
    """Describe the service and link to its API definition, conformance and data."""
    ogc.reject_unknown_params(request, ())
    base = ogc.base_url(request)
    links = [
        ogc.link(f"{base}/", "self", ogc.JSON, "this document"),
        ogc.link(
            f"{base}/openapi.json",
            "service-desc",
            "application/vnd.oai.openapi+json;version=3.1",
            "the API definition",
        ),
        ogc.link(f"{base}/docs", "service-doc", "text/html", "the API documentation"),
        ogc.link(f"{base}/conformance", "conformance", ogc.JSON, "conformance classes"),
        ogc.link(f"{base}/collections", "data", ogc.JSON, "the layers"),
        ogc.link(
            f"{base}/tileMatrixSets",
            "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
            ogc.JSON,
            "the tile matrix sets of the vector tiles",
        ),
    ]
    return LandingPublic(
        title="geogrid",
        description=(
            f"geogrid {__version__}: grid governance layers as OGC API – Features. "
            "Coordinates are WGS 84 longitude/latitude unless `crs` names another system; "
            "x always comes first."
        ),
        links=[LinkPublic.model_validate(x) for x in links],
    )


@router.get("/conformance", response_model=ConformancePublic)
async def conformance(request: Request) -> ConformancePublic:
    """List the conformance classes implemented (Part 1 core and GeoJSON)."""
    ogc.reject_unknown_params(request, ())
    return ConformancePublic(conformsTo=list(ogc.CONFORMANCE))


@router.get("/collections", response_model=CollectionsPublic)
def collections(request: Request, workspace: WorkspaceDep, _: Reader) -> CollectionsPublic:
    """List the layers with their extents."""
    ogc.reject_unknown_params(request, ())
    base = ogc.base_url(request)
    docs = [
        ogc.collection_document(layer, base, collection_extent(workspace, name))
        for name, layer in FEATURE_LAYERS.items()
    ]
    return CollectionsPublic(
        links=[LinkPublic.model_validate(ogc.link(f"{base}/collections", "self"))],
        collections=[CollectionPublic.model_validate(d) for d in docs],
    )


@router.get("/collections/{collection_id}", response_model=CollectionPublic)
def collection(
    collection_id: CollectionId, request: Request, workspace: WorkspaceDep, _: Reader
) -> CollectionPublic:
    """Describe one layer."""
    ogc.reject_unknown_params(request, ())
    layer = feature_layer(collection_id)
    doc = ogc.collection_document(
        layer, ogc.base_url(request), collection_extent(workspace, layer.name)
    )
    return CollectionPublic.model_validate(doc)


@router.get(
    "/collections/{collection_id}/items",
    response_class=ogc.GeoJSONResponse,
    responses={
        200: {
            "model": FeatureCollectionPublic,
            "headers": {
                "Content-Crs": {"description": "coordinate system", "schema": {"type": "string"}}
            },
        }
    },
    openapi_extra={"parameters": _filter_parameters()},
)
async def items(
    collection_id: CollectionId,
    request: Request,
    workspace: WorkspaceDep,
    caller: Reader,
    bbox: Annotated[
        str | None,
        Query(
            max_length=400,
            json_schema_extra={"pattern": BBOX_PATTERN},  # checked in _parse_bbox: its words
            description="min x, min y, max x, max y in `bbox-crs` (or six numbers: min x, "
            "min y, min z, max x, max y, max z): features intersecting it",
        ),
    ] = None,
    bbox_crs: Annotated[
        str | None,
        Query(
            alias="bbox-crs",
            max_length=200,
            description="system of `bbox` (as `crs`)",
            json_schema_extra=CRS_SCHEMA,
        ),
    ] = None,
    crs: CRS = "wgs84",
    limit: Annotated[
        int | None,
        Query(ge=1, description="page size (default 100; larger than 10,000 is capped)"),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=2**31, description="features to skip")] = 0,
    datetime_: Annotated[  # noqa: ARG001 (checked by its pattern; no layer has time)
        str | None,
        Query(
            alias="datetime",
            max_length=100,
            pattern=DATETIME_PATTERN,
            description="RFC 3339 instant or interval (open ends ``..``); these layers "
            "have no time, so it selects every feature",
        ),
    ] = None,
) -> Response:
    """Return a page of a layer as a GeoJSON FeatureCollection, ordered by code."""
    layer = feature_layer(collection_id)
    ogc.reject_unknown_params(request, COMMON_PARAMS | set(FILTER_PARAMS))
    if bbox_crs is not None:  # refused when it names nothing, with or without a bbox
        gcrs.parse_crs(bbox_crs)
    filters = {k: v for k, v in request.query_params.items() if k in FILTER_PARAMS}
    _check_filter_lengths(filters)
    read: Callable[..., FeaturePage | GeoJSONPage] = read_geojson_page  # PostgreSQL writes it
    if gcrs.parse_crs(crs) != WGS84:  # reprojected in Python
        read = partial(read_feature_page, crs=crs)
    page = await run_in_threadpool(
        read,
        workspace,
        layer.name,
        bbox=_parse_bbox(bbox) if bbox is not None else None,
        bbox_crs=bbox_crs,
        filters=filters,
        limit=limit,
        offset=offset,
        subtree=caller.subtree,
    )
    body = ogc.page_bytes(page, ogc.page_links(request.url, ogc.base_url(request), page))
    return ogc.GeoJSONResponse(body, headers={"Content-Crs": ogc.content_crs(page.crs)})


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    response_class=ogc.GeoJSONResponse,
    responses={
        200: {
            "model": FeaturePublic,
            "headers": {
                "ETag": {
                    "description": "strong; send it as If-Match",
                    "schema": {"type": "string"},
                },
                "Content-Crs": {"description": "coordinate system", "schema": {"type": "string"}},
            },
        },
        304: {"description": "`If-None-Match` names the current ETag: the copy held is current"},
    },
)
def item(
    collection_id: CollectionId,
    feature_id: FeatureId,
    request: Request,
    workspace: WorkspaceDep,
    caller: Reader,
    crs: CRS = "wgs84",
) -> Response:
    """Return one feature with a strong ``ETag`` (send it as ``If-Match`` to edit).

    With ``If-None-Match`` naming the current ETag the answer is 304 and no body.
    """
    ogc.reject_unknown_params(request, {"crs"})
    page = read_feature_item(workspace, collection_id, feature_id, crs=crs, subtree=caller.subtree)
    headers = {
        "Content-Crs": ogc.content_crs(page.crs),
        "ETag": ogc.entity_tag(page.versions[0], page.crs),
    }
    if ogc.matches_none(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return ogc.GeoJSONResponse(ogc.feature_bytes(page, ogc.base_url(request)), headers=headers)


def _parse_bbox(text: str) -> list[float]:
    """Return min x, min y, max x, max y from a ``bbox`` (:data:`BBOX_PATTERN`)."""
    if not re.fullmatch(BBOX_PATTERN, text):
        raise InvalidRequestError(
            "bbox must be four comma-separated numbers (min x, min y, max x, max y) or six "
            f"(with min z and max z), plain decimals, not {text[:100]!r}",
            details={"bbox": text[:100]},
        )
    values = [float(v) for v in text.split(",")]
    if len(values) == 6:
        if values[2] > values[5]:
            raise InvalidRequestError(
                f"bbox {values} has its min z above its max z", details={"bbox": values}
            )
        values = [values[0], values[1], values[3], values[4]]
    return values


def _check_filter_lengths(filters: dict[str, str]) -> None:
    for param, value in filters.items():
        if len(value) > FILTER_MAX_LENGTH:
            raise InvalidRequestError(
                f"{param} is {len(value)} characters long; at most {FILTER_MAX_LENGTH}",
                details={"parameter": param, "limit": FILTER_MAX_LENGTH},
            )


router.include_router(edits.router)  # writes on the same paths, and the audit log
