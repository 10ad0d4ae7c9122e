"""Snapping many points to a road network quickly (private).

Gives the same answer as :meth:`RoadNetwork.snap` (the nearest edge, up to ties between
equally near edges) about ten times faster for tens of thousands of points: the edges
are cut into pieces of at most ``_PIECE_M`` metres, a k-d tree holds the pieces'
midpoints, and each point measures the exact distance to its ``k`` nearest pieces. The
answer is exact when the ``k``-th midpoint is farther than the best distance found plus
half a piece (no unexamined piece can then be nearer); the few points where it is not
are asked again with a larger ``k``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from geogrid.spatial.network import RoadNetwork, Snapped

__all__ = ["snap_points"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_PIECE_M = 40.0
_FIRST_K = 8


@dataclass(frozen=True, eq=False)
class _Pieces:
    """Straight pieces of every edge in the network's metric projection."""

    x0: FloatArray
    y0: FloatArray
    dx: FloatArray
    dy: FloatArray
    edge: IntArray
    along0: FloatArray  # metres along the edge at the piece's start
    edge_length: FloatArray  # planar length of each edge (by edge position)
    tree: cKDTree


_CACHE: weakref.WeakKeyDictionary[RoadNetwork, _Pieces] = weakref.WeakKeyDictionary()


def _pieces(network: RoadNetwork) -> _Pieces:
    cached = _CACHE.get(network)
    if cached is not None:
        return cached
    coords, edge = shapely.get_coordinates(network._xy, return_index=True)
    same = edge[1:] == edge[:-1]
    a, b, seg_edge = coords[:-1][same], coords[1:][same], edge[1:][same]
    seg_len = np.hypot(*(b - a).T)
    start = np.zeros(len(seg_len))
    if len(seg_len):  # metres along the edge at each segment's start
        total = np.cumsum(seg_len) - seg_len
        first = np.ones(len(seg_len), bool)
        first[1:] = seg_edge[1:] != seg_edge[:-1]
        start = total - np.maximum.accumulate(np.where(first, total, 0.0))
    cuts = np.maximum(1, np.ceil(seg_len / _PIECE_M)).astype(np.int64)
    seg = np.repeat(np.arange(len(seg_len)), cuts)
    part = np.arange(len(seg)) - np.repeat(np.cumsum(cuts) - cuts, cuts)
    t0 = part / cuts[seg]
    d = (b - a)[seg] / cuts[seg][:, None]
    x0 = a[seg, 0] + t0 * (b - a)[seg, 0]
    y0 = a[seg, 1] + t0 * (b - a)[seg, 1]
    along0 = start[seg] + t0 * seg_len[seg]
    edge_length = np.bincount(seg_edge, weights=seg_len, minlength=network.n_edges).astype(float)
    tree = cKDTree(np.column_stack([x0 + d[:, 0] / 2, y0 + d[:, 1] / 2]))
    out = _Pieces(
        x0, y0, d[:, 0], d[:, 1], seg_edge[seg].astype(np.int64), along0, edge_length, tree
    )
    _CACHE[network] = out
    return out


def snap_points(
    network: RoadNetwork,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    max_distance_m: float | None = None,
) -> Snapped:
    """Place points (EPSG:4326) on their nearest edge, like :meth:`RoadNetwork.snap`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> roads = gpd.GeoDataFrame({"road_class": ["service"] * 2}, crs=4326, geometry=[
    ...     LineString([(120.0, 28.0), (120.002, 28.0)]),
    ...     LineString([(120.0, 28.001), (120.002, 28.001)])])
    >>> net = RoadNetwork.from_geodataframe(roads)
    >>> s = snap_points(net, [120.0005, 120.001], [28.0002, 28.0009])
    >>> s.edge.tolist(), s.fraction.round(2).tolist(), s.distance_m.round(1).tolist()
    ([0, 1], [0.25, 0.5], [22.2, 11.1])
    """
    lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
    k = len(lon_a)
    out = Snapped(
        np.full(k, -1, np.int64),
        np.full(k, np.nan),
        np.full(k, np.inf),
        np.full(k, np.nan),
        np.full(k, np.nan),
    )
    if k == 0 or network.n_edges == 0:
        return out
    pieces = _pieces(network)
    x, y = network._proj.lonlat_to_xy(lon_a, lat_a)
    todo = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    best = np.full(k, np.inf)
    which = np.full(k, -1, np.int64)
    t_best = np.zeros(k)
    n_pieces = len(pieces.x0)
    want = min(_FIRST_K, n_pieces)
    half = _PIECE_M / 2 + 1e-9
    upper = np.inf if max_distance_m is None else max_distance_m + half
    while len(todo):
        dist_mid, idx = pieces.tree.query(
            np.column_stack([x[todo], y[todo]]), k=want, distance_upper_bound=upper
        )
        dist_mid, idx = dist_mid.reshape(len(todo), -1), idx.reshape(len(todo), -1)
        missing = idx >= n_pieces  # fewer than ``want`` pieces within ``upper``
        idx = np.where(missing, 0, idx)
        px, py = x[todo][:, None], y[todo][:, None]
        dx, dy = pieces.dx[idx], pieces.dy[idx]
        norm = dx * dx + dy * dy
        t = np.clip(
            np.divide(
                (px - pieces.x0[idx]) * dx + (py - pieces.y0[idx]) * dy,
                norm,
                out=np.zeros_like(norm),
                where=norm > 0,
            ),
            0.0,
            1.0,
        )
        d = np.hypot(pieces.x0[idx] + t * dx - px, pieces.y0[idx] + t * dy - py)
        d[missing] = np.inf
        order = np.lexsort((pieces.edge[idx], d), axis=1)[:, 0]  # ties: lower edge
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
    edge = pieces.edge[p]
    along = pieces.along0[p] + t_best[rows] * np.hypot(pieces.dx[p], pieces.dy[p])
    length = pieces.edge_length[edge]
    fraction = np.clip(np.divide(along, length, out=np.zeros(len(p)), where=length > 0), 0, 1)
    sx = pieces.x0[p] + t_best[rows] * pieces.dx[p]
    sy = pieces.y0[p] + t_best[rows] * pieces.dy[p]
    out.edge[rows] = edge
    out.fraction[rows] = fraction
    out.distance_m[rows] = best[rows]
    out.lon[rows], out.lat[rows] = network._proj.xy_to_lonlat(sx, sy)
    return out
