"""OpenAPI links: how the answer of one operation feeds the next (created → read, edited).

A client (or a stateful test such as schemathesis') can follow them: the feature a
``POST`` created is read, replaced, patched and deleted with its id and its ``ETag`` as
``If-Match``; a saved transport plan is read, re-planned and mapped by its id; a listed
transfer request is read by its code.
"""

from __future__ import annotations

from typing import Any

__all__ = ["document_links"]

_ITEM = "/collections/{collection_id}/items/{feature_id}"
_PLAN = "/transport/plans/{plan_id}"


def _ref(path: str, method: str) -> str:
    return f"#/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}"


def _feature_links(feature_id: str) -> dict[str, Any]:
    where = {"collection_id": "$request.path.collection_id", "feature_id": feature_id}
    edit = {**where, "header.If-Match": "$response.header.ETag"}
    return {
        "ReadFeature": {"operationRef": _ref(_ITEM, "get"), "parameters": where},
        "ReplaceFeature": {"operationRef": _ref(_ITEM, "put"), "parameters": edit},
        "PatchFeature": {"operationRef": _ref(_ITEM, "patch"), "parameters": edit},
        "DeleteFeature": {"operationRef": _ref(_ITEM, "delete"), "parameters": edit},
    }


def _plan_links() -> dict[str, Any]:
    plan = {"plan_id": "$response.body#/plan_id"}
    return {
        "ReadPlan": {"operationRef": _ref(_PLAN, "get"), "parameters": plan},
        "Replan": {"operationRef": _ref(f"{_PLAN}/replan", "post"), "parameters": plan},
        "PlanMap": {
            "operationRef": _ref("/maps/transport/{plan_id}.html", "get"),
            "parameters": plan,
        },
    }


# (path, method, status) -> links of that answer
_LINKS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("/collections/{collection_id}/items", "post", "201"): _feature_links("$response.body#/id"),
    (_ITEM, "get", "200"): _feature_links("$request.path.feature_id"),
    (_ITEM, "put", "200"): _feature_links("$request.path.feature_id"),
    (_ITEM, "patch", "200"): _feature_links("$request.path.feature_id"),
    ("/transport/plans", "post", "201"): _plan_links(),
    (f"{_PLAN}/replan", "post", "201"): _plan_links(),
    (_PLAN, "get", "200"): _plan_links(),
    ("/transport/requests", "get", "200"): {
        "ReadRequest": {
            "operationRef": _ref("/transport/requests/{code}", "get"),
            "parameters": {"code": "$response.body#/items/0/code"},
        }
    },
}


def document_links(schema: dict[str, Any]) -> None:
    """Add the links to the answers of ``schema`` (an OpenAPI document, changed in place)."""
    paths = schema.get("paths", {})
    for (path, method, status), links in _LINKS.items():
        answer = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if answer is not None:
            answer["links"] = links
