"""Checkpoint coverage: which roads enter an area, which are guarded, what nobody reaches,
and where the fewest new checkpoints close the gaps.

Pure functions on GeoDataFrames and arrays (EPSG:4326 in and out; metric work in the road
network's local projection). The workspace calls :func:`analyse_coverage` with a cached
:class:`~geogrid.spatial.roads.network.RoadNetwork`, then :func:`plan_checkpoints`.

Modules, one step each:

- :mod:`.entries` — road crossings into grids, one per crossing, with direction;
- :mod:`.guard` — an active checkpoint within a walking distance of each crossing;
- :mod:`.reach` — addresses and land beyond a walking distance, H3 summaries;
- :mod:`.covering` — candidate sites and what each guards;
- :mod:`.solvers` — exact set and maximal covering (HiGHS);
- :mod:`.table` — the per-grid table for many grids at once;
- :mod:`.analysis`, :mod:`.planning` — the two calls the workspace makes.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import LineString, Point, box
>>> grid = gpd.GeoDataFrame({"code": ["G"], "name": ["Village"]}, crs=4326,
...     geometry=[box(120.0, 28.0, 120.01, 28.01)])
>>> roads = gpd.GeoDataFrame({"code": ["R1", "R2"], "road_class": ["primary", "service"]},
...     crs=4326, geometry=[LineString([(119.99, 28.005), (120.02, 28.005)]),
...                         LineString([(120.005, 27.99), (120.005, 28.003)])])
>>> checkpoints = gpd.GeoDataFrame({"code": ["C1"], "status": ["active"]}, crs=4326,
...     geometry=[Point(120.0003, 28.005)])
>>> addresses = gpd.GeoDataFrame({"code": ["A1"]}, crs=4326,
...     geometry=[Point(120.009, 28.0052)])
>>> result = analyse_coverage(grid, roads, checkpoints, addresses)
>>> result.entries[["road_code", "guarded"]].values.tolist()
[['R1', True], ['R1', False], ['R2', False]]
>>> plan = plan_checkpoints(result)
>>> len(plan.sites), plan.after["guarded_share"]
(2, 1.0)
"""

from geogrid.spatial.coverage.analysis import CoverageResult, analyse_coverage
from geogrid.spatial.coverage.covering import (
    CoveringProblem,
    coverage_from_cost_matrix,
    covering_from_network,
)
from geogrid.spatial.coverage.entries import Entries, find_entries
from geogrid.spatial.coverage.planning import ROAD_CLASS_WEIGHTS, CoveragePlan, plan_checkpoints
from geogrid.spatial.coverage.solvers import CoveringSolution, solve_lscp, solve_mclp
from geogrid.spatial.coverage.table import coverage_table, grid_entries

__all__ = [
    "ROAD_CLASS_WEIGHTS",
    "CoveragePlan",
    "CoverageResult",
    "CoveringProblem",
    "CoveringSolution",
    "Entries",
    "analyse_coverage",
    "coverage_from_cost_matrix",
    "coverage_table",
    "covering_from_network",
    "find_entries",
    "grid_entries",
    "plan_checkpoints",
    "solve_lscp",
    "solve_mclp",
]
