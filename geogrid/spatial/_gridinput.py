"""Check and unpack the inputs of :class:`~geogrid.spatial.gridindex.GridIndex`.

Private helper of :mod:`geogrid.spatial.gridindex`: the adapter from a GeoDataFrame to
arrays, the checks that refuse bad grids or points with a clear domain error, and the
lineage of every grid (which territorial levels its ancestors and descendants are at).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from geogrid.errors import AxisOrderError, IngestError, InvalidGeometryError, UnknownCRSError
from geogrid.spatial.gridlocations import TERRITORIAL_LEVELS

__all__ = [
    "GridInput",
    "arrays_from_geodataframe",
    "check_arrays",
    "check_points",
    "expected_levels",
    "lineage_bits",
    "parent_rows",
    "same_values",
]

LEVELS = (*TERRITORIAL_LEVELS, "industry")
ObjectArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


@dataclass(frozen=True, eq=False)
class GridInput:
    """Checked grid arrays, one entry per grid, in input order."""

    codes: ObjectArray
    levels: ObjectArray
    geometries: ObjectArray
    descendant_bits: npt.NDArray[np.int64]
    """Bit ``k`` set when a descendant of the grid is at ``TERRITORIAL_LEVELS[k]``."""
    ancestor_bits: npt.NDArray[np.int64]
    """Bit ``k`` set when an ancestor of the grid is at ``TERRITORIAL_LEVELS[k]``."""
    parent_codes: ObjectArray | None = None


_WGS84_SEEN: list[object] = [None]
"""The last CRS object found to be EPSG:4326 (frames of one source share theirs)."""


def _is_wgs84(crs: object) -> bool:
    """Return True when ``crs`` is EPSG:4326 in any axis order (PROJ asked once per
    CRS object: each asking costs milliseconds)."""
    if crs is None:
        return False
    if crs is _WGS84_SEEN[0]:
        return True
    found = bool(pyproj.CRS(crs).equals("EPSG:4326", ignore_axis_order=True))
    if found:
        _WGS84_SEEN[0] = crs
    return found


def arrays_from_geodataframe(
    grids: gpd.GeoDataFrame,
) -> tuple[ObjectArray, ObjectArray, ObjectArray, ObjectArray]:
    """Return ``code``, ``level``, ``parent_code`` and geometry arrays of a grid frame.

    Refuse a frame not in EPSG:4326 (:class:`UnknownCRSError`) or without a ``code``
    or ``level`` column (:class:`IngestError`). ``parent_code`` is optional.
    """
    if not isinstance(grids, gpd.GeoDataFrame):
        raise IngestError(f"grids must be a GeoDataFrame, got {type(grids).__name__}")
    if not _is_wgs84(grids.crs):
        found = "none" if grids.crs is None else str(grids.crs.to_string())
        raise UnknownCRSError(
            f"grids must be in EPSG:4326 (WGS 84 lon/lat), found CRS {found}; "
            "reproject them with to_crs('EPSG:4326') before building the index",
            details={"expected": "EPSG:4326", "found": found},
        )
    for column in ("code", "level"):
        if column not in grids.columns:
            raise IngestError("grids have no such column", column=column)
    parents = (
        grids["parent_code"].to_numpy(dtype=object)
        if "parent_code" in grids.columns
        else np.full(len(grids), None, dtype=object)
    )
    return (
        grids["code"].to_numpy(dtype=object),
        grids["level"].to_numpy(dtype=object),
        parents,
        np.asarray(grids.geometry.array, dtype=object),
    )


def check_arrays(
    codes: npt.ArrayLike,
    levels: npt.ArrayLike,
    parent_codes: npt.ArrayLike,
    geometries: npt.ArrayLike,
    known_valid: npt.NDArray[np.bool_] | None = None,
    previous: GridInput | None = None,
) -> GridInput:
    """Check parallel grid arrays and work out each grid's lineage.

    ``known_valid`` marks polygons already checked (an index being updated holds them):
    they are not tested for validity again. ``previous`` is the input of the index being
    updated: when the codes, levels and parents are the same, so is the lineage.
    """
    code_a = _object_array(codes)
    level_a = _object_array(levels)
    parent_a = _object_array(parent_codes)
    geom_a = _object_array(geometries)
    if not len(code_a) == len(level_a) == len(parent_a) == len(geom_a):
        raise IngestError("code, level, parent_code and geometry differ in length")

    blank = [i for i, c in enumerate(code_a) if not isinstance(c, str) or not c.strip()]
    if blank:
        raise IngestError("grid code is missing or empty", row=blank[0], column="code")
    seen = pd.Index(code_a)
    if seen.has_duplicates:
        repeated = sorted(set(seen[seen.duplicated()]))
        raise IngestError(
            f"grid codes are not unique: {', '.join(repeated[:5])}",
            column="code",
            details={"repeated": repeated[:20]},
        )
    unknown = [i for i, lv in enumerate(level_a) if lv not in LEVELS]
    if unknown:
        raise IngestError(
            f"unknown grid level {level_a[unknown[0]]!r}; expected one of {', '.join(LEVELS)}",
            row=unknown[0],
            column="level",
        )
    _check_geometries(code_a, geom_a, known_valid)
    if (
        previous is not None
        and previous.parent_codes is not None
        and same_values(code_a, previous.codes)
        and same_values(level_a, previous.levels)
        and same_values(parent_a, previous.parent_codes)
    ):
        bits = previous.descendant_bits, previous.ancestor_bits
    else:
        bits = lineage_bits(code_a, level_a, parent_a)
    return GridInput(code_a, level_a, geom_a, *bits, parent_a)


def same_values(a: ObjectArray, b: ObjectArray) -> bool:
    """Return True when two object arrays hold equal values in the same order (a
    missing value, None or NaN, equal to a missing one)."""
    if len(a) != len(b):
        return False
    return bool(((a == b) | (pd.isna(a) & pd.isna(b))).all())


def _object_array(values: npt.ArrayLike) -> ObjectArray:
    items = list(values)  # type: ignore[arg-type]
    out: ObjectArray = np.empty(len(items), dtype=np.object_)
    out[:] = items
    return out


def _check_geometries(
    codes: ObjectArray, geoms: ObjectArray, known_valid: npt.NDArray[np.bool_] | None
) -> None:
    is_geom = np.array([isinstance(g, shapely.Geometry) for g in geoms], dtype=bool)
    bad = ~is_geom
    bad[is_geom] = ~np.isin(shapely.get_type_id(geoms[is_geom]), _POLYGONAL) | shapely.is_empty(
        geoms[is_geom]
    )
    if bad.any():
        raise InvalidGeometryError(
            "grid geometry is missing, empty or not a (multi)polygon: "
            + ", ".join(map(str, codes[bad][:5])),
            details={"codes": [str(c) for c in codes[bad][:20]]},
        )
    invalid = np.zeros(len(geoms), dtype=bool)
    to_test = np.ones(len(geoms), dtype=bool) if known_valid is None else ~known_valid
    invalid[to_test] = ~shapely.is_valid(geoms[to_test])
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid][:5])
        raise InvalidGeometryError(
            "grid geometry is invalid (repair it at ingest): "
            + "; ".join(f"{c}: {r}" for c, r in zip(codes[invalid][:5], reasons, strict=False)),
            details={"codes": [str(c) for c in codes[invalid][:20]]},
        )


def parent_rows(
    codes: ObjectArray, levels: ObjectArray, parents: ObjectArray
) -> npt.NDArray[np.int64]:
    """Return, per grid, the row of its parent (-1 for none).

    The parent is ``parent_code`` when it names a territorial grid of a coarser level,
    else the code minus its last ``-`` part when that names one, else none. Industry
    grids have no parent.
    """
    rank = np.array([LEVELS.index(lv) for lv in levels], dtype=np.int64)
    territorial = rank < len(TERRITORIAL_LEVELS)
    row_of = {c: i for i, c in enumerate(codes)}
    parent_row = np.full(len(codes), -1, dtype=np.int64)
    for i in np.flatnonzero(territorial):
        for candidate in (parents[i], codes[i].rpartition("-")[0]):
            p = row_of.get(candidate) if isinstance(candidate, str) else None
            if p is not None and territorial[p] and rank[p] < rank[i]:
                parent_row[i] = p
                break
    return parent_row


def lineage_bits(
    codes: ObjectArray, levels: ObjectArray, parents: ObjectArray
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return, per grid, the level bits of its descendants and of its ancestors
    (parents as :func:`parent_rows` finds them)."""
    n = len(codes)
    rank = np.array([LEVELS.index(lv) for lv in levels], dtype=np.int64)
    territorial = rank < len(TERRITORIAL_LEVELS)
    parent_row = parent_rows(codes, levels, parents)
    bits = np.where(territorial, 1 << np.minimum(rank, 62), 0).astype(np.int64)
    descendants = np.zeros(n, dtype=np.int64)
    ancestors = np.zeros(n, dtype=np.int64)
    child = np.arange(n)
    ancestor = parent_row.copy()
    for _ in TERRITORIAL_LEVELS:  # a chain is at most as long as the levels
        live = ancestor >= 0
        if not live.any():
            break
        np.bitwise_or.at(descendants, ancestor[live], bits[child[live]])
        np.bitwise_or.at(ancestors, child[live], bits[ancestor[live]])
        child, ancestor = child[live], parent_row[ancestor[live]]
    return descendants, ancestors


