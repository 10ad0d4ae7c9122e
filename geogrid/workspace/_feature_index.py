"""A layer held in memory to answer feature pages: its features' GeoJSON and an STRtree.

:class:`FeatureIndex` holds every feature of one layer in code order ("C" collation: the
order of the UTF-8 bytes, which is the order of Python's code points), each written
once as the GeoJSON text PostgreSQL writes for the pages
(:func:`geogrid.db.queries.features.read_layer_geojson`), and a tree of the geometries.
A page is the features intersecting an area (the tree's exact ``intersects``, as
``ST_Intersects``), restricted to a grid worker's jurisdiction, in code order, sliced.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import shapely

__all__ = ["FeatureIndex", "in_jurisdiction"]

_MAX_SUBTREES = 1024
"""Jurisdiction masks kept per index (one per grid worker's grid asking)."""


def in_jurisdiction(code: str, subtree: str) -> bool:
    """Return whether ``code`` is in the chain or subtree of grid ``subtree``: the grid
    itself, its descendants and its ancestors (the SQL condition
    :func:`geogrid.db.queries.features.jurisdiction_condition`).

    Examples
    --------
    >>> [in_jurisdiction(c, "330326-101") for c in ("330326", "330326-101-002", "330326-10")]
    [True, True, False]
    """
    return code == subtree or code.startswith(subtree + "-") or subtree.startswith(code + "-")


class FeatureIndex:
    """Every feature of one layer, in code order, with a tree of their geometries.

    Parameters
    ----------
    codes
        The features' codes, in code order.
    wkb
        Their geometries (WKB, WGS 84); empty bytes for none.
    features
        Each feature as GeoJSON text (UTF-8).
    jurisdiction
        Whether a grid worker's ``subtree`` restricts this layer (the grids).
    """

    def __init__(
        self,
        codes: Sequence[str],
        wkb: Sequence[bytes],
        features: Sequence[bytes],
        *,
        jurisdiction: bool,
    ) -> None:
        self.codes = list(codes)
        self.features = list(features)
        geometries = shapely.from_wkb(np.array([w or None for w in wkb], dtype=object))
        self.tree = shapely.STRtree(geometries)
        self.jurisdiction = jurisdiction
        self.nbytes = sum(len(f) for f in self.features)
        self._masks: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.codes)

    def _mask(self, subtree: str) -> np.ndarray:
        mask = self._masks.get(subtree)
        if mask is None:
            mask = np.fromiter(
                (in_jurisdiction(c, subtree) for c in self.codes), dtype=bool, count=len(self)
            )
            with self._lock:
                if len(self._masks) >= _MAX_SUBTREES:
                    self._masks.clear()
                self._masks[subtree] = mask
        return mask

    def select(self, area: shapely.Geometry | None, subtree: str | None = None) -> np.ndarray:
        """Return the positions (in code order) of the features intersecting ``area``
        (every feature when None) and, when it applies, in the jurisdiction ``subtree``."""
        if area is None:
            chosen = np.arange(len(self))
        else:
            chosen = np.sort(self.tree.query(area, predicate="intersects"))
        if subtree is not None and self.jurisdiction:
            chosen = chosen[self._mask(subtree)[chosen]]
        return chosen

    def page(
        self,
        area: shapely.Geometry | None,
        *,
        subtree: str | None = None,
        limit: int,
        offset: int = 0,
    ) -> tuple[int, int, bytes]:
        """Return the features matched, the features returned and the page's features
        (GeoJSON texts joined by commas) of :meth:`select`'s features."""
        chosen = self.select(area, subtree)
        shown = chosen[offset : offset + limit]
        features = self.features
        return len(chosen), len(shown), b",".join([features[i] for i in shown])
