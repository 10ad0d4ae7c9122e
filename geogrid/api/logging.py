"""Request logging without personal data: one JSON line per request, with a request id.

Every request is logged once, as one JSON object: request id, method, path, status, time,
and for a failure the error code (``error``); an unexpected exception also gets its class
and where it was raised (file, line, function), never its message. Query strings, bodies
and error messages are never logged (addresses, names and phones travel in them). The
request id, taken from an ``X-Request-ID`` header or made here, is returned in the
``X-Request-ID`` header of every response, so a user can quote it.

An exception nothing else handled is answered here, as a JSON 500 carrying the request
id, rather than by the server: its traceback would print messages that may hold personal
data. This is a plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs more per
request than locating a point does.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestLog", "install_request_logging", "note_error", "send_json"]

log = logging.getLogger("geogrid.access")

ERROR_CODE = "error_code"  # key in the ASGI scope's state


def note_error(scope: Scope, code: str) -> None:
    """Record the error code of a request, for its log line."""
    scope.setdefault("state", {})[ERROR_CODE] = code


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    """Send a whole JSON response on a raw ASGI ``send``."""
    payload = json.dumps(body, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


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
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        failure: Exception | None = None
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            failure = exc
            if status:  # the answer is half sent: only the server can end it
                raise
            body = {
                "code": "internal_error",
                "message": "the server failed to answer; quote the request id when reporting it",
                "details": {"request_id": request_id},
            }
            await send_json(send_with_id, 500, body)
        finally:
            _log_request(scope, request_id, status or 500, started, failure)


def _log_request(
    scope: Scope, request_id: str, status: int, started: float, failure: Exception | None
) -> None:
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    if not log.isEnabledFor(level):
        return
    record: dict[str, Any] = {
        "request_id": request_id,
        "method": scope.get("method"),
        "path": scope.get("path"),
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
    code = scope.get("state", {}).get(ERROR_CODE)
    if failure is not None:
        record["error"] = "internal_error"
        record["exception"] = type(failure).__name__
        record["where"] = [
            f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}:"
            f"{frame.lineno} {frame.name}"
            for frame in traceback.extract_tb(failure.__traceback__)[-6:]
        ]
    elif code is not None:
        record["error"] = code
    log.log(level, json.dumps(record, ensure_ascii=False))


def install_request_logging(app: FastAPI) -> None:
    """Add :class:`RequestLog` to the application (call it last: it must be outermost)."""
    app.add_middleware(RequestLog)