def expected_levels(
    owner: npt.NDArray[np.int32],
    ancestor_bits: npt.NDArray[np.int64],
    descendant_bits: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Return per point the bits of the levels that exist there (``GridIndex`` rule 5).

    ``owner`` holds the owning row per point and territorial level (-1 none); the bits
    are :func:`lineage_bits`' with one more entry, 0, last (what row -1 picks).
    """
    n, n_levels = owner.shape
    expected = np.zeros(n, dtype=np.int64)
    finer = np.full(n, -1, dtype=np.int64)  # nearest owner at a finer level
    for k in range(n_levels - 1, -1, -1):
        expected |= ancestor_bits[finer] & (1 << k)
        finer = np.where(owner[:, k] >= 0, owner[:, k], finer)
    coarser = np.full(n, -1, dtype=np.int64)  # nearest owner at a coarser level
    for k in range(n_levels):
        expected |= descendant_bits[coarser] & (1 << k)
        coarser = np.where(owner[:, k] >= 0, owner[:, k], coarser)
    return expected


def check_points(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return lon, lat as 1-D float arrays, or refuse them with a clear error."""
    x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if x.ndim != 1 or x.shape != y.shape:
        raise InvalidGeometryError(
            f"lon and lat must be 1-D and of the same length, got {x.shape} and {y.shape}"
        )
    bad = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        details = {"bad_points": int(bad.sum()), "first_bad_index": first}
        swapped = (np.abs(y) <= 180) & (np.abs(x) <= 90)  # valid if lon, lat were swapped
        if swapped[bad].all():
            raise AxisOrderError(
                "latitudes out of range that would be valid longitudes: "
                "give longitude first, then latitude",
                details=details,
            )
        raise InvalidGeometryError(
            f"{details['bad_points']} point(s) are not finite lon/lat degrees "
            f"(first at index {first})",
            details=details,
        )
    return np.ascontiguousarray(x), np.ascontiguousarray(y)
