"""Pickle between two processes that hold most of what they send each other already.

Two processes handing each other successive versions of a big immutable structure (the
grid index: rasters and prepared polygons, :mod:`geogrid.workspace._helper_process`)
need only send what is new. Each end has a :class:`KeptChannel`; a message names by key
every object of the channel's types that the other end holds already, and writes any
other such object whole, under a new key. Each end keeps the objects reached by the last
message it sent and by the last one it received (and nothing else), so both ends hold
the same keys as long as every message sent is loaded: on any failure, :meth:`clear`
both ends (a missing key raises :class:`OutOfStepError`).

Keys are given by the sender (even on one end, odd on the other), so they never clash.
Only trusted ends may talk this way: it is pickle.

Examples
--------
>>> import numpy as np
>>> here, there = KeptChannel((np.ndarray,), first=True), KeptChannel((np.ndarray,))
>>> big = np.arange(100_000)
>>> first = here.dumps({"raster": big, "version": 1})
>>> held = there.loads(first)
>>> second = here.dumps({"raster": big, "version": 2})   # the raster goes by its key
>>> len(second) < 100 < len(first)
True
>>> there.loads(second)["raster"] is held["raster"]
True
"""

from __future__ import annotations

import io
import itertools
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["KeptChannel", "OutOfStepError", "array_edit", "edit_array"]


class OutOfStepError(RuntimeError):
    """A message names an object this end does not hold: the two ends must start again."""


def _held(*_: Any) -> Any:
    """Stands in a message for an object the receiver holds (resolved on loading)."""
    raise OutOfStepError("a kept object is loaded only by KeptChannel.loads")


def _new(*_: Any) -> Any:
    """Stands in a message for a new object to hold under ``key`` (resolved on loading)."""
    raise OutOfStepError("a kept object is loaded only by KeptChannel.loads")


def _objects(*_: Any) -> Any:
    """Stands in a message for an array of kept objects (resolved on loading)."""
    raise OutOfStepError("a kept object is loaded only by KeptChannel.loads")


def _is_object_array(o: Any) -> bool:
    return type(o) is np.ndarray and o.dtype == object and o.ndim == 1 and len(o) > 0


def _edited(*_: Any) -> Any:
    """Stands in a message for a new array made from a held one (resolved on loading)."""
    raise OutOfStepError("a kept object is loaded only by KeptChannel.loads")


EDIT_MIN_BYTES = 1 << 16
"""Arrays at least this big are sent as their differences from a held array, when those
are small: an updated index's rasters differ from the old ones in a window only."""


def array_edit(old: np.ndarray, new: np.ndarray) -> tuple[Any, ...] | None:
    """Return how to make ``new`` from ``old`` in fewer bytes than ``new`` (None if not).

    ``("cells", positions, values)`` when they have the same shape and few cells differ;
    ``("middle", start, stop, values, shift)`` when ``new`` is ``old`` with
    ``old[start:stop]`` replaced by ``values`` (one stretch inserted, removed or
    rewritten) and, for integers, ``shift`` added to what follows (the offsets of a
    list of lists into which items were inserted).

    Examples
    --------
    >>> old = np.arange(100_000)
    >>> new = old.copy(); new[[5, 70_000]] = -1
    >>> kind, positions, values = array_edit(old, new); kind, positions.tolist()
    ('cells', [5, 70000])
    >>> new = np.concatenate([old[:10], [7, 7, 7], old[12:]])
    >>> kind, start, stop, values, shift = array_edit(old, new); (start, stop, values.tolist())
    (10, 12, [7, 7, 7])
    >>> new = np.concatenate([old[:10], [7, 7, 7], old[12:] + 1])
    >>> kind, start, stop, values, shift = array_edit(old, new); (stop, int(shift))
    (12, 1)
    >>> edit_array(old, array_edit(old, new)).tolist() == new.tolist()
    True
    """
    if old.dtype != new.dtype or old.ndim != 1 or new.ndim != 1:
        return None
    budget = new.nbytes // 4
    if old.shape == new.shape:
        positions = np.flatnonzero(old != new)
        if len(positions) * (8 + new.itemsize) < budget:
            return ("cells", positions, new[positions])
    n = min(len(old), len(new))
    differ = old[:n] != new[:n]
    start = int(np.argmax(differ)) if differ.any() else n
    shift = new[-1] - old[-1] if n and new.dtype.kind in "iu" else 0
    tail = old[len(old) - n + start :][::-1] + shift != new[len(new) - n + start :][::-1]
    same_tail = int(np.argmax(tail)) if tail.any() else len(tail)
    values = new[start : len(new) - same_tail]
    if values.nbytes >= budget:
        return None
    return ("middle", start, len(old) - same_tail, values.copy(), shift)


