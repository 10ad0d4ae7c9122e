"""Which grid owns a point, county by county: a province's grid index in parts.

A province's grid index (~120,000 grids) takes ~1.8 GB in an API worker and minutes to
load (``benchmarks/province_serve.py --grids 100``). :class:`CountyGridIndex` answers as
the whole :class:`~geogrid.spatial.gridindex.GridIndex` would, while holding only:

- the grid frame it was built from (which the workspace reads anyway), the lineage of
  every grid, and one small index over the **footprints** of the counties;
- a :class:`GridIndex` of the grids that are in no county's tree (industry grids, and
  territorial grids whose chain of parents reaches no county): usually a few dozen;
- each county's own :class:`GridIndex` (the county grid and its tree of towns, villages
  and micro-grids), obtained through a ``load`` callable when a point needs it: the
  workspace keeps a bounded LRU of them (``GEOGRID_GRID_COUNTIES``).

How the answer stays the whole index's
--------------------------------------
A county's **tree** is every grid whose chain of parents (as ``GridIndex`` finds
parents: ``parent_code``, else the code prefix) ends at that county grid. Its
**footprint** is the county polygon, joined with any grid of its tree that the county
polygon does not cover (a micro-grid spilling over the county border). So a grid of a
county's tree covers a point only where the county's footprint covers it.

- **Owners.** A point is tested against every county whose footprint covers it (on a
  county border: all of them, one after the other) and against the grids outside every
  tree; at each level the owner is the covering grid whose code sorts first among all
  of them, which is the whole index's rule 2.
- **Industry grids** have no parent, so they are never in a county's tree: every one
  covering the point is returned, in code order.
- **Status** is worked out from the owners with the lineage of the whole grid set
  (rule 5), as the whole index does.
- **Gaps.** The nearest grid of a level is searched over the whole level: first in the
  county parts (and the rest) nearest to the point, then in any other whose level's
  convex hull (in the same metric projection as the parts: the whole set's) is not
  farther than the best found. Gaps are rare; this may read a neighbouring county.

A point inside one county, away from its border and owned at every level, costs a
footprint lookup and one ``locate_one`` in that county's index.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> grids = gpd.GeoDataFrame(
...     {
...         "code": ["1", "1-01", "2", "2-01", "I1"],
...         "level": ["county", "town", "county", "town", "industry"],
...         "parent_code": [None, "1", None, "2", None],
...     },
...     geometry=[box(0, 0, 1, 1), box(0, 0, 1, 1), box(1, 0, 2, 1), box(1, 0, 2, 1),
...               box(0.5, 0, 1.5, 1)],
...     crs="EPSG:4326",
... )
>>> index = CountyGridIndex(grids, lambda code: index.build(code))
>>> [index.locate_one(x, 0.5).town_code for x in (0.5, 1.0, 1.5, 3.0)]
['1-01', '1-01', '2-01', None]
>>> index.locate_one(1.2, 0.5).industry_codes
('I1',)
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geogrid.spatial import _gridinput
from geogrid.spatial._projection import LocalProjection
from geogrid.spatial.gridindex import GridIndex
from geogrid.spatial.gridlocations import (
    TERRITORIAL_LEVELS,
    LocateStatus,
    PointLocation,
    PointLocations,
)

__all__ = ["COUNTY_OPTIONS", "CountyGridIndex", "county_trees", "self_loading"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_NONE_RANK = np.iinfo(np.int64).max  # the rank of "no grid": after every code
_STATUS_VALUES = np.array([s.value for s in LocateStatus], dtype="<U7")  # ok, gap, outside
COUNTY_OPTIONS: dict[str, Any] = {"cell_range": (1 << 16, 1 << 22)}
"""A county's rasters: ``cells_per_grid`` as the whole index, but a level of a few
towns gets ~65,000 cells, not the whole index's least of ~1 million (the rasters are exact
however they are cut: the answers are the same; a county's index takes ~3x less memory)."""
_SLACK_M = 1e-6  # a hull's distance may exceed its grids' by rounding: lower it by this


def county_trees(grids: pd.DataFrame) -> tuple[dict[str, IntArray], IntArray]:
    """Return the row positions of each county's tree (county code → rows, the county
    grid first, then in frame order), and those of the grids in no county's tree."""
    codes = grids["code"].to_numpy(dtype=object)
    levels = grids["level"].to_numpy(dtype=object)
    parents = (
        grids["parent_code"].to_numpy(dtype=object)
        if "parent_code" in grids.columns
        else np.full(len(grids), None, dtype=object)
    )
    parent = _gridinput.parent_rows(codes, levels, parents)
    root = np.where(parent >= 0, parent, np.arange(len(codes)))  # a root is its own
    for _ in TERRITORIAL_LEVELS:  # a chain is at most as long as the levels
        root = root[root]
    is_county = levels == "county"
    in_county = is_county[root]
    trees: dict[str, IntArray] = {}
    order = np.argsort(root[in_county], kind="stable")
    rows = np.flatnonzero(in_county)[order]
    bounds = np.flatnonzero(np.diff(root[rows])) + 1
    for members in np.split(rows, bounds) if len(rows) else []:
        county = int(root[members[0]])
        trees[str(codes[county])] = np.r_[county, members[members != county]].astype(np.int64)
    return trees, np.flatnonzero(~in_county).astype(np.int64)


