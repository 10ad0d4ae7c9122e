"""Coverage walks the foot network unless asked: footpaths reach people, cars' roads may not."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geogrid.spatial.coverage import analyse_coverage
from geogrid.spatial.roads.network import RoadNetwork

GEOD = pyproj.Geod(ellps="WGS84")
X, Y = 120.0, 28.0
SW, NW, NE = (X, Y), (X, Y + 0.004), (X + 0.004, Y + 0.004)
HOME = (X + 0.004, Y + 0.0041)  # about 11 m north of NE
REACH_M = 700.0


def metres(*points: tuple[float, float]) -> float:
    return sum(float(GEOD.inv(a[0], a[1], b[0], b[1])[2]) for a, b in itertools.pairwise(points))


@pytest.fixture(scope="module")
def village():
    roads = gpd.GeoDataFrame(
        {
            "code": ["west", "north", "footway", "lane"],
            "road_class": ["residential", "residential", "path", "residential"],
            "oneway": [False, False, False, True],
            "car": [True, True, False, True],
            "foot": [True, True, True, True],
        },
        geometry=[
            shapely.LineString([SW, NW]),
            shapely.LineString([NW, NE]),
            shapely.LineString([SW, NE]),  # the diagonal short cut, walkers only
            shapely.LineString([NE, (X + 0.004, Y)]),  # one-way south from NE
        ],
        crs=4326,
    )
    grid = gpd.GeoDataFrame(
        {"code": ["V"], "name": ["village"]},
        geometry=[shapely.box(X - 0.002, Y - 0.002, X + 0.006, Y + 0.006)],
        crs=4326,
    )
    checkpoints = gpd.GeoDataFrame(
        {"code": ["C"], "status": ["active"]}, geometry=[shapely.Point(SW)], crs=4326
    )
    addresses = gpd.GeoDataFrame(
        {"code": ["home"], "full_text": ["x"]}, geometry=[shapely.Point(HOME)], crs=4326
    )
    return grid, roads, checkpoints, addresses


def test_reach_walks_the_footway_by_default(village) -> None:
    grid, roads, checkpoints, addresses = village
    result = analyse_coverage(grid, roads, checkpoints, addresses, reach_m=REACH_M)
    home = result.addresses.set_index("code").loc["home"]
    expected = metres(SW, NE) + metres(NE, HOME)
    assert expected < REACH_M < metres(SW, NW, NE)
    assert home["distance_m"] == pytest.approx(expected, rel=1e-4)
    assert home["reached"]


def test_reach_on_the_car_network_when_asked(village) -> None:
    grid, roads, checkpoints, addresses = village
    car = RoadNetwork.from_geodataframe(roads, profile="car")
    result = analyse_coverage(grid, roads, checkpoints, addresses, network=car, reach_m=1000.0)
    home = result.addresses.set_index("code").loc["home"]
    assert home["distance_m"] == pytest.approx(metres(SW, NW, NE) + metres(NE, HOME), rel=1e-4)


def test_foot_ignores_one_way_car_does_not(village) -> None:
    _, roads, _, _ = village
    car = RoadNetwork.from_geodataframe(roads, profile="car")
    foot = RoadNetwork.from_geodataframe(roads, profile="foot")
    se = int(car.nearest_node([X + 0.004], [Y])[0][0])
    ne = int(car.nearest_node([NE[0]], [NE[1]])[0][0])
    lane = metres(NE, (X + 0.004, Y))
    assert car.cost_matrix([ne], [se], weight="length")[0, 0] == pytest.approx(lane, rel=1e-9)
    assert np.isinf(car.cost_matrix([se], [ne])[0, 0])
    assert foot.cost_matrix([se], [ne], weight="length")[0, 0] == pytest.approx(lane, rel=1e-9)
    assert foot.cost_matrix([se], [ne])[0, 0] == pytest.approx(lane * 3.6 / 5.0, rel=1e-9)


def test_points_snap_to_edges_the_profile_may_use(village) -> None:
    _, roads, _, _ = village
    middle = ((SW[0] + NE[0]) / 2, (SW[1] + NE[1]) / 2)  # on the footway
    car = RoadNetwork.from_geodataframe(roads, profile="car")
    foot = RoadNetwork.from_geodataframe(roads, profile="foot")
    assert foot.code[foot.snap(*middle).edge[0]] == "footway"
    on_car = car.snap(*middle)
    assert car.code[on_car.edge[0]] != "footway"
    assert on_car.distance_m[0] > 100


def test_an_unknown_profile_is_refused(village) -> None:
    _, roads, _, _ = village
    with pytest.raises(ValueError, match="profile must be one of car, foot"):
        RoadNetwork.from_geodataframe(roads, profile="bicycle")  # type: ignore[arg-type]
