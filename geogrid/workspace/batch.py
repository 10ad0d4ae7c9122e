"""Locate many rows at once (the command centre's batches): one bad row never fails the
batch; every row gets an answer or an error of its own, in input order."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geogrid import crs as gcrs
from geogrid.errors import GeoGridError, IngestError
from geogrid.workspace.locate import LocateAnswer

if TYPE_CHECKING:
    from geogrid.workspace import Workspace
    from geogrid.workspace.locate import Locator

__all__ = [
    "ANSWER_COLUMNS",
    "MAX_TEXT_CHARS",
    "LocateRow",
    "RowResult",
    "flatten_result",
    "locate_rows",
    "locate_rows_with",
    "locate_table",
    "rows_from_table",
    "summarise",
]

MAX_TEXT_CHARS = 200
"""The longest address, row id or CRS name a row may carry (``GET /locate`` caps its
``address`` alike); a longer one is that row's error."""


@dataclass(frozen=True)
class LocateRow:
    """One row of a batch: an address text, or coordinates in a coordinate system."""

    id: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str | None = None


@dataclass(frozen=True)
class RowResult:
    """The answer for one row (1-based ``row``), or why there is none."""

    row: int
    id: str | None
    answer: LocateAnswer | None = None
    error: str | None = None


def locate_rows(
    workspace: Workspace,
    rows: Sequence[LocateRow],
    *,
    reveal_personal: bool = False,
    first_row: int = 1,
) -> list[RowResult]:
    """Locate every row; rows with coordinates are grouped by CRS and located in bulk.

    Rows are numbered from ``first_row`` (a slice of a larger batch starts further on).
    """
    # the gazetteer is needed only for rows with a text and no coordinates
    texts = any(row.lon is None and row.lat is None and bool(row.address) for row in rows)
    locator = workspace.locator(reveal_personal=reveal_personal, addresses=texts)
    return locate_rows_with(locator, rows, first_row=first_row)


def locate_rows_with(
    locator: Locator, rows: Sequence[LocateRow], *, first_row: int = 1
) -> list[RowResult]:
    """Locate every row with a given locator (a Dask worker's copy, say): as
    :func:`locate_rows`, which is this function on the workspace's locator."""
    results: list[RowResult | None] = [None] * len(rows)
    by_crs: dict[str, list[int]] = defaultdict(list)
    texts: list[int] = []
    for i, row in enumerate(rows):
        problem = _problem(row)
        if problem:
            keep_id = row.id is None or len(row.id) <= MAX_TEXT_CHARS
            results[i] = RowResult(first_row + i, row.id if keep_id else None, error=problem)
        elif row.lon is not None:
            by_crs[row.crs or "wgs84"].append(i)
        else:
            texts.append(i)
    for crs_name, members in by_crs.items():
        try:
            system = gcrs.parse_crs(crs_name)
        except GeoGridError as exc:
            for i in members:
                results[i] = RowResult(first_row + i, rows[i].id, error=exc.message)
            continue
        x = np.array([rows[i].lon for i in members], dtype=float)
        y = np.array([rows[i].lat for i in members], dtype=float)
        if system.kind != "wgs84":
            x, y = gcrs.to_wgs84(x, y, system)
        for i, answer in zip(members, locator.points(x, y), strict=True):
            results[i] = RowResult(first_row + i, rows[i].id, answer=answer)
    if texts:
        answers = locator.addresses([rows[i].address or "" for i in texts])
        for i, answer in zip(texts, answers, strict=True):
            results[i] = RowResult(first_row + i, rows[i].id, answer=answer)
    return [r for r in results if r is not None]


def _problem(row: LocateRow) -> str | None:
    """Return why a row cannot be located, or None."""
    for name, value in (("address", row.address), ("id", row.id), ("crs", row.crs)):
        if value is not None and len(value) > MAX_TEXT_CHARS:
            return f"the {name} has {len(value):,} characters; the limit is {MAX_TEXT_CHARS}"
    if row.lon is None and row.lat is None:
        if not row.address or not row.address.strip():
            return "the row has neither an address nor lon/lat"
        return None
    if row.lon is None or row.lat is None:
        return "give both lon and lat"
    if not (math.isfinite(row.lon) and math.isfinite(row.lat)):
        return "lon and lat must be finite numbers"
    try:
        system = gcrs.parse_crs(row.crs or "wgs84")
    except GeoGridError as exc:
        return exc.message
    bounds = gcrs.area_of_use_bounds(system)
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        if x0 <= row.lon <= x1 and y0 <= row.lat <= y1:
            return None
        return (
            f"({row.lon}, {row.lat}) is outside the area of use of {system.name} "
            f"(x {x0:g} to {x1:g}, y {y0:g} to {y1:g})"
        )
    if system.kind == "epsg" and system.epsg not in (4326, 4490):
        return None  # another geographic EPSG system: its own ranges
    if -180 <= row.lon <= 180 and -90 <= row.lat <= 90:
        return None
    if bool(gcrs.looks_swapped(row.lon, row.lat)):
        return f"({row.lon}, {row.lat}) looks like (latitude, longitude); give longitude first"
    return f"({row.lon}, {row.lat}) is not a longitude/latitude"


def summarise(results: Sequence[RowResult]) -> dict[str, int]:
    """Count rows by outcome: matched level for addresses, status, and failures."""
    counts: dict[str, int] = defaultdict(int)
    for result in results:
        if result.answer is None:
            counts["failed"] += 1
            continue
        counts[f"status:{result.answer.status}"] += 1
        if result.answer.address is not None:
            counts[f"level:{result.answer.address.level}"] += 1
    return dict(sorted(counts.items()))


