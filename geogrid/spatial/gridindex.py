"""Which grid owns a point: a bulk point-in-grid index over the county's grid tree.

:class:`GridIndex` is built once from the grids (a GeoDataFrame in EPSG:4326) and
answers, for arrays of points, the owning grid at every territorial level
(county › town › village › micro), every industry grid covering the point, and a status.

Ownership rules
---------------
1. **Covers, boundary included.** A grid *covers* a point when the point lies in its
   interior or on its boundary (shapely ``covers``, PostGIS ``ST_Covers``).
2. **One owner per level.** At each territorial level the owner of a point is, among
   the grids of that level covering it, the one whose ``code`` sorts first (Python
   string order, which is PostgreSQL's ``COLLATE "C"``). So a point on a shared edge
   or vertex, or in an overlap, has exactly one owner:
   ``SELECT code FROM grids WHERE level = $1 AND ST_Covers(geom, pt)
   ORDER BY code COLLATE "C" LIMIT 1``.
3. **Levels are independent.** The village is found among the villages, not derived
   from the micro-grid; where the data disagree with itself (a micro-grid spilling into
   a neighbouring village) each level still answers for itself.
4. **Industry grids overlay.** Every industry grid covering the point is returned.
5. **Status.** A level *exists* at a point when the point's owner at the nearest
   coarser level that has one has descendants at that level, or its owner at the
   nearest finer level that has one has an ancestor at it. Parents come from
   ``parent_code``, or where it is missing from the code prefix (``330326-101-003`` is
   the parent of ``330326-101-003-02``). So a village with no micro-grids has no micro
   level, and a point inside the county but in no town is in a gap at the town level.
   ``outside``: no territorial grid covers the point. ``gap``: a level exists there
   but no grid of that level covers the point; the answer then names the nearest grid
   of that level (over the whole level, ties to the first code) and its distance in
   metres, measured in a transverse Mercator projection centred on the grids. ``ok``:
   owned at every level that exists there. Nothing is guessed: a point in a gap gets
   no owner at that level.

How it is fast
--------------
Each level has a regular lon/lat raster (:mod:`geogrid.spatial._cellcache`). A cell
that no border of the level comes near stores its answer; a cell that a border may
cross stores its candidate grids, and a point there gets the exact ``covers`` test
(``shapely.intersects_xy`` on prepared polygons, grouped by polygon) against those
candidates only, in code order, stopping at the first hit. On top, one raster over all
levels (:mod:`geogrid.spatial._chaincache`) stores, for cells quiet at every level,
the whole chain county › town › village › micro › industry: on the county-scale demo
set it answers about 89 % of random points with a single lookup. The rasters share one
frame; a level's cell is ``2**shift`` frame cells, so a point's cell is computed once.
Cells are sized for about ``cells_per_grid`` cells on an average grid of a level.

Why a raster and not H3 (``benchmarks/locate.py --cache-study``, county-scale demo
set, 1 M points, CPU time on a loaded 2-core machine): h3-py 4 has no vectorised
``latlng_to_cell`` (its ``numpy_int`` API is still one call per point). The scalar
call costs 0.7 µs of CPU per point (2-3 µs wall clock here), so just turning 1 M
points into H3 cells takes longer than the whole locate with the raster (about
0.2 s of CPU for 1 M points, every level, industry and status included), while
the raster's cell of a point is two multiplications and a ``take`` in numpy (0.04 µs).
The raster's cells are also exact boxes in the lon/lat plane the polygons are tested
in, where H3 cells have geodesic edges that a planar ``contains_properly`` test would
only approximate. H3 remains the right tool for aggregating points, not for this.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> grids = gpd.GeoDataFrame(
...     {
...         "code": ["1", "1-01", "1-02", "1-I01"],
...         "name": ["County", "West", "East", "Market"],
...         "level": ["county", "town", "town", "industry"],
...         "parent_code": [None, "1", "1", None],
...     },
...     geometry=[box(0, 0, 2, 1), box(0, 0, 1, 1), box(1, 0, 2, 1), box(0.5, 0, 1.5, 1)],
...     crs="EPSG:4326",
... )
>>> index = GridIndex.from_geodataframe(grids)
>>> found = index.locate([0.5, 1.0, 3.0], [0.5, 0.5, 0.5])
>>> found.codes("town").tolist()
['1-01', '1-01', None]
>>> found.status.tolist()
['ok', 'ok', 'outside']
>>> index.locate_one(1.2, 0.5).industry_codes
('1-I01',)
"""

