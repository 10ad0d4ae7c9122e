"""The error answers of every operation, declared in the OpenAPI schema in one place.

Routes declare what is theirs (401/403 of a permission, 409/412 of an edit); this adds what
any of them may answer through the shared handlers (:mod:`geogrid.api.errors`) and
middlewares: 400 for a body that cannot be parsed, 422 for invalid input, 404 for an
unknown thing asked for by a parameter, 413 for an oversized body
(:mod:`geogrid.api.limits`), 500 for a bug, 503 (with ``Retry-After``) while the database
is down and 504 when a statement outlasts ``statement_timeout``. All share the body
``{"code", "message", "details"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

__all__ = ["ERROR_SCHEMA", "document_errors"]

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
_REF = {"$ref": "#/components/schemas/Error"}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}


def _always(_path: str, _op: dict[str, Any]) -> bool:
    return True


def _has_body(_path: str, op: dict[str, Any]) -> bool:
    return "requestBody" in op


def _has_parameters(path: str, op: dict[str, Any]) -> bool:
    return "{" in path or bool(op.get("parameters")) or "requestBody" in op


# status: (description, whether an operation may answer it)
_ANSWERS: dict[str, tuple[str, Callable[[str, dict[str, Any]], bool]]] = {
    "400": ("The body cannot be read (not UTF-8 JSON)", _has_body),
    "404": ("Not found: an unknown code or id", _has_parameters),
    "413": ("The request body is above the size limit", _has_body),
    "422": ("The request is not valid", _has_parameters),
    "500": ("An unexpected failure; quote the X-Request-ID", _always),
    "503": ("The database is not reachable; try again after Retry-After", _always),
    "504": ("A database statement outlasted the time limit", _always),
}


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
        for path, operations in schema.get("paths", {}).items():
            for op in operations.values():
                _declare(path, op)
        done.add(id(schema))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare(path: str, op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    for status, (description, applies) in _ANSWERS.items():
        declared = responses.get(status)
        fastapi_422 = (
            status == "422" and declared is not None and "HTTPValidationError" in str(declared)
        )
        if not applies(path, op) or (declared is not None and not fastapi_422):
            continue
        answer: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": _REF}},
        }
        if status == "503":
            answer["headers"] = _RETRY_AFTER
        responses[status] = answer
