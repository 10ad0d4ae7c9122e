"""Entries: the places where roads cross into a grid, one per crossing.

Rules
-----
Work is done in a metric projection (the road network's). A road within
``tolerance_m`` of a grid's boundary (default 0.5 m, the topology tolerance) is *on*
the boundary there; the rest of every road is strictly *inside* or *outside* the grid.
Each maximal stretch of the network that lies on the boundary is a *contact*: a single
point where a road crosses or touches, a stretch where a road runs along the boundary,
or a junction on the boundary, possibly spanning several edges joined at nodes. The
roads leaving a contact are its *arms*, each inside or outside.

- A contact with an arm outside and an arm inside is **one entry**, however many edges
  meet there (two edges that end on the boundary make one entry, not two; a junction on
  the boundary is one entry).
- A road that touches the boundary at a vertex and turns back, or runs along the
  boundary and leaves on the side it came from, makes no entry: all its arms lie on one
  side. A road that runs along the boundary and then turns inside enters where it
  leaves the boundary.
- A road that crosses several times makes one entry per crossing (a road that leaves
  and comes back in makes two: the way out is an entry too, see ``direction``).
- Crossings that the network joins within the tolerance are one place: a junction
  0.3 m inside the boundary whose roads cross it 0.2 m and 0.4 m away is one entry (an
  exact ``ST_Intersection`` would give one point per edge). When the road reported
  does not itself touch the boundary, the point is that junction.
- Bridges, tunnels and any road class are entries like any other road.
- A dead end lying on the boundary (a node of degree 1, for example a road clipped at
  the county border) counts as a way to the outside: the road goes on beyond the data.
  Such entries are flagged ``open_end``.

Direction comes from one-way flags. ``can_enter`` is true when some outside arm can be
driven towards the contact and some inside arm away from it; ``can_exit`` the other way
round. ``direction`` is ``"both"``, ``"in"`` (a one-way road into the grid), ``"out"`` (a
one-way road leaving it) or ``"none"`` (one-way arms that all point at the contact or
all away from it: a data error). The command centre seals ways *in*: one-way exits are
reported but not counted as gaps (``way_in`` is false for them).

The reported road is the inside arm that leads in (ties: the higher road class, then the
lower edge position); the reported point is where that road last touches the boundary
before it goes inside (for a plain crossing, the exact intersection point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geogrid.spatial.coverage._lines import flat_parts, inside_at, ramp, span
from geogrid.spatial.coverage._places import EPS_M, Contacts, find_places

__all__ = ["DEFAULT_BOUNDARY_TOLERANCE_M", "Entries", "find_entries"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_BOUNDARY_TOLERANCE_M = 0.5
"""Roads this close to a grid's boundary are on it (the road topology tolerance)."""

_CHUNK_SEGMENTS = 32


@dataclass(frozen=True, eq=False)
class Entries:
    """Road crossings into grids, one row per crossing (see the module's rules).

    Attributes
    ----------
    grid
        Position of the grid (in the polygons given) the entry leads into.
    edge, fraction
        The road edge that leads inside and where on it the crossing is (0 at its first
        vertex, 1 at its last).
    x, y
        The crossing point in the metric coordinates the entries were found in.
    can_enter, can_exit
        Whether the crossing may be driven into, and out of, the grid.
    open_end
        Whether the outside is a dead end of the data lying on the boundary.
    arms_in, arms_out
        Number of road arms inside and outside the grid at the crossing.
    """

    grid: IntArray
    edge: IntArray
    fraction: FloatArray
    x: FloatArray
    y: FloatArray
    can_enter: BoolArray
    can_exit: BoolArray
    open_end: BoolArray
    arms_in: IntArray
    arms_out: IntArray

    def __len__(self) -> int:
        return len(self.grid)

    @property
    def direction(self) -> npt.NDArray[np.object_]:
        """``"both"``, ``"in"``, ``"out"`` or ``"none"`` per entry."""
        out = np.full(len(self), "none", dtype=object)
        out[self.can_enter & self.can_exit] = "both"
        out[self.can_enter & ~self.can_exit] = "in"
        out[~self.can_enter & self.can_exit] = "out"
        return out

    @property
    def way_in(self) -> BoolArray:
        """Whether the entry is a way into the grid (what a checkpoint must seal)."""
        return self.can_enter.copy()

    def take(self, index: npt.ArrayLike) -> Entries:
        """Return the selected entries."""
        pick = np.asarray(index)
        return Entries(**{name: getattr(self, name)[pick] for name in self.__dataclass_fields__})


