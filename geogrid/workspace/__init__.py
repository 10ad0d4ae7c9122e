"""One object that joins the database and the pure spatial core, and holds the caches.

The API, the CLI, notebooks and map printing all go through a :class:`Workspace`: it
reads snapshots from PostGIS (``geogrid.db``), builds in-memory indexes from them
(``geogrid.spatial``) and rebuilds those when a layer's data version changes (checked at
most once per ``cache_check_interval_s``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Engine

from geogrid import crs as gcrs
from geogrid.db.engine import get_engine, get_read_engine
from geogrid.db.errors import database_errors
from geogrid.db.models import LAYER_TABLES
from geogrid.db.notify import VersionListener
from geogrid.db.queries import snapshots
from geogrid.db.queries.corrections import CORRECTIONS_LAYER, read_corrections
from geogrid.db.queries.credentials import CREDENTIALS_LAYER, read_credentials
from geogrid.db.queries.grids import grid_counts
from geogrid.db.queries.health import database_versions, layer_counts
from geogrid.db.queries.replication import database_identity
from geogrid.db.queries.roads import read_roads
from geogrid.errors import GeoGridError, InvalidRequestError
from geogrid.settings import Settings, get_settings
from geogrid.spatial.gridindex import GridIndex
from geogrid.workspace._cache import VersionedCache
from geogrid.workspace._matchers import MatcherBuilder
from geogrid.workspace._reads import ReadRouter
from geogrid.workspace._snapshots import LocatorSnapshots
from geogrid.workspace.clock import Clock, SystemClock
from geogrid.workspace.credential_table import CredentialTable
from geogrid.workspace.locate import LocateAnswer, Locator

if TYPE_CHECKING:  # imported where used: locating a point needs none of them
    from geogrid.spatial.addresses import AddressMatcher
    from geogrid.spatial.gridcounties import CountyGridIndex
    from geogrid.spatial.roads.network import RoadNetwork
    from geogrid.spatial.roads.routable import Profile
    from geogrid.workspace._helper_process import HelperProcess

__all__ = ["LocateAnswer", "Workspace"]

LOCATOR_LAYERS = ("grids", "grid_workers", "addresses", CORRECTIONS_LAYER)
POINT_LOCATOR_LAYERS = ("grids", "grid_workers")
CREDENTIAL_LAYERS = (CREDENTIALS_LAYER, "grids")

T = TypeVar("T")


class Workspace:
    """geogrid's data and answers, for one database.

    Examples
    --------
    >>> ws = Workspace.open()                                   # doctest: +SKIP
    >>> ws.locate_address("平阳县鳌江镇曾山村工业路18号").chain    # doctest: +SKIP
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings | None = None,
        *,
        read_engine: Engine | None = None,
    ) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine
        """Where snapshots and data versions are read: a streaming replica, or the primary."""
        self.settings = settings or get_settings()
        self._cache = VersionedCache(self._read_versions, self.settings.cache_check_interval_s)
        # the last matcher built, with the gazetteer and the villages' digest it read
        self._matchers = MatcherBuilder()
        # the last grids read, with each row's version (what changed is read again)
        self._grids_known: snapshots.KnownGrids = {}
        self._reads = ReadRouter(engine, self.read_engine)
        self._listener: VersionListener | None = None
        # "now" for events' deadlines: tests and replays put a ManualClock here
        self.clock: Clock = SystemClock()
        # API servers edit and update the grid index in a helper (start_helper_process)
        self._helper_process: HelperProcess | None = None

    @classmethod
    def open(cls, settings: Settings | None = None) -> Workspace:
        """Return a workspace on the configured database (embedded unless a URL is set),
        reading its indexes on ``GEOGRID_DATABASE_READ_URL`` when that is set."""
        settings = settings or get_settings()
        read_engine = get_read_engine(settings) if settings.database_read_url else None
        return cls(get_engine(settings), settings, read_engine=read_engine)

    # -- service -----------------------------------------------------------------------

    def database_versions(self) -> dict[str, str]:
        """Return the PostgreSQL, PostGIS and pgRouting versions."""
        with _database_errors():
            return database_versions(self.engine)

    def layer_counts(self) -> dict[str, Any]:
        """Return the number of rows in every layer."""
        with _database_errors():
            return layer_counts(self.engine, list(LAYER_TABLES))

    def invalidate(self) -> None:
        """Drop every cached index (they are rebuilt on next use)."""
        self._cache.invalidate()
        self._matchers = MatcherBuilder()
        self._grids_known = {}

    def recheck(self) -> None:
        """Read the data versions again on next use: this process has just written (so
        it reads on the primary until the replica holds the write)."""
        self._reads.note_write()
        self._cache.recheck()

    # -- several servers: a replica for reads, announcements of new data --------------------

    def start_listening(self) -> None:
        """LISTEN on the primary for new data versions; on each, wait until the reads see
        it (the replica replays it) and rebuild the cached locators in the background."""
        if self._listener is None:
            url = self.engine.url.render_as_string(hide_password=False)
            self._listener = VersionListener(url, self._on_version).start()

    def stop_listening(self) -> None:
        """Stop the listener started by :meth:`start_listening`."""
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

    def wait_listening(self, timeout_s: float = 10.0) -> bool:
        """Wait until the listener's LISTEN is in place (tests); False on timeout."""
        return self._listener is not None and self._listener.wait_listening(timeout_s)

    def _on_version(self, layer: str | None, version: int, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            self._cache.recheck()
            try:
                seen = self._cache.versions().get(layer, 0) if layer else version
            except GeoGridError:
                return  # the database is away: the next request's check will retry
            if seen >= version or time.monotonic() > deadline:
                break
            time.sleep(0.02)  # the replica has not replayed it yet
        for reveal in (False, True):
            if self._cache.is_cached(_locator_name(reveal)):
                self.locator(reveal_personal=reveal)
            elif self._cache.is_cached(_locator_name(reveal, points_only=True)):
                self.locator(reveal_personal=reveal, addresses=False)

    def cached(self, name: str, layers: tuple[str, ...], build: Callable[[], T]) -> T:
        """Return the cached value ``name``, built again by ``build`` when ``layers`` change."""
        return self._cache.get(name, layers, build)

    def cached_if_current(
        self, name: str, layers: tuple[str, ...], build: Callable[[], T]
    ) -> T | None:
        """Return the cached value ``name`` if it is current; else None, while ``build``
        runs in a background thread (no request waits for it)."""
        return self._cache.current_or_later(name, layers, build)

    # -- a helper process for edits and the grid index's updates -----------------------

    def start_helper_process(self) -> None:
        """Make edits and the grid index's updates in a helper process from now on,
        holding a copy of the current index (:mod:`geogrid.workspace._helper_process`):
        this process then only loads what an edit changed. With ``grid_counties`` each
        county's index is still updated here."""
        from geogrid.workspace._helper_process import HelperProcess

        if self._helper_process is None:
            url = self.engine.url.render_as_string(hide_password=False)
            self._helper_process = HelperProcess(type(self), url, self.settings)
        index = self.grid_index()
        if isinstance(index, GridIndex):
            self._helper_process.hold(index)

    @property
    def helper_process(self) -> HelperProcess | None:
        """The helper of :meth:`start_helper_process` (None: everything is done here)."""
        return self._helper_process

    def stop_helper_process(self) -> None:
        """Stop the helper of :meth:`start_helper_process`; updates are made here again."""
        if self._helper_process is not None:
            self._helper_process.close()
            self._helper_process = None

    # -- snapshots and indexes -----------------------------------------------------------

    def grids(self) -> gpd.GeoDataFrame:
        """Return every grid (EPSG:4326), cached until the grids change (then only the
        geometries of the grids written since are read again)."""
        return self._cache.get("grids", ("grids",), self._read_grids)

    def grid_workers(self) -> pd.DataFrame:
        """Return the grid workers (personal data: mask before showing)."""
        return self._cache.get(
            "grid_workers", ("grid_workers",), lambda: self._read(snapshots.read_grid_workers)
        )

    def credentials(self) -> CredentialTable:
        """Return the active API credentials, reloaded when one is added or revoked (or
        the grids change: a grid worker's grid code may have been renamed)."""
        return self._cache.get(
            "credentials",
            CREDENTIAL_LAYERS,
            lambda: CredentialTable(self._read(read_credentials)),
        )

    def credentials_are_current(self) -> bool:
        """Return True when :meth:`credentials` would answer from memory, without reading
        the data versions or the credentials from the database (the API's event loop
        takes a request itself only then; else a worker thread does the round trip)."""
        return self._cache.is_current_now("credentials", CREDENTIAL_LAYERS)

    def checkpoints(self) -> gpd.GeoDataFrame:
        """Return every checkpoint (active and closed), cached until they change."""
        return self._cache.get(
            "checkpoints", ("checkpoints",), lambda: self._read(snapshots.read_checkpoints)
        )

    def isolation_sites(self) -> gpd.GeoDataFrame:
        """Return every isolation site, cached until they change."""
        return self._cache.get(
            "isolation_sites",
            ("isolation_sites",),
            lambda: self._read(snapshots.read_isolation_sites),
        )

    def roads(self) -> gpd.GeoDataFrame:
        """Return every road edge with its topology (EPSG:4326), cached until they change."""
        return self._cache.get(
            "roads", ("roads",), lambda: self._read(read_roads).rename_geometry("geometry")
        )

    def road_network(self, profile: Profile = "car") -> RoadNetwork:
        """Return the in-memory road network of a profile (``car`` or ``foot``), one per
        profile, rebuilt when the roads change."""
        from geogrid.spatial.roads.network import RoadNetwork
        from geogrid.spatial.roads.routable import PROFILES

        if profile not in PROFILES:
            raise InvalidRequestError(
                f"profile must be one of {', '.join(PROFILES)}, got {profile!r}",
                details={"profile": profile},
            )
        return self._cache.get(
            f"road_network:{profile}",
            ("roads",),
            lambda: RoadNetwork.from_geodataframe(self.roads(), profile=profile),
        )

    def addresses(self) -> gpd.GeoDataFrame:
        """Return the standard-address gazetteer, cached until it changes."""
        return self._cache.get(
            "addresses",
            ("addresses",),
            lambda: self._read(snapshots.read_addresses).rename_geometry("geometry"),
        )

    def address_corrections(self) -> pd.DataFrame:
        """Return the operators' address corrections (texts may be personal: never log
        them), cached until one is added or removed."""
        return self._cache.get(
            CORRECTIONS_LAYER, (CORRECTIONS_LAYER,), lambda: self._read(read_corrections)
        )

    def grid_counts(self, codes: Sequence[str]) -> dict[str, dict[str, int]]:
        """Return addresses and active checkpoints inside each grid (asked of PostGIS)."""
        return self._read(lambda conn: grid_counts(conn, list(codes)))  # type: ignore[no-any-return]

    def grid_index(self) -> GridIndex | CountyGridIndex:
        """Return the point → grid index, updated when the grids change (only the cells
        near the grids that changed are built again: :meth:`GridIndex.updated`); county
        by county with ``grid_counties`` (:mod:`geogrid.workspace.county_grids`)."""
        return self._cache.get("grid_index", ("grids",), self._build_grid_index)

    def address_matcher(self) -> AddressMatcher:
        """Return the gazetteer matcher with the operators' corrections as aliases, rebuilt
        when addresses, grids or corrections change (the gazetteer index only when the
        addresses or the towns and villages changed)."""
        return self._cache.get(
            "address_matcher", ("addresses", "grids", CORRECTIONS_LAYER), self._build_matcher
        )

    def locator_is_ready(self, *, reveal_personal: bool = False) -> bool:
        """Return True when :meth:`locator` would answer without building anything (it
        may answer from the previous data while the new locator is built)."""
        return self._cache.is_cached(_locator_name(reveal_personal))

    def locator(self, *, reveal_personal: bool = False, addresses: bool = True) -> Locator:
        """Return a locator over the cached indexes (itself cached per privacy level).

        When the grids, grid workers or addresses changed, the new locator is built in a
        background thread and swapped in whole when ready; meanwhile the previous one
        answers, so no request waits for a rebuild (only the very first one builds).

        With ``addresses=False`` it need only answer points: the full locator when it is
        built already, else one without the gazetteer, so a one-off point question (one
        ``geogrid locate --lon --lat``) never reads or indexes the addresses.
        """
        name = _locator_name(reveal_personal)
        if not addresses and not self._cache.is_cached(name):
            name_points = _locator_name(reveal_personal, points_only=True)
            return self._cache.get_or_refresh(
                name_points,
                POINT_LOCATOR_LAYERS,
                lambda: Locator(
                    self.grids(),
                    self.grid_index(),
                    self.grid_workers(),
                    reveal_personal=reveal_personal,
                    previous=self._cache.previous(name_points),
                ),
            )
        return self._cache.get_or_refresh(
            name, LOCATOR_LAYERS, lambda: self._build_locator(reveal_personal)
        )

    def _build_locator(self, reveal_personal: bool) -> Locator:
        """Build the full locator, or load it from a snapshot of the same data."""

        def build() -> Locator:
            return Locator(
                self.grids(),
                self.grid_index(),
                self.grid_workers(),
                self.address_matcher(),
                reveal_personal=reveal_personal,
                previous=self._cache.previous(_locator_name(reveal_personal)),
            )

        if self.settings.snapshot_dir is None or self.settings.grid_counties:
            return build()  # county by county, the grid index keeps its own snapshots
        # county by county, the matcher keeps its own snapshots: this one holds the rest
        counties = self.settings.address_counties
        layers = POINT_LOCATOR_LAYERS if counties else LOCATOR_LAYERS
        snapshots = LocatorSnapshots(self.settings.snapshot_dir)
        before = {layer: self._cache.versions().get(layer, 0) for layer in layers}
        key = snapshots.key(self._database_identity(), before, reveal_personal)
        found = snapshots.load(key)
        if found is not None:
            return found.with_matcher(self.address_matcher()) if counties else found
        locator = build()
        after = {layer: self._cache.versions().get(layer, 0) for layer in layers}
        if after == before:  # else it may hold newer data than its key says: not saved
            snapshots.save(key, locator.with_matcher(None) if counties else locator)
        return locator

    def _database_identity(self) -> str:
        return self._cache.get(  # type: ignore[no-any-return]
            "database_identity", (), lambda: self._read(database_identity)
        )

    def refresh_after_write(self, layer: str, timeout_s: float = 60.0) -> None:
        """Make this process see a write to ``layer`` at once; wait (up to ``timeout_s``)
        for the locators to be rebuilt when the layer is one they are built from.

        Called by an edit before it answers, so its caller's next ``/locate`` reads its
        own write; other requests keep being answered from the previous locator while
        the new one is built.
        """
        self.recheck()
        if layer not in LOCATOR_LAYERS:
            return
        written = self._cache.versions()  # the versions with this write
        deadline = time.monotonic() + timeout_s
        for reveal in (False, True):
            # the locator that answers: the full one, else the one for points
            points_only = not self._cache.is_cached(_locator_name(reveal))
            name = _locator_name(reveal, points_only=points_only)
            layers = POINT_LOCATOR_LAYERS if points_only else LOCATOR_LAYERS
            # later writes may be in it too: it is current for this one once every
            # layer's version is at least the one read after the write
            while not self._cache.built_from(name, written, layers):
                if time.monotonic() > deadline:
                    return
                self.locator(reveal_personal=reveal, addresses=not points_only)
                time.sleep(0.02)

    def wait_for_refresh(self, timeout_s: float | None = None) -> bool:
        """Wait until no index is being rebuilt in the background; False on timeout."""
        return self._cache.wait_for_refreshes(timeout_s)

    @property
    def refresh_gate(self) -> threading.Event:
        """The event background rebuilds wait for: set, except in tests that hold them."""
        return self._cache.refresh_gate

    def warm_up(self) -> None:
        """Build the in-memory indexes now rather than on the first request."""
        self.credentials()
        self.locator()

    # -- which grid owns this -----------------------------------------------------------

    def locate_points(
        self,
        lon: Sequence[float] | np.ndarray,
        lat: Sequence[float] | np.ndarray,
        crs: str = "wgs84",
        *,
        reveal_personal: bool = False,
    ) -> list[LocateAnswer]:
        """Return the owning grid chain of each point given in ``crs``."""
        x, y = gcrs.to_wgs84(np.asarray(lon, float), np.asarray(lat, float), gcrs.parse_crs(crs))
        return self.locator(reveal_personal=reveal_personal, addresses=False).points(x, y)

    def locate_point(
        self, lon: float, lat: float, crs: str = "wgs84", *, reveal_personal: bool = False
    ) -> LocateAnswer:
        """Return the owning grid chain of one point given in ``crs``."""
        return self.locate_points([lon], [lat], crs, reveal_personal=reveal_personal)[0]

    def locate_addresses(
        self, texts: Sequence[str], *, reveal_personal: bool = False
    ) -> list[LocateAnswer]:
        """Match Chinese address texts against the gazetteer and locate them."""
        return self.locator(reveal_personal=reveal_personal).addresses(texts)

    def locate_address(self, text: str, *, reveal_personal: bool = False) -> LocateAnswer:
        """Match one Chinese address text and locate it."""
        return self.locate_addresses([text], reveal_personal=reveal_personal)[0]

    # -- internals -----------------------------------------------------------------------

    def read(self, reader: Callable[[Any], T]) -> T:
        """Run ``reader(connection)`` where this workspace reads (a replica, or the primary
        after this process's own write); the database's errors are geogrid's."""
        return self._read(reader)  # type: ignore[no-any-return]

    def _read(self, reader: Any) -> Any:
        return self._reads.read(reader)

    def _read_grids(self) -> gpd.GeoDataFrame:
        """Read the grids, reusing the geometries of the last read for rows not written
        since (a grid edit reads one geometry, not the county's)."""
        known = self._grids_known
        frame, self._grids_known = self._read(lambda conn: snapshots.read_grids_since(conn, known))
        return frame  # type: ignore[no-any-return]

    def _build_grid_index(self) -> GridIndex | CountyGridIndex:
        if self.settings.grid_counties:
            from geogrid.workspace.county_grids import county_grid_index

            return county_grid_index(self)
        grids = self.grids()
        previous = self._cache.previous("grid_index")
        if previous is None:
            return GridIndex.from_geodataframe(grids)
        helper = self._helper_process
        if helper is not None and isinstance(previous, GridIndex):
            return helper.updated(previous, grids)
        return previous.updated(grids)  # type: ignore[no-any-return]

    def _read_versions(self) -> dict[str, int]:
        return self._read(snapshots.layer_versions)  # type: ignore[no-any-return]

    def _build_matcher(self) -> AddressMatcher:
        if self.settings.address_counties:
            from geogrid.workspace.county_addresses import county_matcher

            return county_matcher(self)
        return self._matchers.build(self.addresses(), self.grids(), self.address_corrections())


def _locator_name(reveal_personal: bool, *, points_only: bool = False) -> str:
    return f"{'point_locator' if points_only else 'locator'}:{reveal_personal}"


def _database_errors() -> AbstractContextManager[None]:
    """Raise geogrid's error for a database failure (its engine already does; this also
    covers an engine made elsewhere). The one translation is :mod:`geogrid.db.errors`."""
    return database_errors()
