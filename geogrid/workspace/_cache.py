"""In-memory objects rebuilt when the layers they were built from change.

Most values are rebuilt on the request that finds them out of date (cheap ones, and
those that must never be stale, like the credentials). Values fetched with
:meth:`VersionedCache.get_or_refresh` (the locators) are rebuilt *off* the request path:
the request that finds one out of date starts a background thread that builds the new
value, and every request meanwhile gets the previous value at once; the new one is
swapped in whole when it is ready (one dict assignment). So an answer is never older
than the data by more than the check interval plus one build.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["VersionedCache"]

T = TypeVar("T")
log = logging.getLogger("geogrid.workspace")


@dataclass
class _Entry:
    value: Any
    versions: tuple[int, ...]


class VersionedCache:
    """Cache values by name, valid while the data versions of their layers hold.

    Parameters
    ----------
    read_versions
        Returns the current data version of every layer (one database round trip).
    check_interval_s
        The versions are read at most this often, so a hot path does not pay a round
        trip per request; a write becomes visible within this delay. ``0`` reads them
        on every access. A failed read (the database is down) is raised again, without
        asking, for this long too.
    """

    def __init__(
        self, read_versions: Callable[[], dict[str, int]], check_interval_s: float = 1.0
    ) -> None:
        self._read_versions = read_versions
        self._interval = check_interval_s
        self._versions: dict[str, int] = {}
        self._checked_at = -float("inf")
        self._failure: Exception | None = None  # the last failed read, for one interval
        self._failed_at = -float("inf")
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._refreshing: dict[str, threading.Thread] = {}
        self._background = threading.local()  # .active: this thread refreshes
        self.refresh_gate = threading.Event()
        """Background builds wait for this event (set; tests clear it to hold them)."""
        self.refresh_gate.set()

    def versions(self) -> dict[str, int]:
        """Return the layer versions, read again if the last read is too old."""
        now = time.monotonic()
        if now - self._checked_at >= self._interval:
            if self._failure is not None and now - self._failed_at < self._interval:
                # the database failed a moment ago: answer at once, rather than make every
                # request wait for another connection attempt (up to connect_timeout)
                raise self._failure.with_traceback(None)
            try:
                self._versions = self._read_versions()
            except Exception as exc:
                self._failure, self._failed_at = exc, now
                raise
            self._failure = None
            self._checked_at = now
        return self._versions

    def get(self, name: str, layers: tuple[str, ...], build: Callable[[], T]) -> T:
        """Return the cached value ``name``, building it when its layers changed."""
        wanted = tuple(self.versions().get(layer, 0) for layer in layers)
        entry = self._entries.get(name)
        if entry is not None and entry.versions == wanted:
            return entry.value  # type: ignore[no-any-return]
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:  # one build at a time per name; the others wait and reuse it
            entry = self._entries.get(name)
            if entry is not None and entry.versions == wanted:
                return entry.value  # type: ignore[no-any-return]
            value = build()
            self._entries[name] = _Entry(value, wanted)
            return value

    def get_or_refresh(self, name: str, layers: tuple[str, ...], build: Callable[[], T]) -> T:
        """Return the cached value ``name``; when its layers changed, return the previous
        value at once and build the new one in a background thread.

        Only the very first value (nothing to serve meanwhile) is built by the caller.
        Everything ``build`` fetches from this cache in the background thread is built
        there too, so the value swapped in is current throughout.
        """
        wanted = tuple(self.versions().get(layer, 0) for layer in layers)
        entry = self._entries.get(name)
        if entry is not None and entry.versions == wanted:
            return entry.value  # type: ignore[no-any-return]
        if entry is None or getattr(self._background, "active", False):
            return self.get(name, layers, build)
        self._start_refresh(name, layers, build)
        return entry.value  # type: ignore[no-any-return]

    def current_or_later(
        self, name: str, layers: tuple[str, ...], build: Callable[[], T]
    ) -> T | None:
        """Return the cached value ``name`` when it is current; else None, and build it
        in a background thread, so the caller answers another way meanwhile (a feature
        page from PostgreSQL while its layer's copy is built)."""
        wanted = tuple(self.versions().get(layer, 0) for layer in layers)
        entry = self._entries.get(name)
        if entry is not None and entry.versions == wanted:
            return entry.value  # type: ignore[no-any-return]
        self._start_refresh(name, layers, build)
        return None

    def _start_refresh(self, name: str, layers: tuple[str, ...], build: Callable[[], Any]) -> None:
        """Start building ``name`` in a background thread unless one is building it."""
        with self._guard:
            running = self._refreshing.get(name)
            if running is None or not running.is_alive():
                thread = threading.Thread(
                    target=self._refresh,
                    args=(name, layers, build),
                    name=f"geogrid-refresh-{name}",
                    daemon=True,
                )
                self._refreshing[name] = thread
                thread.start()

    def _refresh(self, name: str, layers: tuple[str, ...], build: Callable[[], Any]) -> None:
        self._background.active = True
        try:
            self.refresh_gate.wait()
            self.get(name, layers, build)
        except Exception:  # the database is down, say: the next request retries
            log.warning("background refresh of %s failed; the previous one is served", name)
        finally:
            with self._guard:
                if self._refreshing.get(name) is threading.current_thread():
                    del self._refreshing[name]

    def is_refreshing(self) -> bool:
        """Return True while a background build is running (or held)."""
        with self._guard:
            return any(thread.is_alive() for thread in self._refreshing.values())

    def wait_for_refreshes(self, timeout_s: float | None = None) -> bool:
        """Wait until no background build is running; False if ``timeout_s`` passed first."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            with self._guard:
                threads = [t for t in self._refreshing.values() if t.is_alive()]
            if not threads:
                return True
            for thread in threads:
                left = None if deadline is None else max(deadline - time.monotonic(), 0)
                thread.join(left)
                if deadline is not None and time.monotonic() >= deadline and thread.is_alive():
                    return False

    def built_from(self, name: str, versions: dict[str, int], layers: tuple[str, ...]) -> bool:
        """Return True unless ``name`` is cached from versions older than ``versions``
        (True when it is not cached at all: nothing old is served)."""
        entry = self._entries.get(name)
        if entry is None:
            return True
        wanted = (versions.get(layer, 0) for layer in layers)
        return all(have >= want for have, want in zip(entry.versions, wanted, strict=True))

    def is_current_now(self, name: str, layers: tuple[str, ...]) -> bool:
        """Return True when the value ``name`` is current and saying so needs no database
        round trip: the versions were read within the check interval and ``name`` was
        built from them (an event loop asks this before taking a request itself)."""
        if time.monotonic() - self._checked_at >= self._interval:
            return False
        entry = self._entries.get(name)
        wanted = tuple(self._versions.get(layer, 0) for layer in layers)
        return entry is not None and entry.versions == wanted

    def is_cached(self, name: str) -> bool:
        """Return True when a value ``name`` is cached, current or not."""
        return name in self._entries

    def peek(self, name: str, layers: tuple[str, ...]) -> Any | None:
        """Return the cached value ``name`` if it is current, else None (never builds)."""
        wanted = tuple(self.versions().get(layer, 0) for layer in layers)
        entry = self._entries.get(name)
        return entry.value if entry is not None and entry.versions == wanted else None

    def previous(self, name: str) -> Any | None:
        """Return the cached value ``name`` whatever data it was built from, else None
        (a build may start from it and update only what changed)."""
        entry = self._entries.get(name)
        return entry.value if entry is not None else None

    def recheck(self) -> None:
        """Read the versions again on next access (after a write from this process)."""
        self._checked_at = -float("inf")
        self._failure = None

    def invalidate(self) -> None:
        """Forget every value and the versions read."""
        self._entries.clear()
        self._checked_at = -float("inf")
        self._failure = None
