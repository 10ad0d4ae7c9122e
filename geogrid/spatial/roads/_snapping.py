"""Nearest points on many lines, fast (private to :mod:`geogrid.spatial.roads.graph`).

:meth:`RoadGraph.snap <geogrid.spatial.roads.graph.RoadGraph.snap>` places tens of
thousands of points on their nearest road at once. A nearest-geometry query on an R-tree
of whole edges measures every candidate edge exactly, which is slow when edges are long
and winding; here the edges are cut into straight pieces of at most ``PIECE_M`` metres,
a k-d tree holds the pieces' midpoints, and each point measures its exact distance to
its ``k`` nearest pieces only. The answer is exact once the ``k``-th midpoint is farther
than the best distance found plus half a piece (no piece left unexamined can then be
nearer); the few points where it is not are asked again with a larger ``k``. Among
equally near edges the lower edge position wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

__all__ = ["EdgePieces", "Nearest"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PIECE_M = 40.0
"""The longest straight piece an edge is cut into, in metres."""

_FIRST_K = 8


@dataclass(frozen=True)
class Nearest:
    """The points that found an edge (``rows`` of the query) and where on it they fall."""

    rows: IntArray
    edge: IntArray
    fraction: FloatArray
    distance_m: FloatArray
    x: FloatArray
    y: FloatArray


@dataclass(frozen=True, eq=False)
class EdgePieces:
    """Straight pieces of every edge, in a metric projection."""

    x0: FloatArray
    y0: FloatArray
    dx: FloatArray
    dy: FloatArray
    edge: IntArray
    along0: FloatArray  # metres along the edge at the piece's start
    edge_length: FloatArray  # planar length of each edge (by edge position)
    tree: cKDTree

    @classmethod
    def from_lines(cls, lines: npt.NDArray[np.object_]) -> EdgePieces:
        """Cut projected line strings (one per edge, metres) into pieces."""
        coords, edge = shapely.get_coordinates(lines, return_index=True)
        same = edge[1:] == edge[:-1]
        a, b, seg_edge = coords[:-1][same], coords[1:][same], edge[1:][same]
        seg_len = np.hypot(*(b - a).T)
        start = np.zeros(len(seg_len))
        if len(seg_len):  # metres along the edge at each segment's start
            total = np.cumsum(seg_len) - seg_len
            first = np.ones(len(seg_len), bool)
            first[1:] = seg_edge[1:] != seg_edge[:-1]
            start = total - np.maximum.accumulate(np.where(first, total, 0.0))
        cuts = np.maximum(1, np.ceil(seg_len / PIECE_M)).astype(np.int64)
        seg = np.repeat(np.arange(len(seg_len)), cuts)
        part = np.arange(len(seg)) - np.repeat(np.cumsum(cuts) - cuts, cuts)
        t0 = part / cuts[seg]
        d = (b - a)[seg] / cuts[seg][:, None]
        x0 = a[seg, 0] + t0 * (b - a)[seg, 0]
        y0 = a[seg, 1] + t0 * (b - a)[seg, 1]
        along0 = start[seg] + t0 * seg_len[seg]
        edge_length = np.bincount(seg_edge, weights=seg_len, minlength=len(lines)).astype(float)
        tree = cKDTree(np.column_stack([x0 + d[:, 0] / 2, y0 + d[:, 1] / 2]))
        return cls(
            x0, y0, d[:, 0], d[:, 1], seg_edge[seg].astype(np.int64), along0, edge_length, tree
        )

    def nearest(self, x: FloatArray, y: FloatArray, max_distance_m: float | None) -> Nearest:
        """Return the nearest edge of each point (projected metres) within the distance."""
        k = len(x)
        todo = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        best = np.full(k, np.inf)
        which = np.full(k, -1, np.int64)
        t_best = np.zeros(k)
        n_pieces = len(self.x0)
        want = min(_FIRST_K, n_pieces)
        half = PIECE_M / 2 + 1e-9
        upper = np.inf if max_distance_m is None else max_distance_m + half
        while len(todo) and n_pieces:
            dist_mid, idx = self.tree.query(
                np.column_stack([x[todo], y[todo]]), k=want, distance_upper_bound=upper
            )
            dist_mid, idx = dist_mid.reshape(len(todo), -1), idx.reshape(len(todo), -1)
            missing = idx >= n_pieces  # fewer than ``want`` pieces within ``upper``
            idx = np.where(missing, 0, idx)
            px, py = x[todo][:, None], y[todo][:, None]
            dx, dy = self.dx[idx], self.dy[idx]
            norm = dx * dx + dy * dy
            along = (px - self.x0[idx]) * dx + (py - self.y0[idx]) * dy
            t = np.clip(np.divide(along, norm, out=np.zeros_like(norm), where=norm > 0), 0.0, 1.0)
            d = np.hypot(self.x0[idx] + t * dx - px, self.y0[idx] + t * dy - py)
            d[missing] = np.inf
            order = np.lexsort((self.edge[idx], d), axis=1)[:, 0]  # ties: lower edge
            row = np.arange(len(todo))
            best[todo] = d[row, order]
            which[todo] = np.where(np.isfinite(d[row, order]), idx[row, order], -1)
            t_best[todo] = t[row, order]
            bound = best[todo] if max_distance_m is None else np.minimum(best[todo], max_distance_m)
            done = (dist_mid[:, -1] >= bound + half) | missing[:, -1] | (want >= n_pieces)
            todo = todo[~done]
            want = min(want * 4, n_pieces)
        ok = which >= 0
        if max_distance_m is not None:
            ok &= best <= max_distance_m
        rows = np.flatnonzero(ok)
        p = which[rows]
        edge = self.edge[p]
        along = self.along0[p] + t_best[rows] * np.hypot(self.dx[p], self.dy[p])
        length = self.edge_length[edge]
        fraction = np.clip(np.divide(along, length, out=np.zeros(len(p)), where=length > 0), 0, 1)
        return Nearest(
            rows=rows,
            edge=edge,
            fraction=fraction,
            distance_m=best[rows],
            x=self.x0[p] + t_best[rows] * self.dx[p],
            y=self.y0[p] + t_best[rows] * self.dy[p],
        )
