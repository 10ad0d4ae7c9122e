"""A regular lon/lat raster that answers "which polygons cover this point" mostly by lookup.

Private helper of :mod:`geogrid.spatial.gridindex`. The raster's cells fall in two kinds:

- *quiet* cells, which no polygon border comes near: every polygon either covers the
  whole cell or none of it, so the cell stores the answer;
- *border* cells, which some border may cross: the cell stores its candidate polygons,
  and a point there gets the exact shapely test (``intersects_xy``, which for a point
  and a polygon is ``covers``: boundary included).

Exactness rests on three facts. (1) A cell is marked *border* when the bounding box of
any border segment, widened by ``MARGIN_DEG``, touches it, so a quiet cell widened by
``MARGIN_DEG`` contains no border at all; rounding in ``(x - x0) / dx`` is many orders
of magnitude smaller than the margin. (2) Quiet cells that share an edge lie in the
same face of the arrangement of borders, so one exact test per connected run of quiet
cells (``scipy.ndimage.label``) answers them all. (3) A border cell's candidates are
the polygons whose border crosses it plus those covering its centre; a polygon that
covers some point of the cell and is not among the first kind covers all of it.

Several rasters (one per grid level) share one :class:`RasterFrame`: a level's cell is
a block of ``2**shift`` by ``2**shift`` frame cells, so a point's frame cell is
computed once and each level finds its own cell with two bit shifts. Points off the
frame are clamped to its edge cells, which no polygon covers whole (the frame leaves a
free cell on every side), so they get either "none" or the exact test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import shapely
from scipy import ndimage

__all__ = ["MARGIN_DEG", "CellCache", "RasterFrame"]

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
GeometryArray = npt.NDArray[np.object_]

MARGIN_DEG = 1e-9
"""Widening of every cell when looking for borders, in degrees (about 0.1 mm)."""

_NONE = -1
_FOUR_NEIGHBOURS = ndimage.generate_binary_structure(2, 1)


@dataclass(frozen=True)
class RasterFrame:
    """A regular lon/lat grid of ``nx`` by ``ny`` cells of ``dx`` by ``dy`` degrees."""

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int

    @classmethod
    def around(cls, bounds: tuple[float, float, float, float], dx: float, dy: float) -> RasterFrame:
        """Return a frame over ``bounds`` with one free cell on every side."""
        xmin, ymin, xmax, ymax = bounds
        x0, y0 = xmin - dx, ymin - dy
        nx = int(np.ceil((xmax - x0) / dx)) + 2
        ny = int(np.ceil((ymax - y0) / dy)) + 2
        return cls(float(x0), float(y0), dx, dy, nx, ny)

    def coarsened(self, shift: int) -> RasterFrame:
        """Return the frame whose cells are blocks of ``2**shift`` cells of this one."""
        k = 1 << shift
        return RasterFrame(
            self.x0, self.y0, self.dx * k, self.dy * k, -(-self.nx // k), -(-self.ny // k)
        )

    def cell_of(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, IntArray]:
        """Return the column and row of the cell under each point, clamped to the frame."""
        i = x - self.x0
        i *= 1.0 / self.dx
        np.clip(i, 0, self.nx - 1, out=i)
        j = y - self.y0
        j *= 1.0 / self.dy
        np.clip(j, 0, self.ny - 1, out=j)
        return i.astype(np.intp), j.astype(np.intp)

    def centres(self, cells: IntArray) -> tuple[FloatArray, FloatArray]:
        """Return the centre coordinates of flat cell indices (``j * nx + i``)."""
        j, i = np.divmod(cells, self.nx)
        return self.x0 + (i + 0.5) * self.dx, self.y0 + (j + 0.5) * self.dy


@dataclass(frozen=True, eq=False)
class CellCache:
    """Raster of one level over a shared frame (see the module docstring).

    ``label`` holds, for each cell of ``frame`` (row-major), a polygon index ``>= 0``
    when the answer is that single polygon, ``-1`` when no polygon covers the cell, and
    ``-2 - row`` when the answer is in row ``row`` of the candidate table (``offsets``,
    ``candidate``, ``full``; ``full`` marks candidates known to cover the whole cell,
    which need no exact test).
    """

    frame: RasterFrame
    shift: int
    label: Int32Array
    offsets: IntArray
    candidate: Int32Array
    full: npt.NDArray[np.bool_]
    row_cells: int | None = field(default=None, repr=False)
    """How many cells point to a candidate row (``label <= -2``), when known."""

    @classmethod
    def from_polygons(
        cls,
        geoms: GeometryArray,
        base: RasterFrame,
        shift: int,
        mode: Literal["first", "all"],
    ) -> CellCache:
        """Build the raster of prepared polygons, with cells of ``2**shift`` base cells.

        With ``mode="first"`` only the first covering polygon (lowest index) matters,
        so candidates after a polygon that covers the whole cell are dropped; with
        ``mode="all"`` every covering polygon is kept.
        """
        frame = base.coarsened(shift)
        n = len(geoms)
        if n == 0:
            label = np.full(frame.nx * frame.ny, _NONE, dtype=np.int32)
            nothing = np.zeros(0, dtype=np.int32)
            return cls(frame, shift, label, np.zeros(1, np.int64), nothing, nothing > 0)
        tree = shapely.STRtree(geoms)

        border_keys = _border_keys(geoms, frame)
        border_cells = _unique(border_keys // n)
        quiet = np.ones(frame.nx * frame.ny, dtype=bool)
        quiet[border_cells] = False

        # One exact test per connected run of quiet cells, at any cell of the run.
        runs, n_runs = ndimage.label(quiet.reshape(frame.ny, frame.nx), structure=_FOUR_NEIGHBOURS)
        runs = runs.ravel()
        some_cell = np.empty(n_runs + 1, dtype=np.int64)
        some_cell[runs] = np.arange(len(runs))
        run_index, run_poly = _covering_centres(geoms, tree, frame, some_cell[1:])
        run_index += 1  # run ids start at 1; 0 marks border cells
        run_count = np.bincount(run_index, minlength=n_runs + 1)
        run_label = np.full(n_runs + 1, _NONE, dtype=np.int64)
        first = _starts(run_index)  # pairs are sorted by polygon: first is lowest
        run_label[run_index[first]] = run_poly[first]
        label = run_label[runs]

        # Candidates of border cells: borders crossing them and polygons covering them.
        inside_keys = _inside_keys(geoms, frame, border_keys, ~quiet)
        keys = _unique(np.concatenate([border_keys, inside_keys]))
        full = ~_sorted_isin(keys, border_keys)
        cells, polys = keys // n, (keys % n).astype(np.int32)
        if mode == "first":
            # Drop candidates after the first one that covers the whole cell.
            group_start = _starts(cells)
            full_before: IntArray = np.cumsum(full) - full
            full_before -= np.maximum.accumulate(np.where(group_start, full_before, 0))
            keep: npt.NDArray[np.bool_] = full_before == 0
            cells, polys, full = cells[keep], polys[keep], full[keep]

        row_start = np.flatnonzero(_starts(cells))
        row_cells = cells[row_start]
        offsets = np.r_[row_start, len(cells)].astype(np.int64)
        label[row_cells] = -2 - np.arange(len(row_cells))
        if mode == "first":
            # A border cell whose only candidate covers it all needs no test.
            solo = (np.diff(offsets) == 1) & full[row_start]
            label[row_cells[solo]] = polys[row_start[solo]]
        else:
            # A quiet run inside several polygons gets one row of full candidates.
            multi = np.flatnonzero(run_count > 1)
            if multi.size:
                in_multi = np.isin(run_index, multi)
                run_row = np.zeros(n_runs + 1, dtype=np.int64)
                run_row[multi] = -2 - (len(row_cells) + np.arange(multi.size))
                quiet_multi = run_row[runs] < 0
                label[quiet_multi] = run_row[runs[quiet_multi]]
                polys = np.r_[polys, run_poly[in_multi].astype(np.int32)]
                full = np.r_[full, np.ones(int(in_multi.sum()), dtype=bool)]
                offsets = np.r_[offsets, len(cells) + np.cumsum(run_count[multi])]
        return cls(frame, shift, label.astype(np.int32), offsets, polys, full)

    def window_around(self, bounds: FloatArray) -> tuple[int, int, int, int]:
        """Return the cells ``(i0, i1, j0, j1)`` (ends excluded) of a block holding every
        box of ``bounds`` (rows of ``xmin, ymin, xmax, ymax``) with one cell to spare."""
        frame = self.frame
        xmin, ymin = bounds[:, 0].min() - MARGIN_DEG, bounds[:, 1].min() - MARGIN_DEG
        xmax, ymax = bounds[:, 2].max() + MARGIN_DEG, bounds[:, 3].max() + MARGIN_DEG
        i0 = max(int(np.floor((xmin - frame.x0) / frame.dx)) - 1, 0)
        j0 = max(int(np.floor((ymin - frame.y0) / frame.dy)) - 1, 0)
        i1 = min(int(np.floor((xmax - frame.x0) / frame.dx)) + 2, frame.nx)
        j1 = min(int(np.floor((ymax - frame.y0) / frame.dy)) + 2, frame.ny)
        return i0, max(i1, i0), j0, max(j1, j0)

    def patched(
        self,
        geoms: GeometryArray,
        remap: IntArray,
        window: tuple[int, int, int, int],
        mode: Literal["first", "all"],
    ) -> CellCache:
        """Return this raster for new polygons that differ from the old ones only inside
        ``window`` (cells ``i0, i1, j0, j1`` of this raster, ends excluded).

        ``geoms`` are the new prepared polygons, in index order; ``remap`` gives the new
        index of each old polygon (``-1``: gone). Every polygon added, removed or
        reshaped must lie, before and after, inside the window's cells less one on each
        side (:meth:`window_around`): then outside the window every cell's answer is
        the old one, renumbered, and inside it the cells are built again from the
        polygons that reach them, as :meth:`from_polygons` would build them. A cell's
        answer is exact whichever way it was built (see the module docstring), so the
        result answers every point as a raster built from scratch would.
        """
        i0, i1, j0, j1 = window
        frame = self.frame
        sub_frame = RasterFrame(
            frame.x0 + i0 * frame.dx, frame.y0 + j0 * frame.dy, frame.dx, frame.dy, i1 - i0, j1 - j0
        )
        # the polygons that reach the window (a sub-raster's cells see no others)
        bounds = shapely.bounds(geoms).reshape(-1, 4)
        x1, y1 = sub_frame.x0 + sub_frame.nx * frame.dx, sub_frame.y0 + sub_frame.ny * frame.dy
        near = np.flatnonzero(
            (bounds[:, 0] <= x1 + frame.dx)
            & (bounds[:, 2] >= sub_frame.x0 - frame.dx)
            & (bounds[:, 1] <= y1 + frame.dy)
            & (bounds[:, 3] >= sub_frame.y0 - frame.dy)
        )
        sub = CellCache.from_polygons(geoms[near], sub_frame, 0, mode)

        label = self.label.copy()
        window_label = label.reshape(frame.ny, frame.nx)[j0:j1, i0:i1]
        row_cells = self.count_row_cells() - int(np.count_nonzero(window_label <= -2))
        # Outside the window cells name only polygons that stay: when each keeps its
        # index, those cells and their candidate rows hold as they are.
        stays = remap >= 0
        same_polygons = bool(np.array_equal(remap[stays], np.flatnonzero(stays)))
        if not same_polygons:  # renumber the polygons every cell names (a full pass)
            moved = label >= 0
            label[moved] = remap[label[moved]]
        n_rows = len(self.offsets) - 1
        sub_label = sub.label.astype(np.int64)
        sub_label = np.where(
            sub_label >= 0,
            near[np.maximum(sub_label, 0)],
            np.where(sub_label == -1, -1, sub_label - n_rows),
        )
        window_label[...] = sub_label.reshape(j1 - j0, i1 - i0)
        row_cells += int(np.count_nonzero(sub_label <= -2))
        offsets = np.r_[self.offsets, sub.offsets[1:] + self.offsets[-1]]
        kept = self.candidate
        if not same_polygons:
            kept = np.where(kept >= 0, remap[kept], -1)  # -1: in no cell's row
        candidate = np.r_[kept, near[sub.candidate]].astype(np.int32)
        full = np.r_[self.full, sub.full]
        if len(offsets) - 1 > 1.5 * row_cells + 1024:
            # rows only the window's old cells pointed to: dropped once they pile up
            return CellCache(frame, self.shift, *_compacted(label, offsets, candidate, full))
        return CellCache(frame, self.shift, label, offsets, candidate, full, row_cells)

    def count_row_cells(self) -> int:
        """Return how many cells point to a candidate row (counted once, then kept)."""
        if self.row_cells is None:
            object.__setattr__(self, "row_cells", int(np.count_nonzero(self.label <= -2)))
        return self.row_cells  # type: ignore[return-value]

    @property
    def nbytes(self) -> int:
        """Return the memory held by the raster and candidate table, in bytes."""
        return sum(a.nbytes for a in (self.label, self.offsets, self.candidate, self.full))

    def labels_at(self, i: IntArray, j: IntArray) -> Int32Array:
        """Return the label of the cell holding base-frame cell ``(i, j)``."""
        flat = j >> self.shift
        flat *= self.frame.nx
        flat += i >> self.shift
        return self.label.take(flat)

    def first_covering(
        self, geoms: GeometryArray, x: FloatArray, y: FloatArray, i: IntArray, j: IntArray
    ) -> Int32Array:
        """Return, per point, the lowest index of a polygon covering it, or ``-1``.

        ``i, j`` are the points' cells in the base frame (:meth:`RasterFrame.cell_of`).
        Candidates are tried in index order, so a point stops at its first hit.
        """
        out = self.labels_at(i, j)
        points = np.flatnonzero(out <= -2)
        if points.size:
            rows = -2 - out[points].astype(np.int64)
            slot, end = self.offsets[rows], self.offsets[rows + 1]
            out[points] = _NONE
            while points.size:
                poly = self.candidate[slot]
                hit = self.full[slot].copy()
                test = np.flatnonzero(~hit)
                hit[test] = _intersects(geoms, poly[test], x[points[test]], y[points[test]])
                out[points[hit]] = poly[hit]
                slot += 1
                going = ~hit & (slot < end)
                points, slot, end = points[going], slot[going], end[going]
        return out

    def first_covering_one(self, geoms: GeometryArray, x: float, y: float, i: int, j: int) -> int:
        """Return :meth:`first_covering` for one point (plain Python: no array overhead)."""
        return next(self._covering_one(geoms, x, y, i, j), _NONE)

    def all_covering_one(
        self, geoms: GeometryArray, x: float, y: float, i: int, j: int
    ) -> list[int]:
        """Return :meth:`all_covering`'s polygons for one point, in index order."""
        return sorted(self._covering_one(geoms, x, y, i, j))

    def _covering_one(
        self, geoms: GeometryArray, x: float, y: float, i: int, j: int
    ) -> Iterator[int]:
        """Yield the polygons covering one point, in candidate (index) order, lazily."""
        label = int(self.label[(j >> self.shift) * self.frame.nx + (i >> self.shift)])
        if label > -2:
            if label >= 0:
                yield label
            return
        row = -2 - label
        for slot in range(int(self.offsets[row]), int(self.offsets[row + 1])):
            poly = int(self.candidate[slot])
            if self.full[slot] or shapely.intersects_xy(geoms[poly], x, y):
                yield poly

    def all_covering(
        self, geoms: GeometryArray, x: FloatArray, y: FloatArray, i: IntArray, j: IntArray
    ) -> tuple[IntArray, Int32Array]:
        """Return every (point, polygon) pair where the polygon covers the point, sorted."""
        labels = self.labels_at(i, j)
        single = np.flatnonzero(labels >= 0)
        points = np.flatnonzero(labels <= -2)
        rows = -2 - labels[points].astype(np.int64)
        starts = self.offsets[rows]
        counts = self.offsets[rows + 1] - starts
        point = np.repeat(points, counts)
        slot = np.arange(len(point)) - np.repeat(np.cumsum(counts) - counts - starts, counts)
        poly = self.candidate[slot]
        hit = self.full[slot].copy()
        test = np.flatnonzero(~hit)
        hit[test] = _intersects(geoms, poly[test], x[point[test]], y[point[test]])
        point = np.r_[single, point[hit]].astype(np.int64)
        poly = np.r_[labels[single], poly[hit]].astype(np.int32)
        order = np.lexsort((poly, point))
        return point[order], poly[order]


