"""What :mod:`geogrid.spatial.gridcheck` finds: grid problems and the grid report.

A :class:`GridProblem` names its kind, the grids involved, its area in square metres and
where it is (a geometry and a representative point, both in EPSG:4326). A
:class:`GridReport` holds the problems of one check with the thresholds it used, counts
them by kind and serialises them to plain dicts or a GeoDataFrame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import geopandas as gpd
import shapely
import shapely.geometry

__all__ = ["GridProblem", "GridReport", "ProblemKind"]


class ProblemKind(StrEnum):
    """What is wrong; the order is the order of reports."""

    NOT_POLYGON = "not_polygon"
    """Geometry missing, empty, not a (multi)polygon, or with no area even after repair."""
    INVALID = "invalid"
    """Invalid geometry (``shapely.is_valid_reason``) that ``make_valid`` can repair."""
    DUPLICATE_CODE = "duplicate_code"
    """Two grids with one code."""
    UNKNOWN_PARENT = "unknown_parent"
    """A territorial grid below county level whose parent is missing or not in the set."""
    LEVEL_MISMATCH = "level_mismatch"
    """A level geogrid does not know, or a child not one level below its parent."""
    CODE_MISMATCH = "code_mismatch"
    """A code that is not the parent's code, ``-`` and one more part."""
    GAP = "gap"
    """Part of a parent that none of its children covers."""
    OVERLAP = "overlap"
    """Area covered by two siblings."""
    OUTSIDE = "outside"
    """Part of a child outside its parent."""
    SLIVER = "sliver"
    """A gap, overlap, outside part or polygon part that is tiny or thin."""
    COVERAGE_EDGE = "coverage_edge"
    """Sibling borders that do not match vertex for vertex, with no gap or overlap above
    the tolerance to show for it (shapely's coverage validation)."""


@dataclass(frozen=True)
class GridProblem:
    """One problem of a grid set.

    Attributes
    ----------
    kind
        What is wrong.
    codes
        The grids involved. By kind: ``gap`` (parent, children bordering the gap);
        ``overlap`` (the two siblings, in code order); ``outside`` (child, parent);
        ``coverage_edge`` (the child whose border does not match, then the siblings near
        it); ``sliver`` as the kind in :attr:`detail`; the others, the grid itself
        (``unknown_parent``, ``level_mismatch`` and ``code_mismatch`` add the parent
        code when there is one).
    message
        One line for people.
    geometry
        Where the problem is (EPSG:4326): the gap, overlap or outside area, the
        mismatching border lines, the point where a geometry is invalid, or a point inside
        the grid for problems of codes and levels.
    area_m2
        Area of the problem in square metres (0 for lines and points; for ``invalid``,
        the area of the repaired geometry).
    length_m
        Length of mismatching borders in metres (``coverage_edge``), else 0.
    width_m
        Mean width ``2 * area / perimeter`` in metres of an area problem, else None.
    parent_code
        The parent whose children are concerned, when there is one.
    detail
        ``invalid``: ``shapely.is_valid_reason``; ``sliver``: the kind it is a sliver
        of (``gap``, ``overlap``, ``outside`` or ``part``); otherwise None or a short
        reason.
    point
        A representative point of :attr:`geometry` (EPSG:4326), on it or inside it.
    """

    kind: ProblemKind
    codes: tuple[str, ...]
    message: str
    geometry: shapely.Geometry
    area_m2: float = 0.0
    length_m: float = 0.0
    width_m: float | None = None
    parent_code: str | None = None
    detail: str | None = None
    point: shapely.Point = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        geom = self.geometry
        point = shapely.Point() if geom is None or geom.is_empty else shapely.point_on_surface(geom)
        object.__setattr__(self, "point", point)

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as JSON-ready values, its location as a GeoJSON geometry."""
        return {
            "kind": str(self.kind),
            "codes": list(self.codes),
            "parent_code": self.parent_code,
            "area_m2": round(self.area_m2, 3),
            "length_m": round(self.length_m, 3),
            "width_m": None if self.width_m is None else round(self.width_m, 3),
            "detail": self.detail,
            "message": self.message,
            "point": _point_xy(self.point),
            "location": shapely.geometry.mapping(self.geometry),
        }


@dataclass(frozen=True)
class GridReport:
    """The problems of a grid set, with the thresholds they were found with.

    Attributes
    ----------
    problems
        Every problem, ordered by kind (as in :class:`ProblemKind`), then parent, then
        codes.
    parent_code
        The parent checked, or None for the whole set.
    grids_checked
        Grids whose geometry, code and level were checked.
    parents_checked
        Parents whose children were checked for tiling (those with children).
    tolerance_m2, sliver_m2, sliver_width_m
        The thresholds used (see :func:`geogrid.spatial.gridcheck.check_grids`).
    """

    problems: tuple[GridProblem, ...]
    parent_code: str | None
    grids_checked: int
    parents_checked: int
    tolerance_m2: float
    sliver_m2: float
    sliver_width_m: float

    @property
    def is_clean(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def counts(self) -> dict[str, int]:
        """Return the number of problems of every kind (zeros included)."""
        out = {str(kind): 0 for kind in ProblemKind}
        for problem in self.problems:
            out[str(problem.kind)] += 1
        return out

    def summary(self) -> dict[str, Any]:
        """Return the headline figures: what was checked, with what, and counts by kind."""
        return {
            "parent_code": self.parent_code,
            "grids_checked": self.grids_checked,
            "parents_checked": self.parents_checked,
            "problems": len(self.problems),
            "by_kind": self.counts(),
            "tolerance_m2": self.tolerance_m2,
            "sliver_m2": self.sliver_m2,
            "sliver_width_m": self.sliver_width_m,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the summary and the problems (see :meth:`GridProblem.to_dict`)."""
        return {"summary": self.summary(), "problems": [p.to_dict() for p in self.problems]}

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """Return one row per problem, its location as the geometry (EPSG:4326).

        Columns: ``kind``, ``codes`` (list of str), ``parent_code``, ``area_m2``,
        ``length_m``, ``width_m``, ``detail``, ``message``, ``point_lon``, ``point_lat``.
        """
        rows = [
            {
                "kind": str(p.kind),
                "codes": list(p.codes),
                "parent_code": p.parent_code,
                "area_m2": p.area_m2,
                "length_m": p.length_m,
                "width_m": p.width_m,
                "detail": p.detail,
                "message": p.message,
                "point_lon": p.point.x if not p.point.is_empty else None,
                "point_lat": p.point.y if not p.point.is_empty else None,
            }
            for p in self.problems
        ]
        columns = [*PROBLEM_COLUMNS]
        return gpd.GeoDataFrame(
            rows or None,
            columns=columns,
            geometry=[p.geometry for p in self.problems],
            crs="EPSG:4326",
        )


PROBLEM_COLUMNS = (
    "kind",
    "codes",
    "parent_code",
    "area_m2",
    "length_m",
    "width_m",
    "detail",
    "message",
    "point_lon",
    "point_lat",
)
"""The property columns of :meth:`GridReport.to_geodataframe`."""


def _point_xy(point: shapely.Point) -> list[float] | None:
    return None if point.is_empty else [point.x, point.y]
