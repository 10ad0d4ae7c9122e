"""The one table from geogrid's errors to HTTP status codes, and the JSON error body.

Every error response has the body ``{"code": ..., "message": ..., "details": {...}}``.
The message is the error's user-safe text; nothing else of the exception is exposed.
"""

from __future__ import annotations

import functools
import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from geogrid import errors
from geogrid.api.bodies import body_unread
from geogrid.api.error_docs import document_errors
from geogrid.api.logging import note_error
from geogrid.db.errors import DRIVER_ERRORS, database_error

__all__ = ["STATUS_BY_ERROR", "allowed_methods", "install_error_handlers", "status_for"]

log = logging.getLogger("geogrid.api")

STATUS_BY_ERROR: dict[type[errors.GeoGridError], int] = {
    errors.NotFoundError: 404,
    errors.UnknownCRSError: 422,
    errors.InvalidGeometryError: 422,
    errors.InvalidRequestError: 422,
    errors.AxisOrderError: 422,
    errors.IngestError: 422,
    errors.MapError: 422,
    errors.BrowserError: 503,
    errors.ConflictError: 409,
    errors.TooLargeError: 413,
    errors.DatabaseUnavailableError: 503,
    errors.PostgresNotInstalledError: 503,
    errors.QueryTimeoutError: 504,
    errors.AuthenticationError: 401,
    errors.PermissionDeniedError: 403,
    errors.PreconditionFailedError: 412,
    errors.PreconditionRequiredError: 428,
}
RETRY_AFTER_S = 5


def status_for(exc: errors.GeoGridError) -> int:
    """Return the HTTP status of an error (most specific class wins; default 400)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 400


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Return every method some route answers on the request's path (for ``Allow``).

    Several routes may share a path (``GET`` and ``POST /collections/{id}/items`` live in
    two routers); a 405 must name the methods of all of them.
    """
    methods: set[str] = set()
    for context in iter_route_contexts(app.routes):
        if context.path and context.methods and _path_regex(context.path).match(request.url.path):
            methods.update(context.methods)
    return sorted(methods)


@functools.lru_cache(maxsize=256)
def _path_regex(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def error_body(code: str, message: str, details: object = None) -> dict[str, object]:
    """Return the JSON body every error response carries."""
    return {"code": code, "message": message, "details": details or {}}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn errors into JSON responses (and declare them)."""
    document_errors(app)

    @app.exception_handler(errors.GeoGridError)
    async def _geogrid_error(request: Request, exc: errors.GeoGridError) -> JSONResponse:
        status = status_for(exc)
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
        if status == 401:  # RFC 6750: say how to authenticate
            headers = {"WWW-Authenticate": 'Bearer realm="geogrid"'}
        if body_unread(request.scope):  # refused mid-body: the rest is never read
            headers = {**(headers or {}), "Connection": "close"}
        note_error(request.scope, exc.code)  # logged once, in the request's JSON line
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        note_error(request.scope, "invalid_request")
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg")}
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body("invalid_request", "the request is not valid", {"errors": problems}),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        note_error(request.scope, f"http_{exc.status_code}")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # the route that refused knows its own methods only
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(app, request))}
        return JSONResponse(
            error_body(f"http_{exc.status_code}", str(exc.detail)),
            status_code=exc.status_code,
            headers=headers,
        )

    async def _database_failure(request: Request, exc: Exception) -> JSONResponse:
        """Last resort: a database outage or timeout that escaped translation is 503/504
        too; any other database error is a bug, answered 500 by the request log."""
        translated = database_error(exc)
        if translated is None:
            raise exc
        return await _geogrid_error(request, translated)

    for driver_error in DRIVER_ERRORS:
        app.add_exception_handler(driver_error, _database_failure)