from __future__ import annotations

import threading
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geogrid.spatial import _gridinput
from geogrid.spatial._chaincache import ChainCache
from geogrid.spatial._gridlevels import (
    LEVEL_NAMES,
    LevelIndex,
    level_index,
    mode_of,
    prepare_polygons,
    updated_level,
)
from geogrid.spatial._projection import LocalProjection
from geogrid.spatial._rasterplan import plan_frame
from geogrid.spatial.gridlocations import (
    TERRITORIAL_LEVELS,
    GridGap,
    LocateStatus,
    PointLocation,
    PointLocations,
)

__all__ = [
    "SHARED_PARTS",
    "TERRITORIAL_LEVELS",
    "GridGap",
    "GridIndex",
    "LocateStatus",
    "PointLocation",
    "PointLocations",
]

SHARED_PARTS: tuple[type, ...] = (np.ndarray, shapely.Geometry, LocalProjection)
"""The immutable parts an index shares with the one it was updated from (numeric
arrays, prepared polygons, the metric projection), and that hold no other such part:
what another process holding the old index need not be sent again
(:mod:`geogrid.workspace._helper_process`)."""

grid_arrays = _gridinput.arrays_from_geodataframe
"""The ``code``, ``level``, ``parent_code`` and geometry arrays of a grid frame, as
:meth:`GridIndex.updated_arrays` takes them (raises as :meth:`GridIndex.updated`)."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_Answers = tuple[npt.NDArray[np.object_], npt.NDArray[np.int32], list[tuple[Any, ...] | None]]
"""An index's codes, chain rows and complete-chain answers (kept by an update)."""


