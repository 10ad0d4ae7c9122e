"""The ``grids`` and ``grid_workers`` layers: names, codes, populations, geometry."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geodata._names import SHARED_VILLAGE_NAMES, NameBook
from geodata._spec import (
    AOJIANG,
    BBOX_LONLAT,
    COUNTY_AREA_KM2,
    COUNTY_CODE,
    COUNTY_NAME,
    METRIC_CRS,
    TOWNS,
    ScaleSpec,
    TownSpec,
)
from geodata._tiling import (
    allocate,
    county_outline,
    merge_by_label,
    seeds_in_polygon,
    tile_from_cells,
    voronoi_cells,
)
from geodata._warp import Warp

__all__ = ["GridSet", "build_grids", "build_workers", "county_frame"]

# (code suffix, name, town code, offset east/north from the town centre in m,
#  half axes in m, rotation in degrees, workforce)
INDUSTRY = (
    ("I01", "鳌江工业园区", AOJIANG, (2600, -2300), (1300, 750), 20, 12_000),
    ("I02", "鳌江农贸市场", AOJIANG, (350, 450), (260, 180), -10, 3_500),
    ("I03", "鳌江站交通枢纽", AOJIANG, (-1600, 2100), (700, 420), 35, 2_500),
    ("I04", "萧江塑编产业园", "330326-103", (900, -900), (1100, 650), -25, 9_000),
    ("I05", "万全轻工产业园", "330326-104", (-600, -700), (900, 550), 10, 6_000),
)
COMMUNITY_SHARE = {AOJIANG: 0.35, "330326-100": 0.3}


@dataclass
class GridSet:
    """The grid tree in metres plus the positions later layers build on.

    Attributes
    ----------
    grids
        The ``grids`` layer in :data:`~_spec.METRIC_CRS`.
    centres
        Town code → warped town centre ``(x, y)`` in metres.
    """

    grids: gpd.GeoDataFrame
    centres: dict[str, np.ndarray]

    def level(self, level: str) -> gpd.GeoDataFrame:
        """Return the rows of one level."""
        return self.grids[self.grids["level"] == level]


def county_frame() -> tuple[np.ndarray, np.ndarray]:
    """Return the county box's lower-left and upper-right corners in metres."""
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    lon0, lat0, lon1, lat1 = BBOX_LONLAT
    x, y = to_metric.transform([lon0, lon1, lon0, lon1], [lat0, lat0, lat1, lat1])
    return np.array([min(x), min(y)]), np.array([max(x), max(y)])


def _density_around(centre: np.ndarray, boost: float, sigma_m: float):
    """Relative density: 1 far away, ``1 + boost`` at ``centre``."""

    def density(xy: np.ndarray) -> np.ndarray:
        d2 = ((xy - centre) ** 2).sum(axis=1)
        return 1 + boost * np.exp(-d2 / (2 * sigma_m**2))

    return density


def _town_density(town: TownSpec, centre: np.ndarray):
    """Density of villages (and people) in a town: peaked at the town centre."""
    if town.code == AOJIANG:
        return _density_around(centre, 8.0, 2500.0)
    return _density_around(centre, 3.0, 1500.0)


def _village_counts(spec: ScaleSpec, towns: tuple[TownSpec, ...]) -> np.ndarray:
    """Villages per town: Aojiang's figure, the rest shared by town weight."""
    others = allocate(spec.other_villages, np.array([t.weight for t in towns[1:]]), 3)
    return np.concatenate([[spec.aojiang_villages], others])


