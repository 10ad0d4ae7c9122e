"""Listen for data versions announced by the primary (PostgreSQL LISTEN/NOTIFY).

Every write of a layer bumps its data version and, in the same transaction, sends
``NOTIFY geogrid_layers, 'layer:version'`` (:func:`geogrid.db.queries.replication.
notify_version`). A :class:`VersionListener` holds one connection to the *primary*
(a hot standby cannot LISTEN) and calls back for each announcement, so every API server
rebuilds its indexes within moments of an edit made on any other server, instead of
waiting for its next poll. When the connection drops it reconnects and calls back with
``None`` (an announcement may have been missed: check everything).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from geogrid.db.queries.replication import VERSIONS_CHANNEL

__all__ = ["VersionListener"]

log = logging.getLogger("geogrid.db")


class VersionListener:
    """A daemon thread that LISTENs on the primary and calls ``on_version(layer, version)``
    for each announced version, or ``on_version(None, 0)`` after (re)connecting.

    Parameters
    ----------
    url
        SQLAlchemy URL of the primary.
    on_version
        Called in the listener's thread; it may block (announcements queue meanwhile).
    """

    def __init__(self, url: str, on_version: Callable[[str | None, int], None]) -> None:
        self._conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._on_version = on_version
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="geogrid-listen", daemon=True)

    def start(self) -> VersionListener:
        """Start listening; return self."""
        self._thread.start()
        return self

    def wait_listening(self, timeout_s: float) -> bool:
        """Wait until the LISTEN is in place; False if ``timeout_s`` passed first."""
        return self._listening.wait(timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop listening and wait for the thread (up to ``timeout_s``)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {VERSIONS_CHANNEL}")
                    self._listening.set()
                    self._on_version(None, 0)
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=0.5):
                            layer, _, version = notice.payload.rpartition(":")
                            self._on_version(layer, int(version) if version.isdigit() else 0)
            except psycopg.Error:
                log.warning("listening for data versions failed; retrying in 1 s")
            except Exception:  # a callback failed: keep listening
                log.exception("a data version callback failed")
            self._listening.clear()
            self._stop.wait(1.0)
