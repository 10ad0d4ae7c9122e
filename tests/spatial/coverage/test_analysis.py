"""The two calls the workspace makes: analyse_coverage and plan_checkpoints."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity

from geogrid.errors import InvalidGeometryError, InvalidRequestError, UnknownCRSError
from geogrid.spatial.coverage import (
    analyse_coverage,
    coverage_table,
    plan_checkpoints,
)
from geogrid.spatial.coverage.guard import checkpoint_distance, checkpoints_from_geodataframe
from geogrid.spatial.coverage.reach import reach_points
from geogrid.spatial.roads.network import RoadNetwork

from ._reference import centre_xy, distances_from, lattice, metric_polygon, place, walk_graph

REACH_M = 250.0


@pytest.fixture(scope="module")
def town():
    roads = lattice(9, 100.0, seed=8)
    roads["id"] = np.arange(len(roads)) + 1000
    roads.loc[roads.index[::7], "bridge"] = True
    net = RoadNetwork.from_geodataframe(roads)
    cx, cy = centre_xy(net)
    area = shapely.affinity.rotate(shapely.box(cx - 320, cy - 260, cx + 300, cy + 280), 11)
    west = area.intersection(shapely.box(cx - 1000, cy - 1000, cx + 20, cy + 1000))
    east = area.intersection(shapely.box(cx + 20, cy - 1000, cx + 1000, cy + 1000))
    grids = gpd.GeoDataFrame(
        {"code": ["T", "T-1", "T-2"], "name": ["Town", "West", "East"]},
        geometry=[metric_polygon(net, g) for g in (area, west, east)],
        crs=4326,
    )
    rng = np.random.default_rng(1)
    edge = rng.integers(0, net.n_edges, 25)
    on = net.snapped_from_fractions(edge, rng.uniform(0, 1, 25))
    checkpoints = gpd.GeoDataFrame(
        {
            "code": [f"C{i:02d}" for i in range(25)],
            "name": [f"gate {i}" for i in range(25)],
            "status": np.where(rng.random(25) < 0.85, "active", "closed"),
        },
        geometry=shapely.points(on.lon, on.lat),
        crs=4326,
    )
    ax, ay = cx + rng.uniform(-450, 450, 800), cy + rng.uniform(-450, 450, 800)
    lon, lat = net.projection.xy_to_lonlat(ax, ay)
    addresses = gpd.GeoDataFrame(
        {"code": [f"A{i:04d}" for i in range(800)], "full_text": ["x"] * 800},
        geometry=shapely.points(lon, lat),
        crs=4326,
    )
    result = analyse_coverage(
        grids.iloc[[0]],
        roads,
        checkpoints,
        addresses,
        network=net,
        children=grids.iloc[1:],
        reach_m=REACH_M,
    )
    return roads, net, grids, checkpoints, addresses, result


def test_entries_frame_carries_roads_and_guards(town):
    roads, _net, grids, checkpoints, _, result = town
    e = result.entries
    assert e.crs.to_epsg() == 4326
    assert len(e) > 8
    assert set(e["direction"]) <= {"both", "in", "out", "none"}
    assert (e["grid_code"] == "T").all()
    assert np.array_equal(e["road_id"], roads["id"].to_numpy()[e["edge"]])
    assert np.array_equal(
        e["bridge"], roads["bridge"].fillna(False).astype(bool).to_numpy()[e["edge"]]
    )
    assert np.array_equal(e["guarded"], e["checkpoint_distance_m"] <= 50.0)
    assert e["checkpoint_distance_m"].isna().any()  # none within reach: NaN, null in JSON
    assert "Infinity" not in e.to_json()
    assert (shapely.distance(e.geometry.to_numpy(), grids.geometry.iloc[0].boundary) < 1e-5).all()
    active = set(checkpoints.loc[checkpoints.status == "active", "code"])
    assert set(e["checkpoint_code"].dropna()) <= active
    json.loads(e.to_json())


def test_addresses_and_cells_add_up(town):
    _, _net, grids, _checkpoints, addresses, result = town
    inside = addresses[addresses.intersects(grids.geometry.iloc[0])]
    a = result.addresses
    assert sorted(a["code"]) == sorted(inside["code"])
    assert np.array_equal(a["reached"], a["distance_m"] <= REACH_M)
    assert result.cells["addresses"].sum() == len(a)
    assert result.cells["unreached"].sum() == (~a["reached"]).sum()
    assert len(result.unreached_addresses) == (~a["reached"]).sum()
    s = result.summary()
    assert s["addresses"] == len(a)
    assert s["ways_in"] + s["exits_only"] == s["entries"]
    assert s["guarded"] + s["unguarded"] == s["ways_in"]
    json.dumps(s)


def test_children_table_matches_a_direct_table(town):
    roads, net, grids, checkpoints, addresses, result = town
    table = result.children
    assert table["code"].tolist() == ["T-1", "T-2"]
    direct = coverage_table(
        grids.iloc[1:], roads, checkpoints, addresses, network=net, reach_m=REACH_M
    )
    assert table.equals(direct)
    assert table["addresses"].sum() >= len(result.addresses)
    active = checkpoints[checkpoints.status == "active"]
    for row, grid in zip(table.itertuples(), grids.geometry.iloc[1:], strict=True):
        assert row.checkpoints == active.intersects(grid).sum()
        assert row.guarded + row.unguarded == row.ways_in <= row.entries


def test_unreached_land_is_the_cells_whose_centre_is_unreached(town):
    _, net, grids, checkpoints, _, result = town
    polygon = grids.geometry.iloc[0]
    unreached = result.unreached.geometry.union_all()
    assert 0 < result.area.share < 1
    assert unreached.difference(polygon.buffer(1e-7)).area == pytest.approx(0, abs=1e-12)
    distance = checkpoint_distance(net, checkpoints_from_geodataframe(checkpoints, net), REACH_M)

    def far(lon, lat):
        snapped = net.snap(lon, lat, 250.0)
        return ~reach_points(distance, snapped, REACH_M).reached

    # the centres of the lattice cells well inside the grid decide their cells exactly
    side = result.area.cell_m
    poly_xy = net.projection.geometries_to_xy([polygon])[0]
    x0, y0, x1, y1 = poly_xy.bounds
    gx, gy = np.meshgrid(
        np.arange(np.floor(x0 / side), np.ceil(x1 / side)) * side + side / 2,
        np.arange(np.floor(y0 / side), np.ceil(y1 / side)) * side + side / 2,
    )
    gx, gy = gx.ravel(), gy.ravel()
    inner = shapely.contains_xy(poly_xy.buffer(-side), gx, gy)
    lon, lat = net.projection.xy_to_lonlat(gx[inner], gy[inner])
    assert np.array_equal(shapely.contains_xy(unreached, lon, lat), far(lon, lat))
    # and random spots mostly agree (a spot halfway between two roads may differ)
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(*polygon.bounds[::2], 3000), rng.uniform(*polygon.bounds[1::2], 3000)
    keep = shapely.contains_xy(polygon, lon, lat)
    agree = shapely.contains_xy(unreached, lon[keep], lat[keep]) == far(lon[keep], lat[keep])
    assert agree.mean() > 0.9


def test_set_covering_plan_guards_every_way_in(town):
    _, net, _, _, _, result = town
    plan = plan_checkpoints(result)
    e = plan.entries
    assert plan.solution.optimal
    assert plan.after["guarded_share"] == 1.0
    assert plan.before["guarded"] == (result.entries["way_in"] & result.entries["guarded"]).sum()
    assert 0 < len(plan.sites) <= e["target"].sum()
    # every target has a new site within 50 m, by networkx
    points: dict = {}
    for i, row in enumerate(plan.sites.itertuples()):
        place(points, ("s", i), row.edge, row.fraction)
    targets = np.flatnonzero(e["target"])
    for i in targets:
        place(points, ("t", int(i)), e["edge"].iloc[i], e["fraction"].iloc[i])
    graph = walk_graph(net, points)
    for i in targets:
        near = distances_from(graph, ("t", int(i)), 50.0 + 1e-6)
        assert ("s", int(e["new_site"].iloc[i])) in near
    json.loads(plan.sites.to_json())
    json.dumps(plan.summary())


def test_budgeted_plan_improves_by_the_best_single_site(town):
    result = town[-1]
    one = plan_checkpoints(result, budget=1)
    full = plan_checkpoints(result)
    assert len(one.sites) == 1
    best = full.sites["entries_guarded"].max()
    assert one.after["guarded"] - one.before["guarded"] >= best
    weighted = plan_checkpoints(result, budget=2, weights="road_class")
    assert weighted.after["guarded_weight"] >= weighted.before["guarded_weight"]
    assert plan_checkpoints(result, budget=0).after == one.before


def test_no_active_checkpoint_leaves_everything_open(town):
    roads, net, grids, checkpoints, addresses, _ = town
    result = analyse_coverage(
        grids.iloc[[0]], roads, checkpoints.assign(status="closed"), addresses, network=net
    )
    assert not result.entries["guarded"].any()
    assert not result.addresses["reached"].any()
    assert result.area.share == pytest.approx(1.0, abs=1e-6)
    assert result.children.empty
    none = analyse_coverage(
        grids.iloc[[0]], roads, checkpoints.iloc[:0], addresses.iloc[:0], network=net
    )
    assert len(none.addresses) == 0
    assert len(none.entries) == len(result.entries)


def test_bad_inputs_are_refused_clearly(town):
    roads, net, grids, checkpoints, addresses, _ = town
    with pytest.raises(InvalidRequestError, match="one grid"):
        analyse_coverage(grids, roads, checkpoints, addresses, network=net)
    with pytest.raises(UnknownCRSError):
        analyse_coverage(grids.iloc[[0]].to_crs(3857), roads, checkpoints, addresses)
    with pytest.raises(InvalidRequestError, match="status"):
        analyse_coverage(
            grids.iloc[[0]], roads, checkpoints.drop(columns="status"), addresses, network=net
        )
    with pytest.raises(InvalidRequestError, match="edges"):
        analyse_coverage(grids.iloc[[0]], roads.iloc[:-1], checkpoints, addresses, network=net)
    lines = checkpoints.set_geometry(checkpoints.geometry.envelope.translate(0, 0))
    lines = lines.set_geometry(shapely.buffer(lines.geometry.to_numpy(), 1e-4))
    with pytest.raises(InvalidGeometryError):
        analyse_coverage(grids.iloc[[0]], roads, lines, addresses, network=net)
    with pytest.raises(InvalidRequestError):
        plan_checkpoints(town[-1], budget=-1)
    with pytest.raises(InvalidRequestError):
        plan_checkpoints(town[-1], budget=1, weights="traffic")
