"""OpenStreetMap extracts: roads split at shared nodes, profile and one-way rules, addresses."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pyproj
import pytest
import shapely
from sqlalchemy import Engine, text

from geogrid.errors import InvalidRequestError
from geogrid.ingest.load import load_file
from geogrid.ingest.readers import read_layer
from geogrid.ingest.specs import spec_for
from geogrid.spatial.addresses import AddressMatcher
from geogrid.workspace import Workspace

NODES = {
    1: (120.49, 27.50),  # W
    2: (120.51, 27.50),  # E
    3: (120.50, 27.51),  # N
    4: (120.50, 27.49),  # S
    5: (120.50, 27.50),  # centre
    6: (120.52, 27.50),
}
# a chain of ways, one tag case each, east of node 6
CHAIN = {
    14: ({"highway": "service", "motor_vehicle": "no"}, "service", False, True),
    15: ({"highway": "residential", "access": "private"}, None, False, False),
    16: (
        {"highway": "residential", "access": "private", "foot": "yes"},
        "residential",
        False,
        True,
    ),
    17: ({"highway": "unclassified", "vehicle": "no"}, "residential", False, True),
    18: ({"highway": "tertiary", "access": "no", "motor_vehicle": "yes"}, "tertiary", True, False),
    19: ({"highway": "motorway"}, "trunk", True, True),
    26: ({"highway": "trunk", "foot": "no"}, "trunk", True, False),
    20: ({"highway": "cycleway", "foot": "designated"}, "path", False, True),
    21: ({"highway": "cycleway"}, None, False, False),
    22: ({"highway": "steps"}, "path", False, True),
    23: ({"highway": "pedestrian", "area": "yes"}, None, False, False),
    24: ({"highway": "living_street", "motorcar": "private"}, "residential", False, True),
    25: ({"highway": "footway", "access": "no"}, None, False, False),
}
"""way id: (tags, geogrid class or None when dropped, car, foot)"""


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    """A plus-shaped crossing, a footway, a closed service road and one address."""
    path = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, location in NODES.items():
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=location))
        writer.add_node(
            osmium.osm.mutable.Node(
                id=7,
                location=(120.505, 27.501),
                tags={
                    "addr:district": "平阳县",
                    "addr:subdistrict": "鳌江镇",
                    "addr:village": "曾山村",
                    "addr:street": "工业路",
                    "addr:housenumber": "18",
                },
            )
        )
        ways = [
            (10, [1, 5, 2], {"highway": "primary", "name": "鳌江大道", "maxspeed": "60"}),
            (11, [4, 5, 3], {"highway": "residential", "oneway": "-1"}),
            (12, [3, 2], {"highway": "footway"}),
            (13, [2, 6], {"highway": "service", "access": "no"}),
        ]
        for i in range(len(CHAIN) + 1):
            location = (120.53 + i / 100, 27.50)
            writer.add_node(osmium.osm.mutable.Node(id=100 + i, location=location))
        for i, (way_id, (tags, *_)) in enumerate(CHAIN.items()):
            ways.append((way_id, [100 + i, 101 + i], tags))
        for way_id, refs, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
    return path


def test_roads_are_split_at_shared_nodes(extract: Path) -> None:
    roads = read_layer(extract, spec_for("roads")).set_index("code")
    plus = sorted(c for c in roads.index if c.split("-")[1] in ("10", "11", "12", "13"))
    assert plus == ["osm-10-0", "osm-10-1", "osm-11-0", "osm-11-1", "osm-12-0"]
    assert roads.loc["osm-10-0", "road_class"] == "primary"
    assert roads.loc["osm-10-0", "speed_kmh"] == 60.0
    assert roads.loc["osm-10-0", "name"] == "鳌江大道"
    assert not roads.loc["osm-10-0", "oneway"]
    # oneway=-1: the edge runs against the way's node order
    assert roads.loc["osm-11-0", "oneway"]
    assert shapely.equals(
        roads.loc["osm-11-0", "geometry"], shapely.LineString([NODES[5], NODES[4]])
    )
    assert roads.loc["osm-11-0", "geometry"].coords[0] == NODES[5]


def test_ways_kept_for_the_profiles_that_may_use_them(extract: Path) -> None:
    roads = read_layer(extract, spec_for("roads")).set_index("code")
    kept = {int(code.split("-")[1]) for code in roads.index}
    for way_id, (tags, road_class, car, foot) in CHAIN.items():
        code = f"osm-{way_id}-0"
        if road_class is None:
            assert way_id not in kept, tags
            continue
        row = roads.loc[code]
        assert (row["road_class"], row["car"], row["foot"]) == (road_class, car, foot), tags
    # the footway between N and E: walkers only; access=no service road: nobody
    assert roads.loc["osm-12-0", "road_class"] == "path"
    assert (roads.loc["osm-12-0", "car"], roads.loc["osm-12-0", "foot"]) == (False, True)
    assert 13 not in kept
    assert roads.loc["osm-19-0", "oneway"]  # motorways are one-way unless tagged


def test_profiles_route_on_their_own_ways(empty_db: Engine, extract: Path) -> None:
    load_file(empty_db, extract, "roads")
    workspace = Workspace(empty_db)
    car, foot = workspace.road_network("car"), workspace.road_network("foot")
    n, e, s = (int(car.nearest_node(*NODES[k])[0][0]) for k in (3, 2, 4))
    # N -> E: cars go round by the centre, walkers take the footway
    length = {
        name: float(net.cost_matrix([n], [e], weight="length")[0, 0])
        for name, net in (("car", car), ("foot", foot))
    }
    assert length["foot"] == pytest.approx(_geodesic(NODES[3], NODES[2]), rel=1e-9)
    assert length["car"] == pytest.approx(
        _geodesic(NODES[3], NODES[5]) + _geodesic(NODES[5], NODES[2]), rel=1e-9
    )
    # oneway=-1 on 4-5-3 runs N -> S for cars; walkers go both ways
    assert np.isinf(car.cost_matrix([s], [n])[0, 0])
    assert np.isfinite(car.cost_matrix([n], [s])[0, 0])
    assert foot.cost_matrix([s], [n])[0, 0] == pytest.approx(
        (_geodesic(NODES[4], NODES[5]) + _geodesic(NODES[5], NODES[3])) * 3.6 / 5.0, rel=1e-9
    )
    # a point on the footway snaps to the footway on foot, to a road by car
    lon, lat = (NODES[3][0] + NODES[2][0]) / 2, (NODES[3][1] + NODES[2][1]) / 2
    assert foot.code[foot.snap(lon, lat).edge[0]] == "osm-12-0"
    assert car.code[car.snap(lon, lat).edge[0]] != "osm-12-0"
    with pytest.raises(InvalidRequestError, match="profile"):
        workspace.road_network("bicycle")  # type: ignore[arg-type]


def _geodesic(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(pyproj.Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2])


def test_osm_roads_load_with_topology(empty_db: Engine, extract: Path) -> None:
    load_file(empty_db, extract, "roads")
    with empty_db.connect() as conn:
        rows = conn.execute(
            text("SELECT code, source, target, cost, reverse_cost FROM roads")
        ).all()
    ends = {r.code: (r.source, r.target) for r in rows}
    centre = set(ends["osm-10-0"]) & set(ends["osm-10-1"])
    assert len(centre) == 1
    plus = [pair for code, pair in ends.items() if code.split("-")[1] in ("10", "11")]
    assert all(centre <= set(pair) for pair in plus)
    one_way = {"osm-11-0", "osm-11-1", "osm-19-0"}
    no_cars = {f"osm-{w}-0" for w, (_, cls, car, _) in CHAIN.items() if cls and not car}
    assert {r.code for r in rows if r.reverse_cost < 0} == one_way | no_cars | {"osm-12-0"}
    assert {r.code for r in rows if r.cost < 0} == no_cars | {"osm-12-0"}


def test_addresses_from_addr_tags(empty_db: Engine, extract: Path) -> None:
    load_file(empty_db, extract, "addresses")
    with empty_db.connect() as conn:
        row = conn.execute(
            text("SELECT code, full_text, village, road, number FROM addresses")
        ).one()
    assert row.code == "osm-n7"
    assert row.full_text == "平阳县鳌江镇曾山村工业路18"  # as written: no 号 added
    assert (row.village, row.road, row.number) == ("曾山村", "工业路", "18")
    # the matcher adds the 号 it needs: the address as people write it is found exactly
    stored = gpd.read_postgis("SELECT * FROM addresses", empty_db).rename_geometry("geometry")
    found = AddressMatcher.from_gazetteer(stored).match("平阳县鳌江镇曾山村工业路18号")
    assert (found.code, found.level) == ("osm-n7", "house")


def test_house_numbers_are_kept_as_written(empty_db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "helsinki.osm.pbf"
    addresses = {
        21: {"addr:street": "Eerikinkatu", "addr:housenumber": "10"},
        22: {"addr:street": "Mannerheimintie", "addr:housenumber": "5 A"},
        23: {"addr:street": "工业路", "addr:housenumber": "18号"},
        24: {"addr:street": "江滨路", "addr:housenumber": "126之2"},
        25: {"addr:full": "Eerikinkatu 12", "addr:housenumber": "12"},
    }
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, tags in addresses.items():
            location = (24.93 + node_id / 1e4, 60.16)
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=location, tags=tags))
    load_file(empty_db, path, "addresses")
    with empty_db.connect() as conn:
        rows = dict(conn.execute(text("SELECT code, full_text FROM addresses")).all())
    assert rows == {
        "osm-n21": "Eerikinkatu 10",
        "osm-n22": "Mannerheimintie 5 A",
        "osm-n23": "工业路18号",
        "osm-n24": "江滨路126之2",
        "osm-n25": "Eerikinkatu 12",
    }
