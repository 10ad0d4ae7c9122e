"""The default tolerances of the grid topology check (:mod:`geogrid.spatial.gridcheck`).

A module of plain numbers that imports nothing, so ``geogrid grids check --help`` can show
them without loading geopandas and shapely.
"""

from __future__ import annotations

__all__ = ["DEFAULT_SLIVER_M2", "DEFAULT_SLIVER_WIDTH_M", "DEFAULT_TOLERANCE_M2"]

DEFAULT_TOLERANCE_M2 = 1.0
"""Gaps, overlaps and outside parts smaller than this (m²) are rounding noise."""

DEFAULT_SLIVER_M2 = 100.0
"""A problem area smaller than this (m²) is a sliver."""

DEFAULT_SLIVER_WIDTH_M = 1.0
"""A problem area thinner than this (mean width ``2 * area / perimeter``, m) is a sliver."""
