"""The grid index county by county, for a province's grids (``GEOGRID_GRID_COUNTIES``).

A province's whole :class:`~geogrid.spatial.gridindex.GridIndex` (~120,000 grids) takes
~1.8 GB per API worker and minutes to load (``benchmarks/province_serve.py --grids``).
With ``grid_counties`` on, the workspace's grid index is a
:class:`~geogrid.spatial.gridcounties.CountyGridIndex`: the county footprints and the
grids outside every county are held, and each county's own ``GridIndex`` is held in a
bounded LRU within ``grid_cache_mb`` (:class:`~geogrid.workspace._lru.BoundedLRU`, the
doors' LRU of :mod:`geogrid.workspace.county_addresses`), read from its snapshot in
``snapshot_dir`` when a point needs it.

Each county's index is keyed by a digest of its tree's grids (codes, names, levels,
parents, geometries: what its index is built from), the metric projection of the whole
grid set, the database and geogrid's code. The digest is exact and needs no data version
of its own (none of migration 0014's per-county versions cover grids): the grid rows are
read in full anyway, and a county's digest is worked out again only when one of its
rows is a new object (``Workspace.grids`` keeps the geometries of rows not written
since). So a grid edit builds again only its county's index: with
:meth:`GridIndex.updated` from the one held before when it is still in the LRU (only the
cells near the edit are built again), else from scratch. The first worker on new data
builds every county's index and saves it (when there is a ``snapshot_dir``); workers
started later load the snapshots when a county is needed. Without a ``snapshot_dir``,
counties are built when first needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import shapely

from geogrid.db.queries.replication import database_identity
from geogrid.spatial.gridcounties import CountyGridIndex
from geogrid.spatial.gridindex import GridIndex
from geogrid.workspace._lru import BoundedLRU
from geogrid.workspace._snapshots import CountySnapshots, _code_digest, grids_digest

if TYPE_CHECKING:
    import geopandas as gpd

    from geogrid.settings import Settings

T = TypeVar("T")

__all__ = ["BYTES_PER_VERTEX", "CountyIndexes", "county_grid_index", "grids_attributes"]

BYTES_PER_VERTEX = 64
"""Memory a county's index takes per polygon vertex beyond its rasters (measured: 22 MB
RSS for a generated county of 1,211 grids and 123,897 vertices, 14.3 MB of rasters)."""


class Workspace(Protocol):
    """What the index is built from: :class:`geogrid.workspace.Workspace`."""

    settings: Settings

    def grids(self) -> gpd.GeoDataFrame: ...

    def read(self, reader: Callable[[Any], T]) -> T: ...

    def cached(self, name: str, layers: tuple[str, ...], build: Callable[[], T]) -> T: ...


class CountyIndexes:
    """What a workspace keeps between builds: the LRU of counties' indexes (with their
    estimated bytes), each county's last key, digest and footprint, and what was built (``built``,
    ``updated``: county codes, for tests and benchmarks)."""

    def __init__(self, budget_mb: float) -> None:
        self.cache: BoundedLRU[tuple[GridIndex, int]] = BoundedLRU(budget_mb, lambda v: v[1])
        self.keys: dict[str, str] = {}
        self.digests: dict[str, tuple[list[object], str, str]] = {}
        self.footprints: dict[str, shapely.Geometry] = {}  # by the county's digest
        self.built: list[str] = []
        self.updated: list[str] = []


def county_grid_index(ws: Workspace) -> CountyGridIndex:
    """Build the county-by-county grid index of the workspace's grids.

    Counties whose grids changed since the last build get a new index now, from the one
    held before (:meth:`GridIndex.updated`); with a ``snapshot_dir``, every county whose
    snapshot is missing is built and saved now (the first worker on new data), so that
    later workers and requests only load.
    """
    grids = ws.grids()
    state = ws.cached("grid_counties", (), lambda: CountyIndexes(ws.settings.grid_cache_mb))
    snapshots = CountySnapshots(ws.settings.snapshot_dir)
    keys: dict[str, str] = {}
    before = state.keys

    def load(county: str) -> GridIndex:
        return state.cache.get(keys[county], lambda: held(county))[0]

    def held(county: str) -> tuple[GridIndex, int]:
        """A county's index, from its snapshot or built, with its estimated bytes."""
        tree = index.county_grids(county)
        part = snapshots.load(keys[county], "grids")
        if part is None:
            last = state.cache.peek(before[county]) if county in before else None
            if last is not None and _same_projection(last[0], index):
                state.updated.append(county)
                part = last[0].updated(tree)
            else:
                state.built.append(county)
                part = index.build(county)
            snapshots.save(keys[county], "grids", part)
        vertices = int(shapely.get_num_coordinates(tree.geometry.to_numpy()).sum())
        return part, part.nbytes + BYTES_PER_VERTEX * vertices

    digests: dict[str, tuple[list[object], str, str]] = {}

    def footprint(county: str, tree: gpd.GeoDataFrame) -> shapely.Geometry | None:
        """The county's footprint from the last build when its grids are the same."""
        geoms, attributes = list(tree.geometry.array), grids_attributes(tree)
        last = state.digests.get(county)
        if (
            last is not None
            and last[1] == attributes
            and len(last[0]) == len(geoms)
            and all(a is b for a, b in zip(last[0], geoms, strict=True))
        ):
            digest = last[2]  # the same geometry objects: the rows were not written since
        else:
            digest = grids_digest(tree)
        digests[county] = (geoms, attributes, digest)
        return state.footprints.get(digest)

    index = CountyGridIndex(grids, load, known_footprint=footprint)
    identity = ws.read(database_identity)
    common = f"{_code_digest()}|{identity}|{index.projection.lon0}|{index.projection.lat0}"
    for county in index.counties:
        name = hashlib.blake2b(county.encode(), digest_size=6).hexdigest()
        whole = hashlib.blake2b(f"{common}|{digests[county][2]}".encode(), digest_size=16)
        keys[county] = f"gridcounty-{name}-{whole.hexdigest()}"
    state.footprints = {digests[c][2]: index.footprint(c) for c in index.counties}
    state.digests = digests
    for county, key in keys.items():
        changed = county in before and before[county] != key
        if (changed and state.cache.peek(before[county]) is not None) or (
            snapshots.folder is not None and not snapshots.has(key, "grids")
        ):
            load(county)
    state.keys = keys
    return index


def _same_projection(part: GridIndex, index: CountyGridIndex) -> bool:
    mine, theirs = part.projection, index.projection
    return (mine.lon0, mine.lat0) == (theirs.lon0, theirs.lat0)


def grids_attributes(grids: gpd.GeoDataFrame) -> str:
    """The rows' codes, names, levels and parents, as one string (compared, not hashed)."""
    columns = [grids[c].to_numpy(dtype=object) for c in ("code", "name", "level", "parent_code")]
    return repr(np.stack(columns).tolist())
