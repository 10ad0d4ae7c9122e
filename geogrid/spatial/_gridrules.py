"""Codes, levels and geometries of single grids (private helper of ``gridcheck``).

Each function returns :class:`~geogrid.spatial.gridproblems.GridProblem` objects whose
geometry is in EPSG:4326.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geogrid.spatial._gridinput import arrays_from_geodataframe
from geogrid.spatial._gridtiling import polygonal
from geogrid.spatial._projection import LocalProjection
from geogrid.spatial.gridlocations import TERRITORIAL_LEVELS
from geogrid.spatial.gridproblems import GridProblem, ProblemKind

__all__ = [
    "LEVELS",
    "GridArrays",
    "checked_geometry",
    "duplicate_codes",
    "grid_arrays",
    "lineage_problems",
    "repair_grid_geometry",
]

LEVELS = (*TERRITORIAL_LEVELS, "industry")
ObjectArray = npt.NDArray[np.object_]
GridArrays = tuple[ObjectArray, ObjectArray, ObjectArray, ObjectArray]
_AT = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")
_POLYGON_TYPES = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def grid_arrays(grids: gpd.GeoDataFrame) -> GridArrays:
    """Return ``code``, ``level``, ``parent_code`` (None when missing) and geometry arrays.

    Refuse a frame not in EPSG:4326 or without ``code`` and ``level`` columns. With no
    ``parent_code`` column, a grid's parent is its code without the last ``-`` part.
    """
    codes, levels, parents, geoms = arrays_from_geodataframe(grids)
    codes = np.asarray([str(c) for c in codes], dtype=object)
    if "parent_code" not in grids.columns:
        parents = np.asarray([c.rpartition("-")[0] or None for c in codes], dtype=object)
    else:
        parents = np.asarray(
            [p if isinstance(p, str) and p.strip() else None for p in parents], dtype=object
        )
    levels = np.asarray([lv if isinstance(lv, str) else None for lv in levels], dtype=object)
    return codes, levels, parents, geoms


def repair_grid_geometry(geometry: shapely.Geometry | None) -> shapely.MultiPolygon | None:
    """Return a grid geometry as a valid MultiPolygon, repaired with ``make_valid``.

    The polygons of the repair are kept (lines and points it produces are dropped), as
    the loader does. Returns None when nothing with an area is left: a missing, empty or
    non-polygonal geometry, or one that collapses.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> repaired = repair_grid_geometry(bowtie)
    >>> repaired.geom_type, len(repaired.geoms), repaired.area
    ('MultiPolygon', 2, 2.0)
    >>> repair_grid_geometry(shapely.LineString([(0, 0), (1, 1)])) is None
    True
    """
    if not isinstance(geometry, shapely.Geometry) or geometry.is_empty:
        return None
    if shapely.get_type_id(geometry) not in _POLYGON_TYPES:
        return None
    fixed = geometry if geometry.is_valid else shapely.make_valid(geometry)
    parts = [p for p in shapely.get_parts(polygonal(fixed)) if p.area > 0]
    return shapely.MultiPolygon(parts) if parts else None


def checked_geometry(
    code: str, geometry: shapely.Geometry | None, *, parent_code: str | None = None
) -> tuple[shapely.MultiPolygon | None, list[GridProblem]]:
    """Return the usable (repaired) geometry of a grid and what was wrong with it."""
    fixed = repair_grid_geometry(geometry)
    if fixed is None:
        what = _describe_unusable(geometry)
        where = (
            shapely.point_on_surface(geometry)
            if isinstance(geometry, shapely.Geometry) and not geometry.is_empty
            else shapely.Point()
        )
        problem = GridProblem(
            ProblemKind.NOT_POLYGON,
            (code,),
            f"{code}: the geometry is {what}; a grid needs a polygon with an area",
            where,
            parent_code=parent_code,
            detail=what,
        )
        return None, [problem]
    if shapely.is_valid(geometry):
        return fixed, []
    reason = str(shapely.is_valid_reason(geometry))
    return fixed, [_invalid(code, fixed, reason, parent_code)]


def _invalid(
    code: str,
    fixed: shapely.MultiPolygon,
    reason: str,
    parent_code: str | None,
) -> GridProblem:
    xmin, ymin, xmax, ymax = fixed.bounds
    proj = LocalProjection.around([xmin, xmax], [ymin, ymax])
    area = float(shapely.area(proj.geometries_to_xy([fixed]))[0])
    match = _AT.search(reason)
    where = shapely.point_on_surface(fixed)
    if match:
        x, y = float(match.group(1)), float(match.group(2))
        if np.isfinite(x) and np.isfinite(y):
            where = shapely.Point(x, y)
    n = len(fixed.geoms)
    return GridProblem(
        ProblemKind.INVALID,
        (code,),
        f"{code}: invalid geometry ({reason}); make_valid repairs it into "
        f"{n} polygon{'s' if n > 1 else ''} of {area:,.0f} m² in all",
        where,
        area_m2=area,
        parent_code=parent_code,
        detail=reason,
    )


def _describe_unusable(geometry: object) -> str:
    if not isinstance(geometry, shapely.Geometry):
        return "missing"
    if geometry.is_empty:
        return "empty"
    if shapely.get_type_id(geometry) not in _POLYGON_TYPES:
        return f"a {geometry.geom_type}, not a polygon"
    return f"without area after repair ({shapely.is_valid_reason(geometry)})"


def duplicate_codes(codes: ObjectArray, points: ObjectArray) -> list[GridProblem]:
    """Return one problem per code held by more than one grid."""
    index = pd.Index(codes)
    repeated = sorted(set(index[index.duplicated()]))
    first = {c: i for i, c in reversed(list(enumerate(codes)))}
    return [
        GridProblem(
            ProblemKind.DUPLICATE_CODE,
            (code,),
            f"{code}: {int((index == code).sum())} grids have this code; codes must be unique",
            points[first[code]],
        )
        for code in repeated
    ]


def lineage_problems(
    code: str,
    level: str | None,
    parent_code: str | None,
    parent_level: str | None,
    where: shapely.Geometry,
    *,
    parent_known: bool,
) -> list[GridProblem]:
    """Return what is wrong with a grid's level, parent and code.

    A county needs no parent. Other territorial grids need a parent in the set one level
    up (county › town › village › micro); an industry grid may have a territorial parent.
    A child's code is its parent's code, ``-`` and one more part.
    """
    codes = (code, parent_code) if parent_code else (code,)

    def problem(kind: ProblemKind, message: str) -> GridProblem:
        return GridProblem(kind, codes, f"{code}: {message}", where, parent_code=parent_code)

    if level not in LEVELS:
        return [problem(ProblemKind.LEVEL_MISMATCH, f"unknown level {level!r}")]
    if level == "county":
        return []
    if parent_code is None:
        if level == "industry":
            return []
        return [problem(ProblemKind.UNKNOWN_PARENT, f"a {level} grid needs a parent")]
    out = []
    if not parent_known:
        out.append(problem(ProblemKind.UNKNOWN_PARENT, f"parent {parent_code} does not exist"))
    elif level == "industry":
        if parent_level not in TERRITORIAL_LEVELS:
            out.append(
                problem(
                    ProblemKind.LEVEL_MISMATCH,
                    f"an industry grid's parent must be territorial, {parent_code} is "
                    f"{parent_level!r}",
                )
            )
    else:
        wanted = TERRITORIAL_LEVELS[TERRITORIAL_LEVELS.index(level) - 1]
        if parent_level != wanted:
            out.append(
                problem(
                    ProblemKind.LEVEL_MISMATCH,
                    f"a {level} grid's parent must be a {wanted}, {parent_code} is "
                    f"{parent_level!r}",
                )
            )
    head, dash, tail = code.rpartition("-")
    if not (dash and head == parent_code and tail):
        out.append(
            problem(
                ProblemKind.CODE_MISMATCH,
                f"the code does not extend its parent's: expected {parent_code}-<part>",
            )
        )
    return out
