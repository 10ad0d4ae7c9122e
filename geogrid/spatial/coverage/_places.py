"""From boundary contacts to entries: arms, places, direction, the reported point (private).

Part of :mod:`geogrid.spatial.coverage.entries`, whose docstring states the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from geogrid.spatial.coverage._lines import flat_parts, inside_at, ramp, span

__all__ = ["Contacts", "Places", "find_places"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

EPS_M = 1e-6  # positions closer than this along a line are the same place


@dataclass(frozen=True, eq=False)
class Contacts:
    """Merged stretches of edges lying on a grid boundary, sorted by (grid, edge, start)."""

    grid: IntArray
    edge: IntArray
    start: FloatArray  # metres along the edge
    end: FloatArray
    length: FloatArray  # of the edge
    before_in: BoolArray  # state of the gap before the stretch (if any)
    after_in: BoolArray
    at_start: BoolArray  # the stretch reaches the edge's first vertex
    at_end: BoolArray

    @property
    def n_contacts(self) -> int:
        return len(self.grid)


@dataclass(frozen=True, eq=False)
class Places:
    """One row per entry: the grid, the chosen arm's edge and position, the flags."""

    grid: IntArray
    edge: IntArray
    at_m: FloatArray
    can_enter: BoolArray
    can_exit: BoolArray
    open_end: BoolArray
    arms_in: IntArray
    arms_out: IntArray


def find_places(
    c: Contacts,
    polys: npt.NDArray[np.object_],
    roads: npt.NDArray[np.object_],
    ends: tuple[IntArray, IntArray],
    open_ways: tuple[BoolArray, BoolArray],
    boundary: tuple[npt.NDArray[np.object_], IntArray],
    rank: FloatArray,
) -> Places:
    """Group contacts into places, keep those with roads on both sides, pick their road.

    Parameters
    ----------
    c
        The contacts of every grid.
    polys, roads
        Grids and edges (metric).
    ends
        Node indices (0 .. n - 1) of each edge's first and last vertex.
    open_ways
        Whether each edge may be driven along, and against, its geometry.
    boundary
        Boundary pieces and the grid of each (for the exact crossing point).
    rank
        Importance of each edge (lower first).
    """
    arms, label = _arms(c, polys, roads, *ends, *open_ways)
    return _places_from_arms(arms, label, boundary, roads, rank)


@dataclass(frozen=True, eq=False)
class _Arms:
    """Roads leaving each contact or boundary node, one row per arm."""

    group: IntArray  # contact (0 .. n_contacts - 1) or boundary node (n_contacts + k)
    grid: IntArray
    edge: IntArray
    at_m: FloatArray  # where the arm meets the contact, metres along the edge
    lo_m: FloatArray  # the contact stretch on this edge (for the exact point)
    hi_m: FloatArray
    inside: BoolArray
    toward: BoolArray  # may be driven towards the contact
    away: BoolArray  # may be driven away from it
    virtual: BoolArray  # the outside beyond a dead end on the boundary


