"""A grid worker's jurisdiction, as PostGIS filters it, against shapely and plain string
rules computed here on the demo data."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Engine, text

from geogrid.db.queries.jurisdiction import grids_in_subtree
from geogrid.db.queries.people import read_people, read_person
from tests.conftest import DEMO_WORKER_GRID

ROOTS = (
    DEMO_WORKER_GRID,  # a village (the most people)
    "330326-101-007",  # another village
    "330326-101",  # a town
    f"{DEMO_WORKER_GRID}-01",  # a micro grid
    "330326",  # the county: everyone
)


@pytest.fixture(scope="module")
def demo_layers(demo_db: Engine) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    with demo_db.connect() as conn:
        grids = gpd.read_postgis(
            text("SELECT code, name, geom FROM grids"), conn, geom_col="geom"
        ).set_index("code", drop=False)
        people = gpd.read_postgis(
            text("SELECT code, phone, geom FROM transfer_requests"), conn, geom_col="geom"
        )
    return grids, people


@pytest.mark.parametrize("root", ROOTS)
def test_people_in_a_subtree_are_those_shapely_puts_inside_its_root(
    demo_db: Engine, demo_layers: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], root: str
) -> None:
    grids, people = demo_layers
    inside = shapely.covers(grids.geometry[root], people.geometry.to_numpy())
    expected = sorted(people["code"][inside])
    with demo_db.connect() as conn:
        found, matched = read_people(conn, subtree=root, limit=10_000)
        outside = people["code"][~inside]
        assert all(read_person(conn, code, subtree=root) is None for code in outside[:20])
        if expected:
            person = read_person(conn, expected[0], subtree=root)
            assert person is not None
            assert person["code"] == expected[0]
    assert [p["code"] for p in found] == expected
    assert matched == len(expected)
    if root == DEMO_WORKER_GRID:
        assert len(expected) >= 10  # the test is about something
    phones = dict(zip(people["code"], people["phone"], strict=True))
    assert all(p["phone"] == phones[p["code"]] for p in found)  # masking is the caller's


def test_an_unknown_root_holds_nobody(demo_db: Engine) -> None:
    with demo_db.connect() as conn:
        assert read_people(conn, subtree="NO-SUCH-GRID") == ([], 0)
        assert grids_in_subtree(conn, "NO-SUCH-GRID", "NO-SUCH-GRID") == []


def test_paging_adds_up(demo_db: Engine) -> None:
    with demo_db.connect() as conn:
        everyone, total = read_people(conn, limit=10_000)
        pages = [read_people(conn, limit=25, offset=o) for o in range(0, total + 25, 25)]
    assert [p["code"] for page, _ in pages for p in page] == [p["code"] for p in everyone]
    assert {matched for _, matched in pages} == {total}


@pytest.mark.parametrize("root", ROOTS)
def test_grids_in_a_subtree_follow_the_codes(
    demo_db: Engine, demo_layers: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], root: str
) -> None:
    grids, _ = demo_layers
    with demo_db.connect() as conn:
        codes = sorted(grids["code"])
        near = [c for c in codes if c.startswith(root[:10])]  # the root's town: the hard part
        for code in sorted(set(near + codes[::10])):
            inside = code == root or code.startswith(root + "-")
            assert grids_in_subtree(conn, root, code) == ([code] if inside else []), code
        name = grids.loc[root, "name"]
        same_name = [
            c for c in grids.index[grids["name"] == name] if c == root or c.startswith(root + "-")
        ]
        assert grids_in_subtree(conn, root, name) == sorted(same_name)