def _compacted(
    label: Int32Array, offsets: IntArray, candidate: Int32Array, full: npt.NDArray[np.bool_]
) -> tuple[Int32Array, IntArray, Int32Array, npt.NDArray[np.bool_]]:
    """Return the raster and its candidate table without the rows no cell points to."""
    at_row = np.flatnonzero(label <= -2)
    used, inverse = np.unique(-2 - label[at_row].astype(np.int64), return_inverse=True)
    out = label.copy()
    out[at_row] = -2 - inverse
    starts, counts = offsets[used], offsets[used + 1] - offsets[used]
    slot = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts - starts, counts)
    new_offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return out.astype(np.int32), new_offsets, candidate[slot], full[slot]


def _intersects(
    geoms: GeometryArray, poly: npt.ArrayLike, x: FloatArray, y: FloatArray
) -> npt.NDArray[np.bool_]:
    """Return ``intersects_xy(geoms[poly], x, y)``, testing one polygon after another.

    Grouping the tests by polygon keeps each prepared polygon's index in cache, which
    is several times faster than testing in point order.
    """
    poly = np.asarray(poly)
    if poly.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(poly, kind="stable")
    out = np.empty(len(poly), dtype=bool)
    out[order] = shapely.intersects_xy(geoms[poly[order]], x[order], y[order])
    return out