def _arms(
    c: Contacts,
    polys: npt.NDArray[np.object_],
    roads: npt.NDArray[np.object_],
    src: IntArray,
    tgt: IntArray,
    fwd: BoolArray,
    bwd: BoolArray,
) -> tuple[_Arms, IntArray]:
    """Return every arm and the group (connected contact) each arm's contact belongs to."""
    n, m = c.n_contacts, len(roads)
    idx = np.arange(n)
    # arms of the contacts themselves: the gaps before and after each stretch
    before, after = ~c.at_start, ~c.at_end
    # boundary nodes: where a contact reaches an edge's end
    key_contact = np.concatenate([idx[c.at_start], idx[c.at_end]])
    key_node = np.concatenate([src[c.edge[c.at_start]], tgt[c.edge[c.at_end]]])
    key_grid = c.grid[key_contact]
    n_nodes = int(max(src.max(), tgt.max())) + 1
    key_code = key_grid * n_nodes + key_node
    keys, key_of = np.unique(key_code, return_inverse=True)
    k_grid, k_node = keys // n_nodes, keys % n_nodes
    # every edge end at a boundary node that no contact covers becomes an arm of the node
    a_key, a_edge, a_is_end = _edges_at(k_node, src, tgt)
    counts = np.bincount(a_key, minlength=len(keys))  # degree of each boundary node
    covered = np.concatenate(
        [
            c.grid[c.at_start] * 2 * m + c.edge[c.at_start] * 2,
            c.grid[c.at_end] * 2 * m + c.edge[c.at_end] * 2 + 1,
        ]
    )
    free = ~np.isin(k_grid[a_key] * 2 * m + a_edge * 2 + a_is_end, covered)
    a_key, a_edge, a_is_end = a_key[free], a_edge[free], a_is_end[free]
    a_grid = k_grid[a_key]
    a_inside = _end_state(c, polys, roads, a_grid, a_edge, a_is_end, m)
    a_len = shapely.length(roads[a_edge])
    a_at = np.where(a_is_end, a_len, 0.0)
    dead = counts == 1  # a dead end on the boundary: the road goes on beyond the data
    groups = [idx[before], idx[after], n + a_key, n + np.flatnonzero(dead)]
    arms = _Arms(
        group=np.concatenate(groups).astype(np.int64),
        grid=np.concatenate([c.grid[before], c.grid[after], a_grid, k_grid[dead]]),
        edge=np.concatenate([c.edge[before], c.edge[after], a_edge, np.zeros(dead.sum(), int)]),
        at_m=np.concatenate([c.start[before], c.end[after], a_at, np.zeros(dead.sum())]),
        lo_m=np.concatenate([c.start[before], c.start[after], a_at, np.zeros(dead.sum())]),
        hi_m=np.concatenate([c.end[before], c.end[after], a_at, np.zeros(dead.sum())]),
        inside=np.concatenate(
            [c.before_in[before], c.after_in[after], a_inside, np.zeros(dead.sum(), bool)]
        ),
        toward=np.concatenate(
            [
                fwd[c.edge[before]],
                bwd[c.edge[after]],
                np.where(a_is_end, fwd[a_edge], bwd[a_edge]),
                np.ones(dead.sum(), bool),
            ]
        ),
        away=np.concatenate(
            [
                bwd[c.edge[before]],
                fwd[c.edge[after]],
                np.where(a_is_end, bwd[a_edge], fwd[a_edge]),
                np.ones(dead.sum(), bool),
            ]
        ),
        virtual=np.concatenate(
            [
                np.zeros(len(idx[before]) + len(idx[after]) + len(a_key), bool),
                np.ones(dead.sum(), bool),
            ]
        ),
    )
    # contacts that share a boundary node are one place
    link = coo_array(
        (np.ones(len(key_contact)), (key_contact, n + key_of)), shape=(n + len(keys),) * 2
    )
    _, label = connected_components(link, directed=False)
    return arms, label.astype(np.int64)


def _edges_at(
    nodes: IntArray, src: IntArray, tgt: IntArray
) -> tuple[IntArray, IntArray, BoolArray]:
    """Return ``(position in nodes, edge, at its end)`` for every edge end at each node.

    Linear in the number of edges (no sort of the whole network), as only a few nodes
    lie on the boundaries.
    """
    m = len(src)
    ends = np.concatenate([src, tgt])
    hit = np.flatnonzero(np.isin(ends, nodes))
    order = np.argsort(nodes, kind="stable")
    sorted_nodes = nodes[order]
    lo = np.searchsorted(sorted_nodes, ends[hit], side="left")
    counts = np.searchsorted(sorted_nodes, ends[hit], side="right") - lo
    which = order[np.repeat(lo, counts) + ramp(counts)]
    slot = np.repeat(hit, counts)
    return which.astype(np.int64), (slot % m).astype(np.int64), slot >= m


