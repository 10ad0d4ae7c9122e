"""Request logging without personal data: method, path, status, time and a request id.

Query strings and bodies are never logged (addresses and names travel in them); the
request id is returned in the ``X-Request-ID`` header so a user can quote it. This is a
plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs more per request than
locating a point does.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestLog", "install_request_logging"]

log = logging.getLogger("geogrid.access")


class RequestLog:
    """Tag every HTTP response with a request id and log one JSON line for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        request_id = given[:64] or uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info(
                    json.dumps(
                        {
                            "request_id": request_id,
                            "method": scope.get("method"),
                            "path": scope.get("path"),
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                        }
                    )
                )


def install_request_logging(app: FastAPI) -> None:
    """Add :class:`RequestLog` to the application."""
    app.add_middleware(RequestLog)
