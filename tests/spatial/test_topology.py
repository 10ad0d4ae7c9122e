"""Road topology: node ids, snapping tolerance, lengths and pgRouting-style costs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely import LineString

from geogrid.errors import IngestError, InvalidGeometryError, UnknownCRSError
from geogrid.spatial.roads.routable import roads_with_topology
from geogrid.spatial.roads.synthetic import grid_roads
from geogrid.spatial.roads.topology import (
    DEFAULT_SPEED_KMH,
    edge_costs,
    geodesic_length_m,
    oneway_flags,
    road_topology,
    snap_line_endpoints,
    speeds_from_classes,
)

LON0, LAT0 = 120.65, 28.15
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(LAT0))  # close enough to place test points


def _east(metres: float) -> float:
    return LON0 + metres / M_PER_DEG_LON


def test_identical_endpoints_share_nodes_in_order_of_first_appearance():
    lines = [
        LineString([(_east(0), LAT0), (_east(100), LAT0)]),
        LineString([(_east(200), LAT0), (_east(100), LAT0)]),
        LineString([(_east(0), LAT0), (_east(200), LAT0 + 0.001)]),
    ]
    topo = road_topology(lines, tolerance_m=0)
    assert topo.source.tolist() == [1, 3, 1]
    assert topo.target.tolist() == [2, 2, 4]
    assert topo.n_nodes == 4
    assert topo.n_moved == 0
    assert (topo.node_lon[0], topo.node_lat[0]) == lines[0].coords[0]


@pytest.mark.parametrize(
    ("gap_m", "merged"), [(0.0, True), (0.3, True), (0.49, True), (0.7, False)]
)
def test_endpoints_within_tolerance_merge_and_beyond_do_not(gap_m, merged):
    lines = [
        LineString([(_east(0), LAT0), (_east(100), LAT0)]),
        LineString([(_east(100 + gap_m), LAT0), (_east(200), LAT0)]),
    ]
    topo = road_topology(lines, tolerance_m=0.5)
    assert bool(topo.target[0] == topo.source[1]) is merged
    assert topo.n_nodes == (3 if merged else 4)
    assert topo.n_moved == (1 if merged and gap_m > 0 else 0)


def test_topology_matches_the_lattice_with_jittered_ends():
    roads = grid_roads(15, 12, endpoint_jitter_m=0.2, seed=3)
    topo = road_topology(roads.geometry, tolerance_m=0.5)
    truth = np.concatenate([roads.grid_source, roads.grid_target])
    found = np.concatenate([topo.source, topo.target])
    # the partition of endpoints into nodes is the lattice's, one to one
    pairs = np.unique(np.column_stack([truth, found]), axis=0)
    assert len(pairs) == len(np.unique(truth)) == len(np.unique(found)) == topo.n_nodes
    # with a 1 cm tolerance almost nothing merges
    assert road_topology(roads.geometry, tolerance_m=0.01).n_nodes > 3 * topo.n_nodes


def test_ids_are_stable_across_runs_and_when_edges_are_appended():
    roads = grid_roads(10, 10, seed=4)
    first = road_topology(roads.geometry)
    again = road_topology(roads.geometry.to_numpy())
    assert np.array_equal(first.source, again.source)
    assert np.array_equal(first.target, again.target)
    extra = LineString([roads.geometry.iloc[0].coords[0], (LON0 + 1.0, LAT0 + 1.0)])
    grown = road_topology([*roads.geometry, extra])
    assert np.array_equal(grown.source[:-1], first.source)
    assert np.array_equal(grown.target[:-1], first.target)
    assert grown.source[-1] == first.source[0]
    assert grown.target[-1] == first.n_nodes + 1


def test_snap_line_endpoints_moves_ends_onto_nodes_and_keeps_inputs():
    a = LineString([(_east(0), LAT0), (_east(50), LAT0 + 0.0001), (_east(100), LAT0)])
    b = LineString([(_east(100.2), LAT0), (_east(200), LAT0)])
    topo = road_topology([a, b], tolerance_m=0.5)
    moved = snap_line_endpoints([a, b], topo)
    assert moved[1].coords[0] == a.coords[-1]
    assert moved[0].coords[1] == a.coords[1]
    assert b.coords[0] == (_east(100.2), LAT0)  # the input is untouched


def test_empty_and_bad_geometries():
    topo = road_topology([])
    assert topo.n_nodes == 0
    assert len(topo.source) == 0
    with pytest.raises(InvalidGeometryError):
        road_topology([shapely.MultiLineString([[(0, 0), (1, 1)]])])
    with pytest.raises(InvalidGeometryError):
        road_topology([LineString()])
    with pytest.raises(ValueError, match="tolerance"):
        road_topology([LineString([(0, 0), (1, 1)])], tolerance_m=-1)


def test_geodesic_length_matches_pyproj_per_line():
    roads = grid_roads(6, 6, seed=5)
    geod = pyproj.Geod(ellps="WGS84")
    expected = [geod.geometry_length(g) for g in roads.geometry]
    np.testing.assert_allclose(geodesic_length_m(roads.geometry), expected, rtol=1e-12)
    assert geodesic_length_m([]).shape == (0,)


def test_costs_follow_pgrouting_convention():
    cost, reverse = edge_costs([1000.0, 500.0, 0.0], [60.0, 30.0, 40.0], [0, 1, True])
    np.testing.assert_allclose(cost, [60.0, 60.0, 0.0])
    np.testing.assert_allclose(reverse, [60.0, -1.0, -1.0])
    with pytest.raises(ValueError, match="positive"):
        edge_costs([1.0], [0.0], [False])


def test_speeds_default_by_class_and_refuse_unknown():
    speeds = speeds_from_classes(["trunk", "service", "primary"], [None, np.nan, 55])
    assert speeds.tolist() == [DEFAULT_SPEED_KMH["trunk"], DEFAULT_SPEED_KMH["service"], 55.0]
    with pytest.raises(IngestError) as info:
        speeds_from_classes(["footway"], [None])
    assert info.value.row == 0
    with pytest.raises(IngestError):
        speeds_from_classes(["trunk"], [-5])


def test_oneway_flags_accept_bool_int_and_missing_only():
    assert oneway_flags([True, False, 1, 0, None, np.nan]).tolist() == [1, 0, 1, 0, 0, 0]
    with pytest.raises(IngestError, match="oneway"):
        oneway_flags([1, -1])


def test_roads_with_topology_adds_the_stored_columns():
    roads = grid_roads(5, 5, seed=6)
    out = roads_with_topology(roads)
    assert {"source", "target", "length_m", "cost", "reverse_cost"} <= set(out.columns)
    assert "source" not in roads  # a copy
    one = out.oneway.to_numpy()
    assert np.all(out.reverse_cost.to_numpy()[one] == -1)
    np.testing.assert_allclose(out.reverse_cost.to_numpy()[~one], out.cost.to_numpy()[~one])
    speed = speeds_from_classes(roads.road_class, roads.speed_kmh)
    np.testing.assert_allclose(out.cost, out.length_m * 3.6 / speed)
    # given columns are kept as they are
    stored = out.assign(source=out.source + 100, cost=out.cost * 2)
    again = roads_with_topology(stored)
    assert np.array_equal(again.source, out.source + 100)
    np.testing.assert_allclose(again.cost, out.cost * 2)


def test_roads_must_be_wgs84():
    roads = grid_roads(3, 3, seed=7)
    with pytest.raises(UnknownCRSError, match="EPSG:4326"):
        roads_with_topology(roads.to_crs(3857))
    with pytest.raises(ValueError, match="no CRS"):
        roads_with_topology(roads.set_crs(None, allow_override=True))
    crs84 = roads.set_crs("OGC:CRS84", allow_override=True)
    assert len(roads_with_topology(crs84)) == len(roads)


def test_source_target_must_come_together_and_be_complete():
    roads = grid_roads(3, 3, seed=8)
    with pytest.raises(IngestError, match="source/target"):
        roads_with_topology(roads.assign(source=1))
    bad = roads.assign(source=np.nan, target=2)
    with pytest.raises(IngestError, match="node id"):
        roads_with_topology(bad)


def test_topology_of_200k_edges():
    # its speed is measured by benchmarks/network_micro.py, not asserted here
    roads = grid_roads(320, 320, endpoint_jitter_m=0.1, seed=9)
    geoms = roads.geometry.to_numpy()
    assert len(geoms) > 190_000
    topo = road_topology(geoms)
    assert topo.n_nodes == 320 * 320 - np.sum(
        ~np.isin(np.arange(320 * 320), np.concatenate([roads.grid_source, roads.grid_target]))
    )


def test_frame_in_frame_out_types():
    roads = grid_roads(3, 3, seed=10)
    out = roads_with_topology(roads)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.source.dtype == np.int64
