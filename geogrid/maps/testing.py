"""A small synthetic county for tests, notebooks and benchmarks of the map layer.

:func:`synthetic_county` lays out a county near Pingyang, Zhejiang, as rectangles: towns
side by side, villages in a grid inside each town, micro-grids inside the first village,
plus checkpoints, isolation sites, road entries, two transfer routes, an H3 summary, and
a street base: named streets on a regular grid, a trunk road, a river and house numbers. The
grid workers have phone numbers and ID numbers in the frames on purpose: a map that shows
them is a bug the tests catch.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

__all__ = ["synthetic_county"]

_SURNAMES = "张王李赵陈刘杨黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


def _worker(i: int) -> tuple[str, str, str]:
    name = _SURNAMES[i % len(_SURNAMES)] + _GIVEN[(i * 7) % len(_GIVEN)]
    phone = f"13{(i % 7) + 2}{(12345678 + i * 7919) % 100_000_000:08d}"
    id_number = f"330326{1970 + i % 30}{(i % 12) + 1:02d}{(i % 28) + 1:02d}{i % 1000:03d}X"
    return name, phone, id_number


def synthetic_county(
    towns: int = 2, villages_per_side: int = 2, origin: tuple[float, float] = (120.40, 27.50)
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Return the frames of a synthetic county, all in EPSG:4326.

    Parameters
    ----------
    towns
        Number of towns, laid out west to east (0.12° wide, 0.10° tall each).
    villages_per_side
        Each town holds ``villages_per_side ** 2`` village grids.
    origin
        South-west corner (lon, lat).

    Returns
    -------
    dict
        ``grids``, ``checkpoints``, ``sites``, ``entries``, ``routes``, ``stops``, ``roads``
        (``name``, ``road_class``), ``water`` (``name``), ``addresses`` (``road``,
        ``number``) (GeoDataFrames) and ``cells`` (a DataFrame of H3 cells and values).

    Examples
    --------
    >>> frames = synthetic_county()
    >>> frames["grids"]["level"].value_counts().to_dict()
    {'village': 8, 'micro': 4, 'town': 2, 'county': 1}
    """
    x0, y0 = origin
    town_w, town_h = 0.12, 0.10
    rows: list[dict[str, object]] = []
    county = shapely.box(x0, y0, x0 + towns * town_w, y0 + town_h)
    rows.append(
        {
            "code": "330326",
            "name": "平阳县",
            "level": "county",
            "parent_code": None,
            "geometry": county,
        }
    )
    step_x, step_y = town_w / villages_per_side, town_h / villages_per_side
    count = 0
    for t in range(towns):
        town_code = f"330326-{101 + t}"
        tx = x0 + t * town_w
        rows.append(
            {
                "code": town_code,
                "name": ["鳌江镇", "昆阳镇", "水头镇", "萧江镇"][t % 4],
                "level": "town",
                "parent_code": "330326",
                "geometry": shapely.box(tx, y0, tx + town_w, y0 + town_h),
            }
        )
        for v in range(villages_per_side**2):
            vx = tx + (v % villages_per_side) * step_x
            vy = y0 + (v // villages_per_side) * step_y
            name, phone, id_number = _worker(count)
            rows.append(
                {
                    "code": f"{town_code}-{v + 1:03d}",
                    "name": f"第{count + 1}村",
                    "level": "village",
                    "parent_code": town_code,
                    "geometry": shapely.box(vx, vy, vx + step_x, vy + step_y),
                    "worker_name": name,
                    "worker_phone": phone,
                    "worker_id_number": id_number,
                }
            )
            count += 1
    first = rows[2]
    first_shape: shapely.Geometry = first["geometry"]  # type: ignore[assignment]
    fx0, fy0, fx1, fy1 = first_shape.bounds
    for m in range(4):
        mx, my = fx0 + (m % 2) * (fx1 - fx0) / 2, fy0 + (m // 2) * (fy1 - fy0) / 2
        rows.append(
            {
                "code": f"{first['code']}-{m + 1:02d}",
                "name": f"微网格{m + 1}",
                "level": "micro",
                "parent_code": first["code"],
                "geometry": shapely.box(mx, my, mx + (fx1 - fx0) / 2, my + (fy1 - fy0) / 2),
            }
        )
    grids = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    rng = np.random.default_rng(7)
    degrees2 = shapely.area(grids.geometry.to_numpy())  # rectangles: area in degrees² is fine
    grids["population"] = (degrees2 * 4e7).round().astype(int)
    grids["households"] = (grids["population"] / 3.1).round().astype(int)

    villages = grids.loc[grids["level"] == "village"]
    centres = gpd.GeoSeries(shapely.centroid(villages.geometry.to_numpy()), crs=4326)
    kinds = ["traffic_station", "village_gate", "temporary"]
    checkpoints = gpd.GeoDataFrame(
        {
            "code": [f"KK{i + 1:03d}" for i in range(len(villages))],
            "name": [f"{n}卡口" for n in villages["name"]],
            "kind": [kinds[i % 3] for i in range(len(villages))],
            "status": ["closed" if i % 4 == 3 else "active" for i in range(len(villages))],
            "staff": rng.integers(2, 9, len(villages)),
        },
        geometry=shapely.points(
            np.c_[centres.x.to_numpy() + step_x * 0.3, centres.y.to_numpy() - step_y * 0.3]
        ),
        crs=4326,
    )
    sites = gpd.GeoDataFrame(
        {
            "code": ["GL01", "GL02", "GL03"],
            "name": ["凤泽酒店", "鳌江宾馆", "昆阳大酒店"],
            "capacity": [120, 60, 80],
            "occupied": [40, 55, 80],
            "risk_classes": ["close contact", "returnee", "close contact, returnee"],
        },
        geometry=shapely.points(
            [(x0 + 0.03, y0 + 0.07), (x0 + 0.09, y0 + 0.02), (x0 + 0.17, y0 + 0.06)]
        ),
        crs=4326,
    )
    boundary = shapely.get_coordinates(county.exterior)[:-1]
    entries = gpd.GeoDataFrame(
        {
            "guarded": [True, False, True, False],
            "road_name": ["G104", "S228", "县道 X101", "乡道"],
            "road_class": ["trunk", "primary", "secondary", "tertiary"],
        },
        geometry=shapely.points(boundary),
        crs=4326,
    )
    depot = (x0 + 0.05, y0 + 0.05)
    routes = gpd.GeoDataFrame(
        {"vehicle": ["浙C·A001", "浙C·A002"], "trip": [1, 1]},
        geometry=[
            shapely.LineString([depot, (x0 + 0.07, y0 + 0.03), (x0 + 0.09, y0 + 0.02)]),
            shapely.LineString([depot, (x0 + 0.12, y0 + 0.05), (x0 + 0.17, y0 + 0.06)]),
        ],
        crs=4326,
    )
    stops = gpd.GeoDataFrame(
        {
            "vehicle": ["浙C·A001"] * 3 + ["浙C·A002"] * 3,
            "order": [1, 2, 3, 1, 2, 3],
            "name": [
                "车场 depot",
                "东门村 pickup",
                "鳌江宾馆",
                "车场 depot",
                "西湾村 pickup",
                "昆阳大酒店",
            ],
            "arrival": ["08:00", "08:12", "08:25", "08:00", "08:18", "08:40"],
            "departure": ["08:00", "08:15", "08:45", "08:00", "08:21", "09:00"],
        },
        geometry=shapely.points(
            [
                depot,
                (x0 + 0.07, y0 + 0.03),
                (x0 + 0.09, y0 + 0.02),
                depot,
                (x0 + 0.12, y0 + 0.05),
                (x0 + 0.17, y0 + 0.06),
            ]
        ),
        crs=4326,
    )
    cells = sorted({h3.latlng_to_cell(p.y, p.x, 7) for p in centres})
    cell_frame = pd.DataFrame({"cell": cells, "value": np.arange(1, len(cells) + 1) * 10})
    roads, water, addresses = _street_base(x0, y0, towns * town_w, town_h)
    return {
        "roads": roads,
        "water": water,
        "addresses": addresses,
        "grids": grids,
        "checkpoints": checkpoints,
        "sites": sites,
        "entries": entries,
        "routes": routes,
        "stops": stops,
        "cells": cell_frame,
    }


_STREET_WORDS = "人民解放建设新华中山文化胜利和平站前兴港沿江望江府前学府振兴朝阳花园"


def _street_name(i: int, kind: str) -> str:
    words = _STREET_WORDS
    return words[(2 * i) % len(words)] + words[(2 * i + 1) % len(words)] + kind


def _street_base(
    x0: float, y0: float, width: float, height: float
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Streets every ~500 m east-west (路) and north-south (街), a diagonal trunk road, a
    river across the middle and house numbers along the first street."""
    rows: list[dict[str, object]] = []
    ys = np.arange(y0 + 0.004, y0 + height, 0.0045)
    xs = np.arange(x0 + 0.003, x0 + width, 0.0055)
    for i, y in enumerate(ys):
        cls = "secondary" if i % 4 == 0 else "residential"
        line = shapely.LineString([(x0, y), (x0 + width, y + 0.0008 * ((i % 3) - 1))])
        rows.append({"name": _street_name(i, "路"), "road_class": cls, "geometry": line})
    for j, x in enumerate(xs):
        cls = "tertiary" if j % 5 == 0 else "residential"
        name = _street_name(j + 7, "街") if j % 6 != 5 else None  # a few unnamed lanes
        line = shapely.LineString([(x, y0), (x + 0.0006 * ((j % 3) - 1), y0 + height)])
        rows.append({"name": name, "road_class": cls, "geometry": line})
    trunk = shapely.LineString([(x0, y0 + 0.01), (x0 + width, y0 + height - 0.01)])
    rows.append({"name": "104国道", "road_class": "trunk", "geometry": trunk})
    roads = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    mid = y0 + height * 0.52
    river = shapely.Polygon(
        [(x0 - 0.01, mid), (x0 + width + 0.01, mid + 0.004), (x0 + width + 0.01, mid + 0.006),
         (x0 - 0.01, mid + 0.0025)]
    )  # fmt: skip
    water = gpd.GeoDataFrame({"name": ["鳌江"]}, geometry=[river], crs=4326)
    first = rows[0]["geometry"]
    assert isinstance(first, shapely.LineString)
    numbers = np.arange(1, 41)
    points = [first.interpolate(0.002 + n * 0.0004) for n in numbers]
    points = [
        shapely.Point(p.x, p.y + (0.0002 if n % 2 else -0.0002))
        for p, n in zip(points, numbers, strict=True)
    ]
    addresses = gpd.GeoDataFrame(
        {"road": [rows[0]["name"]] * len(numbers), "number": [str(n) for n in numbers]},
        geometry=points,
        crs=4326,
    )
    return roads, water, addresses