def find_entries(
    polygons: npt.ArrayLike,
    lines: npt.ArrayLike,
    source: npt.ArrayLike,
    target: npt.ArrayLike,
    forward_open: npt.ArrayLike,
    backward_open: npt.ArrayLike,
    *,
    tolerance_m: float = DEFAULT_BOUNDARY_TOLERANCE_M,
    rank: npt.ArrayLike | None = None,
    tree: shapely.STRtree | None = None,
) -> Entries:
    """Find every road entry into each polygon.

    Parameters
    ----------
    polygons
        Grid Polygons or MultiPolygons, in a metric CRS (metres).
    lines
        Road edges as LineStrings in the same CRS, noded at junctions.
    source, target
        Node ids of each edge's first and last vertex.
    forward_open, backward_open
        Whether each edge may be driven along, and against, its geometry.
    tolerance_m
        Roads this close to a boundary are on it (must be > 0).
    rank
        Importance of each edge, lower first (for example the road class's position in
        :data:`~geogrid.spatial.roads.topology.ROAD_CLASSES`); picks the reported road when
        several lead in at one crossing. Defaults to the edge position.
    tree
        An STRtree over ``lines`` to reuse.

    Returns
    -------
    Entries
        Sorted by grid, then edge and fraction.

    Examples
    --------
    A square and a road crossing it (two entries: one each side), a road touching a
    corner, and a one-way road leaving it:

    >>> from shapely import LineString, box
    >>> lines = [LineString([(-5, 5), (15, 5)]), LineString([(-1, 11), (0, 10), (1, 11)]),
    ...          LineString([(5, 8), (5, 15)])]
    >>> e = find_entries([box(0, 0, 10, 10)], lines, [1, 3, 5], [2, 4, 6],
    ...                  [True, True, True], [True, True, False])
    >>> e.edge.tolist(), e.x.tolist(), e.direction.tolist()
    ([0, 0, 2], [0.0, 10.0, 5.0], ['both', 'both', 'out'])
    """
    if not tolerance_m > 0:
        raise ValueError(f"tolerance_m must be > 0, got {tolerance_m}")
    polys = np.asarray(polygons, dtype=object).reshape(-1)
    roads = np.asarray(lines, dtype=object).reshape(-1)
    src, tgt = _node_indices(np.asarray(source).reshape(-1), np.asarray(target).reshape(-1))
    fwd = np.asarray(forward_open, dtype=bool).reshape(-1)
    bwd = np.asarray(backward_open, dtype=bool).reshape(-1)
    rank_a = np.asarray(np.arange(len(roads)) if rank is None else rank, dtype=float)
    if not len(src) == len(tgt) == len(fwd) == len(bwd) == len(rank_a) == len(roads):
        raise ValueError("lines, source, target, forward_open, backward_open must match")
    if len(polys) == 0 or len(roads) == 0:
        return _empty()
    polys = np.asarray(shapely.make_valid(polys))
    shapely.prepare(polys)
    chunks, chunk_grid = _boundary_chunks(polys)
    bands = np.asarray(shapely.buffer(chunks, tolerance_m, quad_segs=2))
    tree = tree if tree is not None else shapely.STRtree(roads)
    band, pair_e = tree.query(bands, predicate="intersects")
    if len(band) == 0:
        return _empty()
    c = _contacts(polys, bands[band], roads, chunk_grid[band], pair_e)
    if c.n_contacts == 0:
        return _empty()
    places = find_places(c, polys, roads, (src, tgt), (fwd, bwd), (chunks, chunk_grid), rank_a)
    length = shapely.length(roads[places.edge])
    at = places.at_m
    xy = shapely.get_coordinates(shapely.line_interpolate_point(roads[places.edge], at))
    fraction = np.divide(at, length, out=np.zeros(len(at)), where=length > 0)
    out = Entries(
        grid=places.grid,
        edge=places.edge,
        fraction=np.clip(fraction, 0.0, 1.0),
        x=xy[:, 0],
        y=xy[:, 1],
        can_enter=places.can_enter,
        can_exit=places.can_exit,
        open_end=places.open_end,
        arms_in=places.arms_in,
        arms_out=places.arms_out,
    )
    return out.take(np.lexsort((out.fraction, out.edge, out.grid)))


