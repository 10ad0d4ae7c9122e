"""``GET /locate?lon=..&lat=..[&crs=..]`` without the framework: the geo API's hot path.

Apps ask ``/locate`` for every position a grid worker's phone reports, so this one URL
carries most of the traffic. Locating a point takes tens of microseconds; FastAPI's
routing (a regular expression per route, tried in order), dependency resolution and
parameter validation cost several times that (``benchmarks/api_locate.sh`` measures
the framework alone as its "ceiling" app).

:class:`LocateFastPath` answers the plain case itself, through the very functions the
route uses (:func:`geogrid.api.auth.caller_of` and
:func:`geogrid.api.routes.locate.locate_json`), so its answers are the route's, byte for
byte (``tests/api/test_fastpath.py`` compares them). The plain case is: ``GET /locate``
with exactly ``lon`` and ``lat`` (plain decimals such as ``120.63``) and optionally ``crs``, once, a
caller who may locate, indexes already built, and an answer. Anything else (an address, a
malformed number, a repeated parameter, a missing or refused key, an error of any kind)
goes on untouched to FastAPI, which answers it as the OpenAPI schema documents. So does
a request that would make a database round trip on the event loop: the data versions'
check (once per ``cache_check_interval_s``), or the credentials' reload after a grid
edit; a worker thread makes it, and the requests after it are plain again.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from geogrid.api.auth import caller_of
from geogrid.api.routes.locate import locate_json
from geogrid.errors import GeoGridError
from geogrid.workspace.batch import LocateRow

__all__ = ["LocateFastPath"]

_NUMBER = re.compile(r"-?\d{1,9}(?:\.\d{1,17})?")  # other spellings: the route
_HEADERS = [(b"content-type", b"application/json")]
_KEYS = {"lon", "lat", "crs"}


class LocateFastPath:
    """Answer plain ``GET /locate`` point questions before the framework (see module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/locate" and scope["method"] == "GET":
            body = self._answer(scope)
            if body is not None:
                headers = [*_HEADERS, (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _answer(scope: Scope) -> bytes | None:
        """Return the answer's JSON, or None to leave the request to the route."""
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        params = dict(query)
        if len(params) != len(query) or not {"lon", "lat"} <= params.keys() <= _KEYS:
            return None
        if not (_NUMBER.fullmatch(params["lon"]) and _NUMBER.fullmatch(params["lat"])):
            return None
        state = scope["app"].state
        workspace, settings = state.workspace, state.settings
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if header is not None:
                    return None
                header = value.decode("latin-1")
        if not workspace.credentials_are_current():
            return None  # the versions or the keys need a database read: not on the loop
        try:
            caller = caller_of(workspace, settings, header)
            if not caller.can("locate"):
                return None
            if not workspace.locator_is_ready(reveal_personal=caller.sees_personal_data):
                return None  # the route builds the indexes off the event loop
            row = LocateRow(
                lon=float(params["lon"]), lat=float(params["lat"]), crs=params.get("crs", "wgs84")
            )
            return locate_json(workspace, caller, row)
        except GeoGridError:
            return None  # the route answers it, with the documented error
