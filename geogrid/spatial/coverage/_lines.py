"""Small vectorised helpers on lines for the entry search (private)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

__all__ = ["flat_parts", "inside_at", "ramp", "span"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def flat_parts(geoms: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.object_], IntArray]:
    """Return the non-empty points and lines in ``geoms`` and the position each came from."""
    parts, which = shapely.get_parts(geoms, return_index=True)
    while np.any(multi := shapely.get_num_geometries(parts) > 1):  # nested collections
        inner, idx = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], inner])
        which = np.concatenate([which[~multi], which[multi][idx]])
    keep = ~shapely.is_empty(parts)
    return parts[keep], which[keep].astype(np.int64)


def span(
    host: npt.NDArray[np.object_], parts: npt.NDArray[np.object_]
) -> tuple[FloatArray, FloatArray]:
    """Return where each part (a point or a piece of its host line) begins and ends on it."""
    points = shapely.get_type_id(parts) == shapely.GeometryType.POINT
    a = np.empty(len(parts))
    b = np.empty(len(parts))
    a[points] = b[points] = shapely.line_locate_point(host[points], parts[points])
    lines = ~points
    a[lines] = shapely.line_locate_point(host[lines], shapely.get_point(parts[lines], 0))
    b[lines] = shapely.line_locate_point(host[lines], shapely.get_point(parts[lines], -1))
    return np.minimum(a, b), np.maximum(a, b)


def inside_at(
    polys: npt.NDArray[np.object_], lines: npt.NDArray[np.object_], at_m: FloatArray
) -> BoolArray:
    """Return whether the point ``at_m`` metres along each line lies inside its polygon."""
    xy = shapely.get_coordinates(shapely.line_interpolate_point(lines, at_m))
    return np.asarray(shapely.contains_xy(polys, xy[:, 0], xy[:, 1]), dtype=bool)


def ramp(counts: IntArray) -> IntArray:
    """Return ``0 .. c - 1`` for every count, concatenated."""
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
