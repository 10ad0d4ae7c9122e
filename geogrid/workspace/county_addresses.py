"""Address matching county by county, for a province's gazetteer (``GEOGRID_ADDRESS_COUNTIES``).

A province holds ~20 million standard addresses: one matcher over all of them is ~8 GB
per API worker (``benchmarks/province_serve.py``). With ``address_counties`` on, a worker
holds instead:

- every county's **names** (towns, villages, roads with their points; ~0.6 MB pickled
  per county of 85,000 addresses), joined into one matcher
  (:func:`~geogrid.spatial.addresses.counties.partitioned_matcher`), so every text is
  searched exactly as by the whole matcher;
- a bounded LRU of counties' **doors** (each address's code, text, point and
  sub-numbers; ~430 bytes per address in memory), within ``address_cache_mb``: a
  county's doors are read when an address leads there (a county named in the text, or a
  town, village or road of it) — from the county's snapshot in ``snapshot_dir``, or built
  again from PostGIS without one.

Each county is keyed by its own data version (``address_county_versions``, kept by
triggers: migration 0014), its town and village grids, the database and geogrid's code:
when one county's addresses change, only that county is built again; the others' names
and doors are reused (from memory or their snapshots). Building is done where the
locator is built: off the request path, except for the very first build.

Not covered: a county grid that no address names contributes no village names (the
whole matcher would know its villages, placed in the county its town's name implies).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pandas as pd

from geogrid.db.queries.county_addresses import (
    address_county_versions,
    read_addresses_by_code,
    read_county_addresses,
)
from geogrid.db.queries.replication import database_identity
from geogrid.spatial.addresses.counties import (
    CountyHouses,
    CountyPart,
    county_key,
    county_part,
    grids_of_county,
    partitioned_matcher,
)
from geogrid.workspace._lru import BoundedLRU
from geogrid.workspace._snapshots import CountySnapshots, _code_digest, grids_digest

if TYPE_CHECKING:
    import geopandas as gpd

    from geogrid.settings import Settings
    from geogrid.spatial.addresses import AddressMatcher

T = TypeVar("T")


class Workspace(Protocol):
    """What the matcher is built from: :class:`geogrid.workspace.Workspace`."""

    settings: Settings

    def grids(self) -> gpd.GeoDataFrame: ...

    def address_corrections(self) -> pd.DataFrame: ...

    def read(self, reader: Callable[[Any], T]) -> T: ...

    def cached(self, name: str, layers: tuple[str, ...], build: Callable[[], T]) -> T: ...


__all__ = ["BYTES_PER_ADDRESS", "CountyDoors", "DoorCache", "county_matcher"]


BYTES_PER_ADDRESS = 450
"""Memory a county's doors take per address (measured: 35 MB RSS for 84,963 addresses)."""


class DoorCache(BoundedLRU[CountyHouses]):
    """Counties' doors in memory, the least recently used dropped first to stay within
    ``budget_mb`` (the county in use is always kept): a :class:`BoundedLRU` sized at
    :data:`BYTES_PER_ADDRESS` per address."""

    def __init__(self, budget_mb: float) -> None:
        super().__init__(budget_mb, lambda houses: len(houses) * BYTES_PER_ADDRESS)


class CountyDoors(Mapping[str, CountyHouses]):
    """County name → its doors, through a :class:`DoorCache` (what the matcher reads).

    Pickled (a batch shipping the locator to Dask workers), it becomes a plain dict of
    every county's doors.
    """

    def __init__(
        self, cache: DoorCache, keys: dict[str, str], load: Callable[[str], CountyHouses]
    ) -> None:
        self._cache = cache
        self._keys = keys
        self._load = load

    def __getitem__(self, county: str) -> CountyHouses:
        key = self._keys[county]
        return self._cache.get(key, lambda: self._load(county))

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, ([(county, self[county]) for county in self._keys],))


