"""Coordinate arrays in and out: broadcasting, copies, and floats for scalar input."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import shapely

Coord = TypeVar("Coord", float, npt.NDArray[Any])
Geoms = TypeVar("Geoms", shapely.Geometry, npt.NDArray[np.object_], None)

FloatArray = npt.NDArray[np.float64]
Pair = tuple[FloatArray, FloatArray]


def as_float_arrays(lon: Any, lat: Any) -> Pair:
    """Return broadcast float64 copies of two coordinate inputs."""
    lon_arr, lat_arr = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return lon_arr.copy(), lat_arr.copy()


def like_input(lon: FloatArray, lat: FloatArray) -> tuple[Any, Any]:
    """Return Python floats for 0-d results and the arrays otherwise."""
    if np.ndim(lon) == 0:
        return float(lon), float(lat)
    return lon, lat
