"""Edits of grids, checkpoints and isolation sites on the OGC items paths, and the audit log.

POST creates, PUT replaces, PATCH merges, DELETE deletes; the body is a GeoJSON Feature
with coordinates in ``crs`` (default WGS 84, x first). Writes to an existing feature need
``If-Match`` with its ``ETag`` (428 without, 412 when someone changed it since).
``POST /collections/{id}/edits`` replaces several features in one transaction (each
carrying its ETag as ``if_match``), so sibling grids can move a shared border. A refused
edit is 422 ``edit_refused`` with the problem geometries. Every write is audited (one
entry per feature); ``GET /audit`` shows the log to admins.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from geogrid.access import Caller
from geogrid.api import ogc
from geogrid.api.auth import require
from geogrid.api.bodies import StreamedJSONRoute
from geogrid.api.deps import WorkspaceDep
from geogrid.api.error_docs import ERROR_CONTENT
from geogrid.api.schemas.common import CRS_SCHEMA
from geogrid.api.schemas.features import (
    AuditEntryPublic,
    AuditPublic,
    EditedFeaturePublic,
    EditedFeaturesPublic,
    FeatureBatchIn,
    FeatureIn,
    FeaturePatchIn,
)
from geogrid.errors import InvalidRequestError
from geogrid.workspace.edits import (
    BatchFeature,
    Editor,
    EditOutcome,
    create_feature,
    delete_feature,
    read_audit_log,
    replace_feature,
    replace_features,
    update_feature,
)

# bodies are GeoJSON features: vertices counted as they stream in, parsed off the event loop
router = APIRouter(route_class=StreamedJSONRoute)

Writer = Annotated[Caller, require("layers:write")]
CollectionId = Annotated[
    str,
    Path(
        max_length=64,
        description="grids, checkpoints or isolation_sites",
        examples=["checkpoints"],
    ),
]
FeatureId = Annotated[str, Path(max_length=64, description="feature id: the feature's code")]
CRS = Annotated[
    str,
    Query(
        max_length=200,
        description="coordinates of the body and the answer (x first)",
        json_schema_extra=CRS_SCHEMA,
    ),
]
IF_MATCH_MAX = 2000
IF_MATCH: dict[str, Any] = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "the ETag of the feature as read (or `*`); 428 without it",
    "schema": {"type": "string", "minLength": 1, "maxLength": IF_MATCH_MAX},
}
"""The header every write to an existing feature needs, as the OpenAPI schema declares it."""


async def if_match_header(request: Request) -> str | None:
    """Return the ``If-Match`` header (None: missing, which the edit answers with 428)."""
    value = request.headers.get("if-match")
    if value is not None and len(value) > IF_MATCH_MAX:
        raise InvalidRequestError(
            f"If-Match is longer than {IF_MATCH_MAX} characters",
            details={"header": "If-Match", "limit": IF_MATCH_MAX},
        )
    return value


# Read by hand, not as a FastAPI Header: a missing one is 428 (RFC 6585), not 422.
IfMatch = Annotated[str | None, Depends(if_match_header)]
EDITED: dict[str, Any] = {
    "model": EditedFeaturePublic,
    "description": "the feature as stored",
    "headers": {
        "ETag": {"description": "the stored version, for If-Match", "schema": {"type": "string"}},
        "Content-Crs": {
            "description": "coordinate system of the answer",
            "schema": {"type": "string"},
        },
    },
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "the code exists, or the grid is still referred to", **ERROR_CONTENT}
}
REFUSED: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "invalid input, or the edit refused (code `edit_refused`): a grid "
        "outside its parent, overlapping a sibling or opening a gap in its parent's tiling "
        "beyond the tolerance of `geogrid grids check`, or a repair losing more than 1 % of "
        "the drawn area; `details.problems` lists each with its kind, codes, area_m2 and "
        "`location` (a GeoJSON geometry, WGS 84)",
        **ERROR_CONTENT,
    }
}
PRECONDITIONS: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match names a version that is no longer stored", **ERROR_CONTENT},
    428: {"description": "If-Match is missing", **ERROR_CONTENT},
}


def _editor(request: Request, caller: Caller) -> Editor:
    role = str(caller.role) if caller.role is not None else None
    return Editor(caller.name, role, getattr(request.state, "request_id", None))


def _answer(request: Request, outcome: EditOutcome, status: int) -> Response:
    page = outcome.page
    assert page is not None
    base = ogc.base_url(request)
    headers = {
        "ETag": ogc.entity_tag(page.versions[0], page.crs),
        "Content-Crs": ogc.content_crs(page.crs),
    }
    if status == 201:
        headers["Location"] = ogc.feature_href(base, page.layer.name, page.codes[0])
    repairs = [r.to_dict() for r in outcome.repairs]
    body = ogc.feature_bytes(page, base, {"repaired": outcome.repaired, "repairs": repairs})
    return ogc.GeoJSONResponse(body, status_code=status, headers=headers)


@router.post(
    "/collections/{collection_id}/items",
    tags=["edits"],
    status_code=201,
    response_class=ogc.GeoJSONResponse,
    responses={201: EDITED, **CONFLICT, **REFUSED},
)
def create_item(
    collection_id: CollectionId,
    body: FeatureIn,
    request: Request,
    workspace: WorkspaceDep,
    caller: Writer,
    crs: CRS = "wgs84",
) -> Response:
    """Create a feature (its code: ``properties.code`` or ``id``); 409 if it exists."""
    ogc.reject_unknown_params(request, {"crs"})
    outcome = create_feature(
        workspace,
        collection_id,
        geometry=body.geometry,
        properties=body.properties,
        feature_id=body.id,
        crs=crs,
        editor=_editor(request, caller),
    )
    return _answer(request, outcome, 201)


@router.put(
    "/collections/{collection_id}/items/{feature_id}",
    tags=["edits"],
    response_class=ogc.GeoJSONResponse,
    responses={200: EDITED, **PRECONDITIONS, **REFUSED},
    openapi_extra={"parameters": [IF_MATCH]},
)
def replace_item(
    collection_id: CollectionId,
    feature_id: FeatureId,
    body: FeatureIn,
    request: Request,
    workspace: WorkspaceDep,
    caller: Writer,
    if_match: IfMatch,
    crs: CRS = "wgs84",
) -> Response:
    """Replace a feature whole (properties not given take their defaults)."""
    ogc.reject_unknown_params(request, {"crs"})
    outcome = replace_feature(
        workspace,
        collection_id,
        feature_id,
        geometry=body.geometry,
        properties=body.properties,
        feature_id=body.id,
        crs=crs,
        if_match=if_match,
        editor=_editor(request, caller),
    )
    return _answer(request, outcome, 200)


@router.patch(
    "/collections/{collection_id}/items/{feature_id}",
    tags=["edits"],
    response_class=ogc.GeoJSONResponse,
    responses={200: EDITED, **PRECONDITIONS, **REFUSED},
    openapi_extra={"parameters": [IF_MATCH]},
)
def update_item(
    collection_id: CollectionId,
    feature_id: FeatureId,
    body: FeaturePatchIn,
    request: Request,
    workspace: WorkspaceDep,
    caller: Writer,
    if_match: IfMatch,
    crs: CRS = "wgs84",
) -> Response:
    """Merge properties into a feature (``null`` clears one); a geometry replaces its own."""
    ogc.reject_unknown_params(request, {"crs"})
    outcome = update_feature(
        workspace,
        collection_id,
        feature_id,
        geometry=body.geometry,
        properties=body.properties,
        feature_id=body.id,
        crs=crs,
        if_match=if_match,
        editor=_editor(request, caller),
    )
    return _answer(request, outcome, 200)


@router.post(
    "/collections/{collection_id}/edits",
    tags=["edits"],
    response_class=JSONResponse,
    response_model=EditedFeaturesPublic,
    responses={
        200: {"description": "the features as stored, in the order sent"},
        404: {"description": "a feature is not stored", **ERROR_CONTENT},
        409: {"description": "the database refused the edit; nothing was changed", **ERROR_CONTENT},
        412: {
            "description": "a feature's if_match names a version no longer stored",
            **ERROR_CONTENT,
        },
        **REFUSED,
    },
)
def replace_items(
    collection_id: CollectionId,
    body: FeatureBatchIn,
    request: Request,
    workspace: WorkspaceDep,
    caller: Writer,
    crs: CRS = "wgs84",
) -> Response:
    """Replace several features whole in one transaction (all or none), one audit entry
    each; every feature carries the ETag it was read with (``if_match``). Grids are
    checked once all are written, so a border can move between two siblings."""
    ogc.reject_unknown_params(request, {"crs"})
    outcomes = replace_features(
        workspace,
        collection_id,
        [BatchFeature(str(f.id), f.if_match, f.geometry, f.properties) for f in body.features],
        crs=crs,
        editor=_editor(request, caller),
    )
    base = ogc.base_url(request)
    features = []
    for outcome in outcomes:
        page = outcome.page
        assert page is not None
        item = json.loads(
            ogc.feature_bytes(
                page,
                base,
                {
                    "repaired": outcome.repaired,
                    "repairs": [r.to_dict() for r in outcome.repairs],
                    "etag": ogc.entity_tag(page.versions[0], page.crs),
                },
            )
        )
        features.append(item)
    crs_header = ogc.content_crs(outcomes[0].page.crs) if outcomes[0].page else ""
    return JSONResponse(
        {"type": "FeatureCollection", "features": features},
        headers={"Content-Crs": crs_header},
    )


@router.delete(
    "/collections/{collection_id}/items/{feature_id}",
    tags=["edits"],
    status_code=204,
    response_class=Response,
    responses={**CONFLICT, **PRECONDITIONS},
    openapi_extra={"parameters": [IF_MATCH]},
)
def delete_item(
    collection_id: CollectionId,
    feature_id: FeatureId,
    request: Request,
    workspace: WorkspaceDep,
    caller: Writer,
    if_match: IfMatch,
) -> Response:
    """Delete a feature; a grid with children, grid workers or keys is kept (409)."""
    ogc.reject_unknown_params(request, ())
    delete_feature(
        workspace, collection_id, feature_id, if_match=if_match, editor=_editor(request, caller)
    )
    return Response(status_code=204)


@router.get("/audit", tags=["edits"], response_model=AuditPublic)
def audit_log(
    request: Request,
    workspace: WorkspaceDep,
    _: Annotated[Caller, require("audit:read")],
    layer: Annotated[str | None, Query(max_length=64, description="one layer")] = None,
    code: Annotated[str | None, Query(max_length=64, description="one feature")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="entries, newest first")] = 100,
) -> AuditPublic:
    """Return the audit log of layer edits, newest first (admins)."""
    ogc.reject_unknown_params(request, {"layer", "code", "limit"})
    entries = read_audit_log(workspace, layer=layer, code=code, limit=limit)
    return AuditPublic(entries=[AuditEntryPublic.model_validate(e) for e in entries])
