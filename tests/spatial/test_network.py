"""RoadNetwork against networkx on the same graph, built independently from the roads."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely
from shapely import LineString

from geogrid.errors import GeoGridError, NotFoundError, UnknownCRSError
from geogrid.spatial.roads.network import RoadNetwork, Snapped
from geogrid.spatial.roads.routable import roads_with_topology
from geogrid.spatial.roads.synthetic import grid_roads

GEOD = pyproj.Geod(ellps="WGS84")
SPEED = {"trunk": 60, "primary": 50, "secondary": 40, "tertiary": 30, "residential": 20}
SPEED |= {"service": 15}
RTOL = 1e-6


# -- an independent reference -------------------------------------------------------


def edge_table(
    roads: gpd.GeoDataFrame, net: RoadNetwork
) -> list[tuple[int, int, float, float, bool]]:
    """Return ``(u, v, length_m, time_s, oneway)`` per edge, computed here, not by geogrid."""
    rows = []
    for e, road in enumerate(roads.itertuples()):
        length = GEOD.geometry_length(road.geometry)
        speed = SPEED[road.road_class] if np.isnan(road.speed_kmh) else road.speed_kmh
        rows.append(
            (
                int(net.source[e]),
                int(net.target[e]),
                length,
                length / (speed / 3.6),
                bool(road.oneway),
            )
        )
    return rows


def reference(table, weight: str) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for e, (u, v, length, time, oneway) in enumerate(table):
        w = time if weight == "time" else length
        graph.add_edge(u, v, key=(e, 1), w=w)
        if not oneway:
            graph.add_edge(v, u, key=(e, -1), w=w)
    return graph


def split(
    graph: nx.MultiDiGraph, table, weight: str, points: dict[int, list[tuple[object, float]]]
):
    """Split edges at named points (fractions), by hand."""
    graph = graph.copy()
    for e, named in points.items():
        u, v, length, time, oneway = table[e]
        w = time if weight == "time" else length
        graph.remove_edge(u, v, key=(e, 1))
        if not oneway:
            graph.remove_edge(v, u, key=(e, -1))
        chain = [(u, 0.0), *sorted(named, key=lambda p: p[1]), (v, 1.0)]
        for (a, fa), (b, fb) in itertools.pairwise(chain):
            graph.add_edge(a, b, key=(e, 1, a, b), w=(fb - fa) * w)
            if not oneway:
                graph.add_edge(b, a, key=(e, -1, a, b), w=(fb - fa) * w)
    return graph


def nx_costs(graph, origins, destinations) -> np.ndarray:
    out = np.full((len(origins), len(destinations)), np.inf)
    for i, o in enumerate(origins):
        reached = nx.single_source_dijkstra_path_length(graph, o, weight="w")
        for j, d in enumerate(destinations):
            out[i, j] = reached.get(d, np.inf)
    return out


def assert_costs_equal(actual, expected):
    assert actual.shape == expected.shape
    assert np.array_equal(np.isinf(actual), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=RTOL, atol=1e-9)


def snapped_at(edge, fraction) -> Snapped:
    k = len(edge)
    return Snapped(
        np.asarray(edge, np.int64),
        np.asarray(fraction, float),
        np.zeros(k),
        np.full(k, np.nan),
        np.full(k, np.nan),
    )


@pytest.fixture(scope="module")
def city():
    roads = grid_roads(12, 10, oneway=0.35, drop=0.15, parallel=0.05, diagonal=0.2, seed=11)
    net = RoadNetwork.from_geodataframe(roads)
    return roads, net, edge_table(roads, net)


# -- distances ----------------------------------------------------------------------


@pytest.mark.parametrize("weight", ["time", "length"])
@pytest.mark.parametrize(("n_origins", "n_destinations"), [(20, 20), (40, 6), (6, 40)])
def test_node_to_node_costs_match_networkx(city, weight, n_origins, n_destinations):
    _, net, table = city
    rng = np.random.default_rng(n_origins * 7 + n_destinations)
    origins = rng.choice(net.node_ids, n_origins, replace=False)
    destinations = rng.choice(net.node_ids, n_destinations, replace=False)
    expected = nx_costs(reference(table, weight), origins, destinations)
    assert_costs_equal(net.cost_matrix(origins, destinations, weight=weight), expected)


@pytest.mark.parametrize("weight", ["time", "length"])
@pytest.mark.parametrize(("n_origins", "n_destinations"), [(8, 40), (40, 8)])
def test_snapped_mid_edge_costs_match_split_edges(city, weight, n_origins, n_destinations):
    _, net, table = city
    rng = np.random.default_rng(n_origins + 3)
    o_edge = rng.integers(0, net.n_edges, n_origins)
    d_edge = rng.integers(0, net.n_edges, n_destinations)
    d_edge[:4] = o_edge[:4]  # some pairs share an edge, on either side of each other
    o_frac = rng.uniform(0, 1, n_origins)
    d_frac = rng.uniform(0, 1, n_destinations)
    o_frac[0], d_frac[0] = 1.0, 0.0  # at the ends too
    points: dict[int, list] = {}
    for i, (e, f) in enumerate(zip(o_edge, o_frac, strict=True)):
        points.setdefault(int(e), []).append((("o", i), f))
    for j, (e, f) in enumerate(zip(d_edge, d_frac, strict=True)):
        points.setdefault(int(e), []).append((("d", j), f))
    graph = split(reference(table, weight), table, weight, points)
    expected = nx_costs(
        graph, [("o", i) for i in range(n_origins)], [("d", j) for j in range(n_destinations)]
    )
    actual = net.cost_matrix(snapped_at(o_edge, o_frac), snapped_at(d_edge, d_frac), weight)
    assert_costs_equal(actual, expected)


def test_nodes_and_snapped_points_mix(city):
    _, net, table = city
    graph = split(reference(table, "time"), table, "time", {3: [("p", 0.25)]})
    nodes = net.node_ids[:10]
    to_point = net.cost_matrix(nodes, snapped_at([3], [0.25]))
    assert_costs_equal(to_point, nx_costs(graph, nodes, ["p"]))
    from_point = net.cost_matrix(snapped_at([3], [0.25]), nodes)
    assert_costs_equal(from_point, nx_costs(graph, ["p"], nodes))


def test_max_cost_cuts_the_matrix(city):
    _, net, _ = city
    full = net.cost_matrix(net.node_ids[:5], net.node_ids)
    cut = net.cost_matrix(net.node_ids[:5], net.node_ids, max_cost=60.0)
    assert np.array_equal(np.isfinite(cut), full <= 60.0)
    np.testing.assert_array_equal(cut[np.isfinite(cut)], full[full <= 60.0])


# -- routes -------------------------------------------------------------------------


@pytest.mark.parametrize("weight", ["time", "length"])
def test_shortest_path_cost_nodes_and_geometry(city, weight):
    _, net, table = city
    rng = np.random.default_rng(5)
    graph = reference(table, weight)
    checked = 0
    for _ in range(25):
        e0, e1 = rng.integers(0, net.n_edges, 2)
        f0, f1 = rng.uniform(0, 1, 2)
        origin, destination = snapped_at([e0], [f0]), snapped_at([e1], [f1])
        route = net.shortest_path(origin, destination, weight=weight)
        expected = net.cost_matrix(origin, destination, weight=weight)[0, 0]
        assert route.cost == pytest.approx(expected, rel=RTOL) or (
            np.isinf(expected) and not route.reachable
        )
        if not route.reachable:
            assert route.geometry is None
            continue
        checked += 1
        assert (route.time_s if weight == "time" else route.length_m) == pytest.approx(
            route.cost, rel=RTOL
        )
        # consecutive nodes are joined by the edges listed, in order
        for a, b in itertools.pairwise(route.nodes):
            assert graph.has_edge(int(a), int(b))
        # the line runs from the origin's point to the destination's, and is as long
        start = net.snapped_from_fractions([e0], [f0])
        end = net.snapped_from_fractions([e1], [f1])
        coords = np.asarray(route.geometry.coords)
        np.testing.assert_allclose(coords[0], [start.lon[0], start.lat[0]], atol=1e-9)
        np.testing.assert_allclose(coords[-1], [end.lon[0], end.lat[0]], atol=1e-9)
        assert GEOD.geometry_length(route.geometry) == pytest.approx(route.length_m, rel=1e-4)
    assert checked > 10


def test_route_between_nodes_and_to_itself(city):
    _, net, table = city
    a, b = (int(x) for x in net.node_ids[[0, 50]])
    route = net.shortest_path(a, b, weight="length")
    expected = nx.dijkstra_path_length(reference(table, "length"), a, b, weight="w")
    assert route.cost == pytest.approx(expected, rel=RTOL)
    assert route.nodes[0] == a
    assert route.nodes[-1] == b
    same = net.shortest_path(a, a)
    assert same.cost == 0
    assert same.geometry is not None
    assert same.geometry.length == 0
    with pytest.raises(ValueError, match="one origin"):
        net.shortest_path([a, b], b)


# -- one-way, unreachable, empty, errors ---------------------------------------------


def street(*coords) -> LineString:
    return LineString([(120.0 + x * 1e-3, 28.0 + y * 1e-3) for x, y in coords])


def frame(lines, oneway, speed=None) -> gpd.GeoDataFrame:
    n = len(lines)
    return gpd.GeoDataFrame(
        {
            "code": [f"s{i}" for i in range(n)],
            "road_class": ["residential"] * n,
            "speed_kmh": speed or [36.0] * n,
            "oneway": oneway,
        },
        geometry=lines,
        crs=4326,
    )


def test_one_way_is_respected():
    # A -> B one-way direct; a two-way detour through C
    roads = frame(
        [street((0, 0), (1, 0)), street((0, 0), (0.5, 1)), street((0.5, 1), (1, 0))],
        [True, False, False],
    )
    net = RoadNetwork.from_geodataframe(roads)
    a, b = 1, 2
    ab, ba = net.cost_matrix([a], [b])[0, 0], net.cost_matrix([b], [a])[0, 0]
    assert ab == pytest.approx(net.cost_s[0])
    assert ba == pytest.approx(net.cost_s[1] + net.cost_s[2])
    assert ba > ab
    assert net.shortest_path(b, a).edges.tolist() == [2, 1]
    # a lone one-way street: the way back does not exist, even from mid-street
    lone = RoadNetwork.from_geodataframe(frame([street((0, 0), (1, 0))], [True]))
    assert lone.cost_matrix([2], [1]).tolist() == [[np.inf]]
    mid = snapped_at([0], [0.5])
    assert lone.cost_matrix(mid, [2])[0, 0] == pytest.approx(lone.cost_s[0] / 2)
    assert lone.cost_matrix(mid, [1]).tolist() == [[np.inf]]
    early, late = snapped_at([0, 0], [0.2, 0.7]), snapped_at([0], [0.7])
    assert lone.cost_matrix(early, late)[:, 0] == pytest.approx([lone.cost_s[0] / 2, 0])
    assert lone.cost_matrix(late, early[:1]).tolist() == [[np.inf]]


def test_unreachable_is_inf():
    roads = frame([street((0, 0), (1, 0)), street((5, 5), (6, 5))], [False, False])
    net = RoadNetwork.from_geodataframe(roads)
    m = net.cost_matrix([1, 3], [2, 4])
    assert np.isinf(m[0, 1])
    assert np.isinf(m[1, 0])
    assert np.isfinite(m[0, 0])
    route = net.shortest_path(1, 4)
    assert not route.reachable
    assert route.geometry is None
    far = net.snap([130.0], [28.0], max_distance_m=100.0)
    assert far.edge.tolist() == [-1]
    assert np.isinf(net.cost_matrix(far, [1])).all()
    assert np.isinf(net.cost_matrix([1], far)).all()


def test_empty_inputs():
    empty = frame([], [])
    net = RoadNetwork.from_geodataframe(empty)
    assert (net.n_nodes, net.n_edges) == (0, 0)
    assert net.cost_matrix([], []).shape == (0, 0)
    assert net.snap([120.0], [28.0]).edge.tolist() == [-1]
    assert len(net.service_area([], 100.0).edge) == 0
    city = RoadNetwork.from_geodataframe(frame([street((0, 0), (1, 0))], [False]))
    assert city.cost_matrix([], [1, 2]).shape == (0, 2)
    assert city.cost_matrix([1], np.array([], dtype=int)).shape == (1, 0)
    assert len(city.snap([], [])) == 0
    area = city.service_area([], 100.0)
    assert len(area.lines()) == 0
    assert area.polygon().is_empty


def test_refusals():
    roads = frame([street((0, 0), (1, 0))], [False])
    with pytest.raises(UnknownCRSError):
        RoadNetwork.from_geodataframe(roads.to_crs(3857))
    net = RoadNetwork.from_geodataframe(roads)
    with pytest.raises(NotFoundError, match="99"):
        net.cost_matrix([99], [1])
    with pytest.raises(ValueError, match="weight"):
        net.cost_matrix([1], [2], weight="fuel")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="node ids"):
        net.cost_matrix([1.5], [2])
    with pytest.raises(GeoGridError):
        RoadNetwork.from_geodataframe(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=4326))


def test_stored_topology_and_costs_are_used_as_given():
    roads = roads_with_topology(
        frame([street((0, 0), (1, 0)), street((1, 0), (2, 0))], [False, False])
    )
    roads["source"] = roads["source"] * 10  # any integer ids will do
    roads["target"] = roads["target"] * 10
    roads["cost"] = [5.0, 0.0]  # a zero cost is an edge, not a missing one
    roads["reverse_cost"] = [-1.0, 7.0]
    net = RoadNetwork.from_geodataframe(roads)
    assert net.node_ids.tolist() == [10, 20, 30]
    assert net.cost_matrix([10, 30], [10, 20, 30]).tolist() == [[0, 5, 5], [np.inf, 7, 0]]


def test_parallel_streets_keep_the_cheaper():
    roads = frame([street((0, 0), (0.5, 0.5), (1, 0)), street((0, 0), (1, 0))], [False, False])
    net = RoadNetwork.from_geodataframe(roads)
    assert net.cost_matrix([1], [2])[0, 0] == pytest.approx(net.cost_s[1])
    assert net.shortest_path(1, 2).edges.tolist() == [1]


# -- snapping -----------------------------------------------------------------------


def test_snap_finds_edge_fraction_and_distance():
    roads = frame([street((0, 0), (2, 0)), street((0, 3), (2, 3))], [False, False])
    net = RoadNetwork.from_geodataframe(roads)
    lon, lat = 120.0 + 0.5e-3, 28.0 + 0.2e-3  # a quarter along the first street, ~22 m off
    snapped = net.snap([lon, lon], [lat, 28.0029], max_distance_m=1000)
    assert snapped.edge.tolist() == [0, 1]
    assert snapped.fraction[0] == pytest.approx(0.25, abs=1e-4)
    _, _, off = GEOD.inv(lon, lat, lon, 28.0)
    assert snapped.distance_m[0] == pytest.approx(off, rel=1e-4)
    assert snapped.lat[0] == pytest.approx(28.0, abs=1e-7)
    assert net.snap([lon], [lat], max_distance_m=10).edge.tolist() == [-1]
    ids, dist = net.nearest_node([120.0], [28.0001])
    assert ids.tolist() == [1]
    assert dist[0] == pytest.approx(11.08, abs=0.01)
    assert len(snapped[1:]) == 1
    assert snapped[1].edge.tolist() == [1]


# -- service areas ------------------------------------------------------------------


def _subdivided(table, weight, k, extra):
    """Reference graph with every edge cut into ``k`` parts, plus extra named points."""
    points = {e: [(("s", e, i), i / k) for i in range(1, k)] for e in range(len(table))}
    for e, named in extra.items():
        points[e] = points[e] + named
    return split(reference(table, weight), table, weight, points)


@pytest.mark.parametrize("weight", ["time", "length"])
def test_service_area_matches_brute_force(city, weight):
    _, net, table = city
    budget = 45.0 if weight == "time" else 600.0
    k = 8
    origin_nodes = [int(net.node_ids[7]), int(net.node_ids[60])]
    o_edge, o_frac = [11, 40], [0.3, 0.85]
    extra = {e: [(("o", i), f)] for i, (e, f) in enumerate(zip(o_edge, o_frac, strict=True))}
    graph = _subdivided(table, weight, k, extra)
    snapped = snapped_at(o_edge, o_frac)
    area = net.service_area(origin_nodes, budget, weight)
    area_snapped = net.service_area(snapped, budget, weight)
    for origins, result in ((origin_nodes, area), ([("o", 0), ("o", 1)], area_snapped)):
        dist = nx.multi_source_dijkstra_path_length(graph, origins, weight="w")
        _check_area(result, dist, table, k, budget, weight, extra)


def _check_area(area, dist, table, k, budget, weight, extra):
    near = budget * 1e-9
    # nodes
    reached = {n for n, d in dist.items() if isinstance(n, int | np.integer) and d <= budget}
    assert set(area.node_ids.tolist()) == reached
    # every sample point: inside a piece exactly when within budget
    pieces: dict[int, list[tuple[float, float]]] = {}
    for e, lo, hi in zip(area.edge, area.fraction_from, area.fraction_to, strict=True):
        pieces.setdefault(int(e), []).append((lo, hi))
    for e in range(len(table)):
        for i in range(1, k):
            d = dist.get(("s", e, i), np.inf)
            if abs(d - budget) < near:
                continue
            inside = any(lo - 1e-12 <= i / k <= hi + 1e-12 for lo, hi in pieces.get(e, []))
            assert inside == (d <= budget), (e, i, d)
    # every piece end inside an edge lies exactly at the budget
    origin_fracs = {(e, f) for e, named in extra.items() for _, f in named}
    for e, bounds in pieces.items():
        for x in {b for span in bounds for b in span}:
            if x in (0.0, 1.0) or (e, x) in origin_fracs:
                continue
            probe = _distance_to_fraction(table, weight, e, x, k, extra, dist)
            assert probe == pytest.approx(budget, rel=RTOL)
    # lines and polygon
    lines = area.lines()
    assert len(lines) == len(area.edge)
    lengths = np.array([GEOD.geometry_length(g) for g in lines.geometry])
    np.testing.assert_allclose(lines.length_m, lengths, rtol=1e-3, atol=1e-6)
    assert area.polygon().buffer(1e-9).covers(lines.geometry.union_all())


def _distance_to_fraction(table, weight, e, x, k, extra, dist):
    """Cost to the point at fraction ``x`` of edge ``e`` from its neighbouring samples."""
    u, v, length, time, oneway = table[e]
    w = time if weight == "time" else length
    stops = [(u, 0.0), (v, 1.0)] + [(("s", e, i), i / k) for i in range(1, k)]
    stops += extra.get(e, [])
    before = max((s for s in stops if s[1] <= x), key=lambda s: s[1])
    after = min((s for s in stops if s[1] >= x), key=lambda s: s[1])
    best = dist.get(before[0], np.inf) + (x - before[1]) * w
    if not oneway:
        best = min(best, dist.get(after[0], np.inf) + (after[1] - x) * w)
    return best


def test_service_area_partial_edge_lengths():
    line = frame([street((0, 0), (10, 0))], [False])
    net = RoadNetwork.from_geodataframe(line)
    area = net.service_area(snapped_at([0], [0.5]), 100.0, weight="length")
    assert area.fraction_from[0] == pytest.approx(0.5 - 100 / net.length_m[0])
    assert area.fraction_to[0] == pytest.approx(0.5 + 100 / net.length_m[0])
    assert area.lines().length_m.sum() == pytest.approx(200.0)
    assert GEOD.geometry_length(area.lines().geometry.iloc[0]) == pytest.approx(200.0, rel=1e-5)
    both_ends = net.service_area([1, 2], 100.0, weight="length")
    assert both_ends.lines().length_m.tolist() == pytest.approx([100.0, 100.0])
    assert not both_ends.full.any()
    assert both_ends.node_origin.tolist() == [0, 1]
    whole = net.service_area([1], 2 * net.length_m[0], weight="length")
    assert whole.full.tolist() == [True]
    assert whole.node_ids.tolist() == [1, 2]
    assert whole.node_cost.tolist() == pytest.approx([0.0, net.length_m[0]])


def test_matrices_larger_than_one_chunk(city, monkeypatch):
    from geogrid.spatial.roads import engine

    _, net, _ = city
    whole = net.cost_matrix(net.node_ids[:30], net.node_ids)
    monkeypatch.setattr(engine, "_CELLS_PER_CHUNK", 7 * net.n_nodes)
    assert np.array_equal(net.cost_matrix(net.node_ids[:30], net.node_ids), whole)


def test_network_reports_its_size(city):
    _, net, _ = city
    assert net.n_edges == 207
    assert net.n_nodes == len(np.unique(np.concatenate([net.source, net.target])))
    assert 10_000 < net.memory_bytes < 1_000_000
    assert net.metric_crs.coordinate_operation.method_name == "Transverse Mercator"


def test_network_is_frozen(city):
    _, net, _ = city
    with pytest.raises(AttributeError, match="frozen"):
        net.cost_s = net.cost_s * 2
    for array in (net.cost_s, net.source_index, net.node_ids, net.node_x, net.lines_xy):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = array[0]
