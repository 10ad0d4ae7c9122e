"""Coordinates and geometries from any accepted system to WGS 84 and back."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pyproj
import shapely

from geogrid.crs._arrays import Coord, FloatArray, Geoms, as_float_arrays, like_input
from geogrid.crs.china import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from geogrid.crs.systems import (
    CoordSystem,
    CRSLike,
    RefusedEPSGError,
    epsg_transformers,
    parse_crs,
    unknown_crs,
)

__all__ = ["from_wgs84", "geometries_from_wgs84", "geometries_to_wgs84", "to_wgs84"]


def _epsg_pair(system: CoordSystem) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    if system.epsg is None:
        raise unknown_crs(system)
    try:
        return epsg_transformers(system.epsg)
    except RefusedEPSGError as error:
        raise unknown_crs(system.name, error.reason) from None


def _project(transformer: pyproj.Transformer, x: Any, y: Any) -> tuple[Any, Any]:
    out_x, out_y = transformer.transform(*as_float_arrays(x, y))
    return like_input(np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64))


def to_wgs84(x: Coord, y: Coord, crs: CRSLike = None) -> tuple[Coord, Coord]:
    """Convert coordinates in any accepted coordinate system to WGS 84.

    Parameters
    ----------
    x, y
        Coordinates in ``crs``, x first: longitude/latitude in degrees for geographic
        systems, easting/northing for projected ones. Floats, or arrays that broadcast.
    crs
        Anything :func:`parse_crs` accepts; None means WGS 84.

    Returns
    -------
    tuple
        WGS 84 longitude and latitude: floats for scalar input, float64 arrays otherwise.
        Points PROJ cannot convert come back as ``inf``; NaN stays NaN.

    Raises
    ------
    UnknownCRSError
        If ``crs`` is not accepted.

    Examples
    --------
    >>> lon, lat = to_wgs84(np.array([260_311.2]), np.array([3_063_008.7]), "EPSG:32651")
    >>> lon.round(4), lat.round(4)
    (array([120.57]), array([27.67]))
    >>> to_wgs84(120.57, 27.67, "cgcs2000")
    (120.57, 27.67)
    """
    system = parse_crs(crs)
    if system.kind == "gcj02":
        return gcj02_to_wgs84(x, y)
    if system.kind == "bd09":
        return bd09_to_wgs84(x, y)
    if system.kind == "epsg":
        return _project(_epsg_pair(system)[0], x, y)
    return like_input(*as_float_arrays(x, y))


def from_wgs84(lon: Coord, lat: Coord, crs: CRSLike = None) -> tuple[Coord, Coord]:
    """Convert WGS 84 longitude/latitude to any accepted coordinate system.

    Parameters
    ----------
    lon, lat
        WGS 84 degrees: floats, or arrays that broadcast together.
    crs
        Anything :func:`parse_crs` accepts; None means WGS 84.

    Returns
    -------
    tuple
        x and y in ``crs`` (longitude/latitude or easting/northing): floats for scalar
        input, float64 arrays otherwise.

    Raises
    ------
    UnknownCRSError
        If ``crs`` is not accepted.

    Examples
    --------
    >>> x, y = from_wgs84(120.57, 27.67, "EPSG:32651")
    >>> round(x), round(y)
    (260311, 3063009)
    >>> lon, lat = from_wgs84(120.57, 27.67, "bd09")
    >>> round(lon, 6), round(lat, 6)
    (120.580396, 27.672711)
    """
    system = parse_crs(crs)
    if system.kind == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if system.kind == "bd09":
        return wgs84_to_bd09(lon, lat)
    if system.kind == "epsg":
        return _project(_epsg_pair(system)[1], lon, lat)
    return like_input(*as_float_arrays(lon, lat))


def _transform_geometries(geoms: Any, convert: Any) -> Any:
    def convert_xy(
        x: FloatArray, y: FloatArray, z: FloatArray | None = None
    ) -> tuple[FloatArray, ...]:
        new_x, new_y = convert(x, y)
        return (new_x, new_y) if z is None else (new_x, new_y, z)

    return shapely.transform(geoms, convert_xy, include_z=None, interleaved=False)


def _unchanged(geoms: Any) -> Any:
    if geoms is None or isinstance(geoms, shapely.Geometry):
        return geoms
    return np.array(geoms, dtype=object)


def geometries_to_wgs84(geoms: Geoms, crs: CRSLike = None) -> Geoms:
    """Convert shapely geometries from any accepted coordinate system to WGS 84.

    Z values are kept as they are; None and empty geometries come back as they went in.

    Parameters
    ----------
    geoms
        A shapely geometry or an array of them (a GeoSeries's ``.values`` will do), in
        ``crs``.
    crs
        Anything :func:`parse_crs` accepts; None means WGS 84.

    Returns
    -------
    shapely.Geometry or numpy.ndarray
        The same geometries in WGS 84; a new object array for array input.

    Examples
    --------
    >>> import shapely
    >>> point = shapely.Point(120.573920, 27.666639)
    >>> shapely.set_precision(geometries_to_wgs84(point, "gcj02"), 1e-5)
    <POINT (120.57 27.67)>
    >>> geometries_to_wgs84(np.array([None, shapely.Point()]), "gcj02").tolist()
    [None, <POINT EMPTY>]
    """
    system = parse_crs(crs)
    if system.kind == "wgs84":
        return cast("Geoms", _unchanged(geoms))
    return cast("Geoms", _transform_geometries(geoms, lambda x, y: to_wgs84(x, y, system)))


def geometries_from_wgs84(geoms: Geoms, crs: CRSLike = None) -> Geoms:
    """Convert shapely geometries from WGS 84 to any accepted coordinate system.

    Z values are kept as they are; None and empty geometries come back as they went in.

    Parameters
    ----------
    geoms
        A shapely geometry or an array of them, in WGS 84.
    crs
        Anything :func:`parse_crs` accepts; None means WGS 84.

    Returns
    -------
    shapely.Geometry or numpy.ndarray
        The same geometries in ``crs``; a new object array for array input.

    Examples
    --------
    >>> import shapely
    >>> line = shapely.LineString([(120.57, 27.67), (120.58, 27.68)])
    >>> shapely.set_precision(geometries_from_wgs84(line, "EPSG:32651"), 1.0)
    <LINESTRING (260311 3063009, 261320 3064098)>
    """
    system = parse_crs(crs)
    if system.kind == "wgs84":
        return cast("Geoms", _unchanged(geoms))
    converted = _transform_geometries(geoms, lambda lon, lat: from_wgs84(lon, lat, system))
    return cast("Geoms", converted)
