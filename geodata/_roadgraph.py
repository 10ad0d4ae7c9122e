"""Planar road graphs: junctions, candidate streets, connectivity, one-way streets.

Every street is an edge of one Delaunay triangulation, so no two streets can cross:
the network is noded by construction. Streets are the triangulation's relative
neighbourhood graph (a sparse, tree-like web of lanes, a square grid where the
junctions form one) plus a share of its Gabriel edges (the loops).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, cKDTree

__all__ = [
    "choose_oneways",
    "delaunay_edges",
    "is_strongly_connected",
    "largest_component",
    "quadtree_nodes",
    "sparse_streets",
]

NEIGHBOURS = 12


def quadtree_nodes(
    area: shapely.Geometry,
    spacing_at: Callable[[np.ndarray], np.ndarray],
    cell_m: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Place junctions at a locally wanted spacing, one per quadtree leaf.

    Square cells of side ``cell_m`` are split in four while they are larger than
    1.4 times the wanted spacing at their centre; each leaf gets one jittered point.

    Parameters
    ----------
    area
        Where junctions may lie, in metres.
    spacing_at
        Wanted distance between junctions at ``(n, 2)`` points, in metres.
    cell_m
        Side of the coarsest cells.
    rng
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Junction coordinates, shape ``(n, 2)``.
    """
    xmin, ymin, xmax, ymax = area.bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax, cell_m), np.arange(ymin, ymax, cell_m))
    cells = np.column_stack([gx.ravel(), gy.ravel()])
    size = cell_m
    found: list[np.ndarray] = []
    while len(cells):
        split = size > 1.4 * spacing_at(cells + size / 2)
        leaves = cells[~split]
        jitter = 0.3 if size > 200 else 0.14
        found.append(leaves + size * (0.5 + rng.uniform(-jitter, jitter, leaves.shape)))
        size /= 2
        corners = np.array([[0, 0], [size, 0], [0, size], [size, size]])
        cells = (cells[split][:, None, :] + corners[None]).reshape(-1, 2)
    points = np.concatenate(found)
    shapely.prepare(area)
    return points[shapely.contains_xy(area, points[:, 0], points[:, 1])]


def delaunay_edges(points: np.ndarray) -> np.ndarray:
    """Return the unique edges ``(m, 2)`` (lower index first) of the triangulation."""
    tri = Delaunay(points).simplices
    pairs = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]])
    return np.unique(np.sort(pairs, axis=1), axis=0)


def sparse_streets(
    points: np.ndarray, edges: np.ndarray, loop_share: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Keep the relative-neighbourhood edges and a share of the Gabriel ones.

    Parameters
    ----------
    points
        Junctions ``(n, 2)``.
    edges
        Delaunay edges ``(m, 2)``.
    loop_share
        Per edge, the probability of keeping it if it is Gabriel but not RNG.
    rng
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Boolean mask over ``edges``.
    """
    _, near = cKDTree(points).query(points, k=NEIGHBOURS + 1)
    u, v = edges[:, 0], edges[:, 1]
    others = np.concatenate([near[u, 1:], near[v, 1:]], axis=1)
    du = np.hypot(*(points[others] - points[u][:, None]).transpose(2, 0, 1))
    dv = np.hypot(*(points[others] - points[v][:, None]).transpose(2, 0, 1))
    d = np.hypot(*(points[v] - points[u]).T)[:, None]
    real = (others != u[:, None]) & (others != v[:, None])
    rng_edge = ~(real & (np.maximum(du, dv) < d)).any(axis=1)
    gabriel = ~(real & (du**2 + dv**2 < d**2)).any(axis=1)
    return rng_edge | (gabriel & (rng.random(len(edges)) < loop_share))


def largest_component(n: int, edges: np.ndarray) -> np.ndarray:
    """Return a mask over ``edges`` that keeps the largest connected component."""
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    biggest = np.bincount(label[edges[:, 0]]).argmax()
    return label[edges[:, 0]] == biggest


def is_strongly_connected(edges: np.ndarray, direction: np.ndarray) -> bool:
    """Tell whether the directed graph on the junctions that edges touch is strongly connected.

    ``direction`` is 0 for two-way edges, 1 for one-way along ``edges[i]``, -1 against.
    """
    nodes, idx = np.unique(edges, return_inverse=True)
    idx = idx.reshape(edges.shape)
    forward, backward = direction >= 0, direction <= 0
    source = np.concatenate([idx[forward, 0], idx[backward, 1]])
    target = np.concatenate([idx[forward, 1], idx[backward, 0]])
    graph = coo_matrix((np.ones(len(source)), (source, target)), shape=(len(nodes),) * 2)
    count, _ = connected_components(graph, directed=True, connection="strong")
    return count == 1


def choose_oneways(
    edges: np.ndarray, candidates: np.ndarray, rng: np.random.Generator, reach: int = 60
) -> np.ndarray:
    """Make candidate streets one-way while the directed graph stays strongly connected.

    Orienting ``u -> v`` keeps a strongly connected graph strongly connected exactly
    when ``u`` can still be reached from ``v``; this is checked with a breadth-first
    search of at most ``reach`` junctions, one candidate at a time.

    Parameters
    ----------
    edges
        Undirected edges ``(m, 2)``; all start two-way.
    candidates
        Indices of edges that may become one-way.
    rng
        Picks the direction of each.

    Returns
    -------
    numpy.ndarray
        Per edge: 0 two-way, 1 one-way from ``edges[i, 0]`` to ``edges[i, 1]``,
        -1 one-way the other way.
    """
    arcs: dict[int, set[int]] = {}
    for a, b in edges:
        arcs.setdefault(int(a), set()).add(int(b))
        arcs.setdefault(int(b), set()).add(int(a))
    direction = np.zeros(len(edges), dtype=int)
    for i in candidates:
        sign = 1 if rng.random() < 0.5 else -1
        a, b = (int(edges[i, 0]), int(edges[i, 1]))[::sign]
        arcs[b].discard(a)
        if _reaches(arcs, b, a, reach):
            direction[i] = sign
        else:
            arcs[b].add(a)
    return direction


def _reaches(arcs: dict[int, set[int]], start: int, goal: int, limit: int) -> bool:
    """Breadth-first search from ``start`` for ``goal``, visiting at most ``limit`` nodes."""
    seen = {start}
    queue = deque([start])
    while queue and len(seen) <= limit:
        node = queue.popleft()
        for nxt in sorted(arcs[node]):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False
