"""The road classes geogrid knows and the speed each is driven at when a road gives none.

One table for the whole package: ``geogrid load`` fills a road's missing ``speed_kmh``
from it, and networks built in memory (:mod:`geogrid.spatial.roads`) use it for roads
without a speed. Plain data, so the CLI can name the classes without loading any
spatial library.
"""

from __future__ import annotations

__all__ = ["DEFAULT_SPEED_KMH", "ROAD_CLASSES"]

ROAD_CLASSES = ("trunk", "primary", "secondary", "tertiary", "residential", "service", "path")
"""Road classes geogrid knows, from the fastest to the slowest (``path``: footways, steps,
pedestrian streets: closed to cars unless a ``car`` column says otherwise)."""

DEFAULT_SPEED_KMH: dict[str, float] = {
    "trunk": 60.0,
    "primary": 50.0,
    "secondary": 40.0,
    "tertiary": 30.0,
    "residential": 20.0,
    "service": 15.0,
    "path": 5.0,
}
"""Speed used when a road has no ``speed_kmh``: typical speeds on county roads."""
