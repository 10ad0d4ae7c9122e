"""A memory-bounded LRU of values loaded on demand, shared by the county-by-county caches
(counties' address doors, counties' grid indexes).

Each value has an estimated size; the least recently used values are dropped to stay
within the budget, except the one just asked for (a request always gets its county).
Thread-safe; a key is loaded once however many threads ask for it at the same time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["BoundedLRU"]

V = TypeVar("V")


class BoundedLRU(Generic[V]):
    """Values by key within ``budget_mb``, sized by ``size_of`` (bytes, estimated)."""

    def __init__(self, budget_mb: float, size_of: Callable[[V], int]) -> None:
        self.budget_bytes = budget_mb * 1024 * 1024
        self._size_of = size_of
        self._held: OrderedDict[str, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._guard = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self.loads = 0
        self.load_seconds = 0.0

    def get(self, key: str, load: Callable[[], V]) -> V:
        """Return the value ``key``, loading it with ``load`` when not held."""
        with self._guard:
            held = self._held.get(key)
            if held is not None:
                self._held.move_to_end(key)
                return held[0]
            lock = self._loading.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                held = self._held.get(key)
                if held is not None:
                    return held[0]
            start = time.perf_counter()
            value = load()
            size = self._size_of(value)
            with self._guard:
                self.loads += 1
                self.load_seconds += time.perf_counter() - start
                self._held[key] = (value, size)
                self._bytes += size
                while self._bytes > self.budget_bytes and len(self._held) > 1:
                    _, (_, dropped) = self._held.popitem(last=False)
                    self._bytes -= dropped
                self._loading.pop(key, None)
            return value

    def peek(self, key: str) -> V | None:
        """Return the value ``key`` if held (not counted as a use), else None."""
        with self._guard:
            held = self._held.get(key)
            return None if held is None else held[0]

    def held(self) -> list[str]:
        """The keys held, least recently used first."""
        with self._guard:
            return list(self._held)

    def held_mb(self) -> float:
        """The estimated memory of the values held."""
        return self._bytes / 1024 / 1024
