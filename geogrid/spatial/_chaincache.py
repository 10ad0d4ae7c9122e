"""One raster for all levels at once: the whole answer for cells no border comes near.

Private helper of :mod:`geogrid.spatial.gridindex`. Each level has its own raster
(:class:`~geogrid.spatial._cellcache.CellCache`); a cell of the shared frame that is
*quiet* in every level's raster (its answer is one polygon or none, at every level)
has a fixed answer for the whole chain: county, town, village, micro-grid and industry
grid. Distinct chains are few (about one per micro-grid), so the cell stores a chain
number and a small table holds the chains. A point in such a cell is answered with one
lookup; only the others go through the levels' rasters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from geogrid.spatial._cellcache import CellCache, RasterFrame

__all__ = ["ChainCache"]

Int32Array = npt.NDArray[np.int32]
IntArray = npt.NDArray[np.int64]

_KEY_LIMIT = 1 << 62

SPARE_CHAINS = 1024
"""Chains no cell holds that a patched table may keep, beyond as many as it numbered."""


@dataclass(frozen=True, eq=False)
class ChainCache:
    """Per frame cell, the number of its chain, or ``-1`` to ask the levels' rasters.

    ``members[c, k]`` is the polygon index of chain ``c`` in level cache ``k`` (the
    territorial levels, then the industry level), ``-1`` for none; the last row, which
    label ``-1`` picks, is all ``-1``.
    """

    frame: RasterFrame
    label: Int32Array
    members: Int32Array
    numbered: int | None = field(default=None, repr=False)
    """Chains when last numbered afresh (patches add chains; past twice as many, again)."""

    @classmethod
    def from_caches(cls, frame: RasterFrame, caches: Sequence[CellCache]) -> ChainCache:
        """Combine level rasters that share ``frame`` (polygon indices per level)."""
        n_cells = frame.nx * frame.ny
        radices = [int(max(c.label.max(initial=-1), 0)) + 2 for c in caches]
        if np.prod(np.array(radices, dtype=float)) >= _KEY_LIMIT or n_cells == 0:
            # Too many combinations to number: every point asks the levels' rasters.
            empty = np.full((1, len(caches)), -1, dtype=np.int32)
            return cls(frame, np.full(n_cells, -1, dtype=np.int32), empty)
        key = np.zeros(n_cells, dtype=np.int64)
        quiet = np.ones(n_cells, dtype=bool)
        for cache, radix in zip(caches, radices, strict=True):
            level_label = _on_frame(cache, frame)
            quiet &= level_label >= -1
            key *= radix
            key += np.maximum(level_label, -1) + 1
        key = key[quiet]
        # Neighbouring cells mostly share a chain: number runs of equal keys, not cells.
        new_run = np.ones(key.size, dtype=bool)
        np.not_equal(key[1:], key[:-1], out=new_run[1:])
        run_start = np.flatnonzero(new_run)
        chains, chain_of_run = np.unique(key[run_start], return_inverse=True)
        label = np.full(n_cells, -1, dtype=np.int32)
        label[quiet] = np.repeat(chain_of_run, np.diff(np.r_[run_start, key.size]))
        members = np.full((len(chains) + 1, len(caches)), -1, dtype=np.int32)
        rest = chains.copy()
        for k in range(len(caches) - 1, -1, -1):
            rest, digit = np.divmod(rest, radices[k])
            members[:-1, k] = digit - 1
        return cls(frame, label, members, len(members) - 1)

    def patched(
        self,
        caches: Sequence[CellCache],
        remaps: Sequence[IntArray | None],
        window: tuple[int, int, int, int],
    ) -> ChainCache:
        """Return the chains of new level rasters that differ from the old ones only
        inside ``window`` (cells ``i0, i1, j0, j1`` of the frame, ends excluded).

        ``remaps[k]`` gives the new polygon index of each old one of level ``k`` (``-1``:
        gone), or is None when the level kept its polygons. Cells outside the window
        keep their chain number, cells inside get theirs again as :meth:`from_caches`
        would (an old number when the chain exists); chains no cell holds any more are
        kept until they are as many again as the chains last numbered, then dropped.
        """
        frame = self.frame
        i0, i1, j0, j1 = window
        members = self.members[:-1].copy()
        for k, remap in enumerate(remaps):
            if remap is not None:
                old = members[:, k]
                members[:, k] = np.where(old >= 0, remap[np.maximum(old, 0)], -1)
        # the window's cells: quiet at every level, and with which polygon
        cells = (np.arange(j0, j1)[:, None] * frame.nx + np.arange(i0, i1)[None, :]).ravel()
        found = np.empty((cells.size, len(caches)), dtype=np.int32)
        quiet = np.ones(cells.size, dtype=bool)
        j, i = np.divmod(cells, frame.nx)
        for k, cache in enumerate(caches):
            found[:, k] = cache.labels_at(i, j)
            quiet &= found[:, k] >= -1
        quiet_found = np.maximum(found[quiet], -1)
        # each window chain keeps the number of an old chain with the same members (the
        # lowest); the others are numbered after the old ones. Cells outside the window
        # keep their numbers: no pass over the whole raster.
        n_old = len(members)
        chains, inverse = _unique_rows(np.r_[members, quiet_found])
        number = np.full(len(chains), -1, dtype=np.int64)
        number[inverse[:n_old][::-1]] = np.arange(n_old - 1, -1, -1)
        fresh = np.flatnonzero(number < 0)
        number[fresh] = n_old + np.arange(fresh.size)
        label = self.label.copy()
        window_label = np.full(cells.size, -1, dtype=np.int32)
        window_label[quiet] = number[inverse[n_old:]]
        label.reshape(frame.ny, frame.nx)[j0:j1, i0:i1] = window_label.reshape(j1 - j0, i1 - i0)
        none = np.full((1, len(caches)), -1, dtype=np.int32)
        members = np.r_[members, chains[fresh], none].astype(np.int32)
        numbered = self.numbered if self.numbered is not None else n_old
        if len(members) - 1 > 2 * numbered + SPARE_CHAINS:
            # chains no cell holds any more (moved borders leave some): dropped
            return _renumbered(frame, label, members)
        return ChainCache(frame, label, members, numbered)

    @property
    def nbytes(self) -> int:
        """Return the memory held by the raster and the chain table, in bytes."""
        return self.label.nbytes + self.members.nbytes

    def chains_at(self, i: IntArray, j: IntArray) -> Int32Array:
        """Return the chain number of base-frame cells ``(i, j)`` (``-1``: ask the levels)."""
        flat = j * self.frame.nx
        flat += i
        return self.label.take(flat)


def _unique_rows(rows: Int32Array) -> tuple[Int32Array, IntArray]:
    """Return the distinct rows of ``rows`` and, per row, the index of its distinct row
    (``np.unique(axis=0)``, by one integer key per row when the values allow)."""
    shifted = rows.astype(np.int64) + 1  # values from -1 up
    radices = shifted.max(axis=0, initial=0) + 1
    if np.prod(radices.astype(float)) >= _KEY_LIMIT:
        chains, inverse = np.unique(rows, axis=0, return_inverse=True)
        return chains, inverse.ravel()
    weights = np.cumprod(np.r_[radices[1:], 1][::-1])[::-1]
    _, first, inverse = np.unique(shifted @ weights, return_index=True, return_inverse=True)
    return rows[first], inverse.ravel()


def _renumbered(frame: RasterFrame, label: Int32Array, members: Int32Array) -> ChainCache:
    """Return the chains that some cell holds, numbered afresh (a pass over the raster)."""
    held = np.zeros(len(members), dtype=bool)
    held[label[label >= 0]] = True
    held[-1] = True  # the last chain, "none", stays last
    number = (np.cumsum(held) - 1).astype(np.int32)
    number[-1] = -1  # label -1 picks the last row, as before
    out = np.where(label >= 0, number[np.maximum(label, 0)], -1).astype(np.int32)
    kept = members[held]
    return ChainCache(frame, out, kept, len(kept) - 1)


def _on_frame(cache: CellCache, frame: RasterFrame) -> Int32Array:
    """Return the level's labels repeated onto every cell of the base frame."""
    k = 1 << cache.shift
    grid = cache.label.reshape(cache.frame.ny, cache.frame.nx)
    if k > 1:
        grid = np.repeat(np.repeat(grid, k, axis=0), k, axis=1)
    return np.ascontiguousarray(grid[: frame.ny, : frame.nx]).ravel()
