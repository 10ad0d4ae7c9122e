"""Update the grid index in a helper process; this one only loads what changed.

A process answering requests loses time to any Python work it does meanwhile: one GIL,
and a busy thread takes it back for up to 5 ms at each socket call of the thread
answering. ``GridIndex.updated`` after one border edit is ~25 ms of such work, and it
showed as a doubled ``/locate`` p99 under one edit per second. So an API server
(``settings.helper_process``) gives each update to one helper process that holds the
same index: it sends the new grids, the helper updates its copy and sends the new index
back, and through a :class:`~geogrid.workspace._kept_pickle.KeptChannel` both messages
name what the other end holds already by key. This process then only loads the rasters
that changed and prepares the reshaped polygons (a few ms).

The helper is a ``concurrent.futures`` process pool of one worker, started with
``spawn``; its state (its copy of the index) lives in this module's globals in that
process. Any failure of the helper (it died, a message out of step, a timeout) throws it
away with both channel ends, logs a warning and updates in this process instead; the
next update starts a new helper.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import geopandas as gpd

from geogrid.errors import GeoGridError
from geogrid.spatial.gridindex import SHARED_PARTS, GridIndex, grid_arrays
from geogrid.workspace._kept_pickle import KeptChannel, OutOfStepError

__all__ = ["HelperProcess"]

log = logging.getLogger("geogrid.workspace")


class HelperProcess:
    """A helper process that makes the grid index's updates for this one.

    Examples
    --------
    >>> helper = HelperProcess()                              # doctest: +SKIP
    >>> new = helper.updated(index, grids)                   # doctest: +SKIP
    >>> helper.close()                                       # doctest: +SKIP
    """

    def __init__(self, timeout_s: float = 120.0) -> None:
        self.timeout_s = timeout_s
        self._lock = threading.Lock()  # one update at a time: the ends must stay in step
        self._pool: ProcessPoolExecutor | None = None
        self._channel = KeptChannel(SHARED_PARTS, first=True)
        self._mirrored: GridIndex | None = None  # the index whose copy the helper holds

    def hold(self, index: GridIndex) -> None:
        """Start the helper now (else on the first update: its imports take ~1 s) and
        give it a copy of ``index``, so that the first update sends only the grids."""
        with self._lock:
            try:
                message = self._channel.dumps((index, None))
                reply = self._started().submit(_update, message).result(self.timeout_s)
                self._channel.loads(reply)  # its copy, by keys: so both ends keep holding it
                self._mirrored = index
            except (BrokenProcessPool, OutOfStepError, TimeoutError, OSError, EOFError) as exc:
                log.warning("index helper failed (%s); it starts again on the next update", exc)
                self._restart()

    def close(self) -> None:
        """Stop the helper (an update afterwards starts another)."""
        with self._lock:
            self._restart()

    def updated(self, previous: GridIndex, grids: gpd.GeoDataFrame) -> GridIndex:
        """Return ``previous.updated(grids)``, made by the helper.

        Raises as :meth:`GridIndex.updated` does; a failure of the helper itself is
        logged, and the index is then updated in this process.
        """
        with self._lock:
            try:
                return self._updated(previous, grids)
            except GeoGridError:
                self._mirrored = None  # the grids were refused: the helper may hold either
                raise
            except (BrokenProcessPool, OutOfStepError, TimeoutError, OSError, EOFError) as exc:
                log.warning("index helper failed (%s); updating in this process", exc)
                self._restart()
        return previous.updated(grids)

    def _updated(self, previous: GridIndex, grids: gpd.GeoDataFrame) -> GridIndex:
        pool = self._started()
        send_index = None if previous is self._mirrored else previous
        message = self._channel.dumps((send_index, grid_arrays(grids)))
        reply = pool.submit(_update, message).result(self.timeout_s)
        new: GridIndex = self._channel.loads(reply)
        new.keep_metric_trees(previous)
        self._mirrored = new
        return new

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            spawn = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=spawn)
        return self._pool

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._channel.clear()  # the new helper's end starts empty too
        self._mirrored = None


# ------------------------------------------------------------------- in the helper process

_helper: dict[str, Any] = {}
"""The helper's state: its channel end and its copy of the index."""


def _update(message: bytes) -> bytes:
    """Load the grids (and the index, when sent), update the index, send it back (or
    only hold the index sent, when no grids came with it)."""
    channel: KeptChannel = _helper.setdefault("channel", KeptChannel(SHARED_PARTS))
    index, arrays = channel.loads(message)
    if index is not None:
        _helper["index"] = index
    if arrays is None:
        return channel.dumps(index)
    if "index" not in _helper:
        raise OutOfStepError("the helper holds no index to update")
    new = _helper["index"].updated_arrays(*arrays)
    _helper["index"] = new
    return channel.dumps(new)
