"""Vectorised line cutting for routes and service areas (private)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from geogrid.errors import InvalidGeometryError

__all__ = ["line_array", "substrings"]


def substrings(
    lines: npt.ArrayLike, start: npt.ArrayLike, end: npt.ArrayLike
) -> npt.NDArray[np.object_]:
    """Return the part of each line between two fractions of its length.

    The piece runs from ``start`` to ``end``; it is reversed when ``start > end``. A
    piece with ``start == end`` is a zero-length line (the point, twice).

    Examples
    --------
    >>> from shapely import LineString
    >>> line = LineString([(0, 0), (10, 0), (10, 10)])
    >>> [g.wkt for g in substrings([line, line], [0.25, 1.0], [0.75, 0.5])]
    ['LINESTRING (5 0, 10 0, 10 5)', 'LINESTRING (10 10, 10 0)']
    """
    lines_a = np.asarray(lines, dtype=object).reshape(-1)
    start_a = np.clip(np.asarray(start, dtype=float).reshape(-1), 0.0, 1.0)
    end_a = np.clip(np.asarray(end, dtype=float).reshape(-1), 0.0, 1.0)
    k = len(lines_a)
    if k == 0:
        return np.empty(0, dtype=object)
    lo, hi = np.minimum(start_a, end_a), np.maximum(start_a, end_a)
    coords, piece = shapely.get_coordinates(lines_a, return_index=True)
    step = np.zeros(len(coords))
    same = piece[1:] == piece[:-1]
    step[1:] = np.where(same, np.hypot(*(coords[1:] - coords[:-1]).T), 0.0)
    along = np.cumsum(step)
    counts = np.bincount(piece, minlength=k)
    first = np.cumsum(counts) - counts
    along -= along[first][piece]
    length = along[first + counts - 1]
    inner = (along > lo[piece] * length[piece]) & (along < hi[piece] * length[piece])
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines_a, lo, normalized=True))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines_a, hi, normalized=True))
    ids = np.concatenate([np.arange(k), piece[inner], np.arange(k)])
    pos = np.concatenate([lo * length, along[inner], hi * length])
    rank = np.concatenate([np.zeros(k), np.ones(inner.sum()), np.full(k, 2.0)])
    xy = np.concatenate([a, coords[inner], b])
    flip = np.where(start_a > end_a, -1.0, 1.0)[ids]
    order = np.lexsort((rank * flip, pos * flip, ids))
    return np.asarray(shapely.linestrings(xy[order], indices=ids[order]))


def line_array(geoms: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Return ``geoms`` as an object array after checking they are non-empty LineStrings."""
    arr = np.asarray(geoms, dtype=object).reshape(-1)
    if arr.size == 0:
        return arr
    types = shapely.get_type_id(arr)
    bad = np.flatnonzero((types != shapely.GeometryType.LINESTRING) | shapely.is_empty(arr))
    if bad.size:
        raise InvalidGeometryError(
            f"roads must be non-empty LineStrings; {bad.size} are not (first at position "
            f"{int(bad[0])}); explode MultiLineStrings before building the network",
            details={"positions": bad[:20].tolist()},
        )
    return arr
