"""Synthetic noded road networks for tests and benchmarks.

A jittered square lattice of junctions joined by streets (some bent, some missing, some
one-way, a few doubled by a longer parallel street, one diagonal in some blocks). The
frame also records which lattice junction each street starts and ends at, so a test can
check a topology against the truth.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from geogrid.spatial._projection import LocalProjection
from geogrid.spatial.roads.topology import ROAD_CLASSES

__all__ = ["grid_roads"]


def grid_roads(
    n_cols: int = 20,
    n_rows: int = 20,
    *,
    spacing_m: float = 200.0,
    centre: tuple[float, float] = (120.65, 28.15),
    drop: float = 0.1,
    oneway: float = 0.2,
    bend: float = 0.3,
    parallel: float = 0.02,
    diagonal: float = 0.1,
    null_speed: float = 0.2,
    endpoint_jitter_m: float = 0.0,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Return a random street lattice as a roads frame in EPSG:4326.

    Parameters
    ----------
    n_cols, n_rows
        Junctions per row and per column.
    spacing_m
        Distance between neighbouring junctions before jitter.
    centre
        Lon, lat of the lattice's middle.
    drop, oneway, bend, parallel, diagonal, null_speed
        Shares of streets left out, made one-way, given a bend, doubled by a bent
        parallel street, of blocks with a diagonal street, and of streets without a
        ``speed_kmh``.
    endpoint_jitter_m
        Move each street end up to this far from its junction (imperfect noding).
    seed
        Random seed; the same arguments give the same frame.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code``, ``name``, ``road_class``, ``speed_kmh``, ``oneway``,
        ``bridge``, ``grid_source``, ``grid_target`` (lattice junction numbers) and
        ``geometry``.

    Examples
    --------
    >>> roads = grid_roads(3, 3, drop=0, diagonal=0, parallel=0, seed=1)
    >>> len(roads), roads.crs.to_epsg()
    (12, 4326)
    """
    rng = np.random.default_rng(seed)
    jx = rng.uniform(-0.2, 0.2, (n_rows, n_cols)) * spacing_m
    jy = rng.uniform(-0.2, 0.2, (n_rows, n_cols)) * spacing_m
    col, row = np.meshgrid(np.arange(n_cols), np.arange(n_rows))
    x = (col - (n_cols - 1) / 2) * spacing_m + jx
    y = (row - (n_rows - 1) / 2) * spacing_m + jy
    node = row * n_cols + col
    pairs = [
        np.column_stack([node[:, :-1].ravel(), node[:, 1:].ravel()]),
        np.column_stack([node[:-1, :].ravel(), node[1:, :].ravel()]),
    ]
    blocks = np.column_stack([node[:-1, :-1].ravel(), node[1:, 1:].ravel()])
    other = np.column_stack([node[:-1, 1:].ravel(), node[1:, :-1].ravel()])
    flip = rng.random(len(blocks)) < 0.5
    blocks[flip] = other[flip]
    pairs.append(blocks[rng.random(len(blocks)) < diagonal])
    ends = np.concatenate(pairs)
    ends = ends[rng.random(len(ends)) >= drop]
    twins = ends[rng.random(len(ends)) < parallel]
    ends = np.concatenate([ends, twins])
    n = len(ends)
    reverse = rng.random(n) < 0.5
    ends[reverse] = ends[reverse, ::-1]
    xs, ys = x.ravel(), y.ravel()
    a = np.column_stack([xs[ends[:, 0]], ys[ends[:, 0]]])
    b = np.column_stack([xs[ends[:, 1]], ys[ends[:, 1]]])
    if endpoint_jitter_m > 0:
        a = a + _offsets(rng, n, endpoint_jitter_m)
        b = b + _offsets(rng, n, endpoint_jitter_m)
    bent = rng.random(n) < bend
    bent[n - len(twins) :] = True  # a twin must differ from its street
    normal = np.column_stack([-(b - a)[:, 1], (b - a)[:, 0]])
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)[:, None]
    mid = (a + b) / 2 + normal * sign * rng.uniform(0.1, 0.3, (n, 1))
    mid[~bent] = ((a + b) / 2)[~bent]
    coords = np.stack([a, mid, b], axis=1)
    proj = LocalProjection(*centre)
    lon, lat = proj.xy_to_lonlat(coords[..., 0].ravel(), coords[..., 1].ravel())
    lines = shapely.linestrings(np.column_stack([lon, lat]).reshape(n, 3, 2))
    driving = [c for c in ROAD_CLASSES if c != "path"]
    classes = np.asarray(driving, dtype=object)[rng.integers(0, len(driving), n)]
    speed = rng.uniform(15.0, 80.0, n).round(1)
    speed_col: npt.NDArray[np.float64] = np.where(rng.random(n) < null_speed, np.nan, speed)
    return gpd.GeoDataFrame(
        {
            "code": [f"R{i:06d}" for i in range(n)],
            "name": [f"Road {i}" for i in range(n)],
            "road_class": classes,
            "speed_kmh": speed_col,
            "oneway": rng.random(n) < oneway,
            "bridge": np.zeros(n, bool),
            "grid_source": ends[:, 0],
            "grid_target": ends[:, 1],
        },
        geometry=lines,
        crs="EPSG:4326",
    )


def _offsets(rng: np.random.Generator, n: int, radius: float) -> npt.NDArray[np.float64]:
    angle = rng.uniform(0, 2 * np.pi, n)
    r = rng.uniform(0, radius, n)
    return np.column_stack([r * np.cos(angle), r * np.sin(angle)])