def _node_indices(source: IntArray, target: IntArray) -> tuple[IntArray, IntArray]:
    """Return node ids as indices ``0 .. n - 1`` (as they are when already small)."""
    both = np.concatenate([source, target])
    if len(both) == 0 or (both.min() >= 0 and both.max() < 4 * len(both) + 16):
        return source.astype(np.int64), target.astype(np.int64)
    _, index = np.unique(both, return_inverse=True)
    return index[: len(source)].astype(np.int64), index[len(source) :].astype(np.int64)


def _boundary_chunks(
    polys: npt.NDArray[np.object_], size: int = _CHUNK_SEGMENTS
) -> tuple[npt.NDArray[np.object_], IntArray]:
    """Cut every boundary ring into lines of at most ``size`` segments (and their grid).

    Intersecting a road with a short piece of boundary is much cheaper than with the
    whole boundary; contacts from neighbouring pieces are merged afterwards.
    """
    rings, grid = shapely.get_parts(shapely.boundary(polys), return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    n = np.bincount(ring, minlength=len(rings))
    offset = np.cumsum(n) - n
    n_chunks = np.maximum(1, -(-(n - 1) // size))
    chunk_ring = np.repeat(np.arange(len(rings)), n_chunks)
    j = ramp(n_chunks)
    first = offset[chunk_ring] + j * size
    count = np.minimum(size, n[chunk_ring] - 1 - j * size) + 1
    vertex = np.repeat(first, count) + ramp(count)
    lines = shapely.linestrings(coords[vertex], indices=np.repeat(np.arange(len(first)), count))
    return np.asarray(lines), grid[chunk_ring].astype(np.int64)


def _empty() -> Entries:
    i, f, b = np.empty(0, np.int64), np.empty(0), np.empty(0, bool)
    return Entries(i, i.copy(), f, f.copy(), f.copy(), b, b.copy(), b.copy(), i.copy(), i.copy())


def _contacts(
    polys: npt.NDArray[np.object_],
    bands: npt.NDArray[np.object_],
    roads: npt.NDArray[np.object_],
    pair_g: IntArray,
    pair_e: IntArray,
) -> Contacts:
    """Intersect each edge with the boundary bands it meets and merge the pieces by grid."""
    parts, which = flat_parts(shapely.intersection(roads[pair_e], bands))
    if len(parts) == 0:
        which = np.empty(0, np.int64)
    lo, hi = span(roads[pair_e[which]], parts)
    m = len(roads)
    key = pair_g[which] * m + pair_e[which]
    order = np.lexsort((lo, key))
    key, lo, hi = key[order], lo[order], hi[order]
    reach = pd.Series(hi).groupby(key).cummax().to_numpy()  # furthest end so far, per key
    new = np.ones(len(key), bool)
    new[1:] = (key[1:] != key[:-1]) | (lo[1:] > reach[:-1] + EPS_M)
    starts = np.flatnonzero(new)
    end = np.maximum.reduceat(hi, starts) if len(starts) else hi
    key, start = key[starts], lo[starts]
    grid, edge = key // m, key % m
    lines = roads[edge]
    length = shapely.length(lines)
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    last = np.ones(len(key), bool)
    last[:-1] = key[:-1] != key[1:]
    gap_lo = np.where(first, 0.0, np.roll(end, 1))
    gap_hi = np.where(last, length, np.roll(start, -1))
    return Contacts(
        grid=grid,
        edge=edge,
        start=start,
        end=end,
        length=length,
        before_in=inside_at(polys[grid], lines, (gap_lo + start) / 2),
        after_in=inside_at(polys[grid], lines, (end + gap_hi) / 2),
        at_start=start <= EPS_M,
        at_end=end >= length - EPS_M,
    )