def _end_state(
    c: Contacts,
    polys: npt.NDArray[np.object_],
    roads: npt.NDArray[np.object_],
    grid: IntArray,
    edge: IntArray,
    is_end: BoolArray,
    m: int,
) -> BoolArray:
    """Return whether each edge, next to the given end, lies inside the grid."""
    pair = c.grid * m + c.edge  # sorted, as the contacts are
    want = grid * m + edge
    lo = np.searchsorted(pair, want, side="left")
    hi = np.searchsorted(pair, want, side="right")
    has = hi > lo
    out = np.empty(len(want), bool)
    pick = np.where(is_end, hi - 1, lo)[has]
    out[has] = np.where(is_end[has], c.after_in[pick], c.before_in[pick])
    none = ~has
    if none.any():
        mid = 0.5 * shapely.length(roads[edge[none]])
        out[none] = inside_at(polys[grid[none]], roads[edge[none]], mid)
    return out


def _places_from_arms(
    arms: _Arms,
    label: IntArray,
    boundary: tuple[npt.NDArray[np.object_], IntArray],
    roads: npt.NDArray[np.object_],
    rank: FloatArray,
) -> Places:
    """Keep the places with arms on both sides, pick the road that leads in, and place it."""
    place = label[arms.group]
    n_places = int(label.max()) + 1 if len(label) else 0
    has_in = np.bincount(place, weights=arms.inside, minlength=n_places) > 0
    has_out = np.bincount(place, weights=~arms.inside, minlength=n_places) > 0
    enter = _any(place, ~arms.inside & arms.toward, n_places) & _any(
        place, arms.inside & arms.away, n_places
    )
    leave = _any(place, arms.inside & arms.toward, n_places) & _any(
        place, ~arms.inside & arms.away, n_places
    )
    open_end = _any(place, arms.virtual, n_places)
    n_in = np.bincount(place, weights=arms.inside, minlength=n_places).astype(np.int64)
    n_out = np.bincount(place, weights=~arms.inside, minlength=n_places).astype(np.int64)
    is_entry = has_in & has_out
    inner = np.flatnonzero(arms.inside & is_entry[place])
    order = np.lexsort(
        (
            arms.at_m[inner],
            arms.edge[inner],
            rank[arms.edge[inner]],
            ~arms.away[inner],
            place[inner],
        )
    )
    chosen = inner[order]
    first = np.ones(len(chosen), bool)
    first[1:] = place[chosen[1:]] != place[chosen[:-1]]
    chosen = chosen[first]
    where = place[chosen]
    return Places(
        grid=arms.grid[chosen].astype(np.int64),
        edge=arms.edge[chosen].astype(np.int64),
        at_m=_exact_crossing(arms, chosen, boundary, roads),
        can_enter=enter[where],
        can_exit=leave[where],
        open_end=open_end[where],
        arms_in=n_in[where],
        arms_out=n_out[where],
    )


def _any(place: IntArray, flag: BoolArray, n: int) -> BoolArray:
    return np.bincount(place, weights=flag, minlength=n) > 0


def _exact_crossing(
    arms: _Arms,
    chosen: IntArray,
    boundary: tuple[npt.NDArray[np.object_], IntArray],
    roads: npt.NDArray[np.object_],
) -> FloatArray:
    """Return where each chosen arm's road last touches the boundary (metres along it)."""
    at = arms.at_m[chosen].copy()
    if len(chosen) == 0:
        return at
    chunks, chunk_grid = boundary
    lines = roads[arms.edge[chosen]]
    entry, chunk = shapely.STRtree(chunks).query(lines, predicate="intersects")
    mine = chunk_grid[chunk] == arms.grid[chosen][entry]
    entry, chunk = entry[mine], chunk[mine]
    parts, which = flat_parts(shapely.intersection(lines[entry], chunks[chunk]))
    which = entry[which]
    pos = np.concatenate(span(lines[which], parts))
    which = np.concatenate([which, which])
    lo, hi = arms.lo_m[chosen][which], arms.hi_m[chosen][which]
    ok = (pos >= lo - EPS_M) & (pos <= hi + EPS_M)
    gap = np.abs(pos - arms.at_m[chosen][which])
    which, gap, pos = which[ok], gap[ok], pos[ok]
    order = np.lexsort((gap, which))
    first = np.ones(len(order), bool)
    first[1:] = which[order][1:] != which[order][:-1]
    at[which[order][first]] = pos[order][first]
    return at
