"""Covering: candidates and coverage against networkx, solvers against enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from geogrid.spatial.coverage.covering import coverage_from_cost_matrix, covering_from_network
from geogrid.spatial.coverage.solvers import solve_lscp, solve_mclp
from geogrid.spatial.roads.network import RoadNetwork

from ._reference import distances_from, lattice, place, walk_graph

RADIUS_M = 50.0


def fewest_sites(cover: np.ndarray) -> int:
    """Smallest number of columns covering every coverable row, by enumeration."""
    need = cover.any(axis=1)
    columns = np.unique(cover.T, axis=0)  # identical columns are interchangeable
    for k in range(len(columns) + 1):
        for pick in itertools.combinations(range(len(columns)), k):
            if np.all(columns[list(pick)].any(axis=0)[need]):
                return k
    raise AssertionError("unreachable")


def best_weight(cover: np.ndarray, k: int, weights: np.ndarray) -> float:
    columns = np.unique(cover.T, axis=0)
    best = 0.0
    for pick in itertools.combinations(range(len(columns)), min(k, len(columns))):
        best = max(best, float(weights[columns[list(pick)].any(axis=0)].sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_solvers_match_enumeration_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    cover = rng.random((9, 10)) < 0.25
    weights = rng.integers(1, 5, 9).astype(float)
    lscp = solve_lscp(cover)
    assert lscp.optimal
    assert len(lscp.chosen) == fewest_sites(cover)
    assert np.array_equal(lscp.covered, cover.any(axis=1))
    for k in (1, 2, 3):
        mclp = solve_mclp(cover, k, weights)
        assert mclp.optimal
        assert len(mclp.chosen) <= k
        assert mclp.objective == pytest.approx(best_weight(cover, k, weights))


def test_mclp_uses_no_more_sites_than_it_needs():
    cover = np.array([[1, 0, 0], [1, 0, 0]], bool)
    solution = solve_mclp(cover, 3)
    assert solution.chosen.tolist() == [0]
    assert solve_mclp(cover, 0).chosen.tolist() == []


def test_cost_matrix_adapter_and_empty_problems():
    cover = coverage_from_cost_matrix([[10.0, 60.0], [np.inf, 49.0]], 50.0)
    assert cover.toarray().tolist() == [[True, False], [False, True]]
    assert len(solve_lscp(np.zeros((0, 3), bool)).chosen) == 0
    nothing = solve_lscp(np.zeros((2, 2), bool))  # no site can guard them
    assert nothing.covered.tolist() == [False, False]


@pytest.fixture(scope="module")
def problem():
    roads = lattice(5, 60.0, seed=2)
    net = RoadNetwork.from_geodataframe(roads)
    rng = np.random.default_rng(4)
    edges = rng.choice(net.n_edges, 7, replace=False)
    targets = net.snapped_from_fractions(edges, rng.uniform(0.05, 0.95, 7))
    return net, targets, covering_from_network(net, targets, RADIUS_M)


def reference_cover(net, targets, sites) -> np.ndarray:
    """Which site guards which target, by networkx on the split network."""
    points: dict = {}
    for i in range(len(targets)):
        place(points, ("t", i), targets.edge[i], targets.fraction[i])
    for j in range(len(sites)):
        place(points, ("s", j), sites.edge[j], sites.fraction[j])
    graph = walk_graph(net, points)
    cover = np.zeros((len(targets), len(sites)), bool)
    for i in range(len(targets)):
        for node, _d in distances_from(graph, ("t", i), RADIUS_M + 1e-6).items():
            if isinstance(node, tuple) and node[0] == "s":
                cover[i, node[1]] = True
    return cover


def test_coverage_matrix_matches_networkx(problem):
    net, targets, covering = problem
    ref = reference_cover(net, targets, covering.candidates)
    assert np.array_equal(covering.coverage.toarray(), ref)
    assert ref.any(axis=0).all()  # every candidate guards something


def test_set_covering_is_optimal_against_enumeration_and_dense_sites(problem):
    net, targets, covering = problem
    solution = solve_lscp(covering.coverage)
    assert solution.covered.all()
    assert len(solution.chosen) == fewest_sites(reference_cover(net, targets, covering.candidates))
    # no set of sites every 2 m along the network does better
    step = np.concatenate([np.arange(0, 1, 2.0 / net.length_m[e]) for e in range(net.n_edges)])
    edge = np.repeat(
        np.arange(net.n_edges), [len(np.arange(0, 1, 2.0 / length)) for length in net.length_m]
    )
    dense = net.snapped_from_fractions(edge, step)
    dense_cover = reference_cover(net, targets, dense)
    assert len(solution.chosen) <= fewest_sites(dense_cover[:, dense_cover.any(axis=0)])


@pytest.mark.parametrize("k", [1, 2])
def test_maximal_covering_matches_enumeration(problem, k):
    net, targets, covering = problem
    weights = np.arange(1.0, len(targets) + 1)
    solution = solve_mclp(covering.coverage, k, weights)
    ref = reference_cover(net, targets, covering.candidates)
    assert solution.objective == pytest.approx(best_weight(ref, k, weights))
    assert np.array_equal(solution.covered, ref[:, solution.chosen].any(axis=1))


def test_unsnapped_targets_are_guarded_by_nothing(problem):
    net, targets, _ = problem
    lost = net.snap([0.0], [0.0], max_distance_m=10.0)
    assert lost.edge[0] == -1
    both = type(targets)(
        *(
            np.concatenate([a, b])
            for a, b in zip(
                (targets.edge, targets.fraction, targets.distance_m, targets.lon, targets.lat),
                (lost.edge, lost.fraction, lost.distance_m, lost.lon, lost.lat),
                strict=True,
            )
        )
    )
    covering = covering_from_network(net, both, RADIUS_M)
    assert not covering.coverage.toarray()[-1].any()
    assert solve_lscp(covering.coverage).covered.tolist() == [True] * len(targets) + [False]
