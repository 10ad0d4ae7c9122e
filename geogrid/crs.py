"""Parse coordinate systems and convert coordinates to and from WGS 84.

geogrid stores WGS 84 longitude/latitude (EPSG:4326) and accepts these at its edges:

``wgs84`` (the default)
    GPS coordinates, EPSG:4326.
``cgcs2000``
    China Geodetic Coordinate System 2000, EPSG:4490, used by official Chinese data. It
    differs from WGS 84 by a few centimetres, far below what grid work can resolve, so
    geogrid treats it as identical to WGS 84 and converts nothing.
``gcj02``
    "Mars coordinates", the obfuscated frame of Amap/Gaode and Tencent maps: WGS 84 shifted
    by 100-700 m in a non-linear way.
``bd09``
    Baidu maps: GCJ-02 shifted again by roughly another 1 km.
``EPSG:n``
    Any geographic or projected CRS known to PROJ, for example EPSG:32651 (UTM 51N) or
    EPSG:4549 (CGCS2000 Gauss-Krüger, central meridian 120° E).

Every function here takes and returns coordinates in x, y order: longitude then latitude,
or easting then northing, whatever the CRS's official axis order (EPSG:4326 officially
lists latitude first; geogrid never does).

The box rule
------------
GCJ-02 and BD-09 exist only for China. Like the widely used public implementations,
geogrid decides "inside China" with a rough box, :data:`CHINA_BOUNDS`: longitude
72.004-137.8347° E and latitude 0.8293-55.8271° N, bounds included. Every conversion
between WGS 84, GCJ-02 and BD-09 returns points outside the box unchanged, so outside it
all three frames coincide. Each function applies the box to its own input. The box holds
all of China with at least a degree to spare, which keeps the round trip exact on Chinese
territory; it also covers neighbours (Korea, Mongolia, much of Southeast Asia), where the
shift is applied although those maps may not use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, TypeVar, cast, overload

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from pyproj.exceptions import CRSError, ProjError

from geogrid.errors import InvalidGeometryError, UnknownCRSError

__all__ = [
    "BD09",
    "CGCS2000",
    "CHINA_BOUNDS",
    "GCJ02",
    "WGS84",
    "CRSKind",
    "CRSLike",
    "CoordSystem",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geometries_from_wgs84",
    "geometries_to_wgs84",
    "looks_swapped",
    "metric_crs_for_bounds",
    "parse_crs",
    "to_wgs84",
    "utm_crs_for",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CRSKind = Literal["wgs84", "gcj02", "bd09", "epsg"]

Coord = TypeVar("Coord", float, npt.NDArray[Any])
Geoms = TypeVar("Geoms", shapely.Geometry, npt.NDArray[np.object_], None)

CHINA_BOUNDS: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)
"""The rough box (min lon, min lat, max lon, max lat) inside which GCJ-02 and BD-09 shift."""


@dataclass(frozen=True, slots=True)
class CoordSystem:
    """A coordinate system geogrid accepts at its edges.

    Parameters
    ----------
    name
        Canonical name: ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``, ``"bd09"`` or
        ``"EPSG:n"``.
    epsg
        The EPSG code, or None for GCJ-02 and BD-09, which have none.
    kind
        How coordinates are converted: ``"wgs84"`` (nothing to do; also CGCS2000),
        ``"gcj02"``, ``"bd09"`` or ``"epsg"`` (through PROJ).
    """

    name: str
    epsg: int | None
    kind: CRSKind

    def __str__(self) -> str:
        return self.name


WGS84 = CoordSystem("wgs84", 4326, "wgs84")
CGCS2000 = CoordSystem("cgcs2000", 4490, "wgs84")
GCJ02 = CoordSystem("gcj02", None, "gcj02")
BD09 = CoordSystem("bd09", None, "bd09")

CRSLike = CoordSystem | str | int | None
"""Anything :func:`parse_crs` accepts."""

# --------------------------------------------------------------------------- parsing

_ACCEPTED_FORMS = (
    "wgs84 (default; also 'WGS 84', EPSG:4326, CRS84), cgcs2000 (EPSG:4490), "
    "gcj02 (Amap/Gaode, Tencent; also 'gcj-02'), bd09 (Baidu; also 'bd-09'), "
    "or a geographic or projected EPSG code as 'EPSG:32651', '32651', 32651, "
    "'http://www.opengis.net/def/crs/EPSG/0/32651' or 'urn:ogc:def:crs:EPSG::32651'"
)

# Names compared after lower-casing and dropping spaces, hyphens and underscores.
# The "...ll" forms are the coordinate type names of Baidu's web APIs.
_NAMES: dict[str, CoordSystem] = {
    "wgs84": WGS84,
    "wgs84ll": WGS84,
    "crs84": WGS84,
    "ogc:crs84": WGS84,
    "[ogc:crs84]": WGS84,
    "cgcs2000": CGCS2000,
    "gcj02": GCJ02,
    "gcj02ll": GCJ02,
    "bd09": BD09,
    "bd09ll": BD09,
}

_CRS84_URI = re.compile(
    r"(https?://www\.opengis\.net/def/crs/ogc/1\.3/|urn:ogc:def:crs:ogc:(1\.3)?:)crs84"
)
_EPSG_FORMS = re.compile(
    r"(epsg:)?(?P<plain>\d+)"
    r"|\[epsg:(?P<curie>\d+)\]"
    r"|https?://www\.opengis\.net/def/crs/epsg/[\d.]+/(?P<uri>\d+)"
    r"|urn:ogc:def:crs:epsg:[\d.]*:(?P<urn>\d+)"
)


def parse_crs(value: CRSLike) -> CoordSystem:
    """Parse a coordinate system name, EPSG code or OGC URI.

    Names are case-insensitive and ignore spaces, hyphens and underscores. EPSG:4326, CRS84
    and their URIs all mean :data:`WGS84`; EPSG:4490 means :data:`CGCS2000`. Any other EPSG
    code must name a geographic or projected CRS that PROJ can relate to WGS 84.

    Parameters
    ----------
    value
        A name (``"wgs84"``, ``"WGS 84"``, ``"cgcs2000"``, ``"gcj02"``, ``"gcj-02"``,
        ``"bd09"``, ``"bd-09"``), an EPSG code (``"EPSG:32651"``, ``"32651"``, ``32651``),
        an OGC URI or URN (``"http://www.opengis.net/def/crs/EPSG/0/4326"``,
        ``"http://www.opengis.net/def/crs/OGC/1.3/CRS84"``), a :class:`CoordSystem`
        (returned as is), or None for WGS 84.

    Returns
    -------
    CoordSystem

    Raises
    ------
    UnknownCRSError
        If the value names nothing geogrid knows, or a CRS it cannot convert (vertical or
        geocentric CRSs, datums PROJ has no transformation to WGS 84 for).

    Notes
    -----
    EPSG:4326 officially lists latitude first; geogrid keeps longitude first everywhere,
    so an OGC API edge that honours the official axis order must swap before calling in.

    Xian 1980 CRSs (EPSG:4610 and its Gauss-Krüger projections) are refused: PROJ has no
    parameters for that datum and would silently leave out a shift that can reach tens
    of metres. Beijing
    1954 CRSs are accepted, but PROJ only knows parameter sets fitted to a few oil basins
    and applies them everywhere; convert such data to CGCS2000 with the provider's own
    parameters when metres matter.

    Examples
    --------
    >>> parse_crs("GCJ-02")
    CoordSystem(name='gcj02', epsg=None, kind='gcj02')
    >>> parse_crs("http://www.opengis.net/def/crs/EPSG/0/4326") == parse_crs(None)
    True
    >>> parse_crs(32651).name
    'EPSG:32651'
    >>> parse_crs("mars")
    Traceback (most recent call last):
    ...
    geogrid.errors.UnknownCRSError: unknown coordinate system 'mars'. Accepted: wgs84 ...
    """
    if value is None:
        return WGS84
    if isinstance(value, CoordSystem):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _unknown(value)
    if isinstance(value, int):
        return _crs_from_epsg(value, value)
    if value in _NAMES:  # already canonical, e.g. "wgs84": the common case, no regex
        return _NAMES[value]
    text = value.strip().lower()
    name = re.sub(r"[\s_\-]+", "", text)
    if name in _NAMES:
        return _NAMES[name]
    if _CRS84_URI.fullmatch(text.rstrip("/")):
        return WGS84
    match = _EPSG_FORMS.fullmatch(text.rstrip("/"))
    if match is None:
        raise _unknown(value)
    code = next(group for group in match.group("plain", "curie", "uri", "urn") if group)
    return _crs_from_epsg(int(code), value)


def _unknown(value: object, reason: str | None = None) -> UnknownCRSError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    why = f"unknown coordinate system {shown}" if reason is None else reason
    return UnknownCRSError(f"{why}. Accepted: {_ACCEPTED_FORMS}", details={"crs": shown})


def _crs_from_epsg(code: int, value: object) -> CoordSystem:
    if code == 4326:
        return WGS84
    if code == 4490:
        return CGCS2000
    if not 0 < code < 2**31:
        raise _unknown(value)
    try:
        _epsg_transformers(code)
    except _RefusedEPSGError as error:
        raise _unknown(value, error.reason) from None
    return CoordSystem(f"EPSG:{code}", code, "epsg")


class _RefusedEPSGError(Exception):
    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason


@lru_cache(maxsize=64)
def _epsg_transformers(code: int) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    """Build (to WGS 84, from WGS 84) transformers for an EPSG code, or refuse the code.

    PROJ relates a datum it has no parameters for to WGS 84 by a "ballpark" no-op, which
    for the older Chinese datums (Xian 1980, and Beijing 1954 where PROJ's regional
    parameters do not reach) is off by tens of metres. The no-op is right
    only for WGS 84 and CGCS2000, so it is allowed for those alone. pyproj transformers
    are thread-safe, so sharing cached ones is fine.
    """
    try:
        crs = pyproj.CRS.from_epsg(code)
    except CRSError:
        raise _RefusedEPSGError from None
    geodetic = crs.geodetic_crs
    if geodetic is None or not (crs.is_geographic or crs.is_projected):
        raise _RefusedEPSGError(f"EPSG:{code} ({crs.name}) is not a geographic or projected CRS")
    no_op_is_right = geodetic.datum in _no_op_datums()
    try:
        return (
            pyproj.Transformer.from_crs(crs, 4326, always_xy=True, allow_ballpark=no_op_is_right),
            pyproj.Transformer.from_crs(4326, crs, always_xy=True, allow_ballpark=no_op_is_right),
        )
    except ProjError:
        raise _RefusedEPSGError(
            f"EPSG:{code} ({crs.name}) is on a datum PROJ cannot convert to WGS 84 accurately;"
            " reproject the data to CGCS2000 or WGS 84 first"
        ) from None


@lru_cache(maxsize=1)
def _no_op_datums() -> tuple[Any, ...]:
    return (pyproj.CRS.from_epsg(4326).datum, pyproj.CRS.from_epsg(4490).datum)


# ------------------------------------------------------------------ GCJ-02 and BD-09

_KRASOVSKY_A_M = 6378245.0
_KRASOVSKY_E2 = 0.00669342162296594323
_BD09_RAD_PER_DEG = math.pi * 3000.0 / 180.0
_BD09_LON_OFFSET = 0.0065
_BD09_LAT_OFFSET = 0.006
_INVERSE_TOLERANCE_DEG = 1e-11  # about a micrometre
_INVERSE_MAX_STEPS = 30

_FloatArray = npt.NDArray[np.float64]
_Pair = tuple[_FloatArray, _FloatArray]
_Forward = Callable[[_FloatArray, _FloatArray], _Pair]


def _gcj02_shift_deg(lon: _FloatArray, lat: _FloatArray) -> _Pair:
    """Return the GCJ-02 shift (east, north) in degrees at WGS 84 points.

    The public formula gives the shift in metres as a polynomial plus sine series in the
    offsets from (105° E, 35° N), then turns metres into degrees with the radii of
    curvature of the Krasovsky 1940 ellipsoid at the point's latitude.
    """
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    both = 20.0 * np.sin(6.0 * pi * x) + 20.0 * np.sin(2.0 * pi * x)
    east_m = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (both + 20.0 * np.sin(pi * x) + 40.0 * np.sin(pi * x / 3.0)
           + 150.0 * np.sin(pi * x / 12.0) + 300.0 * np.sin(pi * x / 30.0)) * 2.0 / 3.0
    )  # fmt: skip
    north_m = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (both + 20.0 * np.sin(pi * y) + 40.0 * np.sin(pi * y / 3.0)
           + 160.0 * np.sin(pi * y / 12.0) + 320.0 * np.sin(pi * y / 30.0)) * 2.0 / 3.0
    )  # fmt: skip
    phi = np.radians(lat)
    w2 = 1.0 - _KRASOVSKY_E2 * np.sin(phi) ** 2
    meridian_radius_m = _KRASOVSKY_A_M * (1.0 - _KRASOVSKY_E2) / (w2 * np.sqrt(w2))
    parallel_radius_m = _KRASOVSKY_A_M / np.sqrt(w2) * np.cos(phi)
    return np.degrees(east_m / parallel_radius_m), np.degrees(north_m / meridian_radius_m)


def _wgs84_to_gcj02_unboxed(lon: _FloatArray, lat: _FloatArray) -> _Pair:
    east, north = _gcj02_shift_deg(lon, lat)
    return lon + east, lat + north


def _gcj02_to_bd09_unboxed(lon: _FloatArray, lat: _FloatArray) -> _Pair:
    radius = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD09_RAD_PER_DEG)
    angle = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD09_RAD_PER_DEG)
    return (
        radius * np.cos(angle) + _BD09_LON_OFFSET,
        radius * np.sin(angle) + _BD09_LAT_OFFSET,
    )


def _invert(forward: _Forward, lon: _FloatArray, lat: _FloatArray, start: _Pair) -> _Pair:
    """Solve ``forward(p) == (lon, lat)`` for p by fixed-point iteration from ``start``.

    Both forward maps are the identity plus a shift that varies slowly: over the China box
    its derivative is at most about 0.01 for GCJ-02 and 0.025 for BD-09. Each step
    ``p += target - forward(p)`` therefore shrinks the error at least 40-fold, and the
    whole box converges to a micrometre in about six steps. (Newton's method would gain
    little and trips over the square-root cusp of the GCJ-02 formula at 105° E.)
    """
    guess_lon, guess_lat = start
    for _ in range(_INVERSE_MAX_STEPS):
        got_lon, got_lat = forward(guess_lon, guess_lat)
        step_lon = lon - got_lon
        step_lat = lat - got_lat
        guess_lon = guess_lon + step_lon
        guess_lat = guess_lat + step_lat
        if max(np.max(np.abs(step_lon)), np.max(np.abs(step_lat))) < _INVERSE_TOLERANCE_DEG:
            break
    return guess_lon, guess_lat


def _gcj02_to_wgs84_unboxed(lon: _FloatArray, lat: _FloatArray) -> _Pair:
    return _invert(_wgs84_to_gcj02_unboxed, lon, lat, start=(lon, lat))


def _bd09_to_gcj02_unboxed(lon: _FloatArray, lat: _FloatArray) -> _Pair:
    # The textbook closed-form inverse is off by up to about 0.2 m; start from it.
    x = lon - _BD09_LON_OFFSET
    y = lat - _BD09_LAT_OFFSET
    radius = np.hypot(x, y) - 0.00002 * np.sin(y * _BD09_RAD_PER_DEG)
    angle = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD09_RAD_PER_DEG)
    start = (radius * np.cos(angle), radius * np.sin(angle))
    return _invert(_gcj02_to_bd09_unboxed, lon, lat, start=start)


def _wgs84_to_bd09_unboxed(lon: _FloatArray, lat: _FloatArray) -> _Pair:
    return _gcj02_to_bd09_unboxed(*_wgs84_to_gcj02_unboxed(lon, lat))


def _bd09_to_wgs84_unboxed(lon: _FloatArray, lat: _FloatArray) -> _Pair:
    return _gcj02_to_wgs84_unboxed(*_bd09_to_gcj02_unboxed(lon, lat))


def _inside_china_box(lon: _FloatArray, lat: _FloatArray) -> npt.NDArray[np.bool_]:
    min_lon, min_lat, max_lon, max_lat = CHINA_BOUNDS
    return (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)


def _as_float_arrays(lon: Any, lat: Any) -> _Pair:
    lon_arr, lat_arr = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return lon_arr.copy(), lat_arr.copy()


def _like_input(lon: _FloatArray, lat: _FloatArray) -> tuple[Any, Any]:
    """Return Python floats for 0-d results and the arrays otherwise."""
    if np.ndim(lon) == 0:
        return float(lon), float(lat)
    return lon, lat


def _shift_inside_china(convert: Any, lon: Any, lat: Any) -> tuple[Any, Any]:
    out_lon, out_lat = _as_float_arrays(lon, lat)
    inside = _inside_china_box(out_lon, out_lat)
    if inside.any():
        out_lon[inside], out_lat[inside] = convert(out_lon[inside], out_lat[inside])
    return _like_input(out_lon, out_lat)


def wgs84_to_gcj02(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert WGS 84 longitude/latitude to GCJ-02 (Amap/Gaode, Tencent).

    Points outside :data:`CHINA_BOUNDS` come back unchanged; NaN stays NaN.

    Parameters
    ----------
    lon, lat
        WGS 84 degrees: floats, or arrays that broadcast together.

    Returns
    -------
    tuple
        GCJ-02 longitude and latitude: floats for scalar input, float64 arrays otherwise.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(120.57, 27.67)  # Pingyang, Zhejiang
    >>> round(lon, 6), round(lat, 6)
    (120.57392, 27.666639)
    >>> wgs84_to_gcj02(np.array([2.35, 120.57]), np.array([48.85, 27.67]))[0].round(4)
    array([  2.35  , 120.5739])
    """
    return _shift_inside_china(_wgs84_to_gcj02_unboxed, lon, lat)


