"""The workspace's address matcher, built again only as far as the data changed.

The gazetteer index (:class:`~geogrid.spatial.addresses.AddressMatcher`) is built from the
addresses and the town and village grids; the operators' corrections are aliases laid
over it. A grid edit that moves a micro-grid changes the grids but nothing the index
reads, so the index is kept while the addresses frame is the same object and the
counties, towns and villages are the same (same rows, same coordinates); only the
aliases are laid again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geogrid.spatial.addresses import AddressMatcher

__all__ = ["MatcherBuilder"]

PLACE_COLUMNS = ("code", "name", "level", "parent_code")
"""What :meth:`AddressMatcher.from_grids` reads of a grid, besides its geometry."""


class MatcherBuilder:
    """Builds matchers, keeping the last gazetteer index while its inputs hold."""

    def __init__(self) -> None:
        self._last: tuple[gpd.GeoDataFrame, _Rows, AddressMatcher] | None = None

    def build(
        self, gazetteer: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, corrections: pd.DataFrame
    ) -> AddressMatcher:
        """Return the matcher of ``gazetteer`` and ``grids`` with ``corrections`` as aliases."""
        from geogrid.spatial.addresses import AddressMatcher
        from geogrid.spatial.addresses.aliases import build_aliases

        fingerprint = _Rows(grids.loc[grids["level"].isin(("county", "town", "village"))])
        matcher = None
        if self._last is not None:
            built_from, built_fingerprint, matcher = self._last
            if built_from is not gazetteer or built_fingerprint != fingerprint:
                matcher = None
        if matcher is None:
            matcher = AddressMatcher.from_grids(gazetteer, grids)
            self._last = (gazetteer, fingerprint, matcher)
        if corrections.empty:
            return matcher
        return matcher.with_aliases(build_aliases(corrections, grids, gazetteer))


class _Rows:
    """Grid rows as the gazetteer index reads them: equal when the code, name, level and
    parent of every row are the same and every geometry has the same coordinates (a
    moved micro-grid leaves the counties, towns and villages equal; their geometries
    are mostly the very same objects)."""

    def __init__(self, frame: gpd.GeoDataFrame) -> None:
        self._columns = [
            [v if isinstance(v, str) else None for v in frame[c].tolist()]  # NaN: None
            for c in PLACE_COLUMNS
        ]
        self._geoms = np.asarray(frame.geometry.array, dtype=object)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, _Rows):
            return NotImplemented
        if self._columns != other._columns or len(self._geoms) != len(other._geoms):
            return False
        same = np.array([a is b for a, b in zip(self._geoms, other._geoms, strict=True)])
        if same.all():  # the same objects: equal at once
            return True
        return bool(shapely.equals_identical(self._geoms[~same], other._geoms[~same]).all())

    __hash__ = None  # type: ignore[assignment]
