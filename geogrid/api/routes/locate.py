"""``/locate``: which grid owns a point or a Chinese address, one at a time or in batches."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from geogrid.api.deps import SettingsDep, WorkspaceDep
from geogrid.api.schemas.locate import LocateBatchIn, LocateBatchPublic, LocatePublic, RowPublic
from geogrid.errors import InvalidRequestError, TooLargeError
from geogrid.workspace.batch import LocateRow, locate_rows, summarise

router = APIRouter(tags=["locate"])
JSON = "application/json"


@router.get("/locate", response_model=LocatePublic)
async def locate(
    workspace: WorkspaceDep,
    lon: Annotated[float | None, Query(description="longitude (x) in `crs`")] = None,
    lat: Annotated[float | None, Query(description="latitude (y) in `crs`")] = None,
    crs: Annotated[str, Query(description="wgs84, cgcs2000, gcj02, bd09 or EPSG:n")] = "wgs84",
    address: Annotated[str | None, Query(max_length=200, description="Chinese address")] = None,
) -> Response:
    """Return the grid chain (county › town › village › micro) owning a point or address."""
    row = LocateRow(address=address, lon=lon, lat=lat, crs=crs)
    if workspace.locator_is_ready():
        # a fraction of a millisecond of CPU: cheaper here than a hop to a worker thread,
        # where many requests at once would queue for the GIL
        result = locate_rows(workspace, [row])[0]
    else:  # the indexes are being (re)built: do not block the event loop meanwhile
        result = (await run_in_threadpool(locate_rows, workspace, [row]))[0]
    if result.answer is None:
        raise InvalidRequestError(result.error or "cannot locate this request")
    # serialised once here: returning the model would have FastAPI validate it again
    return Response(LocatePublic.of(result.answer).model_dump_json(), media_type=JSON)


@router.post(
    "/locate/batch",
    response_model=LocateBatchPublic,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": LocateBatchIn.model_json_schema()},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
)
async def locate_batch(
    request: Request, workspace: WorkspaceDep, settings: SettingsDep
) -> LocateBatchPublic:
    """Locate up to ``max_batch_rows`` rows: JSON ``{"rows": [...]}`` or a CSV upload
    (columns ``id``, ``address`` or ``lon``/``lat``, optional ``crs``)."""
    rows = await _read_rows(request, settings.max_body_bytes)
    if len(rows) > settings.max_batch_rows:
        raise TooLargeError(
            f"the batch has {len(rows):,} rows; the limit is {settings.max_batch_rows:,}",
            details={"rows": len(rows), "limit": settings.max_batch_rows},
        )
    results = await run_in_threadpool(locate_rows, workspace, rows)
    return LocateBatchPublic(results=[RowPublic.of(r) for r in results], summary=summarise(results))


async def _read_rows(request: Request, limit_bytes: int) -> list[LocateRow]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit_bytes:
        raise TooLargeError(
            f"the body has {int(declared):,} bytes; the limit is {limit_bytes:,}",
            details={"bytes": int(declared), "limit": limit_bytes},
        )
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind in ("text/csv", "application/csv", "text/plain"):
        return _rows_from_csv(body)
    try:
        batch = LocateBatchIn.model_validate_json(body)
    except ValueError as exc:
        raise InvalidRequestError(
            'the body must be JSON {"rows": [...]} or CSV (Content-Type: text/csv)',
            details={"problem": str(exc)[:500]},
        ) from exc
    return [LocateRow(**row.model_dump()) for row in batch.rows]


def _rows_from_csv(body: bytes) -> list[LocateRow]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError("the CSV must be UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for record in reader:

        def number(*names: str, record: dict[str, str] = record) -> float | None:
            value = next((record[n] for n in names if record.get(n)), None)
            try:
                return float(value) if value is not None else None
            except ValueError:
                return float("nan")

        rows.append(
            LocateRow(
                id=record.get("id") or None,
                address=record.get("address") or None,
                lon=number("lon", "lng", "longitude"),
                lat=number("lat", "latitude"),
                crs=record.get("crs") or None,
            )
        )
    return rows
