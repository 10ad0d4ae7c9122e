"""The request body limit (``GEOGRID_MAX_BODY_BYTES``): 413 before the body is read.

A declared ``Content-Length`` above the limit is refused at once, without reading the
body; a body that does not declare its length (chunked) is counted while it streams in
and refused as soon as it passes the limit, whatever the route was doing with it. Either
way the answer is 413 with the JSON error body ``{"code": "too_large", ...}``. It is the
one byte limit of the API: routes (``/locate/batch``) limit rows, not bytes.

A plain ASGI middleware, like :mod:`geogrid.api.logging`: ``GET`` and ``HEAD`` requests
pass straight through, so the hot ``/locate`` path pays nothing for it.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geogrid.api.logging import note_error, send_json

__all__ = ["BodyLimit", "install_body_limit"]

BODILESS = frozenset({"GET", "HEAD"})


class _BodyTooLargeError(Exception):
    """Raised into the app from ``receive`` to stop it reading an oversized body."""


class BodyLimit:
    """Answer 413 to a request whose body is (or grows) larger than ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODILESS:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send, declared)
            return
        received = 0
        overflowed = False
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received, overflowed
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    overflowed = True
                    raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if overflowed and not response_started:
                return  # the app's answer to the interrupted body; ours follows
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not overflowed or response_started:
                raise
        if overflowed and not response_started:
            await self._refuse(scope, send, None)

    async def _refuse(self, scope: Scope, send: Send, declared: int | None) -> None:
        note_error(scope, "too_large")
        size = f"{declared:,} bytes" if declared is not None else "more bytes"
        details: dict[str, int] = {"limit": self.max_bytes}
        if declared is not None:
            details["bytes"] = declared
        body = {
            "code": "too_large",
            "message": f"the request body has {size}; the limit is {self.max_bytes:,} bytes",
            "details": details,
        }
        # the rest of the body is not read: the connection cannot be reused for another request
        await send_json(send, 413, body, {"Connection": "close"})


def _content_length(scope: Scope) -> int | None:
    """Return the declared body length, or None when it is not given (or not a number)."""
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def install_body_limit(app: FastAPI, max_bytes: int) -> None:
    """Add :class:`BodyLimit` to the application (before the request log, so it is inner)."""
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