def build_grids(spec: ScaleSpec, rng: np.random.Generator, warp: Warp, names: NameBook) -> GridSet:
    """Build the county, town, village, micro and industry grids.

    Parameters
    ----------
    spec
        The scale to build.
    rng
        Source of randomness.
    warp
        Displacement applied to every border vertex.
    names
        Source of village names.

    Returns
    -------
    GridSet
        Grids in metres and the warped town centres.
    """
    towns = TOWNS[: spec.n_towns]
    lo, hi = county_frame()
    county = county_outline((lo + hi) / 2, (hi - lo) / 2 * 0.97, COUNTY_AREA_KM2 * 1e6, rng)
    seeds = np.array([lo + (hi - lo) * (t.fx, t.fy) for t in towns])
    town_cells = voronoi_cells(county, seeds)

    n_villages = _village_counts(spec, towns)
    village_cells, village_town, village_weight = [], [], []
    for t, (town, cell) in enumerate(zip(towns, town_cells, strict=True)):
        density = _town_density(town, seeds[t])
        vseeds = seeds_in_polygon(cell, int(n_villages[t]), rng, density)
        vseeds = vseeds[np.argsort(((vseeds - seeds[t]) ** 2).sum(axis=1), kind="stable")]
        cells = voronoi_cells(cell, vseeds)
        village_cells += cells
        village_town += [t] * len(cells)
        areas = shapely.area(np.asarray(cells, dtype=object))
        village_weight += list(areas * density(vseeds) * rng.lognormal(0, 0.3, len(cells)))
    village_town = np.array(village_town)
    village_pop = _shares_by_group([t.population for t in towns], village_town, village_weight)

    micro_totals = _micro_counts(spec, n_villages)
    micro_cells, micro_village = [], []
    for t in range(len(towns)):
        members = np.flatnonzero(village_town == t)
        counts = allocate(int(micro_totals[t]), village_pop[members], minimum=2)
        for v, k in zip(members, counts, strict=True):
            cells = voronoi_cells(village_cells[v], seeds_in_polygon(village_cells[v], k, rng))
            micro_cells += cells
            micro_village += [v] * len(cells)
    micro_village = np.array(micro_village)
    micro_area = shapely.area(np.asarray(micro_cells, dtype=object))
    micro_pop = _shares_by_group(
        village_pop, micro_village, micro_area * rng.lognormal(0, 0.25, len(micro_area))
    )

    fine = shapely.buffer(town_cells[0], 1.0)
    shapely.prepare(fine)

    def spacing_for(pieces: np.ndarray) -> np.ndarray:
        inside = shapely.intersects(fine, pieces)
        return np.where(inside, spec.spacing_m, spec.rural_spacing_m)

    micro_geom = tile_from_cells(micro_cells, spacing_for, warp)
    village_geom = merge_by_label(micro_geom, micro_village, len(village_cells))
    town_geom = merge_by_label(village_geom, village_town, len(towns))
    county_geom = merge_by_label(town_geom, np.zeros(len(towns), dtype=int), 1)
    centres = dict(zip([t.code for t in towns], warp.apply(seeds), strict=True))

    micro_hh = np.round(micro_pop / rng.uniform(2.5, 3.2, len(micro_pop))).astype(int)
    micro_hh = np.maximum(micro_hh, (micro_pop > 0).astype(int))
    village_hh = np.bincount(micro_village, micro_hh, len(village_cells)).astype(int)
    town_hh = np.bincount(village_town, village_hh, len(towns)).astype(int)

    rows = [(COUNTY_CODE, COUNTY_NAME, "county", None, int(village_pop.sum()), int(town_hh.sum()))]
    rows += [
        (t.code, t.name, "town", COUNTY_CODE, t.population, int(town_hh[i]))
        for i, t in enumerate(towns)
    ]
    village_codes, village_names = _name_villages(towns, village_town, names)
    rows += [
        (village_codes[v], village_names[v], "village", towns[t].code, int(village_pop[v]), int(hh))
        for v, (t, hh) in enumerate(zip(village_town, village_hh, strict=True))
    ]
    rank = _rank_within_group(micro_village)
    rows += [
        (
            f"{village_codes[v]}-{r + 1:02d}",
            f"{village_names[v]}第{r + 1}微网格",
            "micro",
            village_codes[v],
            int(micro_pop[m]),
            int(micro_hh[m]),
        )
        for m, (v, r) in enumerate(zip(micro_village, rank, strict=True))
    ]
    geoms = [*county_geom, *town_geom, *village_geom, *micro_geom]
    industry_rows, industry_geoms = _industry_grids(centres, county_geom[0], warp)
    columns = ["code", "name", "level", "parent_code", "population", "households"]
    frame = pd.DataFrame(rows + industry_rows, columns=columns)
    grids = gpd.GeoDataFrame(frame, geometry=geoms + industry_geoms, crs=METRIC_CRS)
    return GridSet(grids=grids, centres=centres)


