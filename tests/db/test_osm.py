"""OpenStreetMap extracts: drivable roads split at shared nodes, one-way rules, addresses."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import osmium
import pytest
import shapely
from sqlalchemy import Engine, text

from geogrid.ingest.load import load_file
from geogrid.ingest.readers import read_layer
from geogrid.ingest.specs import spec_for
from geogrid.spatial.addresses import AddressMatcher

NODES = {
    1: (120.49, 27.50),  # W
    2: (120.51, 27.50),  # E
    3: (120.50, 27.51),  # N
    4: (120.50, 27.49),  # S
    5: (120.50, 27.50),  # centre
    6: (120.52, 27.50),
}


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
        for way_id, refs, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
    return path


def test_roads_are_split_at_shared_nodes(extract: Path) -> None:
    roads = read_layer(extract, spec_for("roads")).set_index("code")
    assert sorted(roads.index) == ["osm-10-0", "osm-10-1", "osm-11-0", "osm-11-1"]
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


def test_osm_roads_load_with_topology(empty_db: Engine, extract: Path) -> None:
    load_file(empty_db, extract, "roads")
    with empty_db.connect() as conn:
        rows = conn.execute(text("SELECT code, source, target, reverse_cost FROM roads")).all()
    ends = {r.code: (r.source, r.target) for r in rows}
    centre = set(ends["osm-10-0"]) & set(ends["osm-10-1"])
    assert len(centre) == 1
    assert all(centre <= set(pair) for pair in ends.values())
    assert {r.code for r in rows if r.reverse_cost < 0} == {"osm-11-0", "osm-11-1"}


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
