"""Request field types shared by the API's schemas."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

__all__ = ["CRS_EXAMPLES", "CRS_SCHEMA", "DateTimeIn", "IntIn", "body_schema", "json_number"]

_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?"
)


def _date_time_text(value: Any) -> Any:
    """Let only date-time text through to pydantic's parser: no numbers (pydantic would
    read ``0`` or ``"1700000000"`` as seconds since 1970), no bare dates."""
    if isinstance(value, datetime):  # built in Python, not parsed from a request
        return value
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-11-23T11:30:00+08:00")
    return value


DateTimeIn = Annotated[
    datetime,
    BeforeValidator(_date_time_text),
    Field(description="RFC 3339 date-time; without an offset it is Asia/Shanghai time"),
]
"""A date-time in a request body: RFC 3339 text only (``"ready_at": 0`` is refused)."""


CRS_EXAMPLES: tuple[str, ...] = (
    "wgs84",
    "cgcs2000",
    "gcj02",
    "bd09",
    "EPSG:4326",
    "EPSG:4490",
    "EPSG:4549",
    "EPSG:32651",
    "EPSG:3857",
)
"""The coordinate systems the OpenAPI schema lists for ``crs`` parameters: geogrid's names
and the EPSG codes used in Zhejiang. Any other ``EPSG:n`` that PROJ relates to WGS 84 is
accepted too; the schema lists these so that every value it allows is one the server takes."""

CRS_SCHEMA: dict[str, Any] = {"enum": list(CRS_EXAMPLES)}
"""``json_schema_extra`` of a ``crs`` query parameter."""


def json_number(value: Any) -> Any:
    """Let only JSON numbers through (pydantic would read ``true`` as 1 and ``"3"`` as 3)."""
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON number")
    return value


IntIn = Annotated[int, BeforeValidator(json_number)]
"""An integer in a request body: a JSON number with no fraction (``3`` or ``3.0``, as JSON
Schema counts integers), never ``true`` or ``"3"``."""


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Return ``model``'s JSON schema with its ``$defs`` written in place.

    For a body a route reads itself (``openapi_extra``): pydantic's ``#/$defs/...``
    references would point at the root of the OpenAPI document, where nothing is.

    >>> from geogrid.api.schemas.locate import LocateBatchIn
    >>> rows = body_schema(LocateBatchIn)["properties"]["rows"]
    >>> "$ref" in str(rows), sorted(rows["items"]["properties"])
    (False, ['address', 'crs', 'id', 'lat', 'lon'])
    """
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(
                    {
                        **defs[ref.removeprefix("#/$defs/")],
                        **{k: v for k, v in node.items() if k != "$ref"},
                    }
                )
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)
