"""The grids of one level of a :class:`~geogrid.spatial.gridindex.GridIndex`: their
prepared polygons and raster, built from scratch or updated from the previous index.

Private helper of :mod:`geogrid.spatial.gridindex`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geogrid.spatial._cellcache import CellCache, RasterFrame
from geogrid.spatial.gridlocations import TERRITORIAL_LEVELS

__all__ = [
    "LEVEL_NAMES",
    "PATCH_LIMIT",
    "LevelIndex",
    "level_index",
    "mode_of",
    "own_copies",
    "prepare_polygons",
    "updated_level",
]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class LevelIndex:
    """The grids of one level, sorted by code, with their raster."""

    rows: IntArray  # row positions in the grid frame, in code order
    geoms: npt.NDArray[np.object_]  # prepared polygons, same order
    cache: CellCache

    @property
    def rows_or_none(self) -> npt.NDArray[np.int32]:
        """Return ``rows`` followed by -1, so that local index -1 maps to row -1."""
        return np.append(self.rows, -1).astype(np.int32)


LEVEL_NAMES = (*TERRITORIAL_LEVELS, "industry")


def mode_of(level: str) -> Literal["first", "all"]:
    """Return how a level's raster keeps candidates: every industry grid, one owner else."""
    return "all" if level == "industry" else "first"


def own_copies(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Return prepared copies of polygons (the caller's are left as they were)."""
    copies = np.asarray(shapely.transform(geoms, lambda xy: xy), dtype=object)
    prepare_polygons(copies)
    return copies


def level_index(
    frame: RasterFrame,
    geoms: npt.NDArray[np.object_],
    rows: IntArray,
    shift: int,
    mode: Literal["first", "all"],
) -> LevelIndex:
    """Return the index of one level's polygons (grid ``rows``, in code order) over the
    shared ``frame``, with cells of ``2**shift`` frame cells."""
    geoms = own_copies(geoms)
    return LevelIndex(rows, geoms, CellCache.from_polygons(geoms, frame, shift, mode))


PATCH_LIMIT = 0.25
"""Largest share of a level's raster built again by :meth:`GridIndex.updated` (more: all)."""


def updated_level(
    base: RasterFrame,
    old: LevelIndex,
    old_codes: npt.NDArray[np.object_],
    codes: npt.NDArray[np.object_],
    rows: IntArray,
    geoms: npt.NDArray[np.object_],
    held: npt.NDArray[np.bool_],
    mode: Literal["first", "all"],
) -> tuple[LevelIndex, IntArray | None, tuple[int, int, int, int] | None]:
    """Return a level's index over its new grids (``rows`` of the new frame, in code
    order), reusing the old polygons and raster cells where nothing changed; with the
    new index of each old polygon (``-1``: gone) and the frame cells ``i0, i1, j0, j1``
    built again, both None when the level's polygons are all the same."""
    pos = pd.Index(old_codes[old.rows]).get_indexer(codes[rows])  # -1: new at this level
    same = (pos >= 0) & held[rows]  # held: the same polygon as the old grid of that code
    if same.all() and len(rows) == len(old.rows):
        return LevelIndex(rows, old.geoms, old.cache), None, None
    level_geoms = np.empty(len(rows), dtype=object)
    level_geoms[same] = old.geoms[pos[same]]
    level_geoms[~same] = own_copies(geoms[rows[~same]])
    remap = np.full(len(old.rows), -1, dtype=np.int64)
    remap[pos[same]] = np.flatnonzero(same)
    boxes = np.concatenate(
        [shapely.bounds(old.geoms[remap < 0]), shapely.bounds(level_geoms[~same])]
    ).reshape(-1, 4)
    i0, i1, j0, j1 = window = old.cache.window_around(boxes)
    cells = old.cache.frame.nx * old.cache.frame.ny
    if (i1 - i0) * (j1 - j0) > PATCH_LIMIT * cells:
        cache = CellCache.from_polygons(level_geoms, base, old.cache.shift, mode)
        window = (0, old.cache.frame.nx, 0, old.cache.frame.ny)
    else:
        cache = old.cache.patched(level_geoms, remap, window, mode)
    shift = old.cache.shift  # the window in frame cells
    i0, i1, j0, j1 = window
    in_frame = (i0 << shift, min(i1 << shift, base.nx), j0 << shift, min(j1 << shift, base.ny))
    return LevelIndex(rows, level_geoms, cache), remap, in_frame


def prepare_polygons(geoms: npt.NDArray[np.object_]) -> None:
    """Prepare polygons and build each one's lazy point locator now, so that threads
    sharing the index only ever read them."""
    shapely.prepare(geoms)
    if len(geoms):
        ring = shapely.get_exterior_ring(shapely.get_geometry(geoms, 0))
        start = shapely.get_point(ring, 0)
        shapely.intersects_xy(geoms, shapely.get_x(start), shapely.get_y(start))
