"""GCJ-02 and BD-09, the shifted frames of Chinese web maps, and axis-order checks.

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
from collections.abc import Callable
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from geogrid.crs._arrays import Coord, FloatArray, Pair, as_float_arrays, like_input

__all__ = [
    "CHINA_BOUNDS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "looks_swapped",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CHINA_BOUNDS: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)
"""The rough box (min lon, min lat, max lon, max lat) inside which GCJ-02 and BD-09 shift."""


_KRASOVSKY_A_M = 6378245.0
_KRASOVSKY_E2 = 0.00669342162296594323
_BD09_RAD_PER_DEG = math.pi * 3000.0 / 180.0
_BD09_LON_OFFSET = 0.0065
_BD09_LAT_OFFSET = 0.006
_INVERSE_TOLERANCE_DEG = 1e-11  # about a micrometre
_INVERSE_MAX_STEPS = 30

_Forward = Callable[[FloatArray, FloatArray], Pair]


def _gcj02_shift_deg(lon: FloatArray, lat: FloatArray) -> Pair:
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


def _wgs84_to_gcj02_unboxed(lon: FloatArray, lat: FloatArray) -> Pair:
    east, north = _gcj02_shift_deg(lon, lat)
    return lon + east, lat + north


def _gcj02_to_bd09_unboxed(lon: FloatArray, lat: FloatArray) -> Pair:
    radius = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD09_RAD_PER_DEG)
    angle = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD09_RAD_PER_DEG)
    return (
        radius * np.cos(angle) + _BD09_LON_OFFSET,
        radius * np.sin(angle) + _BD09_LAT_OFFSET,
    )


def _invert(forward: _Forward, lon: FloatArray, lat: FloatArray, start: Pair) -> Pair:
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


def _gcj02_to_wgs84_unboxed(lon: FloatArray, lat: FloatArray) -> Pair:
    return _invert(_wgs84_to_gcj02_unboxed, lon, lat, start=(lon, lat))


def _bd09_to_gcj02_unboxed(lon: FloatArray, lat: FloatArray) -> Pair:
    # The textbook closed-form inverse is off by up to about 0.2 m; start from it.
    x = lon - _BD09_LON_OFFSET
    y = lat - _BD09_LAT_OFFSET
    radius = np.hypot(x, y) - 0.00002 * np.sin(y * _BD09_RAD_PER_DEG)
    angle = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD09_RAD_PER_DEG)
    start = (radius * np.cos(angle), radius * np.sin(angle))
    return _invert(_gcj02_to_bd09_unboxed, lon, lat, start=start)


def _wgs84_to_bd09_unboxed(lon: FloatArray, lat: FloatArray) -> Pair:
    return _gcj02_to_bd09_unboxed(*_wgs84_to_gcj02_unboxed(lon, lat))


def _bd09_to_wgs84_unboxed(lon: FloatArray, lat: FloatArray) -> Pair:
    return _gcj02_to_wgs84_unboxed(*_bd09_to_gcj02_unboxed(lon, lat))


def _inside_china_box(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    min_lon, min_lat, max_lon, max_lat = CHINA_BOUNDS
    return (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)


def _shift_inside_china(convert: Any, lon: Any, lat: Any) -> tuple[Any, Any]:
    out_lon, out_lat = as_float_arrays(lon, lat)
    inside = _inside_china_box(out_lon, out_lat)
    if inside.any():
        out_lon[inside], out_lat[inside] = convert(out_lon[inside], out_lat[inside])
    return like_input(out_lon, out_lat)


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
    swapped_lon, swapped_lat = as_float_arrays(lat, lon)
    swapped = _inside_china_box(swapped_lon, swapped_lat)
    return bool(swapped) if swapped.ndim == 0 else swapped
