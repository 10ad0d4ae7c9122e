"""Fixed figures of the synthetic county and the size of each generated scale.

Everything here is plain data. The figures follow ``shared/DOMAIN.md``: Aojiang town
(``330326-101``) has 320,000 residents, the county about 880,000.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AOJIANG",
    "COUNTY_CODE",
    "COUNTY_NAME",
    "DAY",
    "METRIC_CRS",
    "OUTPUT_CRS",
    "SCALES",
    "TOWNS",
    "ScaleSpec",
    "TownSpec",
]

COUNTY_CODE = "330326"
COUNTY_NAME = "平阳县"
AOJIANG = "330326-101"
METRIC_CRS = "EPSG:32651"  # UTM zone 51N: all construction is done in metres
OUTPUT_CRS = "EPSG:4326"  # WGS 84: every written layer
DAY = "2020-01-31"  # the day of the transfer to isolation sites

# The county fits this box (lon_min, lat_min, lon_max, lat_max).
BBOX_LONLAT = (120.35, 27.45, 120.75, 27.75)
COUNTY_AREA_KM2 = 1150.0


@dataclass(frozen=True)
class TownSpec:
    """One town (镇) or township (乡) of the county.

    Parameters
    ----------
    code
        Full grid code, e.g. ``330326-101``.
    name
        Chinese name, e.g. ``鳌江镇``.
    fx, fy
        Seed position as a fraction of the county box (0 = west/south edge).
    population
        Residents; villages and micro-grids share this number out.
    weight
        Relative share of the villages and micro-grids outside Aojiang.
    """

    code: str
    name: str
    fx: float
    fy: float
    population: int
    weight: float


TOWNS: tuple[TownSpec, ...] = (
    TownSpec("330326-101", "鳌江镇", 0.74, 0.40, 320_000, 0.0),
    TownSpec("330326-100", "昆阳镇", 0.68, 0.74, 180_000, 2.0),
    TownSpec("330326-103", "萧江镇", 0.44, 0.42, 90_000, 1.4),
    TownSpec("330326-102", "水头镇", 0.25, 0.45, 90_000, 1.4),
    TownSpec("330326-104", "万全镇", 0.92, 0.74, 50_000, 1.0),
    TownSpec("330326-105", "海西镇", 0.93, 0.16, 30_000, 0.8),
    TownSpec("330326-106", "麻步镇", 0.56, 0.14, 35_000, 0.8),
    TownSpec("330326-107", "腾蛟镇", 0.45, 0.74, 30_000, 0.8),
    TownSpec("330326-108", "山门镇", 0.22, 0.80, 15_000, 0.6),
    TownSpec("330326-109", "顺溪镇", 0.06, 0.60, 8_000, 0.5),
    TownSpec("330326-110", "南雁镇", 0.12, 0.25, 12_000, 0.6),
    TownSpec("330326-111", "凤卧镇", 0.36, 0.95, 9_000, 0.5),
    TownSpec("330326-200", "怀溪乡", 0.32, 0.12, 8_000, 0.5),
)


@dataclass(frozen=True)
class ScaleSpec:
    """How much to generate.

    Parameters
    ----------
    name
        ``tiny`` (tests), ``town`` (the committed demo) or ``county`` (benchmarks).
    n_towns
        How many entries of :data:`TOWNS` to use (Aojiang always first).
    aojiang_villages, aojiang_micros
        Village/community grids and micro-grids of Aojiang town.
    other_villages, other_micros
        The same, summed over all other towns.
    spacing_m, rural_spacing_m
        Vertex spacing of grid borders inside Aojiang and elsewhere.
    street_m, rural_street_m
        Typical distance between road junctions in Aojiang's core and in the country.
    addresses_per_100m
        House numbers per 100 m of named road (both sides together).
    transfer_people
        Sum of ``group_size`` over the transfer requests.
    vehicles
        Number of transfer vehicles.
    """

    name: str
    n_towns: int
    aojiang_villages: int
    aojiang_micros: int
    other_villages: int
    other_micros: int
    spacing_m: float
    rural_spacing_m: float
    street_m: float
    rural_street_m: float
    addresses_per_100m: float
    transfer_people: int
    vehicles: int


SCALES: dict[str, ScaleSpec] = {
    "tiny": ScaleSpec("tiny", 3, 8, 20, 6, 12, 60.0, 150.0, 260.0, 1600.0, 0.3, 40, 6),
    "town": ScaleSpec("town", 13, 72, 340, 220, 560, 30.0, 80.0, 95.0, 400.0, 4.0, 400, 20),
    "county": ScaleSpec("county", 13, 120, 600, 800, 2318, 12.0, 12.0, 95.0, 400.0, 4.0, 400, 20),
}
