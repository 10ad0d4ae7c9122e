"""Locate many rows at once (the command centre's batches): one bad row never fails the
batch; every row gets an answer or an error of its own, in input order."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from geogrid import crs as gcrs
from geogrid.errors import GeoGridError
from geogrid.workspace.locate import LocateAnswer

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = ["MAX_TEXT_CHARS", "LocateRow", "RowResult", "locate_rows", "summarise"]

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
    locator = workspace.locator(reveal_personal=reveal_personal, addresses=bool(texts))
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
    if system.kind == "epsg" and system.epsg not in (4326, 4490):
        return None  # projected coordinates: no range to check
    if bool(gcrs.looks_swapped(row.lon, row.lat)):
        return f"({row.lon}, {row.lat}) looks like (latitude, longitude); give longitude first"
    if not (-180 <= row.lon <= 180 and -90 <= row.lat <= 90):
        return f"({row.lon}, {row.lat}) is not a longitude/latitude"
    return None


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
