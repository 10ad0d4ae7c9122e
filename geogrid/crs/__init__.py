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

The GCJ-02 and BD-09 conversions and the box that limits them are in
:mod:`geogrid.crs.china`; parsing is :mod:`geogrid.crs.systems`, conversions of coordinates
and geometries :mod:`geogrid.crs.convert`, metric projections :mod:`geogrid.crs.metric`.
"""

from geogrid.crs.china import (
    CHINA_BOUNDS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    looks_swapped,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geogrid.crs.convert import (
    from_wgs84,
    geometries_from_wgs84,
    geometries_to_wgs84,
    to_wgs84,
)
from geogrid.crs.metric import metric_crs_for_bounds, utm_crs_for
from geogrid.crs.systems import (
    BD09,
    CGCS2000,
    GCJ02,
    WGS84,
    WGS84_CRS,
    CoordSystem,
    CRSKind,
    CRSLike,
    area_of_use_bounds,
    parse_crs,
)

__all__ = [
    "BD09",
    "CGCS2000",
    "CHINA_BOUNDS",
    "GCJ02",
    "WGS84",
    "WGS84_CRS",
    "CRSKind",
    "CRSLike",
    "CoordSystem",
    "area_of_use_bounds",
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
