"""A place on a node routes as that node: RoadNetwork against networkx on random graphs.

Random small directed graphs with one-way roads and one-way dead ends. Every edge gets a
place at its start (fraction 0) and at its end (fraction 1), and some get places part-way
along. The reference is a networkx graph built here from the same edge list: places at
fraction 0 or 1 are the nodes themselves, places part-way split their edge. Matrices,
shortest-path costs and service areas must equal it, and no ``0 * inf`` may be computed
on the way (numpy's "invalid value" warning is an error here).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import LineString

from geogrid.spatial.roads.network import NODE_TOLERANCE_M, RoadNetwork, Snapped

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

RTOL = 1e-9


@dataclass
class Case:
    """A random graph, the network built from it and the places to route between."""

    source: list[int]  # node ids
    target: list[int]
    along: list[float]  # cost along the geometry, inf when closed
    against: list[float]
    place_edge: list[int]
    place_frac: list[float]
    weight: str

    def network(self) -> RoadNetwork:
        ids = sorted(set(self.source) | set(self.target))
        pos = {n: (120.0 + 1e-3 * (i % 4), 28.0 + 1e-3 * (i // 4)) for i, n in enumerate(ids)}
        lines = [
            LineString([pos[u], pos[v]]) for u, v in zip(self.source, self.target, strict=True)
        ]
        length = np.array([min(a, b) for a, b in zip(self.along, self.against, strict=True)])
        along, against = np.array(self.along), np.array(self.against)
        # the weight under test carries the costs; the other one is a multiple of it
        cost = np.where(np.isfinite(along), along, -1.0)
        reverse = np.where(np.isfinite(against), against, -1.0)
        if self.weight == "length":  # length is one number per edge: both ways equal
            length = np.where(np.isfinite(along), along, against)
            return RoadNetwork(
                lines,
                self.source,
                self.target,
                length,
                np.where(cost >= 0, length / 10, -1.0),
                np.where(reverse >= 0, length / 10, -1.0),
            )
        return RoadNetwork(lines, self.source, self.target, length * 10, cost, reverse)

    def costs(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the per-edge costs of the weight under test, along and against."""
        along, against = np.array(self.along), np.array(self.against)
        if self.weight == "length":
            both = np.where(np.isfinite(along), along, against)
            return np.where(np.isfinite(along), both, np.inf), np.where(
                np.isfinite(against), both, np.inf
            )
        return along, against

    def reference(self) -> tuple[nx.MultiDiGraph, list[object]]:
        """Return the reference graph and the networkx node of every place."""
        along, against = self.costs()
        graph = nx.MultiDiGraph()
        graph.add_nodes_from(set(self.source) | set(self.target))
        keys: list[object] = []
        inside: dict[int, list[tuple[float, object]]] = {}
        for e, f in zip(self.place_edge, self.place_frac, strict=True):
            if f == 0.0:
                keys.append(self.source[e])
            elif f == 1.0:
                keys.append(self.target[e])
            else:  # equal places are one point
                keys.append(("p", e, f))
                if ("p", e, f) not in keys[:-1]:
                    inside.setdefault(e, []).append((f, ("p", e, f)))
        for e, (u, v) in enumerate(zip(self.source, self.target, strict=True)):
            chain = [(0.0, u), *sorted(inside.get(e, []), key=lambda p: p[0]), (1.0, v)]
            for (fa, a), (fb, b) in itertools.pairwise(chain):
                if np.isfinite(along[e]):
                    graph.add_edge(a, b, w=(fb - fa) * along[e])
                if np.isfinite(against[e]):
                    graph.add_edge(b, a, w=(fb - fa) * against[e])
        return graph, keys

    def places(self, net: RoadNetwork) -> Snapped:
        return net.snapped_from_fractions(self.place_edge, self.place_frac)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n_core = draw(st.integers(2, 6))
    ids = [7 + 5 * i for i in range(n_core)]  # any integer ids
    cost = st.integers(1, 60).map(float)
    direction = st.sampled_from(["both", "along", "against"])
    source, target, along, against = [], [], [], []

    def add(u: int, v: int, way: str) -> None:
        c = draw(cost)
        back = draw(cost) if draw(st.booleans()) else c
        source.append(u)
        target.append(v)
        along.append(np.inf if way == "against" else c)
        against.append(np.inf if way == "along" else back)

    for _ in range(draw(st.integers(1, 9))):
        u, v = draw(st.permutations(ids))[:2]
        add(u, v, draw(direction))
    for k in range(draw(st.integers(1, 3))):  # one-way dead ends, in or out
        leaf, core = 1000 + k, draw(st.sampled_from(ids))
        u, v = (leaf, core) if draw(st.booleans()) else (core, leaf)
        add(u, v, draw(st.sampled_from(["along", "against"])))
    m = len(source)
    edges = list(range(m)) * 2
    fracs = [0.0] * m + [1.0] * m  # every edge, at both ends
    for _ in range(draw(st.integers(0, 4))):  # and part-way along some
        edges.append(draw(st.integers(0, m - 1)))
        fracs.append(draw(st.floats(0.05, 0.95)))
    weight = draw(st.sampled_from(["time", "length"]))
    return Case(source, target, along, against, edges, fracs, weight)


def reference_costs(graph: nx.MultiDiGraph, origins: list, destinations: list) -> np.ndarray:
    out = np.full((len(origins), len(destinations)), np.inf)
    for i, o in enumerate(origins):
        reached = nx.single_source_dijkstra_path_length(graph, o, weight="w")
        for j, d in enumerate(destinations):
            out[i, j] = reached.get(d, np.inf)
    return out


