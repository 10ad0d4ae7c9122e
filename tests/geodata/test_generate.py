"""Tests of the demo data generator (``geodata/generate.py``) and its committed output.

Most tests run on the ``tiny`` scale, generated once per module in about a second.
``test_committed_*`` open the committed zip and check its headline figures.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geodata._names import id_check_digit  # noqa: E402
from geodata._spec import AOJIANG, SCALES  # noqa: E402
from geodata.generate import DEFAULT_OUT, LAYERS, generate, write_gpkg  # noqa: E402

METRIC = "EPSG:32651"
SEED = 7
COLUMNS = {
    "grids": ["code", "name", "level", "parent_code", "population", "households"],
    "grid_workers": ["code", "name", "phone", "grid_code"],
    "roads": ["code", "name", "road_class", "speed_kmh", "oneway", "bridge"],
    "checkpoints": ["code", "name", "kind", "status", "staff"],
    "isolation_sites": ["code", "name", "kind", "capacity", "occupied", "risk_classes", "address"],
    "addresses": [
        *("code", "full_text", "county", "town", "village", "road", "number"),
        *("building", "unit", "room"),
    ],
    "transfer_requests": [
        *("code", "contact_name", "phone", "id_number", "group_size"),
        *("risk_class", "health_status", "ready_at", "address_text"),
    ],
    "vehicles": [
        *("code", "name", "seats", "depot_name", "risk_classes", "shift_start", "shift_end"),
    ],
    "water": ["name"],
}
GEOMETRY = {
    "grids": "MultiPolygon",
    "roads": "LineString",
    "checkpoints": "Point",
    "isolation_sites": "Point",
    "addresses": "Point",
    "transfer_requests": "Point",
    "vehicles": "Point",
    "water": "MultiPolygon",
}
INTEGER = {
    "grids": ["population", "households"],
    "roads": ["oneway", "bridge"],
    "checkpoints": ["staff"],
    "isolation_sites": ["capacity", "occupied"],
    "transfer_requests": ["group_size"],
    "vehicles": ["seats"],
}
RISK = {"close_contact", "secondary_contact", "returnee"}


@pytest.fixture(scope="module")
def layers() -> dict:
    return generate("tiny", seed=SEED)


@pytest.fixture(scope="module")
def grids(layers) -> gpd.GeoDataFrame:
    return layers["grids"]


def test_same_seed_gives_same_layers(layers):
    again = generate("tiny", seed=SEED)
    assert list(again) == list(layers) == list(LAYERS)
    for name, first in layers.items():
        second = again[name]
        if isinstance(first, gpd.GeoDataFrame):
            assert shapely.equals_exact(first.geometry.values, second.geometry.values, 0).all()
        pd.testing.assert_frame_equal(_attributes(first), _attributes(second))


def _attributes(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without its geometry column, as a plain DataFrame."""
    return pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))


@pytest.mark.parametrize("name", LAYERS)
def test_columns_types_and_crs(layers, name):
    frame = layers[name]
    assert list(frame.columns[: len(COLUMNS[name])]) == COLUMNS[name]
    for column in INTEGER.get(name, []):
        assert pd.api.types.is_integer_dtype(frame[column]), column
    if name in GEOMETRY:
        assert frame.crs.to_epsg() == 4326
        assert set(frame.geom_type) == {GEOMETRY[name]}
        assert frame.is_valid.all()
    else:
        assert not isinstance(frame, gpd.GeoDataFrame)
    assert frame["code"].is_unique if "code" in frame else True


def test_grid_codes_are_hierarchical(grids):
    assert grids["code"].is_unique
    parent = dict(zip(grids["code"], grids["parent_code"], strict=True))
    level = dict(zip(grids["code"], grids["level"], strict=True))
    patterns = {
        "county": r"^330326$",
        "town": r"^330326-\d{3}$",
        "village": r"^330326-\d{3}-\d{3}$",
        "micro": r"^330326-\d{3}-\d{3}-\d{2}$",
        "industry": r"^330326-I\d{2}$",
    }
    for code, lvl in level.items():
        assert re.match(patterns[lvl], code), code
        if lvl == "county":
            assert pd.isna(parent[code])
        elif lvl == "industry":
            assert parent[code] == "330326"
        else:
            assert code.rsplit("-", 1)[0] == parent[code]
    counts = grids["level"].value_counts()
    assert counts["county"] == 1
    assert counts["town"] >= 3
    assert counts["industry"] >= 2


def test_village_names_unique_within_town(grids):
    villages = grids[grids["level"] == "village"]
    assert not villages.duplicated(["parent_code", "name"]).any()
    assert villages["name"].str.endswith(("村", "社区")).all()