def county_matcher(ws: Workspace) -> AddressMatcher:
    """Build (or load) the county-by-county matcher of the workspace's data.

    Reads each county's version, builds or loads each county's names (in memory from the
    last build, else its snapshot, else from its addresses in PostGIS, saving both its
    names and doors), and joins them; doors are read later, when an address needs them.
    """
    grids = ws.grids()
    versions = ws.read(address_county_versions)
    spellings: dict[str, list[str]] = {}
    for raw in versions:
        spellings.setdefault(county_key(raw), []).append(raw)
    county_grids = grids.loc[grids["level"] == "county"]
    grid_of = {
        county_key(n): str(c)
        for c, n in zip(county_grids["code"], county_grids["name"], strict=False)
    }
    state = ws.cached("county_addresses", (), lambda: _State(ws.settings.address_cache_mb))
    snapshots = CountySnapshots(ws.settings.snapshot_dir)
    identity = ws.read(database_identity)

    def own_grids(county: str) -> pd.DataFrame:
        code = grid_of.get(county)
        return grids_of_county(grids, code) if code is not None else grids.iloc[:0]

    keys: dict[str, str] = {}
    parts: dict[str, CountyPart] = {}
    for county, raws in spellings.items():
        own = own_grids(county)
        digest = hashlib.blake2b(digest_size=12)
        pieces = (_code_digest(), identity, county, repr(sorted((r, versions[r]) for r in raws)))
        for piece in (*pieces, grids_digest(own)):
            digest.update(piece.encode())
        name = hashlib.blake2b(county.encode(), digest_size=6).hexdigest()
        key = f"county-{name}-{digest.hexdigest()}"
        part = state.parts.get(key) or snapshots.load(key, "names")
        if part is None:
            built = _build_part(ws, raws, own, county, snapshots, key)
            if built.houses is not None:  # built anyway: held if the budget allows
                state.cache.get(key, lambda built=built: built.houses)  # type: ignore[misc]
            part = built.names_only()
        parts[key] = part
        if part.rows:
            keys[county] = key
    state.parts = parts  # counties gone or changed are forgotten

    def load(county: str) -> CountyHouses:
        key = keys[county]
        found = snapshots.load(key, "doors")
        if found is None:
            found = _build_part(ws, spellings[county], own_grids(county), county, snapshots, key)
            found = found.houses
        assert found is not None  # a county with rows has doors
        return found  # type: ignore[no-any-return]

    # counties in the gazetteer's order (by code), as the whole matcher holds them
    ordered = sorted(parts.values(), key=lambda p: (p.rows == 0, p.first_code, p.county))
    doors = CountyDoors(state.cache, keys, load)
    matcher = partitioned_matcher((p.names for p in ordered), doors)
    return _with_corrections(ws, matcher)


class _State:
    """What a workspace keeps between builds: the doors' LRU and each county's names."""

    def __init__(self, budget_mb: float) -> None:
        self.cache = DoorCache(budget_mb)
        self.parts: dict[str, CountyPart] = {}


def _build_part(
    ws: Workspace,
    raws: list[str],
    grids: pd.DataFrame,
    county: str,
    snapshots: CountySnapshots,
    key: str,
) -> CountyPart:
    """Build one county from PostGIS; save its names and doors as snapshots."""
    gazetteer = ws.read(lambda conn: read_county_addresses(conn, raws))
    part = county_part(gazetteer, grids, county)
    snapshots.save(key, "names", part.names_only())
    if part.houses is not None:
        snapshots.save(key, "doors", part.houses)
    return part


def _with_corrections(ws: Workspace, matcher: AddressMatcher) -> AddressMatcher:
    """The operators' corrections as aliases (reading only the addresses they name)."""
    from geogrid.spatial.addresses.aliases import build_aliases

    corrections = ws.address_corrections()
    if corrections.empty:
        return matcher
    codes = sorted({c for c in corrections["address_code"] if isinstance(c, str)})
    named = ws.read(lambda conn: read_addresses_by_code(conn, codes))
    return matcher.with_aliases(build_aliases(corrections, ws.grids(), named))