class GridIndex:
    """Bulk point → owning grid index (see the module docstring for the rules).

    Build it with :meth:`from_geodataframe` (or :meth:`from_arrays`); it is immutable
    and safe to share between threads once built (it keeps its own prepared copies of
    the geometries). When the grids change, make a new index with :meth:`updated` (it
    builds again only the raster cells near the grids that changed: about 0.1 s for
    one edit in the demo county, where a build takes 2-3 s) and swap it in; readers
    holding the old one are unaffected (the new one shares its unchanged parts).

    Parameters
    ----------
    codes, levels, parent_codes, geometries
        One entry per grid, as for :meth:`from_arrays`.
    cells_per_grid
        Raster cells on an average grid of each level; more cells mean fewer exact
        tests and more memory.
    cell_range
        Fewest and most cells in the raster of one level (4 bytes each).
    projection
        Where gap distances are measured; by default a transverse Mercator centred on
        these grids. A part of a larger grid set (one county's grids,
        :mod:`geogrid.spatial.gridcounties`) takes the whole set's, so that its
        distances are the whole index's.
    """

    def __init__(
        self,
        codes: npt.ArrayLike,
        levels: npt.ArrayLike,
        parent_codes: npt.ArrayLike,
        geometries: npt.ArrayLike,
        *,
        cells_per_grid: float = 1024.0,
        cell_range: tuple[int, int] = (1 << 20, 1 << 22),
        projection: LocalProjection | None = None,
    ) -> None:
        grid_input = _gridinput.check_arrays(codes, levels, parent_codes, geometries)
        self._options: dict[str, Any] = {"cells_per_grid": cells_per_grid, "cell_range": cell_range}
        if projection is not None:
            self._options["projection"] = projection
        self._take_input(grid_input)
        geoms = grid_input.geometries
        rows = [self._rows_in_code_order(level) for level in LEVEL_NAMES]
        self._frame, shifts = plan_frame(geoms, rows, cells_per_grid, cell_range)
        built = [
            level_index(self._frame, geoms[r], r, shift, mode_of(name))
            for name, r, shift in zip(LEVEL_NAMES, rows, shifts, strict=True)
        ]
        self._bounds = _bounds_corners(geoms)
        self.projection = projection or LocalProjection.around(*self._bounds)
        self._take_levels(built)

    def _polygons_by_row(self) -> npt.NDArray[np.object_]:
        """Return the index's own copy of each grid's polygon, in row order."""
        out = np.empty(len(self.codes), dtype=object)
        for level in (*self._territorial, self._industry):
            out[level.rows] = level.geoms
        return out

    def _take_input(self, grid_input: _gridinput.GridInput) -> None:
        self.codes: npt.NDArray[np.object_] = grid_input.codes
        self.levels: npt.NDArray[np.object_] = grid_input.levels
        self._descendant_bits = np.append(grid_input.descendant_bits, 0)  # row -1: none
        self._ancestor_bits = np.append(grid_input.ancestor_bits, 0)
        self._parent_codes = grid_input.parent_codes

    def _input(self) -> _gridinput.GridInput:
        """Return this index's input, less the geometries (for :meth:`updated`)."""
        return _gridinput.GridInput(
            self.codes,
            self.levels,
            np.empty(0, dtype=object),
            self._descendant_bits[:-1],
            self._ancestor_bits[:-1],
            getattr(self, "_parent_codes", None),  # None in snapshots of older versions
        )

    def _take_levels(
        self,
        built: list[LevelIndex],
        chains: ChainCache | None = None,
        previous: _Answers | None = None,
    ) -> None:
        self._territorial, self._industry = tuple(built[:-1]), built[-1]
        self._chains = chains or ChainCache.from_caches(self._frame, [lv.cache for lv in built])
        # Chain number -> row of each level's grid (-1 none); the last chain is "none".
        self._chain_rows = np.stack(
            [level.rows_or_none[self._chains.members[:, k]] for k, level in enumerate(built)],
            axis=1,
        ).astype(np.int32)
        self._quiet_answers = self._complete_chains(previous)
        self._metric_trees: dict[int, shapely.STRtree] = {}
        self._metric_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the index (to ship it to Dask workers once): without the lock and the
        lazily built metric trees; preparation is redone on loading."""
        state = self.__dict__.copy()
        del state["_metric_lock"]
        state["_metric_trees"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled index: a new lock, the polygons prepared again (those not
        prepared yet: an update may reuse polygons this process holds)."""
        self.__dict__.update(state)
        self._metric_lock = threading.Lock()
        for level in (*self._territorial, self._industry):
            prepare_polygons(level.geoms[~shapely.is_prepared(level.geoms)])

    @classmethod
    def from_geodataframe(cls, grids: gpd.GeoDataFrame, **options: Any) -> GridIndex:
        """Build the index from a grid frame in EPSG:4326.

        Parameters
        ----------
        grids
            Columns ``code`` (unique str), ``level`` (``county``, ``town``,
            ``village``, ``micro`` or ``industry``), ``parent_code`` (str or None;
            optional) and a Polygon/MultiPolygon geometry; other columns are ignored.
            Answers name grids by their row position in this frame.
        **options
            Passed to the constructor (``cells_per_grid``, ``cell_range``, ``projection``).

        Raises
        ------
        UnknownCRSError
            The frame is not in EPSG:4326 (reproject at the edge first).
        IngestError
            A column is missing, a code is empty or repeated, or a level is unknown.
        InvalidGeometryError
            A geometry is missing, empty, not polygonal or invalid.
        """
        codes, levels, parents, geoms = _gridinput.arrays_from_geodataframe(grids)
        return cls(codes, levels, parents, geoms, **options)

    @classmethod
    def from_arrays(
        cls,
        codes: npt.ArrayLike,
        levels: npt.ArrayLike,
        parent_codes: npt.ArrayLike,
        geometries: npt.ArrayLike,
        **options: Any,
    ) -> GridIndex:
        """Build the index from parallel arrays, one entry per grid.

        Parameters
        ----------
        codes
            Unique grid codes (str).
        levels
            ``county``, ``town``, ``village``, ``micro`` or ``industry``.
        parent_codes
            Code of each grid's parent, or None.
        geometries
            Polygons or MultiPolygons in EPSG:4326 (lon/lat degrees).
        **options
            Passed to the constructor (``cells_per_grid``, ``cell_range``, ``projection``).
        """
        return cls(codes, levels, parent_codes, geometries, **options)

    def updated(self, grids: gpd.GeoDataFrame) -> GridIndex:
        """Return the index of ``grids``, reusing this one where the grids are the same.

        The answer to every point is the one :meth:`from_geodataframe` would give (the
        rasters are exact however their cells are cut), and the work is in proportion
        to what changed: a level whose grids all kept their code and geometry keeps its
        raster; a level where some grids were added, removed or reshaped gets its cells
        near them built again (:meth:`CellCache.patched`). Built from scratch instead
        when the grids' extent changed (the frame and the metric projection follow it)
        or the changes cover much of a level. Levels and parents may change freely (the
        lineage is worked out again). Raises as :meth:`from_geodataframe` does.
        """
        return self.updated_arrays(*grid_arrays(grids))

    def updated_arrays(
        self,
        codes: npt.ArrayLike,
        levels: npt.ArrayLike,
        parents: npt.ArrayLike,
        geoms: npt.ArrayLike,
    ) -> GridIndex:
        """Return the index of the grids given as parallel arrays (as for
        :meth:`from_arrays`), reusing this one where they are the same (:meth:`updated`)."""
        codes, levels = np.asarray(codes, dtype=object), np.asarray(levels, dtype=object)
        parents, geoms = np.asarray(parents, dtype=object), np.asarray(geoms, dtype=object)
        # the polygons this index holds already (same code, same coordinates)
        old_row = pd.Index(self.codes).get_indexer(pd.Index(codes, dtype=object))
        held = old_row >= 0
        is_geometry = np.array([isinstance(g, shapely.Geometry) for g in geoms], dtype=bool)
        held &= is_geometry
        held[held] = shapely.equals_identical(self._polygons_by_row()[old_row[held]], geoms[held])
        grid_input = _gridinput.check_arrays(codes, levels, parents, geoms, held, self._input())
        if len(self.codes) == 0 or _bounds_corners(grid_input.geometries) != self._bounds:
            return GridIndex(codes, levels, parents, geoms, **self._options)
        new = object.__new__(GridIndex)
        new._options, new._frame = self._options, self._frame
        new._bounds, new.projection = self._bounds, self.projection
        new._take_input(grid_input)
        built, remaps, windows = [], [], []
        old_levels = (*self._territorial, self._industry)
        for name, old in zip(LEVEL_NAMES, old_levels, strict=True):
            level, remap, window = updated_level(
                self._frame,
                old,
                self.codes,
                new.codes,
                new._rows_in_code_order(name),
                grid_input.geometries,
                held,
                mode_of(name),
            )
            built.append(level)
            remaps.append(remap)
            if window is not None:
                windows.append(window)
        chains = self._chains  # the same rasters number the same chains
        if windows:
            i0, i1, j0, j1 = np.array(windows).T
            window = (int(i0.min()), int(i1.max()), int(j0.min()), int(j1.max()))
            chains = chains.patched([level.cache for level in built], remaps, window)
        new._take_levels(built, chains, (self.codes, self._chain_rows, self._quiet_answers))
        new.keep_metric_trees(self)  # the same polygons: the same trees
        return new

    def keep_metric_trees(self, previous: GridIndex) -> None:
        """Take ``previous``'s search trees of gap distances for the levels whose polygons
        are the same: whose rasters are ``previous``'s own arrays (:meth:`updated` keeps
        them; so does an index updated in another process and loaded here)."""
        with previous._metric_lock:
            trees = dict(previous._metric_trees)
        old_levels = (*previous._territorial, previous._industry)
        new_levels = (*self._territorial, self._industry)
        with self._metric_lock:
            for k, (old, new) in enumerate(zip(old_levels, new_levels, strict=True)):
                same = new.cache.label is old.cache.label and len(new.geoms) == len(old.geoms)
                if k in trees and same:
                    self._metric_trees.setdefault(k, trees[k])

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def nbytes(self) -> int:
        """Return the memory held by the rasters, in bytes (geometries not included)."""
        levels = (*self._territorial, self._industry)
        held = sum(level.cache.nbytes + level.rows.nbytes for level in levels)
        return held + self._chains.nbytes + self._chain_rows.nbytes

    def locate(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> PointLocations:
        """Return the owning grids of points given in degrees (EPSG:4326).

        Parameters
        ----------
        lon, lat
            Longitudes and latitudes, scalars or 1-D arrays of the same length.

        Raises
        ------
        AxisOrderError
            Latitudes out of range that would be valid longitudes: swapped axes.
        InvalidGeometryError
            Coordinates that are not finite or out of range.
        """
        x, y = _gridinput.check_points(lon, lat)
        n, n_levels = len(x), len(TERRITORIAL_LEVELS)
        i, j = self._frame.cell_of(x, y)
        # Most points: one lookup gives the whole chain.
        chain = self._chains.chains_at(i, j)
        owner = np.empty((n, n_levels), dtype=np.int32, order="F")  # a column per level
        for k in range(n_levels):
            np.take(self._chain_rows[:, k], chain, out=owner[:, k], mode="wrap")  # -1: last
        industry = self._chains.members[:, n_levels].take(chain, mode="wrap")  # in code order
        industry_point = np.flatnonzero(industry >= 0)
        industry = industry[industry_point]
        # The others: level by level, exact tests near borders.
        hard = np.flatnonzero(chain < 0)
        if hard.size:
            hx, hy, hi, hj = x[hard], y[hard], i[hard], j[hard]
            for k, level in enumerate(self._territorial):
                local = level.cache.first_covering(level.geoms, hx, hy, hi, hj)
                owner[hard, k] = level.rows_or_none[local]
            level = self._industry
            point, local = level.cache.all_covering(level.geoms, hx, hy, hi, hj)
            industry_point = np.r_[industry_point, hard[point]]
            industry = np.r_[industry, local]
            order = np.lexsort((industry, industry_point))
            industry_point, industry = industry_point[order], industry[order]

        # Only points missing an owner somewhere can be in a gap or outside.
        missing = owner[:, 0] < 0
        for k in range(1, n_levels):
            missing |= owner[:, k] < 0
        some = np.flatnonzero(missing)
        some_owner = owner[some]
        expected = self._expected_levels(some_owner)
        status = np.zeros(n, dtype=np.int8)  # ok
        gaps: list[tuple[IntArray, int, IntArray, FloatArray]] = []
        for k in range(n_levels):
            in_gap = some[((expected >> k) & 1).astype(bool) & (some_owner[:, k] < 0)]
            if in_gap.size:
                status[in_gap] = 1  # gap
                gaps.append((in_gap, k, *self._nearest(k, x[in_gap], y[in_gap])))
        status[some[(some_owner < 0).all(axis=1)]] = 2  # outside
        gap_point = np.concatenate([g[0] for g in gaps]) if gaps else np.zeros(0, np.int64)
        gap_level = np.repeat(
            np.array([g[1] for g in gaps], dtype=np.int8), [len(g[0]) for g in gaps]
        )
        gap_row = np.concatenate([g[2] for g in gaps]) if gaps else np.zeros(0, np.int64)
        gap_m = np.concatenate([g[3] for g in gaps]) if gaps else np.zeros(0)
        order = np.lexsort((gap_level, gap_point))
        return PointLocations(
            lon=x,
            lat=y,
            owner_row=owner,
            status=_STATUS_VALUES[status],
            gap_point=gap_point[order].astype(np.int64),
            gap_level=gap_level[order].astype(np.int8),
            gap_row=gap_row[order].astype(np.int32),
            gap_distance_m=gap_m[order],
            industry_point=industry_point.astype(np.int64),
            industry_row=self._industry.rows[industry].astype(np.int32),
            grid_codes=self.codes,
        )

    def locate_one(self, lon: float, lat: float) -> PointLocation:
        """Return the owning grids of one point (degrees, EPSG:4326).

        Examples
        --------
        >>> from shapely import box
        >>> index = GridIndex.from_arrays(["1"], ["county"], [None], [box(0, 0, 1, 1)])
        >>> found = index.locate_one(0.5, 0.5)
        >>> found.county_code, found.status.value
        ('1', 'ok')
        """
        x, y = float(lon), float(lat)
        if -180.0 <= x <= 180.0 and -90.0 <= y <= 90.0:  # also False for NaN
            found = self._owned_everywhere(x, y)
            if found is not None:
                return found
        # in a gap, outside, or invalid: the general path (and its errors)
        return self.locate([lon], [lat]).point(0)

    def _owned_everywhere(self, x: float, y: float) -> PointLocation | None:
        """Return the answer for a point owned at every level, else None (ask :meth:`locate`).

        The same cells and the same candidate order as :meth:`locate`, one point at a
        time in plain Python, which for one point is many times faster than the arrays.
        """
        frame = self._frame
        # the same arithmetic as RasterFrame.cell_of, so the same cell
        i = int(min(max((x - frame.x0) * (1.0 / frame.dx), 0.0), frame.nx - 1.0))
        j = int(min(max((y - frame.y0) * (1.0 / frame.dy), 0.0), frame.ny - 1.0))
        chain = int(self._chains.label[j * frame.nx + i])
        if chain >= 0:
            quiet = self._quiet_answers[chain]
            if quiet is None:
                return None
            county, town, village, micro, industry = quiet
            return PointLocation(x, y, LocateStatus.OK, county, town, village, micro, industry, ())
        owners: list[str] = []
        for level in self._territorial:
            local = level.cache.first_covering_one(level.geoms, x, y, i, j)
            if local < 0:
                return None
            owners.append(str(self.codes[level.rows[local]]))
        level = self._industry
        industry = tuple(
            str(self.codes[level.rows[k]])
            for k in level.cache.all_covering_one(level.geoms, x, y, i, j)
        )
        county, town, village, micro = owners
        return PointLocation(x, y, LocateStatus.OK, county, town, village, micro, industry, ())

    def _complete_chains(self, previous: _Answers | None = None) -> list[tuple[Any, ...] | None]:
        """Return, per chain of the combined raster, its answer when owned at every level.

        A chain with an owner at every territorial level has status ``ok`` wherever it
        applies, so :meth:`locate_one` can answer its cells without the general path.
        The answers of ``previous`` (codes, chain rows and answers of the index this one
        updates) are kept for the first chains with the same rows, when the codes are
        the same.
        """
        chain_rows = self._chain_rows
        reused: list[tuple[Any, ...] | None] = []
        if previous is not None and _gridinput.same_values(self.codes, previous[0]):
            old = previous[1][: len(chain_rows) - 1]  # the last chain is "none"
            same = (old == chain_rows[: len(old)]).all(axis=1)
            first_change = int(np.argmin(same)) if not same.all() else len(old)
            reused = previous[2][:first_change]
        codes = [str(c) for c in self.codes]
        answers = list(reused)
        for *rows, industry in chain_rows[len(reused) :].tolist():
            if min(rows) < 0:
                answers.append(None)
                continue
            found = (codes[industry],) if industry >= 0 else ()
            answers.append((*(codes[r] for r in rows), found))
        return answers

    def _expected_levels(self, owner: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        """Return per point the bits of the levels that exist there (rule 5)."""
        return _gridinput.expected_levels(owner, self._ancestor_bits, self._descendant_bits)

    def nearest(
        self, level: str, lon: npt.ArrayLike, lat: npt.ArrayLike
    ) -> tuple[IntArray, FloatArray]:
        """Return, per point, the row of the nearest grid of a territorial ``level`` and
        its distance in metres (in :attr:`projection`; ties to the first code), as a gap
        answer names it; row -1 and an infinite distance when the level has no grid."""
        k = TERRITORIAL_LEVELS.index(level)
        x, y = _gridinput.check_points(lon, lat)
        if len(self._territorial[k].rows) == 0:
            return np.full(len(x), -1, dtype=np.int64), np.full(len(x), np.inf)
        return self._nearest(k, x, y)

    def _rows_in_code_order(self, level: str) -> IntArray:
        rows = np.flatnonzero(self.levels == level)
        return rows[np.argsort(self.codes[rows].astype(str), kind="stable")]

    def _nearest(self, k: int, x: FloatArray, y: FloatArray) -> tuple[IntArray, FloatArray]:
        """Return the row and distance (m) of the nearest grid of level ``k`` per point."""
        level = self._territorial[k]
        with self._metric_lock:  # projected on first need: gaps are rare
            if k not in self._metric_trees:
                metric = self.projection.geometries_to_xy(level.geoms)
                self._metric_trees[k] = shapely.STRtree(metric)
        px, py = self.projection.lonlat_to_xy(x, y)
        (point, local), dist = self._metric_trees[k].query_nearest(
            shapely.points(px, py), return_distance=True, all_matches=True
        )
        order = np.lexsort((local, point))  # ties go to the first code
        point, local, dist = point[order], local[order], dist[order]
        first = np.ones(len(point), dtype=bool)
        first[1:] = point[1:] != point[:-1]
        return level.rows[local[first]], dist[first]


_STATUS_VALUES = np.array([s.value for s in LocateStatus], dtype="<U7")  # ok, gap, outside


def _bounds_corners(geoms: npt.NDArray[np.object_]) -> tuple[list[float], list[float]]:
    if len(geoms) == 0:
        return [], []
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(geoms))
    return [xmin, xmax], [ymin, ymax]