def _micro_counts(spec: ScaleSpec, n_villages: np.ndarray) -> np.ndarray:
    """Micro-grids per town: Aojiang's figure, the rest by village count."""
    rural = n_villages[1:]
    extra = spec.other_micros - 2 * rural.sum()
    others = 2 * rural + allocate(max(extra, 0), rural.astype(float))
    return np.concatenate([[spec.aojiang_micros], others])


def _shares_by_group(totals, group: np.ndarray, weights) -> np.ndarray:
    """Share each group's total among its members by weight."""
    weights = np.asarray(weights, dtype=float)
    out = np.zeros(len(group), dtype=int)
    for g, total in enumerate(totals):
        members = np.flatnonzero(group == g)
        out[members] = allocate(int(total), weights[members])
    return out


def _rank_within_group(group: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal labels (labels are sorted)."""
    starts = np.searchsorted(group, group)
    return np.arange(len(group)) - starts


def _name_villages(
    towns: tuple[TownSpec, ...], village_town: np.ndarray, names: NameBook
) -> tuple[list[str], list[str]]:
    """Codes and names of all villages; a few names repeat across towns on purpose."""
    codes: list[str] = []
    labels: list[str] = []
    taken: set[str] = set(SHARED_VILLAGE_NAMES)
    for t, town in enumerate(towns):
        n = int((village_town == t).sum())
        communities = max(1, round(n * COMMUNITY_SHARE.get(town.code, 0.1)))
        town_names = names.village_names(n, communities, town.code == AOJIANG, taken)
        if t < len(SHARED_VILLAGE_NAMES) + 1 and n > communities + 1:
            shared = SHARED_VILLAGE_NAMES[t % len(SHARED_VILLAGE_NAMES)]
            town_names[-1] = shared  # e.g. 新华村 in several towns
            if t > 0:
                town_names[-2] = SHARED_VILLAGE_NAMES[(t - 1) % len(SHARED_VILLAGE_NAMES)]
        codes += [f"{town.code}-{i + 1:03d}" for i in range(n)]
        labels += town_names
    return codes, labels


def _industry_grids(
    centres: dict[str, np.ndarray], county: shapely.Geometry, warp: Warp
) -> tuple[list[tuple], list[shapely.Geometry]]:
    """Industry grids: warped ellipses near their towns, clipped to the county."""
    rows, geoms = [], []
    for suffix, name, town, offset, axes, rotation, workforce in INDUSTRY:
        if town not in centres:
            continue
        theta = np.linspace(0, 2 * np.pi, 160, endpoint=False)
        xy = np.column_stack([axes[0] * np.cos(theta), axes[1] * np.sin(theta)])
        rot = np.radians(rotation)
        xy = xy @ np.array([[np.cos(rot), np.sin(rot)], [-np.sin(rot), np.cos(rot)]])
        ring = warp.apply(xy + centres[town] + np.asarray(offset, dtype=float))
        shape = shapely.intersection(shapely.Polygon(ring), county)
        rows.append((f"{COUNTY_CODE}-{suffix}", name, "industry", COUNTY_CODE, workforce, 0))
        geoms.append(shapely.multipolygons(shapely.get_parts(shape)))
    return rows, geoms


def build_workers(grids: pd.DataFrame, names: NameBook) -> pd.DataFrame:
    """One grid worker per village and industry grid, one leader per micro-grid.

    Parameters
    ----------
    grids
        The ``grids`` layer.
    names
        Source of names and phone numbers.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``name``, ``phone``, ``grid_code``.
    """
    staffed = grids[grids["level"].isin(["village", "micro", "industry"])]
    rows = [
        (f"W{i + 1:04d}", names.person(), names.phone(), code)
        for i, code in enumerate(staffed["code"])
    ]
    return pd.DataFrame(rows, columns=["code", "name", "phone", "grid_code"])