def self_loading(grids: gpd.GeoDataFrame) -> CountyGridIndex:
    """A :class:`CountyGridIndex` that builds each county's index when first needed and
    keeps every one it built (for a process of its own, such as a Dask worker)."""
    built: dict[str, GridIndex] = {}

    def load(county: str) -> GridIndex:
        if county not in built:
            built[county] = index.build(county)
        return built[county]

    index = CountyGridIndex(grids, load)
    return index


class CountyGridIndex:
    """Point → owning grid chain, from one county's index at a time (see the module
    docstring); the answers are :class:`GridIndex`'s over the whole ``grids``.

    Parameters
    ----------
    grids
        Every grid, as for :meth:`GridIndex.from_geodataframe` (answers name grids by
        their row position in this frame).
    load
        County code → that county's :class:`GridIndex`, as :meth:`build` makes it (the
        caller may keep it in memory, or in a snapshot of the same grids). Called when
        a point needs the county; the index keeps no reference to what it returns
        beyond the call.
    known_footprint
        County code and its tree's rows → the county's :meth:`footprint` when the caller
        kept it from an index of the same rows (an edit elsewhere), else None: worked
        out here (``covers`` tests of every grid of the tree: ~20 ms a county).

    Raises
    ------
    As :meth:`GridIndex.from_geodataframe` for bad grids (only the counties and the
    grids outside every tree are indexed here; the others when their county is built).
    """

    def __init__(
        self,
        grids: gpd.GeoDataFrame,
        load: Callable[[str], GridIndex],
        *,
        known_footprint: Callable[[str, gpd.GeoDataFrame], shapely.Geometry | None] | None = None,
    ) -> None:
        codes, levels, parents, geoms = _gridinput.arrays_from_geodataframe(grids)
        self._grids = grids
        self._load = load
        self.codes: npt.NDArray[np.object_] = codes
        self.levels: npt.NDArray[np.object_] = levels
        descendants, ancestors = _gridinput.lineage_bits(codes, levels, parents)
        self._descendant_bits = np.append(descendants, 0)  # row -1: none
        self._ancestor_bits = np.append(ancestors, 0)
        self._row_of = pd.Index(codes)
        rank = np.empty(len(codes) + 1, dtype=np.int64)
        rank[np.argsort(codes.astype(str), kind="stable")] = np.arange(len(codes))
        rank[-1] = _NONE_RANK
        self._rank = rank
        self.projection = LocalProjection.around([], [])  # no grids: as GridIndex
        if len(geoms):
            xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(geoms))
            self.projection = LocalProjection.around([xmin, xmax], [ymin, ymax])
        self._trees, rest = county_trees(grids)
        self.counties: tuple[str, ...] = tuple(self._trees)
        self._rest_rows = rest
        self._rest = (
            GridIndex.from_arrays(
                codes[rest], levels[rest], parents[rest], geoms[rest], projection=self.projection
            )
            if len(rest)
            else None
        )
        footprints = []
        for county, rows in self._trees.items():
            known = known_footprint(county, grids.iloc[rows]) if known_footprint else None
            footprints.append(known if known is not None else self._footprint(geoms[rows]))
        self._footprints = np.array(footprints, dtype=object)
        shapely.prepare(self._footprints)
        self._footprint_tree = shapely.STRtree(self._footprints)
        self._footprint_bounds = shapely.bounds(self._footprints)
        # for one point at a time, when the grids outside every county are industry grids
        self._industry_only = bool((levels[rest] == "industry").all())
        self._industry = shapely.from_wkb(shapely.to_wkb(geoms[rest]))  # its own, prepared
        shapely.prepare(self._industry)
        self._industry_bounds = shapely.bounds(self._industry)
        self._part_rows: weakref.WeakKeyDictionary[GridIndex, IntArray] = (
            weakref.WeakKeyDictionary()
        )
        self._hulls: dict[tuple[str | None, int], shapely.Geometry | None] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.codes)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (a batch shipping the locator to Dask workers) the grids alone: the
        copy builds each county's index from them when first needed, and keeps it."""
        return (self_loading, (self._grids,))

    def footprint(self, county: str) -> shapely.Geometry:
        """Return the county's footprint: its polygon, joined with the grids of its tree
        that the polygon does not cover."""
        return self._footprints[self.counties.index(county)]

    def county_grids(self, county: str) -> gpd.GeoDataFrame:
        """Return the rows of the county ``county``'s tree (the county grid first)."""
        return self._grids.iloc[self._trees[county]]

    def build(self, county: str) -> GridIndex:
        """Build the :class:`GridIndex` of one county's tree (what ``load`` returns), with
        :data:`COUNTY_OPTIONS` and the whole grids' projection."""
        return GridIndex.from_geodataframe(
            self.county_grids(county), projection=self.projection, **COUNTY_OPTIONS
        )

    def counties_at(self, lon: float, lat: float) -> list[str]:
        """Return the counties whose footprint covers a point (in code order)."""
        x, y = _gridinput.check_points(lon, lat)
        return sorted(self.counties[c] for _, c in zip(*self._candidates(x, y), strict=True))

    def locate_one(self, lon: float, lat: float) -> PointLocation:
        """Return the owning grids of one point, as :meth:`GridIndex.locate_one`."""
        x, y = float(lon), float(lat)
        if -180.0 <= x <= 180.0 and -90.0 <= y <= 90.0 and self._industry_only:
            county = self._covering_one(self._footprints, self._footprint_bounds, x, y)
            if len(county) == 1:
                found = self._load(self.counties[county[0]]).locate_one(x, y)
                if found.status is LocateStatus.OK:  # the whole answer, with industry grids
                    industry = self._covering_one(self._industry, self._industry_bounds, x, y)
                    codes = tuple(sorted(str(self.codes[self._rest_rows[k]]) for k in industry))
                    return replace(found, industry_codes=codes) if codes else found
        return self.locate([lon], [lat]).point(0)

    def locate(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> PointLocations:
        """Return the owning grids of points in degrees (EPSG:4326), as
        :meth:`GridIndex.locate` over the whole grids (and with its errors)."""
        x, y = _gridinput.check_points(lon, lat)
        n, n_levels = len(x), len(TERRITORIAL_LEVELS)
        owner = np.full((n, n_levels), -1, dtype=np.int32)
        industry_point = np.zeros(0, dtype=np.int64)
        industry_row = np.zeros(0, dtype=np.int64)
        if self._rest is not None:
            found = self._rest.locate(x, y)
            self._merge(owner, np.arange(n), self._rest_rows, found.owner_row)
            industry_point = found.industry_point.astype(np.int64)
            industry_row = self._rest_rows[found.industry_row]
        point, county = self._candidates(x, y)
        for c in np.unique(county):
            at = point[county == c]
            part = self._load(self.counties[int(c)])
            found = part.locate(x[at], y[at])
            self._merge(owner, at, self._rows_of(part), found.owner_row)

        missing = np.flatnonzero((owner < 0).any(axis=1))
        some_owner = owner[missing]
        expected = _gridinput.expected_levels(
            some_owner, self._ancestor_bits, self._descendant_bits
        )
        status = np.zeros(n, dtype=np.int8)  # ok
        gap_point, gap_level, gap_row, gap_m = [], [], [], []
        for k in range(n_levels):
            in_gap = missing[((expected >> k) & 1).astype(bool) & (some_owner[:, k] < 0)]
            if in_gap.size:
                status[in_gap] = 1  # gap
                rows, dist = self._nearest(k, x[in_gap], y[in_gap])
                gap_point.append(in_gap)
                gap_level.append(np.full(len(in_gap), k, dtype=np.int8))
                gap_row.append(rows)
                gap_m.append(dist)
        status[missing[(some_owner < 0).all(axis=1)]] = 2  # outside
        points = np.concatenate(gap_point) if gap_point else np.zeros(0, np.int64)
        gap_levels = np.concatenate(gap_level) if gap_level else np.zeros(0, np.int8)
        order = np.lexsort((gap_levels, points))
        return PointLocations(
            lon=x,
            lat=y,
            owner_row=owner,
            status=_STATUS_VALUES[status],
            gap_point=points[order].astype(np.int64),
            gap_level=gap_levels[order],
            gap_row=(np.concatenate(gap_row) if gap_row else np.zeros(0, np.int64))[order].astype(
                np.int32
            ),
            gap_distance_m=(np.concatenate(gap_m) if gap_m else np.zeros(0))[order],
            industry_point=industry_point,
            industry_row=industry_row.astype(np.int32),
            grid_codes=self.codes,
        )

    # -- internals ---------------------------------------------------------------------

    def _footprint(self, tree_geoms: npt.NDArray[np.object_]) -> shapely.Geometry:
        """The county polygon (first) joined with the grids of its tree it does not cover."""
        county = tree_geoms[0]
        prepared = shapely.is_prepared(county)
        shapely.prepare(county)
        spilled = tree_geoms[1:][~shapely.covers(county, tree_geoms[1:])]
        if not prepared:  # the frame's own polygon: leave it as it was
            shapely.destroy_prepared(county)
        if len(spilled) == 0:
            return county
        return shapely.union_all(np.r_[county, spilled])

    @staticmethod
    def _covering_one(
        geoms: npt.NDArray[np.object_], bounds: FloatArray, x: float, y: float
    ) -> list[int]:
        """Return the positions of the (prepared) polygons covering one point."""
        near = np.flatnonzero(
            (bounds[:, 0] <= x) & (x <= bounds[:, 2]) & (bounds[:, 1] <= y) & (y <= bounds[:, 3])
        )
        return [int(k) for k in near if shapely.intersects_xy(geoms[k], x, y)]

    def _candidates(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, IntArray]:
        """Return (point, county number) for every county footprint covering a point."""
        point, county = self._footprint_tree.query(shapely.points(x, y))
        keep = np.zeros(len(point), dtype=bool)
        for c in np.unique(county):
            sel = np.flatnonzero(county == c)
            keep[sel] = shapely.intersects_xy(self._footprints[c], x[point[sel]], y[point[sel]])
        order = np.lexsort((county[keep], point[keep]))
        return point[keep][order].astype(np.int64), county[keep][order].astype(np.int64)

    def _rows_of(self, part: GridIndex) -> IntArray:
        """Return the row in the whole frame of each row of a county's index."""
        with self._lock:
            rows = self._part_rows.get(part)
            if rows is None:
                rows = self._row_of.get_indexer(pd.Index(part.codes, dtype=object))
                if (rows < 0).any():
                    raise ValueError("a county's index holds grids that these grids do not")
                rows = rows.astype(np.int64)
                self._part_rows[part] = rows
            return rows

    def _merge(
        self,
        owner: npt.NDArray[np.int32],
        at: IntArray,
        rows: IntArray,
        found: npt.NDArray[np.int32],
    ) -> None:
        """Keep, per point ``at`` and level, the owner whose code sorts first."""
        theirs = np.where(found >= 0, np.append(rows, -1)[found], -1)
        better = self._rank[theirs] < self._rank[owner[at]]
        owner[at] = np.where(better, theirs, owner[at])

    def _nearest(self, k: int, x: FloatArray, y: FloatArray) -> tuple[IntArray, FloatArray]:
        """Return the row and distance (m) of the nearest grid of level ``k`` over the
        whole grids, per point: the parts whose hull is near enough, nearest first."""
        level = TERRITORIAL_LEVELS[k]
        px, py = self.projection.lonlat_to_xy(x, y)
        metric = shapely.points(px, py)
        sources: list[tuple[float, str | None, FloatArray]] = []
        for source in (None, *self.counties):
            hull = self._hull(source, k)
            if hull is not None:
                bound = shapely.distance(hull, metric) * (1 - 1e-9) - _SLACK_M
                sources.append((float(bound.min()), source, bound))
        best_row = np.full(len(x), -1, dtype=np.int64)
        best_m = np.full(len(x), np.inf)
        for _, source, bound in sorted(sources, key=lambda s: s[0]):
            ask = np.flatnonzero(bound <= best_m)
            if not ask.size:
                continue
            if source is None:
                assert self._rest is not None  # a hull of its grids exists
                part, rows = self._rest, self._rest_rows
            else:
                part = self._load(source)
                rows = self._rows_of(part)
            local, dist = part.nearest(level, x[ask], y[ask])
            theirs = rows[local]
            better = (dist < best_m[ask]) | (
                (dist == best_m[ask]) & (self._rank[theirs] < self._rank[best_row[ask]])
            )
            best_row[ask[better]], best_m[ask[better]] = theirs[better], dist[better]
        return best_row, best_m

    def _hull(self, source: str | None, k: int) -> shapely.Geometry | None:
        """The convex hull, in the metric projection, of the grids of level ``k`` of a
        county's tree (``source``) or of the rest (None); None when it has none."""
        with self._lock:
            if (source, k) in self._hulls:
                return self._hulls[source, k]
        rows = self._rest_rows if source is None else self._trees[source]
        rows = rows[self.levels[rows] == TERRITORIAL_LEVELS[k]]
        hull = None
        if len(rows):
            geoms = np.asarray(self._grids.geometry.array, dtype=object)[rows]
            projected = self.projection.geometries_to_xy(geoms)
            hull = shapely.convex_hull(shapely.geometrycollections(list(projected)))
        with self._lock:
            self._hulls[source, k] = hull
        return hull
