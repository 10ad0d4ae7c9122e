"""Edits and the grid index's updates in a helper process; this one only loads what changed.

A process answering requests loses time to any Python work it does meanwhile: one GIL,
and a busy thread takes it back for up to 5 ms at each socket call of the thread
answering. One border edit was ~35 ms of such work (parsing, checking the tiling, SQL)
and ``GridIndex.updated`` ~25 ms more, and one edit per second doubled the ``/locate``
p99. So an API server (``settings.helper_process``) gives both to one helper process:
the edit runs there on the helper's own database connection, and for the index update
this process sends the new grids, the helper updates its copy of the index and sends the
new index back. Through a :class:`~geogrid.workspace._kept_pickle.KeptChannel` both
messages name what the other end holds already by key, so this process only loads the
raster windows that changed and prepares the reshaped polygons (a few ms).

The helper is a ``concurrent.futures`` process pool of one worker, started with
``spawn``; its state (its copy of the index, its workspace) lives in this module's
globals in that process. Any failure of the helper (it died, a message out of step, a
timeout) throws it away with both channel ends, logs a warning, and does the work in this
process instead; the next task starts a new helper.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import geopandas as gpd
from sqlalchemy import Engine

from geogrid.db.engine import create_geogrid_engine
from geogrid.errors import GeoGridError
from geogrid.settings import Settings
from geogrid.spatial.gridindex import SHARED_PARTS, GridIndex, grid_arrays
from geogrid.workspace._kept_pickle import KeptChannel, OutOfStepError

__all__ = ["HelperProcess"]

log = logging.getLogger("geogrid.workspace")

T = TypeVar("T")


class HelperProcess:
    """A helper process that makes this one's edits and grid index updates.

    ``workspace`` makes the helper's own workspace from an engine and the settings (the
    :class:`~geogrid.workspace.Workspace` class: passed, not imported, as the workspace
    package imports this module); ``database_url`` is where it connects.

    Examples
    --------
    >>> helper = HelperProcess(Workspace, url, settings)      # doctest: +SKIP
    >>> helper.hold(index)                                    # doctest: +SKIP
    >>> new = helper.updated(index, grids)                    # doctest: +SKIP
    >>> helper.close()                                        # doctest: +SKIP
    """

    def __init__(
        self,
        workspace: Callable[[Engine, Settings], Any],
        database_url: str,
        settings: Settings,
        timeout_s: float = 120.0,
    ) -> None:
        self.timeout_s = timeout_s
        self._database = (workspace, database_url, settings)
        self._lock = threading.Lock()  # one update at a time: the ends must stay in step
        self._pool: ProcessPoolExecutor | None = None
        self._channel = KeptChannel(SHARED_PARTS, first=True)
        self._mirrored: GridIndex | None = None  # the index whose copy the helper holds

    def hold(self, index: GridIndex) -> None:
        """Start the helper now (else on the first update: its imports take ~1 s) and
        give it a copy of ``index``, so that the first update sends only the grids."""
        with self._lock:
            try:
                self._exchange(index, None)  # its copy comes back by keys: both ends hold it
                self._mirrored = index
            except Exception as exc:  # whatever went wrong there, the index here holds
                log.warning("index helper failed (%s); it starts again on the next update", exc)
                self._restart()

    def holds(self) -> set[str]:
        """What the helper holds now: ``"index"`` once it has a copy of the index,
        ``"workspace"`` once it has made an edit (diagnostics, tests)."""
        return self._started().submit(_holds).result(self.timeout_s)

    def close(self) -> None:
        """Stop the helper once it has finished what it is doing (an update afterwards
        starts another)."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._restart()

    def updated(self, previous: GridIndex, grids: gpd.GeoDataFrame) -> GridIndex:
        """Return ``previous.updated(grids)``, made by the helper.

        Raises as :meth:`GridIndex.updated` does (the grids are refused); any other
        failure (the helper died, a message out of step, a timeout) is logged, the helper
        and both channel ends are thrown away, and the index is updated in this process.
        """
        with self._lock:
            try:
                return self._updated(previous, grids)
            except GeoGridError:
                self._mirrored = None  # the grids were refused: the helper may hold either
                raise
            except Exception as exc:  # the helper died, a message failed, a timeout
                log.warning("index helper failed (%s); updating in this process", exc)
                self._restart()
        return previous.updated(grids)

    def edit(
        self,
        edit: Callable[..., T],
        layer_name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        here: Callable[[], T],
    ) -> T:
        """Run an edit function of :mod:`geogrid.workspace.edits` (its undecorated
        ``__wrapped__``) in the helper, on the helper's own connection to the database;
        return what it returns.

        Raises what the edit raises. Should the helper fail (it died), ``here()`` runs
        the edit in this process instead: its ``If-Match`` refuses it if the helper had
        stored it already.
        """
        try:
            return self._started().submit(_edit, edit, layer_name, args, kwargs).result()  # type: ignore[no-any-return]
        except (BrokenProcessPool, OSError, EOFError) as exc:
            log.warning("edit helper failed (%s); editing in this process", exc)
            with self._lock:
                self._restart()
        return here()

    def _updated(self, previous: GridIndex, grids: gpd.GeoDataFrame) -> GridIndex:
        send_index = None if previous is self._mirrored else previous
        new: GridIndex = self._exchange(send_index, grid_arrays(grids))
        new.keep_metric_trees(previous)
        self._mirrored = new
        return new

    def _exchange(self, index: GridIndex | None, arrays: tuple[Any, ...] | None) -> Any:
        """Send the helper an index to hold and/or grids to update it to (see
        :func:`_update`); return the index it sends back."""
        message = self._channel.dumps((index, arrays))
        return self._channel.loads(self._started().submit(_update, message).result(self.timeout_s))

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            spawn = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=spawn, initializer=_start, initargs=self._database
            )
        return self._pool

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._channel.clear()  # the new helper's end starts empty too
        self._mirrored = None


# ------------------------------------------------------------------- in the helper process

_helper: dict[str, Any] = {}
"""The helper's state: where its workspace connects, its workspace (made by its first
edit), its channel end and its copy of the index."""


def _start(workspace: Callable[[Engine, Settings], Any], url: str, settings: Settings) -> None:
    _helper["database"] = (workspace, url, settings)
    threading.Thread(target=_exit_with_parent, name="geogrid-helper-watch", daemon=True).start()


def _exit_with_parent() -> None:
    """End the helper when the process it helps ends, however that ends (killed, or
    stopped without closing its pool): a pool's worker would else wait for work forever."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)


def _holds() -> set[str]:
    return set(_helper) & {"index", "workspace"}


def _edit(
    edit: Callable[..., Any], layer_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Run an edit function as undecorated: this process answers no request, so the
    caller's process refreshes its indexes afterwards."""
    if "workspace" not in _helper:
        workspace, url, settings = _helper["database"]
        _helper["workspace"] = workspace(create_geogrid_engine(url, settings), settings)
    return edit.__wrapped__(_helper["workspace"], layer_name, *args, **kwargs)  # type: ignore[attr-defined]


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
