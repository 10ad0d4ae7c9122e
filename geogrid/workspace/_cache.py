"""In-memory objects rebuilt when the layers they were built from change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["VersionedCache"]

T = TypeVar("T")


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

    def peek(self, name: str, layers: tuple[str, ...]) -> Any | None:
        """Return the cached value ``name`` if it is current, else None (never builds)."""
        wanted = tuple(self.versions().get(layer, 0) for layer in layers)
        entry = self._entries.get(name)
        return entry.value if entry is not None and entry.versions == wanted else None

    def recheck(self) -> None:
        """Read the versions again on next access (after a write from this process)."""
        self._checked_at = -float("inf")
        self._failure = None

    def invalidate(self) -> None:
        """Forget every value and the versions read."""
        self._entries.clear()
        self._checked_at = -float("inf")
        self._failure = None