@pytest.mark.parametrize("level", ["town", "village", "micro"])
def test_each_level_tiles_its_parents_exactly(grids, level):
    children = grids[grids["level"] == level]
    geoms = children.geometry.values
    assert shapely.coverage_is_valid(geoms)
    assert shapely.is_empty(shapely.coverage_invalid_edges(geoms)).all()
    metric = grids.to_crs(METRIC).set_index("code")
    area = metric.geometry.area
    for parent, members in children.groupby("parent_code"):
        assert area[members["code"]].sum() == pytest.approx(area[parent], rel=1e-9)
        union = shapely.coverage_union_all(members.geometry.values)
        assert shapely.equals(union, grids.set_index("code").geometry[parent])
        sums = members[["population", "households"]].sum()
        expected = grids.set_index("code").loc[parent, ["population", "households"]]
        assert sums.tolist() == expected.tolist()


def test_industry_grids_overlap_villages(grids):
    industry = grids[grids["level"] == "industry"]
    villages = grids[grids["level"] == "village"]
    assert len(industry) >= 2
    for geom in industry.geometry:
        assert shapely.intersects(geom, villages.geometry.values).sum() >= 1


def test_workers_staff_every_grid(layers, grids):
    workers = layers["grid_workers"]
    staffed = grids[grids["level"].isin(["village", "micro", "industry"])]
    assert sorted(workers["grid_code"]) == sorted(staffed["code"])
    assert workers["phone"].is_unique
    assert workers["phone"].str.fullmatch(r"17[01]\d{8}").all()


