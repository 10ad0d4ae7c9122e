"""``/locate``: which grid owns a point or a Chinese address, one at a time or in batches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from geogrid import crs as gcrs
from geogrid.access import Caller
from geogrid.api.auth import require
from geogrid.api.batch_bodies import PiecesResponse, answer_batch, too_many_rows
from geogrid.api.bodies import CsvRecordCounter, JsonBatchCounter, read_counted_body
from geogrid.api.deps import SettingsDep, WorkspaceDep
from geogrid.api.schemas.common import CRS_EXAMPLES, CRS_SCHEMA, body_schema
from geogrid.api.schemas.locate import LocateBatchIn, LocateBatchPublic, LocatePublic
from geogrid.errors import InvalidRequestError, PermissionDeniedError
from geogrid.workspace import Workspace
from geogrid.workspace.batch import MAX_TEXT_CHARS, LocateRow, locate_rows
from geogrid.workspace.jurisdiction import OUTSIDE_JURISDICTION, answer_in_reach

router = APIRouter(tags=["locate"])
# phones of grid workers are unmasked for callers who may read personal data; a grid
# worker locates inside their own grid subtree only
Locator = Annotated[Caller, require("locate")]
JSON = "application/json"


ADDRESS_MAX_LENGTH = MAX_TEXT_CHARS  # a batch row's address: the same cap
CRS_MAX_LENGTH = MAX_TEXT_CHARS  # a batch row's crs: the same cap


def _point_branches() -> list[dict[str, Any]]:
    """Return the ways a point may be asked: longitude and latitude in their ranges in a
    geographic system, or x and y within a projected system's area of use (as
    :func:`geogrid.workspace.batch.locate_rows` checks them)."""
    geographic = []
    branches: list[dict[str, Any]] = []
    for name in CRS_EXAMPLES:
        bounds = gcrs.area_of_use_bounds(gcrs.parse_crs(name))
        if bounds is None:
            geographic.append(name)
            continue
        x0, y0, x1, y1 = bounds
        branches.append(
            {
                "required": ["lon", "lat", "crs"],
                "properties": {
                    "crs": {"const": name},
                    "lon": {"minimum": x0, "maximum": x1},
                    "lat": {"minimum": y0, "maximum": y1},
                },
            }
        )
    wgs84_like = {
        "required": ["lon", "lat"],
        "properties": {
            "crs": {"enum": geographic},
            "lon": {"minimum": -180, "maximum": 180},
            "lat": {"minimum": -90, "maximum": 90},
        },
    }
    return [wgs84_like, *branches]


QUESTION: dict[str, Any] = {
    "name": "question",
    "in": "query",
    "required": True,
    "style": "form",
    "explode": True,
    "description": "an `address`, or `lon` and `lat` (with an optional `crs`), each its own "
    "query parameter: `?lon=120.63&lat=27.59` or `?address=...`",
    "schema": {
        "type": "object",
        "properties": {
            "lon": {"type": "number", "description": "longitude (x) in `crs`"},
            "lat": {"type": "number", "description": "latitude (y) in `crs`"},
            "crs": {
                "type": "string",
                "maxLength": CRS_MAX_LENGTH,
                "default": "wgs84",
                "description": "wgs84, cgcs2000, gcj02, bd09 or EPSG:n (any code PROJ "
                "relates to WGS 84; the common ones are listed)",
                **CRS_SCHEMA,
            },
            "address": {
                "type": "string",
                "maxLength": ADDRESS_MAX_LENGTH,
                "pattern": r"\S",
                "description": "Chinese address text",
            },
        },
        "anyOf": [
            *_point_branches(),
            {
                "required": ["address"],
                "not": {"anyOf": [{"required": ["lon"]}, {"required": ["lat"]}]},
            },
        ],
    },
}
"""How ``GET /locate`` is asked, as one object: the schema can then say that ``lon`` and
``lat`` go together (two optional parameters could not)."""


@router.get("/locate", response_model=LocatePublic, openapi_extra={"parameters": [QUESTION]})
async def locate(
    workspace: WorkspaceDep,
    caller: Locator,
    lon: Annotated[float | None, Query(include_in_schema=False)] = None,
    lat: Annotated[float | None, Query(include_in_schema=False)] = None,
    crs: Annotated[str, Query(max_length=CRS_MAX_LENGTH, include_in_schema=False)] = "wgs84",
    address: Annotated[
        str | None, Query(max_length=ADDRESS_MAX_LENGTH, include_in_schema=False)
    ] = None,
) -> Response:
    """Return the grid chain (county › town › village › micro) owning a point or address."""
    row = LocateRow(address=address, lon=lon, lat=lat, crs=crs)
    if workspace.locator_is_ready(reveal_personal=caller.sees_personal_data):
        # a fraction of a millisecond of CPU: cheaper here than a hop to a worker thread,
        # where many requests at once would queue for the GIL
        body = locate_json(workspace, caller, row)
    else:  # the indexes are being (re)built: do not block the event loop meanwhile
        body = await run_in_threadpool(locate_json, workspace, caller, row)
    return Response(body, media_type=JSON)


def locate_json(workspace: Workspace, caller: Caller, row: LocateRow) -> bytes:
    """Return the JSON answer to one locate question as ``caller`` may see it.

    Shared by the route and :mod:`geogrid.api.fastpath`, so both answer alike. Raises
    :class:`InvalidRequestError` for a row that cannot be located and
    :class:`PermissionDeniedError` for an answer outside a grid worker's subtree.
    """
    result = locate_rows(workspace, [row], reveal_personal=caller.sees_personal_data)[0]
    if result.answer is None:
        raise InvalidRequestError(result.error or "cannot locate this request")
    answer = answer_in_reach(caller, result.answer)
    if answer is None:
        raise PermissionDeniedError(
            OUTSIDE_JURISDICTION.format(root=caller.subtree), details={"grid": caller.subtree}
        )
    # serialised once here: returning the model would have FastAPI validate it again
    return LocatePublic.of(answer).model_dump_json().encode()


@router.post(
    "/locate/batch",
    response_model=LocateBatchPublic,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": body_schema(LocateBatchIn)},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def locate_batch(
    request: Request, workspace: WorkspaceDep, settings: SettingsDep, caller: Locator
) -> Response:
    """Locate up to ``max_batch_rows`` rows: JSON ``{"rows": [...]}`` or a CSV upload
    (columns ``id``, ``address`` or ``lon``/``lat``, optional ``crs``).

    Rows are counted while the body streams in: a batch over the limit is refused (413)
    as soon as the limit is passed, without reading the rest. Parsing, locating and
    writing the answer run in a worker thread, so a big batch never holds up other
    requests. A row's address, id or crs longer than 200 characters is that row's error.
    """
    limit = settings.max_batch_rows
    counter = CsvRecordCounter() if _is_csv(request) else JsonBatchCounter()
    body = await read_counted_body(request, counter, limit, lambda _: too_many_rows(limit))
    pieces = await run_in_threadpool(answer_batch, workspace, caller, body, counter, limit)
    return PiecesResponse(pieces)


def _is_csv(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    return kind in ("text/csv", "application/csv", "text/plain")
