"""Exact nested tilings: county > towns > villages > micro-grids.

The construction, all in metres:

1. draw the county outline and cut it into Voronoi cells around town seeds; cut
   each town into village cells, each village into micro-grid cells;
2. node the borders of all micro cells together (snap rounding on a 1 mm grid), so
   that every junction of any level is a vertex of every border through it;
3. densify every noded border once and polygonize: the faces share vertices exactly;
4. move every vertex through one :class:`~_warp.Warp` and merge faces upwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely import Polygon

from geodata._warp import Warp

__all__ = [
    "allocate",
    "county_outline",
    "merge_by_label",
    "seeds_in_polygon",
    "tile_from_cells",
    "voronoi_cells",
]

SNAP_GRID_M = 0.001


def county_outline(
    centre: tuple[float, float], half_axes: tuple[float, float], area_m2: float, rng
) -> Polygon:
    """Draw a smooth irregular county outline of a given area.

    Parameters
    ----------
    centre
        Centre in metres.
    half_axes
        Half width and half height of the underlying ellipse, in metres.
    area_m2
        Area of the result.
    rng
        ``numpy.random.Generator``.

    Returns
    -------
    shapely.Polygon
        A star-shaped polygon with 720 vertices.
    """
    theta = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 16):
        radius += rng.uniform(0.03, 0.08) / k**0.7 * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    xy = np.column_stack(
        [half_axes[0] * radius * np.cos(theta), half_axes[1] * radius * np.sin(theta)]
    )
    scale = np.sqrt(area_m2 / Polygon(xy).area)
    return Polygon(xy * scale + np.asarray(centre))


def seeds_in_polygon(
    poly: shapely.Geometry,
    n: int,
    rng: np.random.Generator,
    density: Callable[[np.ndarray], np.ndarray] | None = None,
    iterations: int = 4,
) -> np.ndarray:
    """Place ``n`` well-spread seed points in a polygon (k-means on random samples).

    Parameters
    ----------
    poly
        Polygon or MultiPolygon, in metres.
    n
        Number of seeds.
    rng
        Source of randomness.
    density
        Optional relative density of seeds at given ``(m, 2)`` points; denser areas
        get smaller cells.
    iterations
        Lloyd iterations on the samples.

    Returns
    -------
    numpy.ndarray
        Array of shape ``(n, 2)``.
    """
    samples = _sample_in_polygon(poly, max(60 * n, 600), rng, density)
    seeds = samples[rng.choice(len(samples), n, replace=False)]
    for _ in range(iterations):
        _, owner = cKDTree(seeds).query(samples)
        counts = np.bincount(owner, minlength=n)
        sums = np.column_stack([np.bincount(owner, samples[:, i], minlength=n) for i in range(2)])
        moved = counts > 0
        seeds[moved] = sums[moved] / counts[moved, None]
    return seeds


def _sample_in_polygon(poly, m, rng, density) -> np.ndarray:
    """Draw ``m`` random points inside ``poly``, thinned by ``density``."""
    xmin, ymin, xmax, ymax = poly.bounds
    shapely.prepare(poly)
    chunks: list[np.ndarray] = []
    got = 0
    while got < m:
        pts = rng.uniform((xmin, ymin), (xmax, ymax), (4 * m, 2))
        pts = pts[shapely.contains_xy(poly, pts[:, 0], pts[:, 1])]
        if density is not None and len(pts):
            w = density(pts)
            pts = pts[rng.uniform(0, w.max(), len(w)) < w]
        chunks.append(pts)
        got += len(pts)
    return np.concatenate(chunks)[:m]


def voronoi_cells(poly: shapely.Geometry, seeds: np.ndarray) -> list[shapely.Geometry]:
    """Cut ``poly`` into the Voronoi cells of ``seeds``, in seed order."""
    if len(seeds) == 1:
        return [poly]
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=poly, ordered=True)
    return list(shapely.intersection(shapely.get_parts(cells), poly))


def merge_by_label(parts: np.ndarray, labels: Sequence[int], n_groups: int) -> np.ndarray:
    """Union an exact coverage ``parts`` by label into ``n_groups`` MultiPolygons."""
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_groups + 1))
    out = np.empty(n_groups, dtype=object)
    for g in range(n_groups):
        members = parts[order[bounds[g] : bounds[g + 1]]]
        if len(members) == 1:
            merged = members[0]
        else:
            try:
                merged = shapely.coverage_union_all(members)
            except shapely.errors.GEOSException:  # a warped edge left a sliver off the nodes
                merged = shapely.union_all(members)
        out[g] = _as_multi(merged)
    return out


def tile_from_cells(
    cells: Sequence[shapely.Geometry],
    spacing_for: Callable[[np.ndarray], np.ndarray],
    warp: Warp,
) -> np.ndarray:
    """Turn straight micro cells into exactly-tiling, densified, warped micro-grids.

    Parameters
    ----------
    cells
        Straight micro cells that tile the county (they need not share vertices).
    spacing_for
        Maps border pieces (array of LineStrings) to their vertex spacing in metres.
    warp
        The displacement applied to every vertex.

    Returns
    -------
    numpy.ndarray
        One MultiPolygon per input cell, in metres.
    """
    cells = np.asarray(cells, dtype=object)
    noded = shapely.unary_union(shapely.boundary(cells), grid_size=SNAP_GRID_M)
    pieces = shapely.get_parts(noded)
    pieces = shapely.segmentize(pieces, spacing_for(pieces))
    faces = shapely.get_parts(shapely.polygonize(pieces))
    owner = _owner_of_faces(faces, cells)
    faces = warp.apply_to_geometries(faces)
    return merge_by_label(faces, owner, len(cells))


def _owner_of_faces(faces: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Index of the cell holding each face (by the face's interior point)."""
    points = shapely.point_on_surface(faces)
    tree = shapely.STRtree(cells)
    face_idx, cell_idx = tree.query(points, predicate="intersects")
    owner = np.full(len(faces), -1)
    owner[face_idx[::-1]] = cell_idx[::-1]  # first hit wins
    missing = np.flatnonzero(owner < 0)
    if len(missing):
        owner[missing] = tree.nearest(points[missing])
    empty = np.setdiff1d(np.arange(len(cells)), owner)
    if len(empty):
        raise RuntimeError(f"{len(empty)} cells lost all their faces while noding")
    return owner


def _as_multi(geom: shapely.Geometry) -> shapely.Geometry:
    """Return ``geom`` as a MultiPolygon."""
    if geom.geom_type == "MultiPolygon":
        return geom
    return shapely.multipolygons([geom])


def allocate(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Share an integer total by weights (largest remainder), each at least ``minimum``.

    Examples
    --------
    >>> allocate(10, np.array([1.0, 1.0, 2.0])).tolist()
    [3, 2, 5]
    """
    weights = np.asarray(weights, dtype=float)
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError("total is smaller than the minimum share")
    exact = rest * weights / weights.sum()
    out = np.floor(exact).astype(int)
    short = rest - out.sum()
    order = np.argsort(-(exact - out), kind="stable")
    out[order[:short]] += 1
    return out + minimum