def _node_ids(roads: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Start and end node ids of each road, by identical coordinates."""
    ends = np.stack(
        [
            shapely.get_coordinates(shapely.get_point(roads.geometry.values, 0)),
            shapely.get_coordinates(shapely.get_point(roads.geometry.values, -1)),
        ]
    )
    _, ids = np.unique(ends.reshape(-1, 2), axis=0, return_inverse=True)
    ids = ids.reshape(2, -1)
    return ids[0], ids[1], int(ids.max()) + 1


def test_roads_strongly_connected(layers):
    roads = layers["roads"]
    start, end, n = _node_ids(roads)
    two_way = roads["oneway"].to_numpy() == 0
    source = np.concatenate([start, end[two_way]])
    target = np.concatenate([end, start[two_way]])
    graph = coo_matrix((np.ones(len(source)), (source, target)), shape=(n, n))
    count, _ = connected_components(graph, directed=True, connection="strong")
    assert count == 1
    assert roads["oneway"].sum() > 0


def test_roads_are_noded(layers):
    roads = layers["roads"].to_crs(METRIC)
    lines = roads.geometry.values
    tree = shapely.STRtree(lines)
    assert len(tree.query(lines, predicate="crosses")[0]) == 0
    assert len(tree.query(lines, predicate="overlaps")[0]) == 0
    start, end, _ = _node_ids(roads)
    assert (start != end).all()
    # an end point may touch only the roads that end there
    points = shapely.get_point(lines, 0)
    p_idx, l_idx = tree.query(points, predicate="intersects")
    at_end = (start[l_idx] == start[p_idx]) | (end[l_idx] == start[p_idx])
    assert at_end.all()


def test_roads_classes_speeds_and_bridges(layers):
    roads = layers["roads"]
    speed = {"trunk": 60, "primary": 50, "secondary": 40, "tertiary": 30}
    speed |= {"residential": 20, "service": 15}
    assert (roads["speed_kmh"] == roads["road_class"].map(speed)).all()
    water = layers["water"].geometry.values[0]
    crossing = shapely.intersects(water, roads.geometry.values)
    assert (roads["bridge"].to_numpy() == crossing.astype(int)).all()
    assert 2 <= roads["bridge"].sum() <= 20


def test_addresses_lie_in_the_village_they_name(layers, grids):
    addresses = layers["addresses"]
    villages = grids.loc[grids["level"] == "village", ["name", "parent_code", "geometry"]]
    villages = villages.rename(columns={"name": "grid_name"})
    towns = grids[grids["level"] == "town"].set_index("code")["name"]
    joined = gpd.sjoin(addresses, villages, predicate="within", how="left")
    assert joined.index.is_unique
    assert len(joined) == len(addresses)
    assert (joined["village"] == joined["grid_name"]).all()
    assert (joined["town"] == joined["parent_code"].map(towns)).all()
    text = addresses["county"] + addresses["town"] + addresses["village"] + addresses["road"]
    prefix = text + addresses["number"] + "号"
    assert all(f.startswith(p) for f, p in zip(addresses["full_text"], prefix, strict=True))
    assert addresses["full_text"].is_unique


def test_checkpoints_sit_on_roads_near_a_border(layers, grids):
    metric_roads = layers["roads"].to_crs(METRIC).geometry.values
    points = layers["checkpoints"].to_crs(METRIC).geometry.values
    _, dist = shapely.STRtree(metric_roads).query_nearest(points, return_distance=True)
    assert dist.max() < 0.5
    villages = grids[grids["level"] == "village"].to_crs(METRIC).geometry.values
    borders = shapely.union_all(shapely.boundary(villages))
    to_border = shapely.distance(points, borders)
    assert to_border.max() <= 40.5
    kinds = set(layers["checkpoints"]["kind"])
    assert kinds <= {"traffic_station", "village_gate", "temporary"}
    assert {"traffic_station", "village_gate"} <= kinds


def test_transfer_requests(layers):
    requests = layers["transfer_requests"]
    assert requests["group_size"].sum() == SCALES["tiny"].transfer_people
    assert requests["group_size"].between(1, 5).all()
    assert set(requests["risk_class"]) <= RISK
    assert set(requests["health_status"]) <= {"yellow", "red"}
    assert requests["id_number"].str.fullmatch(r"990\d{14}[\dX]").all()
    assert all(id_check_digit(n[:17]) == n[17] for n in requests["id_number"])
    ready = pd.to_datetime(requests["ready_at"])
    assert ready.min() >= pd.Timestamp("2020-01-31T06:00:00+08:00")
    assert ready.max() <= pd.Timestamp("2020-01-31T16:00:00+08:00")
    gazetteer = layers["addresses"].set_index("full_text")
    assert requests["address_text"].isin(gazetteer.index).all()
    same = shapely.equals(
        requests.geometry.values, gazetteer.loc[requests["address_text"]].geometry.values
    )
    assert same.all()


def test_sites_and_vehicles(layers):
    sites = layers["isolation_sites"]
    assert len(sites) == 5
    assert (sites["kind"] == "hotel").all()
    assert sites["capacity"].between(60, 200).all()
    assert (sites["occupied"] <= sites["capacity"]).all()
    free = (sites["capacity"] - sites["occupied"]).sum()
    assert free > SCALES["tiny"].transfer_people
    for classes in sites["risk_classes"]:
        assert set(classes.split(",")) <= RISK
    vehicles = layers["vehicles"]
    assert vehicles["seats"].between(2, 7).all()
    assert (vehicles["name"] == "巡逻车改装01").sum() == 1
    assert (pd.to_datetime(vehicles["shift_end"]) > pd.to_datetime(vehicles["shift_start"])).all()


def test_write_and_read_back(layers, tmp_path):
    path = write_gpkg(layers, tmp_path / "demo.gpkg.zip")
    inner = f"/vsizip/{path}/demo.gpkg"
    assert sorted(name for name, _ in pyogrio.list_layers(inner)) == sorted(LAYERS)
    workers = pyogrio.read_dataframe(inner, layer="grid_workers")
    assert len(workers) == len(layers["grid_workers"])
    grids = pyogrio.read_dataframe(inner, layer="grids")
    assert grids.crs.to_epsg() == 4326
    assert shapely.equals_exact(grids.geometry.values, layers["grids"].geometry.values, 0).all()


def _committed(layer: str, **kwargs) -> pd.DataFrame:
    return pyogrio.read_dataframe(
        f"/vsizip/{DEFAULT_OUT}/pingyang-demo.gpkg", layer=layer, **kwargs
    )


def test_committed_zip_headline_counts():
    path = f"/vsizip/{DEFAULT_OUT}/pingyang-demo.gpkg"
    assert DEFAULT_OUT.stat().st_size < 20e6
    grids = _committed("grids")
    counts = grids["level"].value_counts()
    assert counts["town"] >= 3
    assert counts["industry"] >= 2
    in_town = grids["code"].str.startswith(AOJIANG + "-")
    assert (in_town & (grids["level"] == "village")).sum() >= 60
    assert (in_town & (grids["level"] == "micro")).sum() >= 300
    assert grids.set_index("code").loc[AOJIANG, "population"] == 320_000
    aojiang = grids.set_index("code").geometry[AOJIANG]
    checkpoints = _committed("checkpoints")
    assert shapely.within(checkpoints.geometry.values, aojiang).sum() >= 800
    assert len(_committed("isolation_sites")) == 5
    assert pyogrio.read_info(path, layer="addresses")["features"] >= 50_000
    assert pyogrio.read_info(path, layer="roads")["features"] >= 20_000
    requests = _committed("transfer_requests", read_geometry=False)
    assert requests["group_size"].sum() == 400
    assert 15 <= pyogrio.read_info(path, layer="vehicles")["features"] <= 25
