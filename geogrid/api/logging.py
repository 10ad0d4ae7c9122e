"""Request logging without personal data: method, path, status, time and a request id.

Query strings and bodies are never logged (addresses and names travel in them); the
request id is returned in the ``X-Request-ID`` header so a user can quote it.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

__all__ = ["install_request_logging"]

log = logging.getLogger("geogrid.access")


def install_request_logging(app: FastAPI) -> None:
    """Log one JSON line per request and tag the response with its request id."""

    @app.middleware("http")
    async def _log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        request.state.request_id = request_id
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        log.info(
            json.dumps(
                {
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                }
            )
        )
        return response
