"""Guarded entries, reached addresses and fast snapping against independent references."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity

from geogrid.spatial.coverage.entries import find_entries
from geogrid.spatial.coverage.guard import (
    checkpoint_distance,
    checkpoints_from_geodataframe,
    guard_entries,
)
from geogrid.spatial.coverage.reach import reach_points
from geogrid.spatial.roads.network import RoadNetwork

from ._reference import centre_xy, distances_from, lattice, place, walk_graph

TOLERANCE_M = 50.0
SEARCH_M = 300.0


@pytest.fixture(scope="module")
def case():
    roads = lattice(8, 100.0, seed=5)
    net = RoadNetwork.from_geodataframe(roads)
    cx, cy = centre_xy(net)
    area_xy = shapely.affinity.rotate(shapely.box(cx - 260, cy - 190, cx + 240, cy + 210), 17)
    entries = find_entries(
        [area_xy], net.lines_xy, net.source, net.target, net.cost_s >= 0, net.reverse_cost_s >= 0
    )
    rng = np.random.default_rng(7)
    # checkpoints near the crossings (some within the tolerance, some beyond) and anywhere
    k = 40
    edge = np.concatenate(
        [entries.edge[rng.integers(0, len(entries), k)], rng.integers(0, net.n_edges, 20)]
    )
    frac = rng.uniform(0, 1, len(edge))
    on = net.snapped_from_fractions(edge, frac)
    x, y = net.projection.lonlat_to_xy(on.lon, on.lat)
    angle = rng.uniform(0, 2 * np.pi, len(edge))
    lon, lat = net.projection.xy_to_lonlat(x + 3 * np.cos(angle), y + 3 * np.sin(angle))
    status = np.where(rng.random(len(edge)) < 0.8, "active", "closed")
    frame = gpd.GeoDataFrame(
        {"code": [f"C{i:03d}" for i in range(len(edge))], "status": status},
        geometry=shapely.points(lon, lat),
        crs=4326,
    )
    return net, entries, frame, area_xy


def test_guarded_entries_match_networkx(case):
    net, entries, frame, _ = case
    cps = checkpoints_from_geodataframe(frame, net)
    guard = guard_entries(net, entries, checkpoint_distance(net, cps, SEARCH_M), TOLERANCE_M)
    points: dict = {}
    for i in np.flatnonzero(cps.usable):
        place(points, ("cp", int(i)), cps.snapped.edge[i], cps.snapped.fraction[i])
    for i in range(len(entries)):
        place(points, ("entry", i), entries.edge[i], entries.fraction[i])
    graph = walk_graph(net, points)
    assert len(entries) > 10
    assert 0 < guard.guarded.sum() < len(entries)
    for i in range(len(entries)):
        dist = distances_from(graph, ("entry", i), SEARCH_M)
        found = {n[1]: d for n, d in dist.items() if isinstance(n, tuple) and n[0] == "cp"}
        best = min(found.values(), default=np.inf)
        assert guard.guarded[i] == (best <= TOLERANCE_M)
        if np.isfinite(best):
            assert guard.distance_m[i] == pytest.approx(best, rel=1e-9, abs=1e-6)
            assert found[int(guard.checkpoint[i])] == pytest.approx(best, abs=1e-6)
        else:
            assert guard.checkpoint[i] == -1


def test_closed_and_far_checkpoints_do_not_guard(case):
    net, entries, frame, _ = case
    closed = frame.assign(status="closed")
    cps = checkpoints_from_geodataframe(closed, net)
    guard = guard_entries(net, entries, checkpoint_distance(net, cps, SEARCH_M), TOLERANCE_M)
    assert not guard.guarded.any()
    assert (guard.checkpoint == -1).all()
    moved = frame.set_geometry(frame.geometry.translate(1.0))
    cps = checkpoints_from_geodataframe(moved, net)  # ~100 km east: off the network
    assert not cps.usable.any()


def test_reached_addresses_match_networkx(case):
    net, _, frame, area_xy = case
    cps = checkpoints_from_geodataframe(frame, net)
    distance = checkpoint_distance(net, cps, 400.0)
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = area_xy.bounds
    ax, ay = rng.uniform(x0, x1, 150), rng.uniform(y0, y1, 150)
    lon, lat = net.projection.xy_to_lonlat(ax, ay)
    ref_snap = net.snap(lon, lat, max_distance_m=250.0)  # checked on its own below
    reach = reach_points(distance, ref_snap, 150.0)
    points: dict = {}
    for i in np.flatnonzero(cps.usable):
        place(points, ("cp", int(i)), cps.snapped.edge[i], cps.snapped.fraction[i])
    for i in range(len(lon)):
        place(points, ("addr", i), ref_snap.edge[i], ref_snap.fraction[i])
    graph = walk_graph(net, points)
    far = 0
    for i in range(len(lon)):
        dist = distances_from(graph, ("addr", i), 400.0)
        best = min(
            (d for n, d in dist.items() if isinstance(n, tuple) and n[0] == "cp"), default=np.inf
        )
        total = best + ref_snap.distance_m[i]
        if abs(total - 150.0) < 1e-6:
            continue
        assert reach.reached[i] == (total <= 150.0)
        far += not reach.reached[i]
        if np.isfinite(best):
            assert reach.distance_m[i] == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert 0 < far < len(lon)


def nearest_by_rtree(net, lon, lat, max_distance_m):
    """The nearest edge by shapely's R-tree query on whole edges: an independent reference."""
    x, y = net.projection.lonlat_to_xy(lon, lat)
    points = shapely.points(x, y)
    (which, edge), dist = shapely.STRtree(net.lines_xy).query_nearest(
        points, max_distance=max_distance_m, return_distance=True, all_matches=False
    )
    lines = net.lines_xy[edge]
    fraction = shapely.line_locate_point(lines, points[which], normalized=True)
    on = shapely.get_coordinates(shapely.line_interpolate_point(lines, fraction, normalized=True))
    out = {
        "edge": np.full(len(x), -1),
        "distance_m": np.full(len(x), np.inf),
        "fraction": np.full(len(x), np.nan),
        "lon": np.full(len(x), np.nan),
        "lat": np.full(len(x), np.nan),
    }
    out["edge"][which], out["distance_m"][which], out["fraction"][which] = edge, dist, fraction
    out["lon"][which], out["lat"][which] = net.projection.xy_to_lonlat(on[:, 0], on[:, 1])
    return out


def test_snapping_matches_an_rtree_of_whole_edges(case):
    net = case[0]
    rng = np.random.default_rng(11)
    cx, cy = centre_xy(net)
    x, y = cx + rng.uniform(-600, 600, 3000), cy + rng.uniform(-600, 600, 3000)
    lon, lat = net.projection.xy_to_lonlat(x, y)
    mine = net.snap(lon, lat, max_distance_m=60.0)
    ref = nearest_by_rtree(net, lon, lat, 60.0)
    assert np.array_equal(mine.edge >= 0, ref["edge"] >= 0)
    ok = ref["edge"] >= 0
    assert 0 < ok.sum() < len(ok)
    np.testing.assert_allclose(mine.distance_m[ok], ref["distance_m"][ok], atol=1e-7)
    # where the edges differ the point is nearest to a junction: the same place either way
    np.testing.assert_allclose(mine.lon[ok], ref["lon"][ok], atol=1e-9)
    np.testing.assert_allclose(mine.lat[ok], ref["lat"][ok], atol=1e-9)
    same = ok & (mine.edge == ref["edge"])
    assert same.sum() >= 0.95 * ok.sum()
    np.testing.assert_allclose(mine.fraction[same], ref["fraction"][same], atol=1e-9)