def gcj02_to_wgs84(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert GCJ-02 longitude/latitude (Amap/Gaode, Tencent) to WGS 84.

    The inverse is solved by iteration, not by the usual one-step approximation (which is
    off by metres): the round trip through :func:`wgs84_to_gcj02` agrees to well under a
    millimetre. Points outside :data:`CHINA_BOUNDS` come back unchanged.

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees: floats, or arrays that broadcast together.

    Returns
    -------
    tuple
        WGS 84 longitude and latitude: floats for scalar input, float64 arrays otherwise.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(120.57, 27.67))
    >>> round(lon, 9), round(lat, 9)
    (120.57, 27.67)
    """
    return _shift_inside_china(_gcj02_to_wgs84_unboxed, lon, lat)


def gcj02_to_bd09(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu).

    Points outside :data:`CHINA_BOUNDS` come back unchanged.

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees: floats, or arrays that broadcast together.

    Returns
    -------
    tuple
        BD-09 longitude and latitude: floats for scalar input, float64 arrays otherwise.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(120.57392, 27.666639)
    >>> round(lon, 6), round(lat, 6)
    (120.580396, 27.672711)
    """
    return _shift_inside_china(_gcj02_to_bd09_unboxed, lon, lat)


def bd09_to_gcj02(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert BD-09 longitude/latitude (Baidu) to GCJ-02.

    Solved by iteration; the round trip through :func:`gcj02_to_bd09` agrees to well
    under a millimetre. Points outside :data:`CHINA_BOUNDS` come back unchanged.

    Parameters
    ----------
    lon, lat
        BD-09 degrees: floats, or arrays that broadcast together.

    Returns
    -------
    tuple
        GCJ-02 longitude and latitude: floats for scalar input, float64 arrays otherwise.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(120.57392, 27.666639))
    >>> round(lon, 9), round(lat, 9)
    (120.57392, 27.666639)
    """
    return _shift_inside_china(_bd09_to_gcj02_unboxed, lon, lat)


def wgs84_to_bd09(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert WGS 84 longitude/latitude to BD-09 (Baidu), through GCJ-02.

    The box rule is applied once, to the WGS 84 input. Points outside
    :data:`CHINA_BOUNDS` come back unchanged.

    Parameters
    ----------
    lon, lat
        WGS 84 degrees: floats, or arrays that broadcast together.

    Returns
    -------
    tuple
        BD-09 longitude and latitude: floats for scalar input, float64 arrays otherwise.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(120.57, 27.67)
    >>> round(lon, 6), round(lat, 6)
    (120.580396, 27.672711)
    """
    return _shift_inside_china(_wgs84_to_bd09_unboxed, lon, lat)


