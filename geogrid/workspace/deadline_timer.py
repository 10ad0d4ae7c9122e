"""The servers' deadline scan on a timer: one scanner per cluster, not per worker.

Every API process runs a :class:`DeadlineTimer` (setting ``events_scan``, every
``events_scan_interval_s``); at each tick it tries PostgreSQL's advisory lock
(:func:`geogrid.db.queries.deadlines.try_scan_lock`, never waiting) and scans only when
it got it, so of all the workers of all the servers on one database one scans at a
time and the others skip that tick. The scan itself
(:func:`geogrid.workspace.event_actions.scan_deadlines`) reads "now" from the
workspace's clock, so a test or a replay with a manual clock drives it too. A failed
tick (the database is away) is logged, and the next one tries again.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from geogrid.db.errors import database_errors
from geogrid.db.queries.deadlines import release_scan_lock, try_scan_lock
from geogrid.errors import GeoGridError
from geogrid.workspace.event_actions import ScanOutcome, scan_deadlines

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = ["DeadlineTimer", "scan_if_first"]

log = logging.getLogger("geogrid.events")


def scan_if_first(workspace: Workspace) -> ScanOutcome | None:
    """Run the deadline scan unless another session of the cluster is running it (then
    return None at once)."""
    with database_errors(), workspace.engine.connect() as conn:
        taken = try_scan_lock(conn)
        conn.commit()
        if not taken:
            return None
        try:
            return scan_deadlines(workspace)
        finally:
            release_scan_lock(conn)
            conn.commit()


class DeadlineTimer:
    """Run :func:`scan_if_first` every ``interval_s`` seconds in a daemon thread (the
    first tick one interval after :meth:`start`) until :meth:`stop`."""

    def __init__(self, workspace: Workspace, interval_s: float) -> None:
        self.workspace = workspace
        self.interval_s = interval_s
        self.ticks = 0
        """Ticks that scanned (the others found the lock taken, or failed)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> DeadlineTimer:
        """Start the timer's thread; return the timer."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="geogrid-deadline-timer", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the timer (a scan under way finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                done = scan_if_first(self.workspace)
            except GeoGridError as exc:
                log.warning("deadline scan failed: %s", exc.message)
                continue
            if done is not None:
                self.ticks += 1
                if done.reminded or done.escalated:
                    log.info(
                        "deadline scan: %d reminded, %d escalated in %d transactions",
                        done.reminded,
                        done.escalated,
                        done.transactions,
                    )
