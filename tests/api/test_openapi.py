"""The OpenAPI document says what the server does: security per operation, the statuses
each operation answers, limits enforced as declared, strict date-times.

Each test pairs a declaration of the schema with the answer the server gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.workspace import Workspace

ClientAs = Callable[[str | None], TestClient]
PUBLIC = [{}, {"apiKey": []}]
SECURED = [{"apiKey": []}]
BAD_KEY = {"Authorization": "Bearer gg_nokey_nosecret"}


@pytest.fixture(scope="module")
def schema(demo_app: FastAPI) -> dict[str, Any]:
    return demo_app.openapi()


def _operation(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return schema["paths"][path][method.lower()]


def test_public_reads_are_declared_public_and_answer_without_a_key(
    schema: dict[str, Any], demo_client_as: ClientAs
) -> None:
    anonymous = demo_client_as(None)
    for path, url in [
        ("/health", "/health"),
        ("/collections", "/collections"),
        ("/collections/{collection_id}", "/collections/grids"),
        ("/collections/{collection_id}/items", "/collections/grids/items?limit=1"),
        ("/collections/{collection_id}/items/{feature_id}", "/collections/grids/items/330326"),
    ]:
        op = _operation(schema, "GET", path)
        assert op["security"] == PUBLIC, path
        assert anonymous.get(url).status_code == 200, url
        # a key that is not valid is refused, and that is documented
        assert "401" in op["responses"], path
        refused = anonymous.get(url, headers=BAD_KEY)
        assert refused.status_code == 401, url
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_secured_operations_declare_the_key_and_their_refusals(
    schema: dict[str, Any], demo_client_as: ClientAs
) -> None:
    anonymous = demo_client_as(None)
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if op.get("security") != SECURED:
                continue
            assert {"401", "403"} <= set(op["responses"]), (method, path)
    assert _operation(schema, "GET", "/locate")["security"] == SECURED
    assert _operation(schema, "POST", "/collections/{collection_id}/items")["security"] == SECURED
    assert anonymous.get("/locate?lon=120.6&lat=27.6").status_code == 401
    # the landing page and conformance never ask who calls
    for path in ("/", "/conformance"):
        assert "security" not in _operation(schema, "GET", path)
        assert anonymous.get(path, headers=BAD_KEY).status_code == 200


def test_with_reads_closed_every_read_needs_the_key(demo_workspace: Workspace) -> None:
    app = create_app(Settings(warm_up=False, open_reads=False), workspace=demo_workspace)
    schema = app.openapi()
    assert _operation(schema, "GET", "/health")["security"] == SECURED
    assert _operation(schema, "GET", "/collections")["security"] == SECURED
    assert TestClient(app).get("/collections").status_code == 401


def test_writes_declare_if_match_required_and_428_without_it(
    schema: dict[str, Any], demo_client: TestClient
) -> None:
    for method in ("PUT", "PATCH", "DELETE"):
        op = _operation(schema, method, "/collections/{collection_id}/items/{feature_id}")
        (header,) = [p for p in op["parameters"] if p["name"] == "If-Match"]
        assert header["in"] == "header"
        assert header["required"] is True
        assert "428" in op["responses"]
    missing = demo_client.delete("/collections/checkpoints/items/KK-001")
    assert missing.status_code == 428
    too_long = demo_client.delete(
        "/collections/checkpoints/items/KK-001", headers={"If-Match": '"' + "x" * 2001 + '"'}
    )
    assert too_long.status_code == 422


def test_a_filter_longer_than_declared_is_refused(
    schema: dict[str, Any], demo_client: TestClient
) -> None:
    op = _operation(schema, "GET", "/collections/{collection_id}/items")
    (parent,) = [p for p in op["parameters"] if p["name"] == "parent"]
    limit = parent["schema"]["maxLength"]
    assert (
        demo_client.get("/collections/grids/items", params={"parent": "x" * limit}).json()[
            "numberMatched"
        ]
        == 0
    )
    refused = demo_client.get("/collections/grids/items", params={"parent": "x" * (limit + 1)})
    assert refused.status_code == 422
    assert refused.json()["details"] == {"parameter": "parent", "limit": limit}


@pytest.mark.parametrize("ready_at", [0, 1_700_000_000, "1700000000", "2026-11-23", True])
def test_a_date_time_must_be_date_time_text(demo_client: TestClient, ready_at: object) -> None:
    body = {
        "requests": [
            {
                "code": "R1",
                "lon": 120.62,
                "lat": 27.58,
                "group_size": 1,
                "risk_class": "returnee",
                "ready_at": ready_at,
            }
        ]
    }
    refused = demo_client.post("/transport/plans", json=body)
    assert refused.status_code == 422
    assert "requests.0.ready_at" in refused.text


def test_replan_now_must_be_date_time_text(demo_client: TestClient) -> None:
    refused = demo_client.post("/transport/plans/1/replan", json={"now": 0})
    assert refused.status_code == 422
    assert "now" in refused.text


def test_locate_declares_lon_and_lat_together(
    schema: dict[str, Any], demo_client: TestClient
) -> None:
    op = _operation(schema, "GET", "/locate")
    names = {p["name"] for p in op["parameters"]}
    assert not {"lon", "lat"} & names  # not two independent optional numbers
    (point,) = [p for p in op["parameters"] if p["in"] == "query" and p["schema"].get("anyOf")]
    assert point["style"] == "form"
    assert point["explode"] is True
    assert demo_client.get("/locate?lon=0").status_code == 422
    assert demo_client.get("/locate?lon=120.63&lat=27.59").status_code == 200


def test_a_405_allows_every_method_of_the_path(demo_client: TestClient) -> None:
    items = demo_client.options("/collections/grids/items")
    assert items.status_code == 405
    assert items.headers["Allow"] == "GET, POST"
    one = demo_client.request("OPTIONS", "/collections/grids/items/330326")
    assert one.headers["Allow"] == "DELETE, GET, PATCH, PUT"
    assert demo_client.post("/locate").headers["Allow"] == "GET"


@pytest.mark.parametrize(
    ("field", "value"),
    [("lat", False), ("lon", "120.6"), ("group_size", 1.5), ("group_size", True)],
)
def test_numbers_in_a_body_must_be_json_numbers(
    demo_client: TestClient, field: str, value: object
) -> None:
    household = {"code": "R1", "lon": 120.62, "lat": 27.58, "group_size": 1}
    body = {"requests": [{**household, "risk_class": "returnee", field: value}]}
    refused = demo_client.post("/transport/plans", json=body)
    assert refused.status_code == 422
    assert f"requests.0.{field}" in refused.text


def test_an_unknown_bbox_crs_is_refused_even_without_a_bbox(demo_client: TestClient) -> None:
    refused = demo_client.get("/collections/checkpoints/items?bbox-crs=null")
    assert refused.status_code == 422
    assert "null" in refused.json()["message"]
    assert (
        demo_client.get("/collections/checkpoints/items?bbox-crs=gcj02&limit=1").status_code == 200
    )


def test_a_csv_batch_without_address_or_lon_lat_columns_is_refused(
    demo_client: TestClient,
) -> None:
    csv_body = {"Content-Type": "text/csv"}
    for body in ("{}", "id,name\n1,x\n", "id,lon\n1,120.6\n"):
        refused = demo_client.post("/locate/batch", content=body, headers=csv_body)
        assert refused.status_code == 422, body
        assert "address column" in refused.json()["message"]
    located = demo_client.post(
        "/locate/batch", content="lng,latitude\n120.63,27.59\n", headers=csv_body
    )
    assert located.status_code == 200
    assert located.json()["results"][0]["ok"] is True


def test_an_empty_batch_is_an_empty_answer(demo_client: TestClient) -> None:
    for body, kind in (
        ("", "text/csv"),
        ("id,address\n", "text/csv"),
        ('{"rows": []}', "application/json"),
    ):
        empty = demo_client.post("/locate/batch", content=body, headers={"Content-Type": kind})
        assert empty.status_code == 200, (body, empty.text)
        assert empty.json() == {"results": [], "summary": {}}


def test_a_coverage_budget_declares_its_bounds(
    schema: dict[str, Any], demo_client: TestClient
) -> None:
    body = schema["components"]["schemas"]["CoveragePlanIn"]["properties"]["budget"]
    (number,) = [s for s in body["anyOf"] if s.get("type") == "integer"]
    assert (number["minimum"], number["maximum"]) == (1, 10_000)
    refused = demo_client.post("/coverage/plan", json={"grid": "330326-101-032", "budget": 0})
    assert refused.status_code == 422


def test_every_reference_resolves_in_the_document(schema: dict[str, Any]) -> None:
    # a body schema copied from pydantic kept '#/$defs/...' references, which point at
    # the root of the OpenAPI document (found by schemathesis against a live server)
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert refs
    for ref in set(refs):
        assert ref.startswith("#/"), ref
        target: Any = schema
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict), ref
            assert part in target, ref
            target = target[part]


@pytest.mark.parametrize(("field", "value"), [("lat", False), ("lon", "120.6"), ("lat", True)])
def test_batch_coordinates_must_be_json_numbers(
    demo_client: TestClient, field: str, value: object
) -> None:
    row = {"lon": 120.63, "lat": 27.59, field: value}
    refused = demo_client.post("/locate/batch", json={"rows": [row]})
    assert refused.status_code == 422
    assert field in refused.json()["details"]["problem"]
    located = demo_client.post("/locate/batch", json={"rows": [{"lon": 120.63, "lat": 27}]})
    assert located.json()["results"][0]["ok"] is True


def test_the_batch_body_is_declared_required(schema: dict[str, Any]) -> None:
    assert _operation(schema, "POST", "/locate/batch")["requestBody"]["required"] is True


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2020-01-31T00:00:00Z", 200),
        ("2020-01-31T08:00:00+08:00/..", 200),
        ("../2020-01-31 00:00", 200),
        ("0" * 100, 422),
        ("2020-13-01T00:00:00Z", 422),
        ("2020-01-31", 422),
    ],
)
def test_datetime_is_refused_exactly_as_its_declared_pattern_says(
    schema: dict[str, Any], demo_client: TestClient, value: str, status: int
) -> None:
    (param,) = [
        p
        for p in _operation(schema, "GET", "/collections/{collection_id}/items")["parameters"]
        if p["name"] == "datetime"
    ]
    pattern = next(s["pattern"] for s in param["schema"]["anyOf"] if "pattern" in s)
    assert (re.search(pattern, value) is not None) == (status == 200)
    answer = demo_client.get(
        "/collections/checkpoints/items", params={"limit": 1, "datetime": value}
    )
    assert answer.status_code == status


def test_a_filter_declares_an_enum_only_where_every_collection_refuses_other_values(
    schema: dict[str, Any], demo_client: TestClient
) -> None:
    from geogrid.api.routes.features import FILTER_PARAMS

    params = _operation(schema, "GET", "/collections/{collection_id}/items")["parameters"]
    declared = {p["name"]: p["schema"] for p in params if p["name"] in FILTER_PARAMS}
    assert "enum" not in declared["kind"]  # isolation sites' kinds are free text
    for name, param_schema in declared.items():
        for collection in FILTER_PARAMS[name]:
            answer = demo_client.get(f"/collections/{collection}/items?limit=1&{name}=AAA")
            if "enum" in param_schema:  # a value the schema refuses, the server refuses
                assert answer.status_code == 422, (name, collection)
