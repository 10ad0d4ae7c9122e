"""Synthetic grid sets for tests and benchmarks: nested Voronoi tilings with wiggly borders.

The tilings are exact: neighbouring grids share their border vertex for vertex, and
every coarser grid is the union of its children, so a point on a border is covered by
every grid that touches it and by no other. Real grid data is less tidy (gaps,
overlaps); tests add those by hand.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
import shapely.affinity
from scipy.spatial import cKDTree

__all__ = ["voronoi_grids"]

FloatArray = npt.NDArray[np.float64]


def voronoi_grids(
    n_micro: int = 40,
    n_village: int = 12,
    n_town: int = 3,
    *,
    n_industry: int = 0,
    bounds: tuple[float, float, float, float] = (120.40, 27.50, 120.75, 27.78),
    vertices_per_micro: int = 40,
    wiggle: float = 1.0,
    county_code: str = "330326",
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Return a nested county › town › village › micro tiling of ``bounds`` (EPSG:4326).

    Micro-grids are the Voronoi cells of ``n_micro`` random seeds, with borders densified
    to about ``vertices_per_micro`` vertices per grid and displaced by a smooth,
    one-to-one field (``wiggle`` scales it; 0 keeps straight borders). Villages are
    unions of nearby micro-grids, towns unions of nearby villages, the county the
    union of all. ``n_industry`` elliptic industry grids overlay the tiling.

    Parameters
    ----------
    n_micro, n_village, n_town
        Number of grids at each level (``n_micro >= n_village >= n_town >= 1``).
    n_industry
        Number of industry grids (64-vertex ellipses, overlapping at random).
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` of the county rectangle.
    vertices_per_micro
        Target mean vertex count of a micro-grid border.
    wiggle
        Amplitude of the border displacement, relative to a safe maximum.
    county_code
        Code of the county; the other codes are built from it
        (``330326-101``, ``330326-101-003``, ``330326-101-003-02``, ``330326-I01``).
    seed
        Seed of the random generator; the same seed gives the same grids.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code``, ``name``, ``level``, ``parent_code``, ``geometry``.

    Examples
    --------
    >>> grids = voronoi_grids(8, 4, 2, n_industry=1, seed=1)
    >>> grids["level"].value_counts().to_dict()
    {'micro': 8, 'village': 4, 'town': 2, 'county': 1, 'industry': 1}
    >>> bool(grids.geometry.is_valid.all())
    True
    """
    if not n_micro >= n_village >= n_town >= 1:
        raise ValueError("need n_micro >= n_village >= n_town >= 1")
    rng = np.random.default_rng(seed)
    min_lon, min_lat, max_lon, max_lat = bounds
    # Work in a frame where one unit is the same ground distance along both axes.
    x_scale = np.cos(np.radians((min_lat + max_lat) / 2))
    width, height = (max_lon - min_lon) * x_scale, max_lat - min_lat
    seeds = rng.uniform((0, 0), (width, height), size=(n_micro, 2))
    micro = _tile(seeds, width, height, vertices_per_micro)
    cell_size = float(np.sqrt(width * height / n_micro))
    micro = _wiggle(micro, cell_size, wiggle, rng)
    micro = shapely.transform(micro, lambda xy: xy / (x_scale, 1.0) + (min_lon, min_lat))

    centres = shapely.get_coordinates(shapely.point_on_surface(micro))
    village_of = _group(centres, n_village, rng)
    village_centres = np.array([centres[village_of == v].mean(axis=0) for v in range(n_village)])
    town_of_village = _group(village_centres, n_town, rng)

    rows: list[tuple[str, str, str, str | None, shapely.Geometry]] = []
    rows.append((county_code, "County", "county", None, shapely.union_all(micro)))
    town_order = np.lexsort((village_centres[:, 0], -village_centres[:, 1]))
    town_rank = {t: i for i, t in enumerate(dict.fromkeys(town_of_village[town_order]))}
    for town, t_rank in sorted(town_rank.items(), key=lambda item: item[1]):
        town_code = f"{county_code}-{101 + t_rank:03d}"
        villages = [v for v in town_order if town_of_village[v] == town]
        town_geom = shapely.union_all(micro[np.isin(village_of, villages)])
        rows.append((town_code, f"Town {t_rank + 1}", "town", county_code, town_geom))
        for v_rank, village in enumerate(villages):
            village_code = f"{town_code}-{v_rank + 1:03d}"
            members = np.flatnonzero(village_of == village)
            members = members[np.lexsort((centres[members, 0], -centres[members, 1]))]
            geom = shapely.union_all(micro[members])
            rows.append((village_code, f"Village {village_code}", "village", town_code, geom))
            for m_rank, m in enumerate(members):
                code = f"{village_code}-{m_rank + 1:02d}"
                rows.append((code, f"Micro-grid {code}", "micro", village_code, micro[m]))
    for i in range(n_industry):
        lon, lat = rng.uniform((min_lon, min_lat), (max_lon, max_lat))
        radius = rng.uniform(0.3, 1.5) * cell_size
        disc = shapely.Point(lon, lat).buffer(1.0, quad_segs=16)
        geom = shapely.affinity.scale(disc, radius / x_scale, radius * rng.uniform(0.5, 1.0))
        code = f"{county_code}-I{i + 1:02d}"
        rows.append((code, f"Industry {i + 1}", "industry", None, geom))
    grids = gpd.GeoDataFrame(
        rows, columns=["code", "name", "level", "parent_code", "geometry"], crs="EPSG:4326"
    )
    levels = ["county", "town", "village", "micro", "industry"]
    grids["_order"] = grids["level"].map(levels.index)
    return grids.sort_values(["_order", "code"]).drop(columns="_order").reset_index(drop=True)


