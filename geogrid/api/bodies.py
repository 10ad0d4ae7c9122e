"""Request bodies read in chunks, counted while they stream in, and parsed off the event loop.

A body is read one ASGI message at a time; a *counter* looks at every 256 KB as they
arrive (numpy over the bytes, in a worker thread: numpy lets go of the GIL, so the event
loop goes on meanwhile) and keeps a running count of what matters for a limit: CSV
records, the items of a JSON batch, the vertices of a GeoJSON geometry. When the count
passes its limit while more of the body is still to come, reading stops at once and the
request is refused (413 or 422, the connection closed); a body that arrives whole is
parsed and counted exactly instead, so its error names the exact number. Parsing
(``json.loads``, the CSV reader, pydantic) then runs in a worker thread: a 50 MB body
never holds the event loop, and ``/health`` or ``/locate`` keep answering meanwhile.

The counts are exact for the bodies the API documents. Elsewhere they may err: a quote
inside an unquoted CSV field counts low (the refusal comes later, and the exact count
after parsing still applies); a JSON batch with members besides ``rows`` that hold
objects, or a feature whose properties hold arrays of numbers, counts high.

The byte limit of every body is :mod:`geogrid.api.limits`; these are the limits on what
the bytes hold.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import numpy as np
from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.types import Scope

from geogrid.errors import GeoGridError, TooManyVerticesError

__all__ = [
    "BODY_UNREAD",
    "CsvRecordCounter",
    "JsonBatchCounter",
    "JsonVertexCounter",
    "StreamedJSONRoute",
    "body_unread",
    "mark_body_unread",
    "read_counted_body",
]

COUNT_BYTES = 256 * 1024
"""A streaming body is counted every this many bytes (so at most this much is read past
a limit)."""
INLINE_COUNT_BYTES = 64 * 1024
"""Bytes counted on the event loop itself; more are counted in a worker thread."""

BODY_UNREAD = "body_unread"
"""Key in the ASGI scope's state: the request was refused before its body was read whole
(the error answer then closes the connection)."""

_CR, _LF, _QUOTE, _BACKSLASH = 0x0D, 0x0A, 0x22, 0x5C
_OPEN = np.zeros(256, np.int8)
_OPEN[[ord("{"), ord("[")]] = 1
_OPEN[[ord("}"), ord("]")]] = -1
_NUMBER_START = np.zeros(256, bool)
_NUMBER_START[[ord(c) for c in "-0123456789"]] = True
_SPACE = np.zeros(256, bool)
_SPACE[[0x20, 0x09, _LF, _CR]] = True
_LINE_END = np.zeros(256, bool)
_LINE_END[[_CR, _LF]] = True
_CSV_SPECIAL = _LINE_END.copy()
_CSV_SPECIAL[_QUOTE] = True
_SPECIAL = _OPEN != 0
_SPECIAL[[_QUOTE, _BACKSLASH]] = True


class Counter(Protocol):
    """Counts something in a body, one chunk at a time."""

    def feed(self, chunk: bytes) -> int:
        """Count ``chunk`` (the next bytes of the body); return the count so far."""
        ...


class CsvRecordCounter:
    """Count the data records of a CSV body (the header and blank lines not counted).

    A record ends at CR, LF or CRLF outside double quotes; a line break inside quotes is
    part of a field.

    Examples
    --------
    >>> counter = CsvRecordCounter()
    >>> counter.feed(b'id,address\\r\\n1,"a\\nb"\\n\\n2,')
    2
    >>> counter.feed(b"c\\r3,d\\r\\n")
    3
    """

    def __init__(self) -> None:
        self._records = 0  # non-blank records, the header included
        self._quoted = False  # inside quotes at the end of the last chunk
        self._after_break = True  # the last chunk ended with a line break (or none came yet)

    def feed(self, chunk: bytes) -> int:
        """Count ``chunk``; return the number of data records seen so far."""
        if chunk:
            a = np.frombuffer(chunk, np.uint8)
            special = np.flatnonzero(_CSV_SPECIAL[a])  # quotes and line ends
            quote = a[special] == _QUOTE
            quotes_before = np.cumsum(quote) - quote + self._quoted
            breaks = special[~quote & (quotes_before % 2 == 0)]  # line ends outside quotes
            after = breaks[breaks + 1 < a.size] + 1
            starts = np.count_nonzero(~_LINE_END[a[after]])  # a record begins after a break
            if self._after_break and not _LINE_END[a[0]]:
                starts += 1
            self._records += int(starts)
            self._quoted = bool((self._quoted + int(np.count_nonzero(quote))) % 2)
            self._after_break = bool(breaks.size and breaks[-1] == a.size - 1)
        return max(self._records - 1, 0)


class _JsonScanner:
    """Find the quotes and brackets of a JSON text, by chunks: which lie outside strings,
    and the nesting depth before each.

    Only those bytes are looked at closely (a few per row), so a chunk costs about one
    pass of numpy over its bytes; a chunk holding a backslash (an escape) is scanned
    byte by byte instead, which is slower but rare.
    """

    def __init__(self) -> None:
        self._in_string = False
        self._backslashes = 0  # the run of backslashes the last chunk ended with
        self._depth = 0

    def scan(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return the offsets of the quotes and brackets of ``a``, those bytes, whether
        each is outside strings (a real quote is not), and the depth before each."""
        special = np.flatnonzero(_SPECIAL[a])
        chars = a[special]
        if self._backslashes or (chars == _BACKSLASH).any():
            return self._scan_escapes(a)
        quote = chars == _QUOTE
        quotes_before = np.cumsum(quote) - quote + self._in_string
        outside = (quotes_before % 2 == 0) & ~quote
        step = np.where(outside, _OPEN[chars], 0).astype(np.int64)
        depth = self._depth + np.cumsum(step) - step
        if special.size:
            self._in_string = bool((int(quotes_before[-1]) + int(quote[-1])) % 2)
            self._depth = int(depth[-1] + step[-1])
        return special, chars, outside, depth

    def _scan_escapes(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = a.size
        index = np.arange(n)
        not_backslash = a != _BACKSLASH
        last_other = np.maximum.accumulate(np.where(not_backslash, index, -1))
        run = np.zeros(n, np.int64)  # backslashes just before each byte
        run[1:] = index[:-1] - last_other[:-1]
        carried = np.ones(n, bool)
        carried[1:] = last_other[:-1] < 0
        run += np.where(carried, self._backslashes, 0)
        real_quote = (a == _QUOTE) & (run % 2 == 0)
        quotes_before = np.cumsum(real_quote) - real_quote + self._in_string
        outside = (quotes_before % 2 == 0) & ~real_quote
        step = np.where(outside, _OPEN[a], 0).astype(np.int64)
        depth = self._depth + np.cumsum(step) - step
        self._in_string = bool((int(quotes_before[-1]) + int(real_quote[-1])) % 2)
        self._backslashes = int(run[-1] + 1) if a[-1] == _BACKSLASH else 0
        self._depth = int(depth[-1] + step[-1])
        special = np.flatnonzero(_OPEN[a] != 0)  # the brackets (escaped quotes: content)
        return special, a[special], outside[special], depth[special]


class JsonBatchCounter:
    """Count the objects one level inside a JSON object's members: the rows of
    ``{"rows": [{...}, {...}]}``, and note where each begins.

    The count errs only for a body with other members holding objects (the batch uses
    none). :meth:`row_slices` then cuts the rows out, so they can be parsed a slice at a
    time (a parser holds the GIL for as long as its one call lasts).

    Examples
    --------
    >>> body = b'{"rows": [{"address": "{[\\\\"}"}, {"lon": 1, "lat": 2}]}'
    >>> cut = body.index(b'"lat"')
    >>> counter = JsonBatchCounter()
    >>> counter.feed(body[:cut]), counter.feed(body[cut:])
    (2, 2)
    >>> counter.row_slices(body, 1)
    (b'{"rows": []}', [b'[{"address": "{[\\\\"}"}]', b'[{"lon": 1, "lat": 2}]'])
    """

    def __init__(self) -> None:
        self._scanner = _JsonScanner()
        self._count = 0
        self._read = 0  # bytes seen
        self._starts: list[np.ndarray] = []  # offsets of the rows' "{"
        self._members: list[np.ndarray] = []  # offsets of the brackets one level down

    def feed(self, chunk: bytes) -> int:
        """Count ``chunk``; return the number of rows begun so far."""
        if chunk:
            a = np.frombuffer(chunk, np.uint8)
            special, chars, outside, depth = self._scanner.scan(a)
            starts = special[outside & (chars == ord("{")) & (depth == 2)]
            step = _OPEN[chars]
            edges = special[outside & (((step > 0) & (depth == 1)) | ((step < 0) & (depth == 2)))]
            self._starts.append(starts + self._read)
            self._members.append(edges + self._read)
            self._count += starts.size
            self._read += a.size
        return self._count

    def row_slices(self, body: bytes, size: int) -> tuple[bytes, list[bytes]] | None:
        """Return the body with an empty rows array, and the rows as JSON arrays of at
        most ``size`` rows each; None when the body is not one object holding one array
        of objects (it is then parsed whole)."""
        edges = np.concatenate(self._members) if self._members else np.empty(0, int)
        starts = np.concatenate(self._starts) if self._starts else np.empty(0, int)
        if edges.size != 2 or body[edges[0]] != ord("[") or body[edges[1]] != ord("]"):
            return None
        opened, closed = int(edges[0]), int(edges[1])
        if starts.size == 0 or starts[0] < opened or starts[-1] > closed:
            return None
        bounds = [*starts[::size].tolist(), closed]
        slices = []
        for begin, end in itertools.pairwise(bounds):
            part = body[begin:end].rstrip()
            if end != closed and part.endswith(b","):
                part = part[:-1]
            slices.append(b"[" + part + b"]")
        return body[: opened + 1] + body[closed:], slices


class JsonVertexCounter:
    """Count the positions of a GeoJSON text: arrays whose first member is a number.

    Examples
    --------
    >>> counter = JsonVertexCounter()
    >>> counter.feed(b'{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [ ')
    2
    >>> counter.feed(b' 1, 1], [0, 0]]], "note": "[1, 2]"}')
    4
    """

    def __init__(self) -> None:
        self._scanner = _JsonScanner()
        self._count = 0
        self._open = False  # the last chunk ended with "[" and spaces

    def feed(self, chunk: bytes) -> int:
        """Count ``chunk``; return the number of positions begun so far."""
        if not chunk:
            return self._count
        a = np.frombuffer(chunk, np.uint8)
        special, chars, outside, _ = self._scanner.scan(a)
        brackets = special[outside & (chars == ord("["))]
        significant = np.flatnonzero(~_SPACE[a])  # offsets of the bytes that are not spaces
        following = np.searchsorted(significant, brackets + 1)  # the byte after each "["
        ends = following == significant.size  # a "[" the chunk ends with (and spaces)
        ahead = a[significant[np.minimum(following, max(significant.size - 1, 0))]]
        counted = int(np.count_nonzero(~ends & _NUMBER_START[ahead])) if significant.size else 0
        if self._open and significant.size and _NUMBER_START[a[significant[0]]]:
            counted += 1  # the "[" that ended the last chunk
        self._count += counted
        self._open = bool(ends.any()) or (self._open and not significant.size)
        return self._count


async def read_counted_body(
    request: Request,
    counter: Counter | None,
    limit: int,
    refuse: Callable[[int], GeoGridError],
) -> bytes:
    """Read the body of ``request``, refusing it once ``counter`` passes ``limit``.

    The refusal (``refuse(count)`` raised) happens only while more of the body is to
    come: a body already read whole is left to its exact count. The refused request is
    marked so that its error answer closes the connection (its body was not read).
    """
    chunks: list[bytes] = []
    pending: list[bytes] = []  # received, not counted yet
    pending_bytes = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if chunk:
            chunks.append(chunk)
            pending.append(chunk)
            pending_bytes += len(chunk)
        if counter is not None and pending and (pending_bytes >= COUNT_BYTES or not more):
            text = b"".join(pending) if len(pending) > 1 else pending[0]
            pending, pending_bytes = [], 0
            if len(text) > INLINE_COUNT_BYTES:  # numpy lets go of the GIL: the loop goes on
                count = await run_in_threadpool(counter.feed, text)
            else:
                count = counter.feed(text)
            if more and count > limit:
                mark_body_unread(request.scope)
                raise refuse(count)
        if not more:
            return b"".join(chunks)


def mark_body_unread(scope: Scope) -> None:
    """Mark a request refused before its body was read whole."""
    scope.setdefault("state", {})[BODY_UNREAD] = True


def body_unread(scope: Scope) -> bool:
    """Return True when the request was refused before its body was read whole."""
    return bool(scope.get("state", {}).get(BODY_UNREAD))


class _ReadRequest(Request):
    """A request whose body was read already: FastAPI takes it from here, and parses
    it as JSON in a worker thread rather than on the event loop."""

    def __init__(self, request: Request, body: bytes) -> None:
        super().__init__(request.scope, request.receive)
        self._read_body = body

    async def body(self) -> bytes:
        """Return the body as read."""
        return self._read_body

    async def json(self) -> Any:
        """Return the body parsed as JSON (parsed in a worker thread)."""
        return await run_in_threadpool(json.loads, self._read_body)


def _too_many_vertices(limit: int) -> GeoGridError:
    return TooManyVerticesError(
        f"the geometry has more than {limit:,} vertices; the limit is {limit:,}",
        details={"limit": limit},
    )


class StreamedJSONRoute(APIRoute):
    """A route whose JSON body is a GeoJSON feature: its vertices are counted while it
    streams in (``GEOGRID_MAX_VERTICES``, 422 ``too_many_vertices`` as soon as the limit
    is passed) and it is parsed in a worker thread, not on the event loop."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Return FastAPI's handler, fed with the body read and parsed here."""
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if request.method not in ("POST", "PUT", "PATCH"):
                return await handle(request)
            limit = request.app.state.settings.max_vertices
            body = await read_counted_body(
                request, JsonVertexCounter(), limit, lambda _: _too_many_vertices(limit)
            )
            return await handle(_ReadRequest(request, body))

        return handler
