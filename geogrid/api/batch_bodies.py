"""The body and the answer of ``POST /locate/batch``, a slice of rows at a time.

A batch of up to ``GEOGRID_MAX_BATCH_ROWS`` rows is parsed, located and written out in
slices of :data:`SLICE_ROWS` rows, in a worker thread (:func:`answer_batch`). Slices keep
the event loop answering: a parser or serialiser holds the GIL for as long as its one
call lasts (a whole 100,000-row batch: over a second), and the objects of one slice die
before the next is made, so the garbage collector never walks a whole batch's answers.
The bytes of the answer are the same as one ``LocateBatchPublic`` written at once.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TypeVar

from fastapi import Response
from pydantic import TypeAdapter
from starlette.types import Receive, Scope, Send

from geogrid.access import Caller
from geogrid.api.bodies import CsvRecordCounter, JsonBatchCounter
from geogrid.api.schemas.locate import LocateBatchIn, LocateRowIn, RowPublic
from geogrid.errors import InvalidRequestError, TooLargeError
from geogrid.workspace import Workspace
from geogrid.workspace.batch import LocateRow, locate_rows, summarise
from geogrid.workspace.jurisdiction import rows_in_reach

__all__ = ["SLICE_ROWS", "PiecesResponse", "answer_batch", "too_many_rows"]

SLICE_ROWS = 1000
"""Rows parsed, located and written per step (a few milliseconds of work each)."""
_ROWS_IN = TypeAdapter(list[LocateRowIn])
_ROWS_OUT = TypeAdapter(list[RowPublic])
_SUMMARY_OUT = TypeAdapter(dict[str, int])
T = TypeVar("T")
_NOT_A_BATCH = 'the body must be JSON {"rows": [...]} or CSV (Content-Type: text/csv)'


def too_many_rows(limit: int, rows: int | None = None) -> TooLargeError:
    """Return the 413 of a batch with ``rows`` rows (None: refused before all were read)."""
    if rows is None:
        return TooLargeError(
            f"the batch has more than {limit:,} rows; the limit is {limit:,}",
            details={"limit": limit},
        )
    return TooLargeError(
        f"the batch has {rows:,} rows; the limit is {limit:,}",
        details={"rows": rows, "limit": limit},
    )


class PiecesResponse(Response):
    """A JSON answer sent as the pieces it was written in, with its whole length."""

    media_type = "application/json"

    def __init__(self, pieces: list[bytes]) -> None:
        super().__init__()
        self._pieces = pieces
        self.headers["content-length"] = str(sum(map(len, pieces)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002
        """Send the status, the headers and the pieces."""
        start = {"type": "http.response.start", "status": self.status_code}
        await send({**start, "headers": self.raw_headers})
        for piece in self._pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def answer_batch(
    workspace: Workspace,
    caller: Caller,
    body: bytes,
    counter: CsvRecordCounter | JsonBatchCounter,
    limit: int,
) -> list[bytes]:
    """Parse, locate and write the answer of a whole batch (call it in a worker thread);
    return it in pieces, for :class:`PiecesResponse` (one 50 MB ``bytes`` would hold the
    GIL while it is copied together).

    ``counter`` has counted the whole body: a batch it finds over ``limit`` is refused
    before anything is parsed.
    """
    counted = counter.feed(b"")
    if counted > limit:
        raise too_many_rows(limit, counted)
    if isinstance(counter, CsvRecordCounter):
        slices = _csv_slices(body, limit)
    else:
        slices = _json_slices(body, counter, limit)
    parts: list[bytes] = []
    summary: Counter[str] = Counter()
    first_row = 1
    for rows in slices:
        results = locate_rows(
            workspace, rows, reveal_personal=caller.sees_personal_data, first_row=first_row
        )
        results = rows_in_reach(caller, results)
        parts.append(_ROWS_OUT.dump_json([RowPublic.of(r) for r in results])[1:-1])
        summary.update(summarise(results))
        first_row += len(rows)
    counts = _SUMMARY_OUT.dump_json(dict(sorted(summary.items())))
    commas = [b""] + [b","] * (len(parts) - 1) if parts else []  # no rows: no parts
    pieces = [piece for pair in zip(commas, parts, strict=True) for piece in pair]
    return [b'{"results":[', *pieces, b'],"summary":', counts, b"}"]


def _json_slices(body: bytes, counter: JsonBatchCounter, limit: int) -> Iterator[list[LocateRow]]:
    cut = counter.row_slices(body, SLICE_ROWS)
    if cut is None:  # not the usual shape: parsed whole
        rows = _validated(LocateBatchIn.model_validate_json, body, 0).rows
        if len(rows) > limit:
            raise too_many_rows(limit, len(rows))
        for k in range(0, len(rows), SLICE_ROWS):
            yield [LocateRow(**row.model_dump()) for row in rows[k : k + SLICE_ROWS]]
        return
    skeleton, parts = cut
    _validated(LocateBatchIn.model_validate_json, skeleton, 0)
    for k, part in enumerate(parts):
        rows_in = _validated(_ROWS_IN.validate_json, part, k * SLICE_ROWS)
        yield [LocateRow(**row.model_dump()) for row in rows_in]


def _validated(parse: Callable[[bytes], T], text: bytes, first: int) -> T:
    try:
        return parse(text)
    except ValueError as exc:
        where = f"in the rows from row {first + 1}: " if first else ""
        raise InvalidRequestError(
            _NOT_A_BATCH, details={"problem": (where + str(exc))[:500]}
        ) from exc


def _csv_slices(body: bytes, limit: int) -> Iterator[list[LocateRow]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError("the CSV must be UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    _check_csv_header(reader)
    records = iter(reader)
    seen = 0  # data rows read
    while True:
        rows: list[LocateRow] = []
        try:
            for record in records:
                seen += 1
                if seen > limit:
                    raise too_many_rows(limit, seen + sum(1 for _ in records))
                rows.append(_row_of(record))
                if len(rows) == SLICE_ROWS:
                    break
        except csv.Error as exc:  # e.g. a field longer than the csv module's limit
            row = seen + 1  # the data row that broke, the header not counted
            raise InvalidRequestError(
                f"the CSV cannot be read at row {row}: {exc}", details={"row": row}
            ) from exc
        if not rows:
            return
        yield rows


_LON_COLUMNS = ("lon", "lng", "longitude")
_LAT_COLUMNS = ("lat", "latitude")


def _check_csv_header(reader: csv.DictReader[str]) -> None:
    """Refuse a CSV whose header names neither ``address`` nor a lon and a lat column
    (an empty body is an empty batch)."""
    try:
        names = set(reader.fieldnames or ())
    except csv.Error as exc:
        raise InvalidRequestError(f"the CSV header cannot be read: {exc}") from exc
    if reader.fieldnames is None or "address" in names:
        return
    if names & set(_LON_COLUMNS) and names & set(_LAT_COLUMNS):
        return
    shown = sorted(n[:64] for n in names)[:20]
    raise InvalidRequestError(
        "the CSV header needs an address column, or lon and lat columns "
        f"(id and crs are optional); it has: {', '.join(shown)}",
        details={"columns": shown},
    )


def _row_of(record: dict[str, str]) -> LocateRow:
    """Return the row of one CSV record; an unreadable number is NaN (that row's error)."""

    def number(*names: str) -> float | None:
        value = next((record[n] for n in names if record.get(n)), None)
        try:
            return float(value) if value is not None else None
        except ValueError:
            return float("nan")

    return LocateRow(
        id=record.get("id") or None,
        address=record.get("address") or None,
        lon=number(*_LON_COLUMNS),
        lat=number(*_LAT_COLUMNS),
        crs=record.get("crs") or None,
    )
