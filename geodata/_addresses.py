"""The ``addresses`` layer: the standard-address gazetteer (标准地址).

House numbers run along each named street, odd on the left and even on the right,
about 12 m off the centre line. In communities (社区) some numbers are residential
compounds whose buildings stand behind the street and list every flat
(``…126号3幢2单元301室``). Each address names the village grid that contains it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata._roads import URBAN_RADIUS_M, Street
from geodata._spec import AOJIANG, COUNTY_NAME, METRIC_CRS, ScaleSpec

__all__ = ["build_addresses"]

COLUMNS = ["code", "full_text", "county", "town", "village", "road", "number"]
COLUMNS += ["building", "unit", "room"]
ROAD_CLEARANCE_M = 6.0
BORDER_CLEARANCE_M = 1.0
COMPOUND_SHARE = {AOJIANG: 0.04}  # share of community house numbers that are compounds
COMPOUND_SHARE_ELSEWHERE = 0.012
RURAL_SHARE = 0.04  # share of house numbers kept outside town cores (hamlets are sparse)
AOJIANG_SHARE = 0.3  # the same in the rest of Aojiang, within 7 km of its centre


def _house_numbers(streets: list[Street], per_100m: float, rng: np.random.Generator):
    """Numbers and points of the houses along all streets.

    Returns
    -------
    tuple
        ``street index, number, side (+1 left / -1 right), along (m), xy`` arrays.
    """
    lengths = np.array([s.line.length for s in streets])
    per_side = np.floor(lengths * per_100m / 200.0).astype(int)
    street = np.repeat(np.arange(len(streets)), 2 * per_side)
    k = np.concatenate([np.repeat(np.arange(n), 2) for n in per_side]).astype(int)
    side = np.tile([1, -1], len(k) // 2)
    gap = lengths[street] / np.maximum(per_side[street], 1)
    along = (k + 0.5 + rng.uniform(-0.25, 0.25, len(k))) * gap
    number = 2 * k + np.where(side > 0, 1, 2)
    xy = _beside(
        np.array([s.line for s in streets])[street], along, side * rng.uniform(10, 16, len(k))
    )
    return street, number, side, along, xy


def _beside(lines: np.ndarray, along: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Points at ``along`` metres on ``lines``, moved ``offset`` metres to the left."""
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.maximum(along - 1, 0)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines, along + 1))
    mid = shapely.get_coordinates(shapely.line_interpolate_point(lines, along))
    t = b - a
    t /= np.maximum(np.hypot(t[:, 0], t[:, 1]), 1e-9)[:, None]
    return mid + np.column_stack([-t[:, 1], t[:, 0]]) * offset[:, None]


def _keep_share(xy: np.ndarray, centres: dict[str, np.ndarray]) -> np.ndarray:
    """Probability of keeping a house number: 1 in town cores, less outside."""
    share = np.full(len(xy), RURAL_SHARE)
    for code, centre in centres.items():
        d = np.hypot(*(xy - centre).T)
        if code == AOJIANG:
            share[d < 7000] = np.maximum(share[d < 7000], AOJIANG_SHARE)
        share[d < URBAN_RADIUS_M.get(code, 1200.0)] = 1.0
    return share


def _usable(xy, roads, villages, water) -> tuple[np.ndarray, np.ndarray]:
    """Village index of each point, and whether the point may carry an address.

    A point may not lie on a road, in the river, outside every village, or within
    1 m of a village border (so that rounding can never move it across).
    """
    pts = shapely.points(xy)
    road_tree = shapely.STRtree(roads)
    _, dist = road_tree.query_nearest(pts, return_distance=True, all_matches=False)
    village = np.full(len(pts), -1)
    hit, owner = shapely.STRtree(villages).query(pts, predicate="within")
    village[hit] = owner
    ok = (dist >= ROAD_CLEARANCE_M) & (village >= 0)
    shapely.prepare(water)
    ok &= ~shapely.intersects(water, pts)
    border = shapely.boundary(villages)
    ok[ok] &= shapely.distance(pts[ok], border[village[ok]]) >= BORDER_CLEARANCE_M
    return village, ok


