"""The OpenAPI document and the server agree, value by value, where the live schemathesis
CLI found them apart: what a parameter's schema allows the server takes, and what the
server refuses the schema does not allow (bbox, days and date-times, the lon/lat of each
coordinate system, tiles outside the matrix, fields that exclude or need each other).

The judgments no schema can carry are in ``schemathesis.toml``, read by the CLI and by the
harness (``tests/api/contract.py``): its operations must exist.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from geogrid.api.schemas.common import DAY_PATTERN, INSTANT_PATTERN, parse_day, parse_instant
from tests.api.contract import shared_config

ITEMS = "/collections/grids/items"


@pytest.fixture(scope="module")
def schema(demo_app: FastAPI) -> dict[str, Any]:
    return demo_app.openapi()


def _parameter(schema: dict[str, Any], path: str, name: str, method: str = "get") -> Any:
    params = schema["paths"][path][method]["parameters"]
    found = next(p for p in params if p["name"] == name)["schema"]
    branch = next((b for b in found.get("anyOf", []) if b.get("type") != "null"), {})
    return {**branch, **{k: v for k, v in found.items() if k != "anyOf"}}


def _body(schema: dict[str, Any], path: str, media: str = "application/json") -> Any:
    body = schema["paths"][path]["post"]["requestBody"]["content"][media]["schema"]
    if "$ref" in body:  # a model FastAPI put under components
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return {**body, "components": schema["components"]}


def _valid(body_schema: dict[str, Any], value: Any) -> bool:
    return Draft202012Validator(body_schema).is_valid(value)


# -- bbox -----------------------------------------------------------------------------------

BBOXES = [
    ("120.5,27.5,120.7,27.7", True),
    ("120.5,27.5,0,120.7,27.7,10", True),  # 3D: z between (OGC API - Features)
    ("-1,-1,1,1", True),
    ("0" * 100, False),  # one number (was declared any string)
    ("1,2,3", False),
    ("1,2,3,4,5", False),
    ("1e2,2,3,4", False),  # spellings float() reads but the pattern does not
    ("nan,2,3,4", False),
    (" 1,2,3,4", False),
    ("1_0,2,3,4", False),
]


@pytest.mark.parametrize(("bbox", "declared"), BBOXES)
def test_a_bbox_is_taken_exactly_when_its_pattern_allows_it(
    schema: dict[str, Any], demo_client: TestClient, bbox: str, declared: bool
) -> None:
    pattern = _parameter(schema, "/collections/{collection_id}/items", "bbox")["pattern"]
    assert bool(re.search(pattern, bbox)) is declared
    response = demo_client.get(ITEMS, params={"bbox": bbox, "limit": 1})
    assert (response.status_code == 200) is declared, response.text


def test_a_3d_bbox_selects_as_its_2d_box(demo_client: TestClient) -> None:
    flat = demo_client.get(ITEMS, params={"bbox": "120.6,27.6,120.65,27.65"}).json()
    deep = demo_client.get(ITEMS, params={"bbox": "120.6,27.6,-5,120.65,27.65,5"}).json()
    assert flat["numberMatched"] > 0
    assert [f["id"] for f in deep["features"]] == [f["id"] for f in flat["features"]]
    upside = demo_client.get(ITEMS, params={"bbox": "120.6,27.6,5,120.65,27.65,-5"})
    assert upside.status_code == 422
    assert "min z" in upside.json()["message"]


# -- days and date-times --------------------------------------------------------------------


def test_day_and_date_time_parameters_declare_the_patterns_the_server_parses(
    schema: dict[str, Any],
) -> None:
    assert _parameter(schema, "/events/report", "start")["pattern"] == DAY_PATTERN
    for name in ("start_date", "end_date"):
        declared = _parameter(schema, "/open311/v2/requests.json", name)["pattern"]
        assert declared == INSTANT_PATTERN


@settings(max_examples=300, deadline=None)
@given(st.from_regex(DAY_PATTERN, fullmatch=True))
def test_every_day_the_pattern_allows_exists(text: str) -> None:
    assert parse_day("start", text).isoformat() == text


@settings(max_examples=300, deadline=None)
@given(st.from_regex(INSTANT_PATTERN, fullmatch=True))
def test_every_date_time_the_pattern_allows_is_parsed(text: str) -> None:
    assert parse_instant("start_date", text).tzinfo is not None


@pytest.mark.parametrize(
    "day", ["0000-00-00", "0000-01-01", "2023-02-29", "1900-02-29", "2026-04-31", "2026-13-01"]
)
def test_days_that_do_not_exist_are_outside_the_pattern(day: str) -> None:
    assert not re.search(DAY_PATTERN, day)
    assert not re.search(INSTANT_PATTERN, f"{day}T00:00")


@pytest.mark.parametrize(("day", "exists"), [("2024-02-29", True), ("2000-02-29", True)])
def test_leap_days_are_in_the_pattern(day: str, exists: bool) -> None:
    assert bool(re.search(DAY_PATTERN, day)) is exists


def test_the_server_refuses_what_the_pattern_refuses_and_takes_what_it_allows(
    demo_client: TestClient,
) -> None:
    requests = "/open311/v2/requests.json"
    assert demo_client.get(requests, params={"end_date": "0001-01-01T00:00"}).status_code == 200
    assert demo_client.get(requests, params={"end_date": "2024-02-29 23:59Z"}).status_code == 200
    refused = demo_client.get(requests, params={"end_date": "2023-02-29T00:00"})
    assert refused.status_code == 422
    assert demo_client.get("/events/report", params={"start": "2024-02-29"}).status_code == 200
    assert demo_client.get("/events/report", params={"start": "2023-02-29"}).status_code == 422


# -- /locate --------------------------------------------------------------------------------

POINTS = [
    ({"lon": 120.6, "lat": 27.6}, True),
    ({"lon": 10.0, "lat": 80.0}, True),  # Svalbard: a real point (once refused as swapped)
    ({"lon": -180.0, "lat": -90.0, "crs": "gcj02"}, True),
    ({"lon": 27.6, "lat": 120.6}, False),  # swapped: latitude 120.6
    ({"lon": 1e10, "lat": 1.0}, False),
    ({"lon": 500000.0, "lat": 3000000.0, "crs": "EPSG:32651"}, True),
    ({"lon": 1e10, "lat": 5.0, "crs": "EPSG:32651"}, False),  # PROJ: infinity
    ({"lon": 1e300, "lat": 1e300, "crs": "EPSG:3857"}, False),  # was answered at (-180, 90)
    ({"lon": 20037508.0, "lat": 0.0, "crs": "EPSG:3857"}, True),
    ({"lon": 400000.0, "lat": 3000000.0, "crs": "EPSG:4549"}, True),
    ({"lon": 400000.0, "lat": 1000.0, "crs": "EPSG:4549"}, False),
]


@pytest.mark.parametrize(("question", "declared"), POINTS)
def test_a_point_is_located_exactly_when_the_schema_allows_it(
    schema: dict[str, Any], demo_client: TestClient, question: dict[str, Any], declared: bool
) -> None:
    params = schema["paths"]["/locate"]["get"]["parameters"]
    question_schema = next(p for p in params if p["name"] == "question")["schema"]
    assert _valid(question_schema, question) is declared
    response = demo_client.get("/locate", params=question)
    assert (response.status_code == 200) is declared, response.text
    if not declared:
        assert "area of use" in response.text or "longitude" in response.text


# -- tiles ----------------------------------------------------------------------------------


def test_a_tile_outside_the_matrix_is_documented_as_404(schema: dict[str, Any]) -> None:
    path = "/collections/{collection_id}/tiles/WebMercatorQuad/{z}/{x}/{y}"
    answers = schema["paths"][path]["get"]["responses"]
    assert "outside the tile matrix" in answers["404"]["description"]


# -- fields that exclude or need each other -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "declared"),
    [
        ({"text": "曾山村村委会对面"}, False),
        ({"text": "曾山村村委会对面", "grid_code": None, "address_code": None}, False),
        ({"text": "曾山村村委会对面", "grid_code": "330326-101-022", "address_code": "A1"}, False),
        ({"text": "曾山村村委会对面", "grid_code": "330326-101-022"}, True),
        ({"text": "曾山村村委会对面", "address_code": "A1", "grid_code": None}, True),
    ],
)
def test_a_correction_names_exactly_one_place(
    schema: dict[str, Any], body: dict[str, Any], declared: bool
) -> None:
    assert _valid(_body(schema, "/addresses/corrections"), body) is declared


@pytest.mark.parametrize(
    ("body", "declared"),
    [
        ({}, False),
        ({"lat": 27.6}, False),
        ({"lat": 27.6, "long": None}, False),
        ({"grid_code": "330326-101-022"}, True),
        ({"lat": 27.6, "long": 120.6}, True),
    ],
)
def test_a_reassignment_names_a_grid_or_a_point(
    schema: dict[str, Any], body: dict[str, Any], declared: bool
) -> None:
    assert _valid(_body(schema, "/events/{event_id}/reassign"), body) is declared


@pytest.mark.parametrize("media", ["application/json", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize(
    ("body", "declared"),
    [
        ({"service_code": "hotline"}, False),  # no place
        ({"service_code": "hotline", "lat": 27.6, "address_string": "x"}, False),  # lat alone
        ({"service_code": "hotline", "lat": 27.6, "long": 120.6}, True),
        ({"service_code": "hotline", "address_string": "鳌江镇曾山村工业路18号"}, True),
        ({"service_code": "deployment", "grid_code": "330326-101-022"}, True),
    ],
)
def test_a_service_request_says_where(
    schema: dict[str, Any], body: dict[str, Any], declared: bool, media: str
) -> None:
    assert _valid(_body(schema, "/open311/v2/requests.json", media), body) is declared


# -- the judgments beyond the schema ----------------------------------------------------------


def test_the_shared_config_names_operations_that_exist(schema: dict[str, Any]) -> None:
    labels = {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}
    named = [op["include-name"] for op in shared_config()["operations"]]
    assert named
    assert set(named) <= labels


def test_a_write_without_if_match_is_428_declared_and_judged(schema: dict[str, Any]) -> None:
    """RFC 6585: If-Match is declared required, its absence answered 428, which the shared
    config counts as the refusal of a request missing a required header."""
    for method in ("put", "patch", "delete"):
        op = schema["paths"]["/collections/{collection_id}/items/{feature_id}"][method]
        header = next(p for p in op["parameters"] if p["name"] == "If-Match")
        assert header["required"] is True
        assert "428" in op["responses"]
    expected = shared_config()["checks"]["missing_required_header"]["expected-statuses"]
    assert "428" in expected
