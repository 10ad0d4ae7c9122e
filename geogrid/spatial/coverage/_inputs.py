"""Checks on the frames coverage analysis takes (private)."""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from geogrid.errors import InvalidGeometryError, InvalidRequestError
from geogrid.spatial.roads.routable import require_wgs84

__all__ = ["points_to_lonlat", "polygons_of", "require_columns"]

FloatArray = npt.NDArray[np.float64]


def require_columns(frame: gpd.GeoDataFrame, columns: Iterable[str], what: str) -> None:
    """Refuse a frame not in EPSG:4326 or without the named columns."""
    require_wgs84(frame, what)
    missing = [c for c in columns if c not in frame]
    if missing:
        raise InvalidRequestError(
            f"{what} lack the column(s) {', '.join(missing)}", details={"missing": missing}
        )


def points_to_lonlat(geoms: npt.ArrayLike, what: str) -> tuple[FloatArray, FloatArray]:
    """Return the coordinates of point geometries, refusing anything else.

    Examples
    --------
    >>> from shapely import Point
    >>> [a.tolist() for a in points_to_lonlat([Point(120.5, 27.6)], "addresses")]
    [[120.5], [27.6]]
    """
    arr = np.asarray(geoms, dtype=object).reshape(-1)
    if len(arr) == 0:
        return np.empty(0), np.empty(0)
    bad = np.flatnonzero(
        (shapely.get_type_id(arr) != shapely.GeometryType.POINT) | shapely.is_empty(arr)
    )
    if bad.size:
        raise InvalidGeometryError(
            f"{what} must be non-empty points; {bad.size} are not (first at row {int(bad[0])})",
            details={"rows": bad[:20].tolist()},
        )
    xy = shapely.get_coordinates(arr)
    return xy[:, 0], xy[:, 1]


def polygons_of(frame: gpd.GeoDataFrame, what: str) -> npt.NDArray[np.object_]:
    """Return the frame's geometries, refusing anything but non-empty (Multi)Polygons."""
    arr = np.asarray(frame.geometry.to_numpy(), dtype=object)
    if len(arr) == 0:
        return arr
    types = shapely.get_type_id(arr)
    ok = np.isin(types, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    bad = np.flatnonzero(~ok | shapely.is_empty(arr))
    if bad.size:
        raise InvalidGeometryError(
            f"{what} must be non-empty polygons; {bad.size} are not (first at row {int(bad[0])})",
            details={"rows": bad[:20].tolist()},
        )
    return arr