def bd09_to_wgs84(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert BD-09 longitude/latitude (Baidu) to WGS 84, through GCJ-02.

    The box rule is applied once, to the BD-09 input. Both steps are solved by iteration;
    the round trip through :func:`wgs84_to_bd09` agrees to well under a millimetre.

    Parameters
    ----------
    lon, lat
        BD-09 degrees: floats, or arrays that broadcast together.

    Returns
    -------
    tuple
        WGS 84 longitude and latitude: floats for scalar input, float64 arrays otherwise.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(120.57, 27.67))
    >>> round(lon, 9), round(lat, 9)
    (120.57, 27.67)
    """
    return _shift_inside_china(_bd09_to_wgs84_unboxed, lon, lat)


# ------------------------------------------------------------------- any coordinate system


def _epsg_pair(system: CoordSystem) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    if system.epsg is None:
        raise _unknown(system)
    try:
        return _epsg_transformers(system.epsg)
    except _RefusedEPSGError as error:
        raise _unknown(system.name, error.reason) from None


def _project(transformer: pyproj.Transformer, x: Any, y: Any) -> tuple[Any, Any]:
    out_x, out_y = transformer.transform(*_as_float_arrays(x, y))
    return _like_input(np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64))


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
    return _like_input(*_as_float_arrays(x, y))


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
    return _like_input(*_as_float_arrays(lon, lat))


def _transform_geometries(geoms: Any, convert: Any) -> Any:
    def convert_xy(
        x: _FloatArray, y: _FloatArray, z: _FloatArray | None = None
    ) -> tuple[_FloatArray, ...]:
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


# ----------------------------------------------------------------------- metric work


def utm_crs_for(lon: float, lat: float) -> str:
    """Return the WGS 84 UTM zone holding a point, as ``"EPSG:n"``.

    Zones are 6° wide from 180° W; the Norway and Svalbard exceptions are ignored (they
    do not touch China). China spans zones 43 (Kashgar) to 53 (Fuyuan).

    Parameters
    ----------
    lon, lat
        WGS 84 degrees.

    Returns
    -------
    str
        ``"EPSG:326zz"`` north of the equator, ``"EPSG:327zz"`` south of it.

    Raises
    ------
    InvalidGeometryError
        If the point is not a finite longitude/latitude.

    Examples
    --------
    >>> utm_crs_for(120.57, 27.67)  # Pingyang, Zhejiang
    'EPSG:32651'
    >>> utm_crs_for(116.39, 39.91)  # Beijing
    'EPSG:32650'
    """
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidGeometryError(
            f"({lon}, {lat}) is not a WGS 84 longitude/latitude",
            details={"lon": lon, "lat": lat},
        )
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def metric_crs_for_bounds(bounds: Sequence[float] | npt.ArrayLike) -> pyproj.CRS:
    """Return a projected CRS in metres for work inside WGS 84 bounds.

    This is the UTM zone of the centre of the bounds. Inside its zone UTM's scale error
    stays under 0.1 %, and two degrees past the zone edge it is still about 0.3 % in
    southern China (less further north): fine for buffers, distances and areas at county
    scale, where it means a few metres per kilometre at worst.

    Parameters
    ----------
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS 84, like ``GeoSeries.total_bounds``.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    InvalidGeometryError
        If the bounds are empty (NaN), not finite, or inverted.

    Examples
    --------
    >>> metric_crs_for_bounds((120.2, 27.3, 121.1, 27.9)).to_epsg()  # Pingyang county
    32651
    """
    values = np.asarray(bounds, dtype=np.float64).ravel()
    if (
        values.shape != (4,)
        or not np.all(np.isfinite(values))
        or values[0] > values[2]
        or values[1] > values[3]
    ):
        raise InvalidGeometryError(
            f"bounds {values.tolist()} are not (min_lon, min_lat, max_lon, max_lat)",
            details={"bounds": values.tolist()},
        )
    centre_lon = float(values[0] + values[2]) / 2.0
    centre_lat = float(values[1] + values[3]) / 2.0
    return pyproj.CRS.from_user_input(utm_crs_for(centre_lon, centre_lat))


# ------------------------------------------------------------------------ axis order


@overload
def looks_swapped(lon: float, lat: float) -> bool: ...
@overload
def looks_swapped(lon: npt.NDArray[Any], lat: npt.NDArray[Any]) -> npt.NDArray[np.bool_]: ...
def looks_swapped(lon: Any, lat: Any) -> Any:
    """Tell whether points meant to be in China were given as latitude, longitude.

    A point looks swapped when exchanging its axes puts it inside :data:`CHINA_BOUNDS`:
    its "longitude" is 0.83-55.83 and its "latitude" 72.0-137.8. That region holds no
    part of China (and "latitudes" above 90 are impossible), so a genuine Chinese point
    never looks swapped. Loaders refuse such data with a hint rather than guess.

    Parameters
    ----------
    lon, lat
        The coordinates as given, longitude first: floats, or arrays that broadcast.

    Returns
    -------
    bool or numpy.ndarray
        A bool for scalar input, a boolean array otherwise. NaN never looks swapped.

    Examples
    --------
    >>> looks_swapped(27.67, 120.57)
    True
    >>> looks_swapped(np.array([120.57, 27.67]), np.array([27.67, 120.57]))
    array([False,  True])
    """
    if isinstance(lon, float | int) and isinstance(lat, float | int):  # no arrays for one
        min_lon, min_lat, max_lon, max_lat = CHINA_BOUNDS
        return bool(min_lon <= lat <= max_lon and min_lat <= lon <= max_lat)
    swapped_lon, swapped_lat = _as_float_arrays(lat, lon)
    swapped = _inside_china_box(swapped_lon, swapped_lat)
    return bool(swapped) if swapped.ndim == 0 else swapped
