"""The public layers as vector tiles (OGC API – Tiles, WebMercatorQuad, Mapbox Vector Tiles).

A tile carries the same features as the feature pages under the same rules: the layer's
public properties only (:data:`~geogrid.workspace.features.FEATURE_LAYERS` holds no
personal data), and for a grid worker only the grids of their chain and subtree. Each
tile holds one layer named after its collection; the feature's ``code`` is a property.

Tiles are addressed ``z/x/y`` with ``x`` the column from the west and ``y`` the row from
the north, zoom 0 to :data:`MAX_ZOOM`. Each process keeps the tiles last served
(``tile_cache_mb`` per layer) until the layer's data version changes, so an edit shows
within ``cache_check_interval_s``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING

from geogrid.db.queries import tiles as q
from geogrid.errors import InvalidRequestError, NotFoundError
from geogrid.workspace.features import feature_layer

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = [
    "MAX_ZOOM",
    "TILE_EXTENT",
    "TILE_MATRIX_SET",
    "TileCache",
    "check_tile",
    "read_tile",
    "tile_bounds",
]

TILE_MATRIX_SET = "WebMercatorQuad"
"""The one tile matrix set served (OGC 2D TMS ``WebMercatorQuad``, EPSG:3857)."""
MAX_ZOOM = 22
"""The deepest zoom level (tile matrix) served; 0 is the whole world in one tile."""
TILE_EXTENT = q.TILE_EXTENT


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse a tile that does not exist in WebMercatorQuad.

    Raises
    ------
    InvalidRequestError
        If ``z`` is outside 0..MAX_ZOOM.
    NotFoundError
        If ``x`` or ``y`` is outside 0..2**z - 1: the tile is outside the tile matrix
        (OGC API - Tiles answers 404 for it).

    Examples
    --------
    >>> check_tile(0, 0, 0)
    >>> check_tile(1, 2, 0)
    Traceback (most recent call last):
    ...
    geogrid.errors.NotFoundError: tile 1/2/0 does not exist: at zoom 1, x and y go from 0 to 1
    """
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidRequestError(
            f"zoom {z} is outside 0..{MAX_ZOOM}", details={"z": z, "max_zoom": MAX_ZOOM}
        )
    last = 2**z - 1
    if not (0 <= x <= last and 0 <= y <= last):
        raise NotFoundError(
            f"tile {z}/{x}/{y} does not exist: at zoom {z}, x and y go from 0 to {last}",
            details={"z": z, "x": x, "y": y, "max": last},
        )


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Return the WGS 84 bounds (west, south, east, north) of tile ``z/x/y``.

    Examples
    --------
    >>> [round(v, 4) for v in tile_bounds(1, 1, 0)]
    [0.0, 0.0, 180.0, 85.0511]
    """
    n = 2.0**z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y))


def read_tile(
    workspace: Workspace, name: str, z: int, x: int, y: int, *, subtree: str | None = None
) -> bytes:
    """Return tile ``z/x/y`` of public layer ``name`` as MVT bytes (empty: no features).

    Parameters
    ----------
    workspace
        Where the layers are.
    name
        The collection id (a key of :data:`~geogrid.workspace.features.FEATURE_LAYERS`).
    z, x, y
        The tile.
    subtree
        A grid worker's jurisdiction: grids outside its chain and subtree are left out.

    Raises
    ------
    NotFoundError
        If there is no such collection.
    InvalidRequestError, NotFoundError
        If the tile does not exist (:func:`check_tile`).
    """
    layer = feature_layer(name)
    check_tile(z, x, y)
    limit = int(workspace.settings.tile_cache_mb * 2**20)
    if limit <= 0:
        with workspace.engine.connect() as conn:
            return q.read_tile(conn, layer.name, layer.properties, z, x, y, subtree=subtree)
    # one cache per layer, dropped whole when the layer's data version changes
    cache = workspace.cached(f"tiles:{layer.name}", (layer.name,), lambda: TileCache(limit))
    key = (subtree, z, x, y)
    data = cache.get(key)
    if data is None:
        with workspace.engine.connect() as conn:
            data = q.read_tile(conn, layer.name, layer.properties, z, x, y, subtree=subtree)
        cache.put(key, data)
    return data


class TileCache:
    """The tiles of one layer last asked for, up to ``max_bytes`` (least recently used go).

    Thread-safe.

    Examples
    --------
    >>> cache = TileCache(10)
    >>> cache.put("a", b"123456"); cache.put("b", b"7890"); cache.get("a")
    b'123456'
    >>> cache.put("c", b"xyz"); cache.get("b") is None, cache.get("a")
    (True, b'123456')
    """

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._tiles: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        """Return the tile stored under ``key`` (None: not there)."""
        with self._lock:
            data = self._tiles.get(key)
            if data is not None:
                self._tiles.move_to_end(key)
            return data

    def put(self, key: Hashable, data: bytes) -> None:
        """Store a tile, dropping the least recently used ones beyond the size limit."""
        if len(data) > self._max:
            return
        with self._lock:
            old = self._tiles.pop(key, None)
            self._bytes -= len(old) if old is not None else 0
            self._tiles[key] = data
            self._bytes += len(data)
            while self._bytes > self._max:
                _, dropped = self._tiles.popitem(last=False)
                self._bytes -= len(dropped)
