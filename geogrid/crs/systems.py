"""The coordinate systems geogrid accepts, and how their names are parsed."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import pyproj
from pyproj.exceptions import CRSError, ProjError

from geogrid.errors import UnknownCRSError

__all__ = [
    "BD09",
    "CGCS2000",
    "GCJ02",
    "WGS84",
    "WGS84_CRS",
    "CRSKind",
    "CRSLike",
    "CoordSystem",
    "area_of_use_bounds",
    "parse_crs",
]

CRSKind = Literal["wgs84", "gcj02", "bd09", "epsg"]


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

WGS84_CRS = pyproj.CRS.from_epsg(4326)
"""WGS 84 as one shared pyproj CRS for the frames geogrid builds often (making a CRS is
a PROJ database lookup of milliseconds; the grid index asks PROJ once per CRS object)."""

CRSLike = CoordSystem | str | int | None
"""Anything :func:`parse_crs` accepts."""

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
        raise unknown_crs(value)
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
        raise unknown_crs(value)
    code = next(group for group in match.group("plain", "curie", "uri", "urn") if group)
    return _crs_from_epsg(int(code), value)


def unknown_crs(value: object, reason: str | None = None) -> UnknownCRSError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    why = f"unknown coordinate system {shown}" if reason is None else reason
    return UnknownCRSError(f"{why}. Accepted: {_ACCEPTED_FORMS}", details={"crs": shown})


def _crs_from_epsg(code: int, value: object) -> CoordSystem:
    if code == 4326:
        return WGS84
    if code == 4490:
        return CGCS2000
    if not 0 < code < 2**31:
        raise unknown_crs(value)
    try:
        epsg_transformers(code)
    except RefusedEPSGError as error:
        raise unknown_crs(value, error.reason) from None
    return CoordSystem(f"EPSG:{code}", code, "epsg")


class RefusedEPSGError(Exception):
    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason


@lru_cache(maxsize=64)
def epsg_transformers(code: int) -> tuple[pyproj.Transformer, pyproj.Transformer]:
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
        raise RefusedEPSGError from None
    geodetic = crs.geodetic_crs
    if geodetic is None or not (crs.is_geographic or crs.is_projected):
        raise RefusedEPSGError(f"EPSG:{code} ({crs.name}) is not a geographic or projected CRS")
    no_op_is_right = geodetic.datum in _no_op_datums()
    try:
        return (
            pyproj.Transformer.from_crs(crs, 4326, always_xy=True, allow_ballpark=no_op_is_right),
            pyproj.Transformer.from_crs(4326, crs, always_xy=True, allow_ballpark=no_op_is_right),
        )
    except ProjError:
        raise RefusedEPSGError(
            f"EPSG:{code} ({crs.name}) is on a datum PROJ cannot convert to WGS 84 accurately;"
            " reproject the data to CGCS2000 or WGS 84 first"
        ) from None


@lru_cache(maxsize=1)
def _no_op_datums() -> tuple[Any, ...]:
    return (pyproj.CRS.from_epsg(4326).datum, pyproj.CRS.from_epsg(4490).datum)


@lru_cache(maxsize=64)
def area_of_use_bounds(system: CoordSystem) -> tuple[float, float, float, float] | None:
    """Return the box (min x, min y, max x, max y) of a projected system's area of use, in
    its own coordinates rounded outward to the metre; None for a geographic system.

    A point of a projected system outside this box is not one the system is meant for
    (far outside, PROJ answers infinities): geogrid refuses it.

    >>> area_of_use_bounds(parse_crs("EPSG:32651"))
    (166021.0, 0.0, 833979.0, 9329006.0)
    >>> area_of_use_bounds(parse_crs("gcj02")) is None
    True
    """
    if system.kind != "epsg" or system.epsg is None:
        return None
    crs = pyproj.CRS.from_epsg(system.epsg)
    area = crs.area_of_use
    if not crs.is_projected or area is None:
        return None
    x0, y0, x1, y1 = epsg_transformers(system.epsg)[1].transform_bounds(
        *area.bounds, densify_pts=101
    )
    return (
        float(math.floor(x0)),
        float(math.floor(y0)),
        float(math.ceil(x1)),
        float(math.ceil(y1)),
    )
