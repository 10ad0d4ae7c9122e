"""How big the raster cells of :class:`~geogrid.spatial.gridindex.GridIndex` are.

Private helper of :mod:`geogrid.spatial.gridindex`: one shared frame, and for each level
a ``shift`` such that the level's cell is ``2**shift`` by ``2**shift`` frame cells.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from geogrid.spatial._cellcache import RasterFrame

__all__ = ["plan_frame"]

IntArray = npt.NDArray[np.int64]


def plan_frame(
    geoms: npt.NDArray[np.object_],
    level_rows: list[IntArray],
    cells_per_grid: float,
    cell_range: tuple[int, int],
) -> tuple[RasterFrame, list[int]]:
    """Return the shared raster frame and each level's shift (cell = 2**shift frame cells).

    A territorial level gets about ``cells_per_grid`` cells on its average grid, within
    ``cell_range`` cells over the frame (the lower bound cuts a lone county polygon
    finely too), within a factor of 2 as cells are ``2**shift`` frame cells wide;
    the industry level, last, gets the lower bound: industry grids are few
    and small, and points near their borders rare.
    """
    if len(geoms) == 0:
        return RasterFrame(0.0, 0.0, 1.0, 1.0, 1, 1), [0] * len(level_rows)
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(geoms))
    cos_lat = max(np.cos(np.radians((ymin + ymax) / 2)), 0.05)
    areas = shapely.area(geoms) * cos_lat  # in squared degrees of latitude
    frame_area = max((xmax - xmin) * cos_lat * (ymax - ymin), 1e-12)
    high = cell_range[1]
    low = min(cell_range[0], len(geoms) * cells_per_grid)  # small sets, small rasters
    sides = []
    for k, rows in enumerate(level_rows):
        if len(rows) == 0 or k == len(level_rows) - 1:
            cells = float(low)
        else:
            cells = np.clip(frame_area * cells_per_grid / areas[rows].mean(), low, high)
        sides.append(np.sqrt(frame_area / cells))
    dy = max(min(sides), 1e-7)
    base = RasterFrame.around((xmin, ymin, xmax, ymax), dy / cos_lat, dy)
    return base, [max(0, round(np.log2(side / dy))) for side in sides]