def _tile(seeds: FloatArray, width: float, height: float, vertices_per_cell: int) -> np.ndarray:
    """Return the Voronoi cells of ``seeds`` in the rectangle, borders densified."""
    frame = shapely.box(0, 0, width, height)
    edges = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, only_edges=True)
    lines = shapely.union_all([shapely.intersection(edges, frame), frame.boundary])
    total = float(shapely.length(lines)) * 2 - float(shapely.length(frame.boundary))
    step = total / (len(seeds) * max(vertices_per_cell, 4))
    lines = shapely.segmentize(lines, step)
    cells = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    if len(cells) != len(seeds):
        raise ValueError("seeds too close together to tile; use another seed")
    # Order cells like their seeds (each seed lies in its own cell).
    seed_index, cell_index = shapely.STRtree(cells).query(
        shapely.points(seeds), predicate="intersects"
    )
    order = np.empty(len(seeds), dtype=np.intp)
    order[seed_index] = cell_index
    return cells[order]


def _wiggle(cells: np.ndarray, cell_size: float, wiggle: float, rng: np.random.Generator):
    """Displace every vertex by one smooth field; shared vertices stay shared."""
    if wiggle == 0:
        return cells
    # Two waves per axis; the field's Lipschitz constant stays below 0.9 * wiggle,
    # so for wiggle <= 1 the map is one-to-one and the tiling stays valid.
    waves = [(0.06, 0.9), (0.015, 0.2)]
    phases = rng.uniform(0, 2 * np.pi, size=(len(waves), 2))

    def displace(xy: FloatArray) -> FloatArray:
        out = xy.copy()
        for (amp, wavelength), (px, py) in zip(waves, phases, strict=True):
            k = 2 * np.pi / (wavelength * cell_size)
            out[:, 0] += wiggle * amp * cell_size * np.sin(k * xy[:, 1] + px)
            out[:, 1] += wiggle * amp * cell_size * np.sin(k * xy[:, 0] + py)
        return out

    return shapely.transform(cells, displace)


def _group(points: FloatArray, n_groups: int, rng: np.random.Generator) -> npt.NDArray[np.intp]:
    """Assign each point to the nearest of ``n_groups`` points drawn from them."""
    centres = points[rng.choice(len(points), size=n_groups, replace=False)]
    return np.asarray(cKDTree(centres).query(points)[1], dtype=np.intp)
