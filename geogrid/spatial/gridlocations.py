"""Answers of :class:`geogrid.spatial.gridindex.GridIndex`: which grids own which points.

:class:`PointLocations` holds the answer for many points as numpy arrays;
:class:`PointLocation` is the answer for one point as plain Python values.
Grids are named by their row position in the grid frame the index was built from
(``-1`` for none) and by their code.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "TERRITORIAL_LEVELS",
    "GridGap",
    "LocateStatus",
    "PointLocation",
    "PointLocations",
]

TERRITORIAL_LEVELS: tuple[str, ...] = ("county", "town", "village", "micro")
"""Territorial levels, coarse to fine: the columns of the per-level arrays."""


class LocateStatus(StrEnum):
    """How well the grids cover a point."""

    OK = "ok"
    """Owned at every territorial level that exists there."""
    GAP = "gap"
    """Inside the territory but not covered at some level that exists there."""
    OUTSIDE = "outside"
    """Covered by no territorial grid."""


@dataclass(frozen=True)
class GridGap:
    """The grid nearest to a point at a level where no grid covers it."""

    level: str
    nearest_code: str
    distance_m: float


@dataclass(frozen=True)
class PointLocation:
    """The grids that own one point (see :meth:`GridIndex.locate_one`)."""

    lon: float
    lat: float
    status: LocateStatus
    county_code: str | None
    town_code: str | None
    village_code: str | None
    micro_code: str | None
    industry_codes: tuple[str, ...]
    gaps: tuple[GridGap, ...]

    def code(self, level: str) -> str | None:
        """Return the code of the grid owning the point at ``level``, or None."""
        if level not in TERRITORIAL_LEVELS:
            raise ValueError(f"unknown territorial level {level!r}")
        return getattr(self, f"{level}_code")  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class PointLocations:
    """The grids that own many points (see :meth:`GridIndex.locate`).

    Per-level arrays have one column per level of :data:`TERRITORIAL_LEVELS`.

    Attributes
    ----------
    lon, lat
        The points, in degrees (EPSG:4326), shape ``(n,)``.
    owner_row
        Row position of the owning grid in the grid frame, ``-1`` for none;
        shape ``(n, 4)``.
    status
        :class:`LocateStatus` value per point, as strings; shape ``(n,)``.
    gap_point, gap_level, gap_row, gap_distance_m
        One entry per (point, level) in a gap, sorted by point then level: the point,
        the level (column of :data:`TERRITORIAL_LEVELS`), the row position of the
        nearest grid of that level, and the distance to it in metres.
    industry_point, industry_row
        One entry per (point, industry grid covering it), sorted by point then code.
    grid_codes
        Code of every grid, by row position.

    Examples
    --------
    >>> from shapely import box
    >>> from geogrid.spatial.gridindex import GridIndex
    >>> index = GridIndex.from_arrays(
    ...     ["1", "1-A"], ["county", "town"], [None, "1"], [box(0, 0, 2, 2), box(0, 0, 1, 2)]
    ... )
    >>> found = index.locate([0.5, 1.5, 3.0], [1.0, 1.0, 1.0])
    >>> found.status.tolist()
    ['ok', 'gap', 'outside']
    >>> found.codes("town").tolist(), found.nearest_codes("town").tolist()
    (['1-A', None, None], [None, '1-A', None])
    >>> round(float(found.gap_distance_m[0]) / 1000)
    56
    >>> found.to_frame().columns[:7].tolist()
    ['lon', 'lat', 'status', 'county_code', 'town_code', 'village_code', 'micro_code']
    """

    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    owner_row: npt.NDArray[np.int32]
    status: npt.NDArray[np.str_]
    gap_point: npt.NDArray[np.int64]
    gap_level: npt.NDArray[np.int8]
    gap_row: npt.NDArray[np.int32]
    gap_distance_m: npt.NDArray[np.float64]
    industry_point: npt.NDArray[np.int64]
    industry_row: npt.NDArray[np.int32]
    grid_codes: npt.NDArray[np.object_]

    def __len__(self) -> int:
        return len(self.lon)

    def codes(self, level: str) -> npt.NDArray[np.object_]:
        """Return the code of the owning grid at ``level`` per point (None for none)."""
        return self._code_of(self.owner_row[:, _level_column(level)])

    def nearest_codes(self, level: str) -> npt.NDArray[np.object_]:
        """Return the code of the nearest grid at ``level`` for points in a gap there."""
        rows = np.full(len(self), -1, dtype=np.int64)
        at_level = self.gap_level == _level_column(level)
        rows[self.gap_point[at_level]] = self.gap_row[at_level]
        return self._code_of(rows)

    def nearest_distances_m(self, level: str) -> npt.NDArray[np.float64]:
        """Return the distance (m) to that grid for points in a gap there, else NaN."""
        out = np.full(len(self), np.nan)
        at_level = self.gap_level == _level_column(level)
        out[self.gap_point[at_level]] = self.gap_distance_m[at_level]
        return out

    def industry_codes(self) -> list[list[str]]:
        """Return, per point, the codes of all industry grids covering it."""
        codes = self.grid_codes[self.industry_row]
        bounds = np.searchsorted(self.industry_point, np.arange(len(self) + 1))
        return [list(codes[a:b]) for a, b in itertools.pairwise(bounds)]

    def point(self, i: int) -> PointLocation:
        """Return the answer for point ``i`` as a :class:`PointLocation`."""
        owner = self._code_of(self.owner_row[i])
        lo, hi = np.searchsorted(self.industry_point, [i, i + 1])
        g_lo, g_hi = np.searchsorted(self.gap_point, [i, i + 1])
        gaps = tuple(
            GridGap(TERRITORIAL_LEVELS[k], str(self.grid_codes[row]), float(m))
            for k, row, m in zip(
                self.gap_level[g_lo:g_hi],
                self.gap_row[g_lo:g_hi],
                self.gap_distance_m[g_lo:g_hi],
                strict=True,
            )
        )
        return PointLocation(
            lon=float(self.lon[i]),
            lat=float(self.lat[i]),
            status=LocateStatus(str(self.status[i])),
            county_code=owner[0],
            town_code=owner[1],
            village_code=owner[2],
            micro_code=owner[3],
            industry_codes=tuple(str(c) for c in self.grid_codes[self.industry_row[lo:hi]]),
            gaps=gaps,
        )

    def to_frame(self) -> pd.DataFrame:
        """Return one row per point: codes per level, status, industry codes, gaps.

        Columns: ``lon``, ``lat``, ``status``, ``<level>_code`` per territorial level,
        ``industry_codes`` (list), and ``<level>_nearest_code`` and
        ``<level>_nearest_m`` per territorial level (None and NaN outside gaps).
        """
        columns: dict[str, object] = {"lon": self.lon, "lat": self.lat}
        columns["status"] = pd.Categorical(self.status, categories=[s.value for s in LocateStatus])
        for level in TERRITORIAL_LEVELS:
            columns[f"{level}_code"] = self.codes(level)
        columns["industry_codes"] = self.industry_codes()
        for level in TERRITORIAL_LEVELS:
            columns[f"{level}_nearest_code"] = self.nearest_codes(level)
            columns[f"{level}_nearest_m"] = self.nearest_distances_m(level)
        return pd.DataFrame(columns)

    def _code_of(self, rows: npt.NDArray[np.integer]) -> npt.NDArray[np.object_]:
        with_none = np.empty(len(self.grid_codes) + 1, dtype=object)
        with_none[:-1] = self.grid_codes  # and None last, which row -1 picks
        return with_none[rows]


def _level_column(level: str) -> int:
    try:
        return TERRITORIAL_LEVELS.index(level)
    except ValueError:
        raise ValueError(
            f"unknown territorial level {level!r}; expected one of {TERRITORIAL_LEVELS}"
        ) from None
