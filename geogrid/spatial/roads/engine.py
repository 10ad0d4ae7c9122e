"""The array engine under :class:`~geogrid.spatial.roads.graph.RoadGraph`: Dijkstra on CSR.

Part of the road-graph contract: routes, service areas and coverage search with it, on
the weighted graphs and locations a RoadGraph gives (:meth:`RoadGraph.weighted
<geogrid.spatial.roads.graph.RoadGraph.weighted>`, :meth:`RoadGraph.locations
<geogrid.spatial.roads.graph.RoadGraph.locations>`, :meth:`RoadGraph.ports
<geogrid.spatial.roads.graph.RoadGraph.ports>`). Nodes are indices ``0 .. n - 1``
(positions in the graph's ``node_ids``); edges are positions. A *location* is
either a node or a point at ``fraction`` along an edge. Points become virtual nodes by
appending one row per searched location to the graph's CSR matrix: the row holds the
location's *ports*, the graph nodes it touches and what reaching them costs. Nothing is
copied per query except that row block, so queries cost a Dijkstra run and no more.

Cost along an edge is linear in the fraction: a point at ``f`` on an edge of cost ``c``
is ``f * c`` from its start and ``(1 - f) * c`` from its end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

__all__ = [
    "Locations",
    "Ports",
    "WeightedGraph",
    "direct_costs",
    "finish",
    "part",
    "ports",
    "search",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_CELLS_PER_CHUNK = 8_000_000
"""Largest distance block computed at once (64 MB of float64)."""


@dataclass(frozen=True, eq=False)
class WeightedGraph:
    """One weight (time or length) of the network as CSR matrices.

    ``along`` and ``against`` hold each edge's cost in and against its geometry's
    direction, ``inf`` where that direction is closed. Parallel edges keep the cheapest;
    self-loops are left out (they never shorten a path).
    """

    along: FloatArray
    against: FloatArray
    csr: csr_array
    csr_reversed: csr_array
    entry_edge: IntArray
    entry_along: npt.NDArray[np.bool_]

    @classmethod
    def build(
        cls, source: IntArray, target: IntArray, along: FloatArray, against: FloatArray, n: int
    ) -> WeightedGraph:
        """Build the matrices for edges ``source -> target`` with the two costs."""
        edge = np.arange(len(source))
        ok_f = np.isfinite(along) & (source != target)
        ok_b = np.isfinite(against) & (source != target)
        rows = np.concatenate([source[ok_f], target[ok_b]])
        cols = np.concatenate([target[ok_f], source[ok_b]])
        cost = np.concatenate([along[ok_f], against[ok_b]])
        which = np.concatenate([edge[ok_f], edge[ok_b]])
        is_along = np.concatenate([np.ones(ok_f.sum(), bool), np.zeros(ok_b.sum(), bool)])
        order = np.lexsort((which, cost, cols, rows))
        rows, cols, cost, which, is_along = (a[order] for a in (rows, cols, cost, which, is_along))
        keep = np.ones(len(rows), bool)
        keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, cost, which, is_along = (a[keep] for a in (rows, cols, cost, which, is_along))
        csr = _csr(rows, cols, cost, n)
        back = np.lexsort((rows, cols))
        csr_reversed = _csr(cols[back], rows[back], cost[back], n)
        return cls(along, against, csr, csr_reversed, which, is_along)

    def entry(self, a: int, b: int) -> tuple[int, bool]:
        """Return the edge (and whether it runs along its geometry) used from ``a`` to ``b``."""
        lo, hi = self.csr.indptr[a], self.csr.indptr[a + 1]
        k = lo + int(np.searchsorted(self.csr.indices[lo:hi], b))
        return int(self.entry_edge[k]), bool(self.entry_along[k])

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        mats = (self.csr, self.csr_reversed)
        return (
            sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in mats)
            + self.entry_edge.nbytes
            + self.entry_along.nbytes
        )


def _csr(rows: IntArray, cols: IntArray, cost: FloatArray, n: int) -> csr_array:
    """Build a CSR matrix from entries sorted by row, keeping explicit zeros as edges."""
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return csr_array(
        (cost.astype(np.float64), cols.astype(np.int32), indptr), shape=(n, n), copy=False
    )


@dataclass(frozen=True, eq=False)
class Locations:
    """Origins or destinations: ``node >= 0`` for a node, else ``edge``/``fraction``.

    A location with ``node == -1`` and ``edge == -1`` is nowhere (a point that did not
    snap) and reaches nothing.
    """

    node: IntArray
    edge: IntArray
    fraction: FloatArray

    def __len__(self) -> int:
        return len(self.node)


@dataclass(frozen=True, eq=False)
class Ports:
    """Graph nodes each location touches, sorted by location."""

    loc: IntArray
    node: IntArray
    cost: FloatArray


def ports(
    locs: Locations, graph: WeightedGraph, source: IntArray, target: IntArray, leaving: bool
) -> Ports:
    """Return the ports of ``locs``: where one leaves them (``leaving``) or arrives."""
    at_node = np.flatnonzero(locs.node >= 0)
    on_edge = np.flatnonzero((locs.node < 0) & (locs.edge >= 0))
    e = locs.edge[on_edge]
    f = locs.fraction[on_edge]
    along, against = graph.along[e], graph.against[e]
    if leaving:  # forward to the end, or backward to the start
        first = (target[e], part(1 - f, along))
        second = (source[e], part(f, against))
    else:  # arrive forward from the start, or backward from the end
        first = (source[e], part(f, along))
        second = (target[e], part(1 - f, against))
    loc = np.concatenate([at_node, on_edge, on_edge])
    node = np.concatenate([locs.node[at_node], first[0], second[0]])
    cost = np.concatenate([np.zeros(len(at_node)), first[1], second[1]])
    keep = np.isfinite(cost)
    order = np.argsort(loc[keep], kind="stable")
    return Ports(loc[keep][order], node[keep][order], cost[keep][order])


def part(fraction: FloatArray, cost: FloatArray) -> FloatArray:
    """Return ``fraction * cost``, ``inf`` where the direction is closed.

    Never ``0 * inf``: a closed direction stays closed (inf) even for a zero fraction.
    """
    out = np.full(len(cost), np.inf)
    ok = np.isfinite(cost)
    out[ok] = fraction[ok] * cost[ok]
    return out


def search(
    graph: WeightedGraph,
    seeds: Ports,
    n_locs: int,
    *,
    reverse: bool = False,
    limit: float = np.inf,
    min_only: bool = False,
    predecessors: bool = False,
) -> tuple[FloatArray, IntArray | None, IntArray | None]:
    """Run Dijkstra from every location that has seeds.

    Returns
    -------
    distances
        ``(n_locs, n)`` costs to every node (``inf`` beyond ``limit``), or ``(n,)`` with
        ``min_only``.
    predecessors
        Same shape as ``distances``, or None. Values ``>= n`` are virtual nodes: the
        location is ``value - n`` counted among the locations that have seeds.
    sources
        With ``min_only``: the location that reached each node (``-1`` none), else None.
    """
    base = graph.csr_reversed if reverse else graph.csr
    n = base.shape[0]
    searched, row = np.unique(seeds.loc, return_inverse=True)
    k = len(searched)
    if min_only:
        dist = np.full(n, np.inf)
        src = np.full(n, -1, dtype=np.int64)
        if k == 0:
            return dist, None, src
        matrix = _augmented(base, row, seeds, k)
        d, pred, s = dijkstra(
            matrix,
            indices=np.arange(n, n + k),
            limit=limit,
            min_only=True,
            return_predecessors=True,
        )
        s = s[:n]
        reached = s >= 0
        src[reached] = searched[s[reached] - n]
        return d[:n], (pred[:n] if predecessors else None), src
    dist = np.full((n_locs, n), np.inf)
    pred_out = np.full((n_locs, n), -9999, dtype=np.int64) if predecessors else None
    if k == 0:
        return dist, pred_out, None
    matrix = _augmented(base, row, seeds, k)
    step = max(1, _CELLS_PER_CHUNK // max(n + k, 1))
    for lo in range(0, k, step):
        hi = min(k, lo + step)
        result = dijkstra(
            matrix,
            indices=np.arange(n + lo, n + hi),
            limit=limit,
            return_predecessors=predecessors,
        )
        if predecessors:
            d, p = result
            assert pred_out is not None
            pred_out[searched[lo:hi]] = p[:, :n]
        else:
            d = result
        dist[searched[lo:hi]] = d[:, :n]
    return dist, pred_out, None


def _augmented(base: csr_array, row: IntArray, seeds: Ports, k: int) -> csr_array:
    """Return ``base`` with ``k`` virtual rows holding the seeds (sorted by row)."""
    n = base.shape[0]
    indptr = np.concatenate(
        [base.indptr, base.indptr[-1] + np.cumsum(np.bincount(row, minlength=k))]
    ).astype(np.int32)
    indices = np.concatenate([base.indices, seeds.node.astype(np.int32)])
    data = np.concatenate([base.data, seeds.cost])
    return csr_array((data, indices, indptr), shape=(n + k, n + k), copy=False)


def finish(dist: FloatArray, targets: Ports, n_targets: int) -> FloatArray:
    """Reduce ``(k, n)`` node costs to ``(k, n_targets)`` costs through the targets' ports."""
    out = np.full((dist.shape[0], n_targets), np.inf)
    if len(targets.loc) == 0 or dist.shape[0] == 0:
        return out
    values = dist[:, targets.node] + targets.cost
    locs, starts = np.unique(targets.loc, return_index=True)
    out[:, locs] = np.minimum.reduceat(values, starts, axis=1)
    return out


def direct_costs(
    origins: Locations, destinations: Locations, graph: WeightedGraph
) -> tuple[IntArray, IntArray, FloatArray]:
    """Return ``(i, j, cost)`` for origin/destination pairs on the same edge, along it."""
    o = np.flatnonzero((origins.node < 0) & (origins.edge >= 0))
    d = np.flatnonzero((destinations.node < 0) & (destinations.edge >= 0))
    if len(o) == 0 or len(d) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), np.empty(0)
    d = d[np.argsort(destinations.edge[d], kind="stable")]
    d_edge = destinations.edge[d]
    lo = np.searchsorted(d_edge, origins.edge[o], side="left")
    counts = np.searchsorted(d_edge, origins.edge[o], side="right") - lo
    i = np.repeat(o, counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    j = d[np.arange(len(i)) - first + np.repeat(lo, counts)]
    e = origins.edge[i]
    step = destinations.fraction[j] - origins.fraction[i]
    fwd = np.where(step >= 0, part(np.abs(step), graph.along[e]), np.inf)
    bwd = np.where(step <= 0, part(np.abs(step), graph.against[e]), np.inf)
    return i, j, np.minimum(fwd, bwd)