def edit_array(old: np.ndarray, edit: tuple[Any, ...]) -> np.ndarray:
    """Return the array :func:`array_edit` described, made from ``old``."""
    if edit[0] == "cells":
        _, positions, values = edit
        new = old.copy()
        new[positions] = values
        return new
    _, start, stop, values, shift = edit
    return np.concatenate([old[:start], values, old[stop:] + shift if shift else old[stop:]])


class KeptChannel:
    """One end of a two-way pickle channel that sends held objects by key.

    Parameters
    ----------
    types
        The objects sent by key: large, immutable once built (arrays of numbers,
        geometries). Leaves only: an object held by key holds nothing else, so a
        container of kept objects must not be one (an end would keep the container
        but not what it holds). Arrays of Python objects never are.
    first
        True on exactly one of the two ends (it numbers its objects evenly).
    """

    def __init__(self, types: tuple[type, ...], *, first: bool = False) -> None:
        self.types = types
        self._first = first
        self.clear()

    def clear(self) -> None:
        """Forget every object (do it on both ends, after any failure)."""
        self._keys = itertools.count(0 if self._first else 1, 2)
        self._sent: dict[int, tuple[int, Any]] = {}  # id -> (key, object)
        self._received: dict[int, tuple[int, Any]] = {}

    def __len__(self) -> int:
        """The number of objects this end holds for the channel."""
        return len(self._sent.keys() | self._received.keys())

    def dumps(self, obj: Any) -> bytes:
        """Pickle ``obj``, naming the objects the other end holds by their keys."""
        reached: dict[int, tuple[int, Any]] = {}
        channel = self

        class _Pickler(pickle.Pickler):
            def reducer_override(self, o: Any) -> Any:
                if _is_object_array(o):
                    return channel._objects(o, reached)
                if not channel._kept_type(o):
                    return NotImplemented
                entry = channel._held_entry(o)
                if entry is not None:
                    reached[id(o)] = entry
                    return _held, (entry[0],)
                key = next(channel._keys)
                reached[id(o)] = (key, o)
                found = channel._edit_of(o)
                if found is not None:
                    base, edit = found
                    reached[id(base[1])] = base
                    return _edited, (key, base[0], edit)
                make, args, *rest = o.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
                return (_new, (key, make, args), *rest)

        out = io.BytesIO()
        _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
        self._sent = reached
        return out.getvalue()

    def loads(self, data: bytes) -> Any:
        """Load a message of the other end's :meth:`dumps`.

        Raises
        ------
        OutOfStepError
            It names an object this end does not hold.
        """
        by_key = dict((*self._sent.values(), *self._received.values()))
        reached: dict[int, tuple[int, Any]] = {}

        def held(key: int) -> Any:
            if key not in by_key:
                raise OutOfStepError(
                    f"the message names object {key}, which this end does not hold"
                )
            obj = by_key[key]
            reached[id(obj)] = (key, obj)
            return obj

        def new(key: int, make: Callable[..., Any], args: tuple[Any, ...]) -> Any:
            obj = by_key[key] = make(*args)
            reached[id(obj)] = (key, obj)
            return obj

        def edited(key: int, base: int, edit: tuple[Any, ...]) -> Any:
            obj = by_key[key] = edit_array(held(base), edit)
            reached[id(obj)] = (key, obj)
            return obj

        def objects(
            keys: np.ndarray, made: list[tuple[int, Callable[..., Any], tuple[Any, ...]]]
        ) -> np.ndarray:
            for key, make, args in made:
                by_key[key] = make(*args)
            out = np.empty(len(keys), dtype=object)
            for i, key in enumerate(keys.tolist()):
                out[i] = held(key)
            return out

        stand_ins = {"_held": held, "_new": new, "_edited": edited, "_objects": objects}

        class _Unpickler(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if module == __name__ and name in stand_ins:
                    return stand_ins[name]
                return super().find_class(module, name)

        obj = _Unpickler(io.BytesIO(data)).load()
        self._received = reached
        return obj

    def _held_entry(self, o: Any) -> tuple[int, Any] | None:
        """Return the key and object under which the other end holds ``o`` (or None)."""
        entry = self._sent.get(id(o)) or self._received.get(id(o))
        return entry if entry is not None and entry[1] is o else None

    def _objects(self, o: np.ndarray, reached: dict[int, tuple[int, Any]]) -> Any:
        """Write an array of Python objects that are all of the kept types as one array
        of keys and the new objects' own reductions (one step, not one per item); any
        other array of objects the usual way."""
        keys = np.empty(len(o), dtype=np.int64)
        made = []
        for i, item in enumerate(o.tolist()):
            entry = self._held_entry(item)
            if entry is None:
                if not self._kept_type(item):
                    return NotImplemented
                entry = reached.get(id(item)) or (next(self._keys), item)
                if id(item) not in reached:
                    make, args, *rest = item.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
                    if any(r is not None for r in rest):
                        return NotImplemented
                    made.append((entry[0], make, args))
            reached[id(item)] = entry
            keys[i] = entry[0]
        return _objects, (keys, made)

    def _edit_of(self, o: Any) -> tuple[tuple[int, Any], tuple[Any, ...]] | None:
        """Return a held array and the edit making ``o`` from it, when that is smaller
        than ``o`` (tried on the held arrays most alike in a sample)."""
        if not isinstance(o, np.ndarray) or o.ndim != 1 or o.nbytes < EDIT_MIN_BYTES:
            return None
        candidates = []
        for entry in (*self._sent.values(), *self._received.values()):
            old = entry[1]
            alike = isinstance(old, np.ndarray) and old.dtype == o.dtype and old.ndim == 1
            if alike and 0.5 * len(o) <= len(old) <= 2 * len(o):
                candidates.append((_alike(old, o), entry))
        for score, entry in sorted(candidates, key=lambda c: -c[0])[:2]:
            edit = array_edit(entry[1], o) if score > 0.5 else None
            if edit is not None:
                return entry, edit
        return None

    def _kept_type(self, o: Any) -> bool:
        if not isinstance(o, self.types):
            return False
        return not isinstance(o, np.ndarray) or (type(o) is np.ndarray and not o.dtype.hasobject)


def _alike(old: np.ndarray, new: np.ndarray, samples: int = 2048) -> float:
    """Return the share of equal values at a sample of positions counted from the start
    and from the end of both arrays (1.0: alike everywhere sampled); integers counted
    from the end may differ by the difference of the last values (see :func:`array_edit`)."""
    n = min(len(old), len(new))
    if n == 0:
        return 0.0
    at = np.linspace(0, n - 1, samples // 2).astype(np.int64)
    shift = new[-1] - old[-1] if new.dtype.kind in "iu" else 0
    head = old[at] == new[at]
    tail = old[len(old) - 1 - at] + shift == new[len(new) - 1 - at]
    return float(np.concatenate([head, tail]).mean())