def assert_costs_equal(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    assert np.array_equal(np.isinf(actual), np.isinf(expected)), (actual, expected)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=RTOL, atol=1e-9)


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases())
def test_cost_matrix_from_and_to_nodes_matches_networkx(case: Case) -> None:
    net = case.network()
    graph, keys = case.reference()
    places = case.places(net)
    expected = reference_costs(graph, keys, keys)
    assert_costs_equal(net.cost_matrix(places, places, case.weight), expected)
    # fewer destinations than origins searches backward: the same answers
    few = places[:3]
    assert_costs_equal(net.cost_matrix(places, few, case.weight), expected[:, :3])
    assert_costs_equal(net.cost_matrix(few, places, case.weight), expected[:3])
    # a place at a node answers what the node id answers
    nodes = [k for k in keys if not isinstance(k, tuple)]
    ids = np.array(nodes, dtype=np.int64)
    at_nodes = places[[i for i, k in enumerate(keys) if not isinstance(k, tuple)]]
    assert_costs_equal(
        net.cost_matrix(at_nodes, places, case.weight), net.cost_matrix(ids, places, case.weight)
    )


@SETTINGS
@given(cases(), st.data())
def test_shortest_path_cost_matches_networkx(case: Case, data: st.DataObject) -> None:
    net = case.network()
    graph, keys = case.reference()
    places = case.places(net)
    k = len(keys)
    pairs = data.draw(st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), max_size=8))
    for i, j in [(0, k - 1), (k - 1, 0), *pairs]:
        route = net.shortest_path(places[i], places[j], case.weight)
        try:
            expected = nx.dijkstra_path_length(graph, keys[i], keys[j], weight="w")
        except nx.NetworkXNoPath:
            assert not route.reachable
            assert route.geometry is None
            continue
        assert route.cost == pytest.approx(expected, rel=RTOL, abs=1e-9)
        measured = route.time_s if case.weight == "time" else route.length_m
        assert measured == pytest.approx(expected, rel=RTOL, abs=1e-9)
        assert route.geometry is not None


@SETTINGS
@given(cases(), st.data())
def test_service_area_nodes_match_networkx(case: Case, data: st.DataObject) -> None:
    net = case.network()
    graph, keys = case.reference()
    places = case.places(net)
    chosen = data.draw(st.lists(st.integers(0, len(keys) - 1), min_size=1, max_size=3))
    budget = data.draw(st.floats(0.0, 150.0))
    area = net.service_area(places[chosen], budget, case.weight)
    dist = nx.multi_source_dijkstra_path_length(graph, {keys[i] for i in chosen}, weight="w")
    node_ids = set(net.node_ids.tolist())
    expected = {n: d for n, d in dist.items() if n in node_ids and d <= budget}
    mine = dict(zip(area.node_ids.tolist(), area.node_cost.tolist(), strict=True))
    borderline = {n for n, d in dist.items() if n in node_ids and abs(d - budget) <= 1e-9}
    assert set(mine) - borderline == set(expected) - borderline
    for n in set(mine) & set(expected):
        assert mine[n] == pytest.approx(expected[n], rel=RTOL, abs=1e-9)
    # every reached piece starts at a reached node or at an origin
    origins = {(int(places.edge[i]), float(places.fraction[i])) for i in chosen}
    for e, lo, hi in zip(area.edge, area.fraction_from, area.fraction_to, strict=True):
        u, v = int(net.source[e]), int(net.target[e])
        from_start = lo == 0 and u in mine
        from_end = hi == 1 and v in mine
        assert from_start or from_end or any(oe == e and lo <= of <= hi for oe, of in origins)


def test_one_way_start_leaves_by_every_road():
    # a one-way street 1 -> 2 and a two-way street 1 - 3: from the start of the one-way
    # street, node 3 is one street away (before, only "drive to 2" was offered)
    a, b, c = (120.0, 28.0), (120.001, 28.0), (120.0, 28.001)
    net = RoadNetwork(
        [LineString([a, b]), LineString([a, c])], [1, 1], [2, 3], [100, 100], [10, 10], [-1, 10]
    )
    start = net.snapped_from_fractions([0], [0.0])
    assert net.cost_matrix(start, [1, 2, 3]).tolist() == [[0.0, 10.0, 10.0]]
    route = net.shortest_path(start, 3)
    assert (route.cost, route.nodes.tolist(), route.edges.tolist()) == (10.0, [1, 3], [1])
    end = net.snapped_from_fractions([0], [1.0])  # and arriving at the end of it
    assert net.cost_matrix([3], end).tolist() == [[20.0]]
    assert net.service_area(start, 10.0).node_ids.tolist() == [1, 2, 3]


def test_node_tolerance_is_one_millimetre_along_the_edge():
    a, b, c = (120.0, 28.0), (120.001, 28.0), (120.0, 28.001)
    net = RoadNetwork(
        [LineString([a, b]), LineString([a, c])], [1, 1], [2, 3], [100, 100], [10, 10], [-1, 10]
    )
    on_node = NODE_TOLERANCE_M / 100 * 0.999  # just under 1 mm of a 100 m edge
    off_node = NODE_TOLERANCE_M / 100 * 2  # 2 mm: a point on the one-way street
    near = net.snapped_from_fractions([0, 0, 0, 0], [on_node, off_node, 1 - on_node, 1 - off_node])
    m = net.cost_matrix(near, [1, 3])
    assert m[0].tolist() == [0.0, 10.0]  # the node itself
    assert np.isinf(m[1]).all()  # cannot drive back to 1 against the one-way street
    assert m[2].tolist() == [np.inf, np.inf]  # node 2 is a dead end
    assert net.cost_matrix([1], near[2:]).tolist() == [[10.0, pytest.approx(10 * (1 - off_node))]]
