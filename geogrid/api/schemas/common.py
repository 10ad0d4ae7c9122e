"""Request field types shared by the API's schemas."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from geogrid.errors import InvalidRequestError

__all__ = [
    "CRS_EXAMPLES",
    "CRS_SCHEMA",
    "DAY",
    "DAY_PATTERN",
    "INSTANT",
    "INSTANT_PATTERN",
    "DateTimeIn",
    "IntIn",
    "body_schema",
    "given",
    "json_number",
    "parse_day",
    "parse_instant",
]

# Days that exist, years 0001-9999 (as Python's dates): the months' lengths and February
# 29 of leap years only. ASCII digits ([0-9]; ``\d`` takes other scripts' digits too).
_YEAR = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
DAY = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
"""A day that exists, ``YYYY-MM-DD`` (a regular expression, not anchored)."""
INSTANT = (
    rf"{DAY}[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{{1,9}})?)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
)
"""An RFC 3339 date-time on a day that exists; the offset may be left out (Asia/Shanghai
time), seconds too (a regular expression, not anchored)."""
DAY_PATTERN = f"^{DAY}$"
"""The OpenAPI ``pattern`` of a day parameter: exactly what :func:`parse_day` takes."""
INSTANT_PATTERN = f"^{INSTANT}$"
"""The OpenAPI ``pattern`` of a date-time parameter: exactly what :func:`parse_instant`
takes."""
LOCAL_OFFSET = "+08:00"
_INSTANT = re.compile(INSTANT)
_DAY = re.compile(DAY)


def parse_instant(name: str, value: str) -> datetime:
    """Return the date-time a query parameter gives (:data:`INSTANT_PATTERN`; without an
    offset it is Asia/Shanghai time).

    >>> parse_instant("start", "2024-02-29 08:30").isoformat()
    '2024-02-29T08:30:00+08:00'
    >>> parse_instant("start", "2023-02-29T08:30Z")
    Traceback (most recent call last):
    ...
    geogrid.errors.InvalidRequestError: start is not a date-time (RFC 3339) on a day that exists
    """
    if not _INSTANT.fullmatch(value):
        raise InvalidRequestError(
            f"{name} is not a date-time (RFC 3339) on a day that exists",
            details={"parameter": name},
        )
    text = value.replace(" ", "T").replace("t", "T").replace("z", "Z")
    if not re.search(r"(Z|[+-][0-9]{2}:[0-9]{2})$", text):
        text += LOCAL_OFFSET
    return datetime.fromisoformat(text)


def parse_day(name: str, value: str) -> date:
    """Return the day a query parameter gives (:data:`DAY_PATTERN`).

    >>> parse_day("start", "2024-02-29")
    datetime.date(2024, 2, 29)
    """
    if not _DAY.fullmatch(value):
        raise InvalidRequestError(
            f"{name} {value[:20]!r} is not a day that exists (YYYY-MM-DD)",
            details={"parameter": name},
        )
    return date.fromisoformat(value)


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


def given(*fields: str) -> dict[str, Any]:
    """Return a JSON schema saying that each of ``fields`` is given, not null: for rules
    between optional fields (``oneOf`` exactly one, ``anyOf`` at least one of some).

    >>> given("lat", "long")["required"]
    ['lat', 'long']
    """
    return {
        "required": list(fields),
        "properties": {field: {"not": {"type": "null"}} for field in fields},
    }