def build_addresses(
    spec: ScaleSpec,
    streets: list[Street],
    roads: np.ndarray,
    villages: gpd.GeoDataFrame,
    town_names: dict[str, str],
    centres: dict[str, np.ndarray],
    water: shapely.Geometry,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Build the gazetteer.

    Parameters
    ----------
    spec
        Scale (house numbers per 100 m).
    streets
        Named streets in travel order.
    roads
        All road geometries (addresses keep clear of them).
    villages
        Village grids with ``name`` and ``parent_code``.
    town_names
        Town code → name.
    centres
        Town code → centre; house numbers thin out away from town cores.
    water
        The river.
    rng
        Source of randomness.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``addresses`` layer in metres.
    """
    street, number, side, along, xy = _house_numbers(streets, spec.addresses_per_100m, rng)
    ok = rng.random(len(xy)) < _keep_share(xy, centres)
    village, usable = _usable(xy, roads, villages.geometry.values, water)
    ok &= usable
    community = villages["name"].str.endswith("社区").to_numpy()
    share = np.array(
        [COMPOUND_SHARE.get(t, COMPOUND_SHARE_ELSEWHERE) for t in villages["parent_code"]]
    )
    house = np.flatnonzero(ok)
    compound = community[village[house]] & (rng.random(len(house)) < share[village[house]])
    flats = _compounds(streets, street, along, side, house[compound], rng, roads, villages, water)
    sub = house[~compound][rng.random((~compound).sum()) < 0.05]

    labels = number.astype(str).astype(object)
    entries = [(i, labels[i], None, xy[i], village[i]) for i in house]
    entries += [(i, f"{labels[i]}-2", None, xy[i], village[i]) for i in sub]
    entries += [(i, labels[i], flat, p, v) for i, flat, p, v in flats]
    entries.sort(key=lambda e: (e[0], len(e[1]), e[2] or ()))

    street_names = [s.name for s in streets]
    village_names = villages["name"].to_numpy()
    village_towns = [town_names[c] for c in villages["parent_code"]]
    rows = []
    for i, label, flat, _, v in entries:
        name, town, place = street_names[street[i]], village_towns[v], village_names[v]
        text = f"{COUNTY_NAME}{town}{place}{name}{label}号"
        building = unit = room = None
        if flat is not None:
            building, unit, room = (str(x) for x in flat)
            text += f"{building}幢{unit}单元{room}室"
        rows.append((text, COUNTY_NAME, town, place, name, label, building, unit, room))
    frame = pd.DataFrame(rows, columns=COLUMNS[1:])
    geometry = shapely.points(np.array([e[3] for e in entries]))
    out = gpd.GeoDataFrame(frame, geometry=geometry, crs=METRIC_CRS)
    out = out.drop_duplicates("full_text", ignore_index=True)
    out.insert(0, "code", [f"A{i + 1:07d}" for i in range(len(out))])
    return out


def _compounds(streets, street, along, side, houses, rng, roads, villages, water) -> list:
    """Flats of the residential compounds behind the given house numbers.

    Each compound has 2-4 buildings standing 35 m and more behind the street; a
    building whose spot is unusable (on a road, in the river, on a border) is left
    out. Every flat of a building shares the building's point.

    Returns
    -------
    list
        ``(house, (building, unit, room), xy, village)`` tuples.
    """
    n_buildings = rng.integers(2, 5, len(houses))
    owner = np.repeat(houses, n_buildings)
    rank = np.concatenate([np.arange(n) for n in n_buildings]).astype(int)
    lines = np.array([s.line for s in streets], dtype=object)[street[owner]]
    at = np.clip(along[owner] + rng.uniform(-15, 15, len(owner)), 0, shapely.length(lines))
    spots = _beside(lines, at, side[owner] * (35.0 + 18.0 * rank))
    village, ok = _usable(spots, roads, villages.geometry.values, water)
    floors = dict(zip(houses, rng.integers(3, 9, len(houses)), strict=True))
    units = dict(zip(houses, rng.integers(1, 4, len(houses)), strict=True))
    flats = []
    for b in np.flatnonzero(ok):
        h = owner[b]
        for unit in range(1, units[h] + 1):
            for floor in range(1, floors[h] + 1):
                for door in (1, 2):
                    flat = (int(rank[b]) + 1, unit, floor * 100 + door)
                    flats.append((h, flat, spots[b], village[b]))
    return flats
