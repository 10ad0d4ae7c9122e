"""The workspace's address matcher, built again only as far as the data changed.

The gazetteer index (:class:`~geogrid.spatial.addresses.AddressMatcher`) is built from the
addresses and the town and village grids; the operators' corrections are aliases laid
over it. A grid edit that moves a micro-grid changes the grids but nothing the index
reads, so the index is kept while the addresses frame is the same object and the towns
and villages have the same digest; only the aliases are laid again.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import shapely

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geogrid.spatial.addresses import AddressMatcher

__all__ = ["MatcherBuilder"]


class MatcherBuilder:
    """Builds matchers, keeping the last gazetteer index while its inputs hold."""

    def __init__(self) -> None:
        self._last: tuple[gpd.GeoDataFrame, str, AddressMatcher] | None = None

    def build(
        self, gazetteer: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, corrections: pd.DataFrame
    ) -> AddressMatcher:
        """Return the matcher of ``gazetteer`` and ``grids`` with ``corrections`` as aliases."""
        from geogrid.spatial.addresses import AddressMatcher
        from geogrid.spatial.addresses.aliases import build_aliases

        fingerprint = _fingerprint(grids.loc[grids["level"].isin(("town", "village"))])
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


def _fingerprint(frame: gpd.GeoDataFrame) -> str:
    """Return a digest of a frame's rows: names and geometry (WKB)."""
    digest = hashlib.blake2b(digest_size=16)
    for column in frame.columns.drop(frame.geometry.name):
        digest.update(repr(frame[column].tolist()).encode())
    for wkb in shapely.to_wkb(frame.geometry.to_numpy()):
        digest.update(wkb)
    return digest.hexdigest()
