"""The offline base of a map's extent, read from PostGIS: roads, water, house numbers.

Every map geogrid draws for the web, a notebook or paper puts :func:`street_layer_for` under
its layers when no online base map is chosen: the roads and water clipped to the extent in
the database, and the house numbers when the extent holds few enough addresses.

Examples
--------
>>> from geogrid.workspace import Workspace                        # doctest: +SKIP
>>> ws = Workspace.open()                                          # doctest: +SKIP
>>> base = street_layer_for(ws, (120.58, 27.55, 120.62, 27.58))     # doctest: +SKIP
>>> html = maps.map_to_html(maps.new_map(base, ...))               # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from geogrid.db.errors import database_errors
from geogrid.db.queries.basemap import read_base_addresses, read_base_roads, read_base_water
from geogrid.errors import InvalidRequestError
from geogrid.maps.streets import street_layer

if TYPE_CHECKING:
    from geogrid.maps import GeoLayer
    from geogrid.workspace import Workspace

__all__ = [
    "MAX_HOUSE_NUMBERS",
    "MINOR_STREETS_KM",
    "StreetFrames",
    "padded_bounds",
    "street_frames",
    "street_layer_for",
]

MAX_HOUSE_NUMBERS = 20_000
"""An extent with more addresses than this gets no house numbers (the page would be
several MB); zoom in on a smaller grid to see them."""

MINOR_STREETS_KM = 20.0
"""An extent wider or taller than this (a county) draws tertiary roads and above only:
its streets would be a grey mesh and a page of several MB."""

_MINOR = ("residential", "service", "path", "footway", "cycleway", "track", "pedestrian")

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class StreetFrames:
    """What the offline base of one extent draws (EPSG:4326, clipped to the extent).

    Attributes
    ----------
    roads
        ``name``, ``road_class``, ``bridge``, one LineString per part.
    water
        ``name`` and (Multi)Polygon.
    addresses
        ``road``, ``number`` and the point; empty when the extent held more than the limit.
    """

    roads: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    addresses: gpd.GeoDataFrame


def padded_bounds(bounds: Box, share: float = 0.08) -> Box:
    """Return ``bounds`` grown by ``share`` of their larger side on every side.

    Examples
    --------
    >>> padded_bounds((0.0, 0.0, 1.0, 0.5), 0.1)
    (-0.1, -0.1, 1.1, 0.6)
    """
    west, south, east, north = bounds
    pad = max(east - west, north - south) * share
    return (west - pad, south - pad, east + pad, north + pad)


def _checked(bounds: Box) -> Box:
    values = tuple(float(v) for v in bounds)
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidRequestError("a map extent is four finite numbers", details={"bounds": bounds})
    west, south, east, north = values
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InvalidRequestError(
            "a map extent is west < east and south < north in degrees",
            details={"bounds": list(values)},
        )
    return values  # type: ignore[return-value]


def street_frames(
    workspace: Workspace, bounds: Box, *, max_addresses: int = MAX_HOUSE_NUMBERS
) -> StreetFrames:
    """Read the roads, water and house numbers of an extent, clipped to it.

    Parameters
    ----------
    workspace
        The data.
    bounds
        ``(west, south, east, north)`` in WGS 84 degrees.
    max_addresses
        Beyond this many addresses in the extent, none is returned.

    An extent more than :data:`MINOR_STREETS_KM` across gets no minor streets and no
    house numbers.

    Raises
    ------
    InvalidRequestError
        For an extent that is not a box in degrees.
    """
    box = _checked(bounds)
    with database_errors(), workspace.read_engine.connect() as conn:  # a replica will do
        roads = read_base_roads(conn, box).rename_geometry("geometry")
        water = read_base_water(conn, box).rename_geometry("geometry")
        addresses = read_base_addresses(conn, box, max_addresses).rename_geometry("geometry")
    if len(addresses) > max_addresses:
        addresses = addresses.iloc[:0]
    west, south, east, north = box
    across_km = max((east - west) * math.cos(math.radians((south + north) / 2)), north - south)
    if across_km * 111.2 > MINOR_STREETS_KM:
        roads = roads.loc[~roads["road_class"].str.lower().isin(_MINOR)]
        addresses = addresses.iloc[:0]
    return StreetFrames(roads=roads, water=water, addresses=addresses)


def street_layer_for(workspace: Workspace, bounds: Box, **options: Any) -> GeoLayer:
    """Return the offline base layer of an extent (see :func:`geogrid.maps.street_layer`).

    Parameters
    ----------
    workspace
        The data.
    bounds
        ``(west, south, east, north)`` in WGS 84: the map's extent (pad it with
        :func:`padded_bounds` to fill the frame around a grid).
    **options
        Passed to :func:`geogrid.maps.street_layer` (``label_px``, ``number_zoom``, ...);
        ``max_addresses`` to :func:`street_frames`.
    """
    limit = options.pop("max_addresses", MAX_HOUSE_NUMBERS)
    frames = street_frames(workspace, bounds, max_addresses=limit)
    return street_layer(frames.roads, frames.water, frames.addresses, **options)
