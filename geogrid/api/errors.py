"""The one table from geogrid's errors to HTTP status codes, and the JSON error body.

Every error response has the body ``{"code": ..., "message": ..., "details": {...}}``.
The message is the error's user-safe text; nothing else of the exception is exposed.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from geogrid import errors

__all__ = ["STATUS_BY_ERROR", "install_error_handlers", "status_for"]

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
}
RETRY_AFTER_S = 5


def status_for(exc: errors.GeoGridError) -> int:
    """Return the HTTP status of an error (most specific class wins; default 400)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 400


def error_body(code: str, message: str, details: object = None) -> dict[str, object]:
    """Return the JSON body every error response carries."""
    return {"code": code, "message": message, "details": details or {}}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn errors into JSON responses."""

    @app.exception_handler(errors.GeoGridError)
    async def _geogrid_error(request: Request, exc: errors.GeoGridError) -> JSONResponse:
        status = status_for(exc)
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
        log.warning(
            "request failed: %s %s -> %s (%s)", request.method, request.url.path, status, exc.code
        )
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg")}
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body("invalid_request", "the request is not valid", {"errors": problems}),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(f"http_{exc.status_code}", str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
