"""The ``checkpoints`` layer: traffic stations and village gates at road entries.

An *entry* is a point where a road crosses a village border. In Aojiang town most
entries get a gate 5-40 m inside one of the two villages (about 15 % stay
unguarded); national and provincial roads get a traffic station where they enter
a town or the county. Other towns get their traffic stations and a few gates.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata._spec import AOJIANG, METRIC_CRS

__all__ = ["build_checkpoints"]

GUARDED_AOJIANG = 0.85
GUARDED_ELSEWHERE = 0.06
CLOSED = 0.04
TEMPORARY = 0.08
MAJOR = ("trunk", "primary")
SECTORS = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")


@dataclass
class _Entries:
    """Road/border crossings, one row per (crossing, village it leads into)."""

    road: np.ndarray  # index into roads
    along: np.ndarray  # metres along the road of the crossing
    inward: np.ndarray  # +1 if the village lies ahead along the road, else -1
    village: np.ndarray  # index into villages
    other: np.ndarray  # village on the far side, -1 outside the county
    point: np.ndarray  # crossing point


def _crossings(roads: np.ndarray, villages: np.ndarray) -> _Entries:
    """Find every place a road enters a village."""
    borders = shapely.boundary(villages)
    v_idx, r_idx = shapely.STRtree(roads).query(borders, predicate="intersects")
    hits = shapely.intersection(roads[r_idx], borders[v_idx])
    points, which = shapely.get_parts(hits, return_index=True)
    keep = shapely.get_type_id(points) == 0
    points, road, village = points[keep], r_idx[which[keep]], v_idx[which[keep]]
    along = shapely.line_locate_point(roads[road], points)
    ahead = shapely.line_interpolate_point(roads[road], along + 2.0)
    shapely.prepare(villages)
    inward = np.where(shapely.contains(villages[village], ahead), 1, -1)
    behind = shapely.line_interpolate_point(roads[road], along - 2.0 * inward)
    tree = shapely.STRtree(villages)
    other = np.full(len(points), -1)
    hit, owner = tree.query(behind, predicate="within")
    other[hit] = owner
    return _Entries(road, along, inward, village, other, shapely.get_coordinates(points))


def _placement(entries: _Entries, roads: np.ndarray, villages: np.ndarray, rng) -> np.ndarray:
    """A point 5-40 m inside the village along the road, or NaN if none fits."""
    out = np.full((len(entries.road), 2), np.nan)
    wanted = rng.uniform(5, 40, len(out))
    length = shapely.length(roads[entries.road])
    for share in (1.0, 0.6, 0.3):
        todo = np.isnan(out[:, 0])
        offset = np.maximum(wanted * share, 5.0)
        at = entries.along + entries.inward * offset
        fits = todo & (at > 0.5) & (at < length - 0.5)
        spot = shapely.line_interpolate_point(roads[entries.road[fits]], at[fits])
        inside = shapely.contains(villages[entries.village[fits]], spot)
        rows = np.flatnonzero(fits)[inside]
        out[rows] = shapely.get_coordinates(spot[inside])
    return out


def build_checkpoints(
    roads: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, town_names: dict[str, str], rng
) -> gpd.GeoDataFrame:
    """Place traffic stations and gates.

    Parameters
    ----------
    roads
        The ``roads`` layer in metres.
    villages
        Village grids (``code``, ``name``, ``parent_code``) in metres.
    town_names
        Town code → name.
    rng
        Source of randomness.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``checkpoints`` layer in metres.
    """
    lines, areas = roads.geometry.values, villages.geometry.values
    e = _crossings(lines, areas)
    town = villages["parent_code"].to_numpy()
    far_town = np.where(e.other >= 0, town[np.maximum(e.other, 0)], "")
    at_town_border = far_town != town[e.village]
    major = roads["road_class"].isin(MAJOR).to_numpy()[e.road]
    station = major & at_town_border
    in_aojiang = town[e.village] == AOJIANG
    # a crossing between two villages is guarded from one side only: the lower index
    one_side = (e.other < 0) | at_town_border | (e.village < e.other)
    guard = np.where(in_aojiang, GUARDED_AOJIANG, GUARDED_ELSEWHERE)
    chosen = station | (one_side & (rng.random(len(guard)) < guard))
    chosen &= ~(major & ~at_town_border & ~in_aojiang)
    spot = _placement(e, lines, areas, rng)
    chosen &= ~np.isnan(spot[:, 0])
    order = np.lexsort((e.along, e.road, e.village, ~in_aojiang))
    order = order[chosen[order]]
    return _frame(order, e, station, spot, roads, villages, town_names, far_town, rng)


def _frame(order, e: _Entries, station, spot, roads, villages, town_names, far_town, rng):
    """Name, staff and code the chosen checkpoints."""
    names = villages["name"].to_numpy()
    centroids = shapely.get_coordinates(shapely.centroid(villages.geometry.values))
    road_names = roads["name"].to_numpy()
    seen: dict[str, int] = {}
    rows = []
    for i in order:
        v = e.village[i]
        bearing = e.point[i] - centroids[v]
        sector = SECTORS[int(np.round(np.arctan2(bearing[1], bearing[0]) / (np.pi / 4))) % 8]
        if station[i]:
            kind, staff = "traffic_station", int(rng.integers(6, 13))
            place = (
                "平阳" if far_town[i] == "" else town_names[villages["parent_code"].iloc[v]][:-1]
            )
            stem, suffix = f"{road_names[e.road[i]]}{place}{sector}", "检查站"
        elif rng.random() < TEMPORARY:
            kind, staff = "temporary", int(rng.integers(1, 4))
            stem, suffix = f"{names[v]}{sector}", "临时卡口"
        else:
            kind, staff = "village_gate", int(rng.integers(2, 5))
            stem, suffix = f"{names[v]}{sector}", "卡口"
        seen[stem + suffix] = seen.get(stem + suffix, 0) + 1
        count = seen[stem + suffix]
        name = stem + suffix if count == 1 else f"{stem}{count}号{suffix}"
        closed = rng.random() < CLOSED
        rows.append((name, kind, "closed" if closed else "active", 0 if closed else staff))
    frame = pd.DataFrame(rows, columns=["name", "kind", "status", "staff"])
    frame.insert(0, "code", [f"CP{i + 1:05d}" for i in range(len(frame))])
    return gpd.GeoDataFrame(frame, geometry=shapely.points(spot[order]), crs=METRIC_CRS)