def _covering_centres(
    geoms: GeometryArray, tree: shapely.STRtree, frame: RasterFrame, cells: IntArray
) -> tuple[IntArray, IntArray]:
    """Return (cell position, polygon) pairs where the polygon covers the cell centre.

    Pairs are sorted by cell position, then polygon.
    """
    cx, cy = frame.centres(cells)
    index, poly = tree.query(shapely.points(cx, cy))  # bounding boxes only
    hit = _intersects(geoms, poly, cx[index], cy[index])
    index, poly = index[hit], poly[hit]
    order = np.lexsort((poly, index))
    return index[order], poly[order]


def _inside_keys(
    geoms: GeometryArray,
    frame: RasterFrame,
    border_keys: IntArray,
    is_border: npt.NDArray[np.bool_],
) -> IntArray:
    """Return ``cell * n + polygon`` for border cells that a polygon covers whole.

    Polygon by polygon, over the window of its bounding box: the cells its own border
    does not come near split into connected runs; one exact test per run says whether
    the run is inside the polygon. Border cells of other polygons in an inside run
    are covered whole (in a clean tiling there are none).
    """
    n = len(geoms)
    bounds = shapely.bounds(geoms)
    lo_i = np.floor((bounds[:, 0] - frame.x0) / frame.dx).astype(np.int64) - 1
    hi_i = np.floor((bounds[:, 2] - frame.x0) / frame.dx).astype(np.int64) + 2
    lo_j = np.floor((bounds[:, 1] - frame.y0) / frame.dy).astype(np.int64) - 1
    hi_j = np.floor((bounds[:, 3] - frame.y0) / frame.dy).astype(np.int64) + 2
    lo_i, lo_j = np.maximum(lo_i, 0), np.maximum(lo_j, 0)
    hi_i, hi_j = np.minimum(hi_i, frame.nx), np.minimum(hi_j, frame.ny)
    border_2d = is_border.reshape(frame.ny, frame.nx)
    poly_of_key = border_keys % n
    order = np.argsort(poly_of_key, kind="stable")
    key_start = np.searchsorted(poly_of_key[order], np.arange(n + 1))
    found: list[IntArray] = []
    for p in range(n):
        i0, i1, j0, j1 = lo_i[p], hi_i[p], lo_j[p], hi_j[p]
        window = border_2d[j0:j1, i0:i1]
        own_cells = border_keys[order[key_start[p] : key_start[p + 1]]] // n
        own_j, own_i = np.divmod(own_cells, frame.nx)
        own = np.zeros(window.shape, dtype=bool)
        own[own_j - j0, own_i - i0] = True
        foreign = window & ~own
        if not foreign.any():
            continue
        runs, n_runs = ndimage.label(~own, structure=_FOUR_NEIGHBOURS)
        some_cell = np.empty(n_runs + 1, dtype=np.int64)
        some_cell[runs.ravel()] = np.arange(runs.size)
        rj, ri = np.divmod(some_cell[1:], window.shape[1])
        inside = shapely.intersects_xy(
            geoms[p],
            frame.x0 + (i0 + ri + 0.5) * frame.dx,
            frame.y0 + (j0 + rj + 0.5) * frame.dy,
        )
        hit_j, hit_i = np.nonzero(foreign & np.r_[False, inside][runs])
        found.append(((j0 + hit_j) * frame.nx + i0 + hit_i) * n + p)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _border_keys(geoms: GeometryArray, frame: RasterFrame) -> IntArray:
    """Return sorted unique ``cell * n + polygon`` for every cell a border may cross."""
    n = len(geoms)
    x0, y0, dx, dy, nx, ny = (frame.x0, frame.y0, frame.dx, frame.dy, frame.nx, frame.ny)
    parts, part_poly = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring[1:] == ring[:-1]
    a, b = coords[:-1][same_ring], coords[1:][same_ring]
    seg_poly = part_poly[ring_part[ring[:-1][same_ring]]]
    # Split segments longer than a cell, so each piece's box spans at most 3 x 3 cells.
    pieces = np.maximum(
        np.ceil(np.maximum(np.abs(b[:, 0] - a[:, 0]) / dx, np.abs(b[:, 1] - a[:, 1]) / dy)), 1
    ).astype(np.int64)
    if (pieces > 1).any():
        seg = np.repeat(np.arange(len(a)), pieces)
        k = np.arange(len(seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        t0 = (k / pieces[seg])[:, None]
        t1 = ((k + 1) / pieces[seg])[:, None]
        a, b = a[seg] + t0 * (b[seg] - a[seg]), a[seg] + t1 * (b[seg] - a[seg])
        seg_poly = seg_poly[seg]
    lo, hi = np.minimum(a, b) - MARGIN_DEG, np.maximum(a, b) + MARGIN_DEG
    i0 = np.floor((lo[:, 0] - x0) / dx).astype(np.int64)
    i1 = np.floor((hi[:, 0] - x0) / dx).astype(np.int64)
    j0 = np.floor((lo[:, 1] - y0) / dy).astype(np.int64)
    j1 = np.floor((hi[:, 1] - y0) / dy).astype(np.int64)
    keys = []
    for di in range(3):
        for dj in range(3):
            m = (i0 + di <= i1) & (j0 + dj <= j1)
            i, j = np.clip(i0[m] + di, 0, nx - 1), np.clip(j0[m] + dj, 0, ny - 1)
            keys.append((j * nx + i) * n + seg_poly[m])
    return _unique(np.concatenate(keys))


def _unique(values: IntArray) -> IntArray:
    """Return the sorted unique values (sorting beats hashing for these arrays)."""
    values = np.sort(values)
    return values[_starts(values)]


def _starts(sorted_values: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
    """Return a mask of the first element of every run of equal values."""
    out = np.ones(len(sorted_values), dtype=bool)
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=out[1:])
    return out


def _sorted_isin(values: IntArray, sorted_set: IntArray) -> npt.NDArray[np.bool_]:
    """Return ``np.isin(values, sorted_set)`` for a sorted, unique ``sorted_set``."""
    if sorted_set.size == 0:
        return np.zeros(len(values), dtype=bool)
    pos = np.clip(np.searchsorted(sorted_set, values), 0, len(sorted_set) - 1)
    return sorted_set[pos] == values
