"""Candidate sites for new checkpoints, and which open crossings each would guard.

Candidates
----------
A site guards a crossing when it lies within ``radius_m`` walking distance of it. Along
one edge, the walking distance from a crossing is the smaller of two linear functions,
so the set of crossings a site guards changes only at the edge's ends and at the points
exactly ``radius_m`` from a crossing (*network intersect points*), and those points
guard at least what their neighbourhood guards. Hence (Church and Meadows, 1979) the
candidates below contain an optimal solution over *every* point of the network, not
only over a sample:

- the crossings themselves,
- the nodes (junctions) within ``radius_m`` of a crossing,
- on every edge within reach, the points exactly ``radius_m`` from a crossing.

The solvers are in :mod:`~geogrid.spatial.coverage.solvers`: they take the sparse
coverage matrix built here (spopt's ``from_cost_matrix`` idea).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array

from geogrid.spatial.coverage._walk import walk_graph
from geogrid.spatial.roads import engine
from geogrid.spatial.roads.network import RoadNetwork, Snapped

__all__ = ["CoveringProblem", "coverage_from_cost_matrix", "covering_from_network"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_SLACK_M = 1e-6  # a site at exactly radius_m (up to rounding) guards
_CELLS_PER_CHUNK = 4_000_000


@dataclass(frozen=True, eq=False)
class CoveringProblem:
    """Crossings to guard, candidate sites, and which site guards which crossing.

    Attributes
    ----------
    targets, candidates
        Crossings and candidate sites on the network.
    coverage
        Sparse boolean ``(n_targets, n_candidates)``: the site is within the radius.
    radius_m
        The guarding distance.
    """

    targets: Snapped
    candidates: Snapped
    coverage: csr_array
    radius_m: float


def coverage_from_cost_matrix(cost: npt.ArrayLike, radius: float) -> csr_array:
    """Return the sparse coverage matrix of a ``(targets, candidates)`` cost matrix.

    Examples
    --------
    >>> coverage_from_cost_matrix([[10.0, 80.0], [60.0, 40.0]], 50.0).toarray().tolist()
    [[True, False], [False, True]]
    """
    matrix = np.asarray(cost, dtype=float)
    if matrix.ndim != 2:
        raise ValueError("cost must be a 2-d (targets x candidates) matrix")
    return csr_array(matrix <= radius)


def covering_from_network(
    network: RoadNetwork, targets: Snapped, radius_m: float
) -> CoveringProblem:
    """Return the candidate sites around ``targets`` and what each of them guards.

    Distances are walking distances (one-way flags ignored). See the module's notes on
    why these candidates are enough for an optimal answer. Candidates that guard the
    same crossings as another are dropped; targets that are not on the network are
    guarded by no candidate.

    Examples
    --------
    Two crossings 80 m apart on one street: one site between them guards both.

    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> roads = gpd.GeoDataFrame({"road_class": ["service"]}, crs=4326,
    ...     geometry=[LineString([(120.0, 28.0), (120.002, 28.0)])])
    >>> net = RoadNetwork.from_geodataframe(roads)
    >>> crossings = net.snapped_from_fractions([0, 0], [0.3, 0.7])
    >>> problem = covering_from_network(net, crossings, 50.0)
    >>> from geogrid.spatial.coverage.solvers import solve_lscp
    >>> solution = solve_lscp(problem.coverage)
    >>> len(solution.chosen), solution.covered.tolist()
    (1, [True, True])
    """
    if not radius_m >= 0:
        raise ValueError(f"radius_m must be >= 0, got {radius_m}")
    ok = np.flatnonzero(targets.edge >= 0)
    on = targets[ok]
    t_edge, t_frac = on.edge, np.nan_to_num(on.fraction)
    near = _near_nodes(network, on, radius_m)
    incidence = _incidence(network)
    cand_edge, cand_frac = _candidates(network, incidence, near, t_edge, t_frac, radius_m)
    rows, cols = _guarded_pairs(
        network, incidence, near, t_edge, t_frac, cand_edge, cand_frac, radius_m
    )
    keep = _distinct_columns(rows, cols, len(cand_edge))
    pick = np.isin(cols, keep)
    rows, cols = rows[pick], np.searchsorted(keep, cols[pick])
    coverage = csr_array(
        (np.ones(len(rows), bool), (ok[rows], cols)), shape=(len(targets), len(keep))
    )
    return CoveringProblem(
        targets=targets,
        candidates=network.snapped_from_fractions(cand_edge[keep], cand_frac[keep]),
        coverage=coverage,
        radius_m=float(radius_m),
    )


_Near = tuple[IntArray, IntArray, FloatArray]  # (target, node, distance) within the radius
_Incidence = tuple[IntArray, IntArray, BoolArray]  # CSR indptr, edge, whether at its end


def _near_nodes(network: RoadNetwork, targets: Snapped, radius_m: float) -> _Near:
    """Return every (target, node) pair within ``radius_m``, by chunks of targets."""
    graph = walk_graph(network)
    locs = network.locations(targets)
    step = max(1, _CELLS_PER_CHUNK // max(network.n_nodes, 1))
    parts: list[_Near] = []
    for lo in range(0, len(locs), step):
        hi = min(len(locs), lo + step)
        chunk = engine.Locations(locs.node[lo:hi], locs.edge[lo:hi], locs.fraction[lo:hi])
        seeds = network.ports(chunk, graph, True)
        dist, _, _ = engine.search(graph, seeds, len(chunk), limit=radius_m)
        t, v = np.nonzero(dist <= radius_m)
        parts.append((t + lo, v, dist[t, v]))
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    t, v, d = (np.concatenate(p) for p in zip(*parts, strict=True))
    return t.astype(np.int64), v.astype(np.int64), d


def _incidence(network: RoadNetwork) -> _Incidence:
    """Return the edges at every node (internal index) and whether the node is their end."""
    m = network.n_edges
    ends = np.concatenate([network.source_index, network.target_index])
    order = np.argsort(ends, kind="stable")
    indptr = np.zeros(network.n_nodes + 1, np.int64)
    np.cumsum(np.bincount(ends, minlength=network.n_nodes), out=indptr[1:])
    return indptr, (order % m).astype(np.int64), order >= m


def _ramp(counts: IntArray) -> IntArray:
    """Return ``0 .. c - 1`` for every count, concatenated."""
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


def _around(incidence: _Incidence, nodes: IntArray) -> tuple[IntArray, IntArray, BoolArray]:
    """Return ``(which node, edge, at its end)`` for every edge at each of ``nodes``."""
    indptr, edge, is_end = incidence
    counts = indptr[nodes + 1] - indptr[nodes]
    slot = np.repeat(indptr[nodes], counts) + _ramp(counts)
    return np.repeat(np.arange(len(nodes)), counts), edge[slot], is_end[slot]


def _candidates(
    network: RoadNetwork,
    incidence: _Incidence,
    near: _Near,
    t_edge: IntArray,
    t_frac: FloatArray,
    radius_m: float,
) -> tuple[IntArray, FloatArray]:
    """Return the crossings, the nodes in reach and the points exactly ``radius_m`` away."""
    _, v, d = near
    length = network.length_m
    nodes = np.unique(v)
    first = incidence[0][nodes]
    node_edge, node_frac = incidence[1][first], incidence[2][first].astype(float)
    which, edge, is_end = _around(incidence, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (radius_m - d[which]) / length[edge]
        own = radius_m / length[t_edge]
    nip_edge = np.concatenate([edge, t_edge, t_edge])
    nip_frac = np.concatenate([np.where(is_end, 1.0 - share, share), t_frac - own, t_frac + own])
    inner = (nip_frac > 0) & (nip_frac < 1)
    edges = np.concatenate([t_edge, node_edge, nip_edge[inner]])
    fracs = np.concatenate([t_frac, node_frac, nip_frac[inner]])
    key = np.unique(np.column_stack([edges, np.round(fracs, 12)]), axis=0)
    return key[:, 0].astype(np.int64), key[:, 1]


def _guarded_pairs(
    network: RoadNetwork,
    incidence: _Incidence,
    near: _Near,
    t_edge: IntArray,
    t_frac: FloatArray,
    cand_edge: IntArray,
    cand_frac: FloatArray,
    radius_m: float,
) -> tuple[IntArray, IntArray]:
    """Return ``(target, candidate)`` for every candidate within ``radius_m`` of a target."""
    t, v, d = near
    n, k = network.n_nodes, len(t_edge)
    which, edge, _ = _around(incidence, v)
    pairs = np.unique(
        np.column_stack([np.concatenate([t[which], np.arange(k)]), np.concatenate([edge, t_edge])]),
        axis=0,
    )
    order = np.argsort(cand_edge, kind="stable")  # candidates come sorted; stay safe
    sorted_edge = cand_edge[order]
    lo = np.searchsorted(sorted_edge, pairs[:, 1], side="left")
    counts = np.searchsorted(sorted_edge, pairs[:, 1], side="right") - lo
    row = np.repeat(pairs[:, 0], counts)
    col = order[np.repeat(lo, counts) + _ramp(counts)]
    e, f = cand_edge[col], cand_frac[col]
    key = t * n + v
    sort = np.argsort(key)
    key, dist = key[sort], d[sort]

    def to_node(nodes: IntArray) -> FloatArray:
        want = row * n + nodes
        at = np.minimum(np.searchsorted(key, want), max(len(key) - 1, 0))
        found = (key[at] == want) if len(key) else np.zeros(len(want), bool)
        return np.where(found, dist[at] if len(key) else 0.0, np.inf)

    length = network.length_m[e]
    via = np.minimum(
        to_node(network.source_index[e]) + f * length,
        to_node(network.target_index[e]) + (1 - f) * length,
    )
    same = e == t_edge[row]
    direct = np.where(same, np.abs(f - t_frac[row]) * length, np.inf)
    ok = np.minimum(via, direct) <= radius_m + _SLACK_M
    return row[ok], col[ok]


def _distinct_columns(rows: IntArray, cols: IntArray, n_cols: int) -> IntArray:
    """Return the first column of every distinct non-empty set of rows, sorted."""
    if len(rows) == 0:
        return np.empty(0, np.int64)
    weight = np.random.default_rng(0).integers(1, 2**62, size=int(rows.max()) + 1)
    sig = np.zeros(n_cols, np.uint64)
    np.add.at(sig, cols, weight[rows].astype(np.uint64))
    size = np.bincount(cols, minlength=n_cols)
    used = np.flatnonzero(size > 0)
    _, first = np.unique(np.column_stack([sig[used], size[used]]), axis=0, return_index=True)
    return np.sort(used[first])