ANSWER_COLUMNS: dict[str, str] = {
    "status": "str",
    "error": "str",
    "county_code": "str",
    "town_code": "str",
    "village_code": "str",
    "micro_code": "str",
    "village_name": "str",
    "industry_codes": "str",
    "worker_name": "str",
    "worker_phone": "str",
    "match_level": "str",
    "confidence": "float64",
    "reasons": "str",
    "lon_wgs84": "float64",
    "lat_wgs84": "float64",
}
"""The columns :func:`flatten_result` fills, with their dtypes (text may be missing)."""


def flatten_result(result: RowResult) -> dict[str, object]:
    """Return one row's answer as the flat record a batch writes (:data:`ANSWER_COLUMNS`):
    the grid chain, worker, match level and confidence, or ``status`` ``failed`` and the
    ``error``."""
    answer = result.answer
    row: dict[str, object] = dict.fromkeys(ANSWER_COLUMNS)
    row["status"] = answer.status if answer else "failed"
    row["error"] = result.error
    if answer is None:
        return row
    for level in ("county", "town", "village", "micro"):
        row[f"{level}_code"] = answer.code(level)
    village = next((g for g in answer.chain if g.level == "village"), None)
    row["village_name"] = village.name if village else None
    row["industry_codes"] = ";".join(g.code for g in answer.industry)
    row["worker_name"] = answer.worker.name if answer.worker else None
    row["worker_phone"] = answer.worker.phone if answer.worker else None
    row["match_level"] = answer.address.level if answer.address else None
    row["confidence"] = round(answer.confidence, 3)
    row["reasons"] = "; ".join(answer.address.reasons) if answer.address else None
    row["lon_wgs84"], row["lat_wgs84"] = answer.lon, answer.lat
    return row


def rows_from_table(table: pd.DataFrame, default_crs: str, *, source: str) -> list[LocateRow]:
    """Read batch rows from a table's columns: ``id`` (or ``code``), ``address`` (or
    ``地址``), ``lon``/``lat`` (or ``lng``, ``longitude``, ``latitude``) and ``crs``.

    Values may be text (a CSV read as strings) or numbers (Parquet); an empty cell is
    missing, a lon/lat that is not a number becomes NaN (that row's error). A table with
    neither an address column nor lon and lat is an :class:`IngestError` naming
    ``source``.
    """
    lower = {str(c).lower(): c for c in table.columns}

    def column(*names: str) -> list[object] | None:
        return next((table[lower[n]].tolist() for n in names if n in lower), None)

    ids, texts = column("id", "code"), column("address", "地址")
    lons, lats = column("lon", "lng", "longitude"), column("lat", "latitude")
    crs = column("crs")
    if texts is None and (lons is None or lats is None):
        raise IngestError("needs an 'address' column or 'lon' and 'lat' columns", path=source)
    n = len(table)
    return [
        LocateRow(
            id=_as_text(ids[i]) if ids is not None else None,
            address=_text(texts[i]) if texts is not None else None,
            lon=_number(lons[i]) if lons is not None else None,
            lat=_number(lats[i]) if lats is not None else None,
            crs=_text(crs[i]) if crs is not None else default_crs,
        )
        for i in range(n)
    ]


def locate_table(
    locator: Locator,
    table: pd.DataFrame,
    *,
    default_crs: str = "wgs84",
    source: str = "",
    first_row: int = 1,
) -> pd.DataFrame:
    """Locate a table's rows (see :func:`rows_from_table`); return one record per input
    row, in order: ``source``, ``row`` (numbered from ``first_row``), the input ``id``,
    ``address``, ``lon``, ``lat`` and ``crs`` as text, then :data:`ANSWER_COLUMNS`."""
    import pandas as pd

    rows = rows_from_table(table, default_crs, source=source)
    results = locate_rows_with(locator, rows, first_row=first_row)
    lower = {str(c).lower(): c for c in table.columns}
    frame = pd.DataFrame({"source": pd.Series([source] * len(rows), dtype="string")})
    frame["row"] = np.arange(first_row, first_row + len(rows), dtype=np.int64)
    for name, aliases in INPUT_COLUMNS.items():
        found = next((lower[a] for a in aliases if a in lower), None)
        values = table[found].tolist() if found is not None else [None] * len(rows)
        frame[name] = pd.Series([_as_text(v) for v in values], dtype="string")
    answers = pd.DataFrame([flatten_result(r) for r in results], columns=list(ANSWER_COLUMNS))
    for name, dtype in ANSWER_COLUMNS.items():
        answers[name] = answers[name].astype("float64" if dtype == "float64" else "string")
    return pd.concat([frame, answers], axis=1)


INPUT_COLUMNS = {
    "id": ("id", "code"),
    "address": ("address", "地址"),
    "lon": ("lon", "lng", "longitude"),
    "lat": ("lat", "latitude"),
    "crs": ("crs",),
}
"""The input columns a batch answer repeats (as text), by the names they may have."""


def _missing(value: object) -> bool:
    """None, NaN, pandas' NA or NaT (a Parquet cell may be any of them)."""
    if value is None:
        return True
    if isinstance(value, str | list | tuple | dict | np.ndarray):
        return False
    return bool(pd.isna(value))


def _as_text(value: object) -> str | None:
    """An input cell as text (missing stays missing)."""
    return None if _missing(value) else str(value)


def _text(value: object) -> str | None:
    """An input cell as text; empty is missing."""
    text = _as_text(value)
    return text or None


def _number(value: object) -> float | None:
    """An input cell as a number: missing or blank is None, not a number is NaN."""
    if _missing(value):
        return None
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return math.nan
