r"""Who may call each operation and its error answers, declared in the OpenAPI schema in one place.

Security comes from the permissions a route :func:`~geogrid.api.auth.require`\ s: a route
that only needs what anonymous callers may do (``health``, ``layers:read``) while
``open_reads`` is on is public, its key optional (``security: [{}, {apiKey: []}]``), and
answers 401 to a key that is not valid; any other route that asks who calls needs the key
(401 without a valid one, 403 when its role may not); a route that never asks (the
landing page, conformance) declares no security.

Routes declare what is theirs (409/412/428 of an edit); this adds what any of them may
answer through the shared handlers (:mod:`geogrid.api.errors`) and middlewares: 400 for a
body that cannot be parsed, 422 for invalid input (an unknown query parameter too), 404
for an unknown thing asked for by a parameter, 413 for an oversized body
(:mod:`geogrid.api.limits`), 500 for a bug, and, for routes that reach the database or the
credentials, 503 (with ``Retry-After``) while the database is down and 504 when a
statement outlasts ``statement_timeout``. All share the body ``{"code", "message",
"details"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from geogrid.access import OPEN_PERMISSIONS
from geogrid.api.auth import SCHEME, permissions_of
from geogrid.api.links import document_links

__all__ = ["ERROR_CONTENT", "ERROR_SCHEMA", "document_errors"]

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string", "description": "machine-readable error code"},
        "message": {"type": "string", "description": "what went wrong, for a person"},
        "details": {"type": "object", "description": "context: limits, rows, candidates"},
    },
}
ERROR_CONTENT: dict[str, Any] = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}
"""A response's content in a route's ``responses=``: geogrid's JSON error body."""
_REF = {"$ref": "#/components/schemas/Error"}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}
_CHALLENGE = {
    "WWW-Authenticate": {
        "description": "how to authenticate: Bearer",
        "schema": {"type": "string"},
    }
}


def _always(_path: str, _op: dict[str, Any]) -> bool:
    return True


def _asks_who_calls(_path: str, op: dict[str, Any]) -> bool:
    return "security" in op


def _has_body(_path: str, op: dict[str, Any]) -> bool:
    return "requestBody" in op


def _has_parameters(path: str, op: dict[str, Any]) -> bool:
    return "{" in path or bool(op.get("parameters")) or "requestBody" in op


# status: (description, whether an operation may answer it)
_ANSWERS: dict[str, tuple[str, Callable[[str, dict[str, Any]], bool]]] = {
    "400": ("The body cannot be read (not UTF-8 JSON)", _has_body),
    "404": ("Not found: an unknown code or id", _has_parameters),
    "413": ("The request body is above the size limit", _has_body),
    "422": ("The request is not valid, or names an unknown query parameter", _always),
    "500": ("An unexpected failure; quote the X-Request-ID", _always),
    "503": ("The database is not reachable; try again after Retry-After", _asks_who_calls),
    "504": ("A database statement outlasted the time limit", _asks_who_calls),
}
_UNAUTHENTICATED = "No valid API key where one is needed"
_UNAUTHENTICATED_OPTIONAL = "The API key sent is not valid (send none to read anonymously)"
_FORBIDDEN = "The API key's role may not do this, or not in this grid"


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the shared error answers of every operation.

    FastAPI's own 422 (``HTTPValidationError``) is replaced: geogrid answers invalid
    input with its error body.
    """
    build = app.openapi
    done: set[int] = set()

    def openapi() -> dict[str, Any]:
        schema = build()
        if id(schema) in done:
            return schema
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        open_reads = bool(getattr(app.state.settings, "open_reads", True))
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if isinstance(route, APIRoute) and context.path_format in schema["paths"]:
                operations = schema["paths"][context.path_format]
                for method in context.methods or ():
                    if method.lower() in operations:
                        _declare_security(
                            operations[method.lower()], permissions_of(route.dependant), open_reads
                        )
        for path, operations in schema.get("paths", {}).items():
            for op in operations.values():
                _declare(path, op)
        document_links(schema)
        done.add(id(schema))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_security(op: dict[str, Any], needs: frozenset[str] | None, open_reads: bool) -> None:
    """Declare who may call an operation, and its 401 and 403 answers."""
    op.pop("security", None)
    responses = op.setdefault("responses", {})
    if needs is None:
        return
    if open_reads and needs <= OPEN_PERMISSIONS:
        op["security"] = [{}, {SCHEME: []}]
        responses["401"] = _error_answer(_UNAUTHENTICATED_OPTIONAL, _CHALLENGE)
        return
    op["security"] = [{SCHEME: []}]
    responses["401"] = _error_answer(_UNAUTHENTICATED, _CHALLENGE)
    responses.setdefault("403", _error_answer(_FORBIDDEN))


def _error_answer(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = {"description": description, "content": {"application/json": {"schema": _REF}}}
    if headers:
        answer["headers"] = headers
    return answer


def _declare(path: str, op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    for status, (description, applies) in _ANSWERS.items():
        declared = responses.get(status)
        fastapi_422 = (
            status == "422" and declared is not None and "HTTPValidationError" in str(declared)
        )
        if not applies(path, op) or (declared is not None and not fastapi_422):
            continue
        answer = _error_answer(description)
        if status == "503":
            answer["headers"] = _RETRY_AFTER
        responses[status] = answer
