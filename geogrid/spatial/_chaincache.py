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
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geogrid.spatial._cellcache import CellCache, RasterFrame

__all__ = ["ChainCache"]

Int32Array = npt.NDArray[np.int32]
IntArray = npt.NDArray[np.int64]

_KEY_LIMIT = 1 << 62


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
        return cls(frame, label, members)

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
        keep their chain (renumbered), cells inside get theirs again as
        :meth:`from_caches` would; chains no cell holds any more are dropped.
        """
        frame = self.frame
        i0, i1, j0, j1 = window
        members = self.members.copy()
        for k, remap in enumerate(remaps):
            if remap is not None:
                old = members[:-1, k]
                members[:-1, k] = np.where(old >= 0, remap[np.maximum(old, 0)], -1)
        # the window's cells: quiet at every level, and with which polygon
        cells = (np.arange(j0, j1)[:, None] * frame.nx + np.arange(i0, i1)[None, :]).ravel()
        found = np.empty((cells.size, len(caches)), dtype=np.int32)
        quiet = np.ones(cells.size, dtype=bool)
        j, i = np.divmod(cells, frame.nx)
        for k, cache in enumerate(caches):
            found[:, k] = cache.labels_at(i, j)
            quiet &= found[:, k] >= -1
        quiet_found = np.maximum(found[quiet], -1)
        # each window chain: an old chain with the same members, else a new one
        n_old = len(members) - 1
        chains, inverse = np.unique(np.r_[members[:-1], quiet_found], axis=0, return_inverse=True)
        inverse = inverse.ravel()
        # keep the chains some cell holds: old ones outside the window, the window's
        held_outside = np.bincount(self.label + 1, minlength=n_old + 1)
        held_outside -= np.bincount(self.label[cells] + 1, minlength=n_old + 1)
        held = np.zeros(len(chains), dtype=bool)
        held[inverse[:n_old][held_outside[1:] > 0]] = True
        held[inverse[n_old:]] = True
        number = np.cumsum(held) - 1
        lookup = np.r_[number[inverse[:n_old]], -1].astype(np.int32)  # label -1 picks -1
        label = lookup[self.label]
        window_label = np.full(cells.size, -1, dtype=np.int32)
        window_label[quiet] = number[inverse[n_old:]]
        label[cells] = window_label
        none = np.full((1, len(caches)), -1, dtype=np.int32)
        return ChainCache(frame, label, np.r_[chains[held], none].astype(np.int32))

    @property
    def nbytes(self) -> int:
        """Return the memory held by the raster and the chain table, in bytes."""
        return self.label.nbytes + self.members.nbytes

    def chains_at(self, i: IntArray, j: IntArray) -> Int32Array:
        """Return the chain number of base-frame cells ``(i, j)`` (``-1``: ask the levels)."""
        flat = j * self.frame.nx
        flat += i
        return self.label.take(flat)


def _on_frame(cache: CellCache, frame: RasterFrame) -> Int32Array:
    """Return the level's labels repeated onto every cell of the base frame."""
    k = 1 << cache.shift
    grid = cache.label.reshape(cache.frame.ny, cache.frame.nx)
    if k > 1:
        grid = np.repeat(np.repeat(grid, k, axis=0), k, axis=1)
    return np.ascontiguousarray(grid[: frame.ny, : frame.nx]).ravel()
