"""Which server a workspace reads its snapshots on: the replica, or the primary while the
replica has not yet replayed this process's last write (see
:mod:`geogrid.db.queries.replication`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from geogrid.db.errors import database_errors
from geogrid.db.queries.replication import current_wal_lsn, replayed_past

__all__ = ["ReadRouter"]


class ReadRouter:
    """Route reads to ``read_engine`` (a streaming replica), except for a process's reads
    of its own writes, which go to ``engine`` (the primary) until the replica holds them.

    With ``read_engine`` the primary itself, every read goes there and nothing is tracked.
    """

    def __init__(self, engine: Engine, read_engine: Engine) -> None:
        self.engine = engine
        self.read_engine = read_engine
        self._primary_until: int | None = None  # a WAL position the replica must reach
        self._guard = threading.Lock()

    def note_write(self) -> None:
        """Remember the primary's WAL position after this process's write."""
        if self.read_engine is self.engine:
            return
        with database_errors(), self.engine.connect() as conn:
            self._until(current_wal_lsn(conn))

    def read(self, reader: Callable[[Connection], Any]) -> Any:
        """Return ``reader(conn)`` on the replica, or on the primary while it must be."""
        engine = self._engine()
        with database_errors(), engine.connect() as conn:
            result = reader(conn)
            if engine is not self.read_engine:
                # read on the primary: the replica must hold what was just read too before
                # reads go back to it, or the data would seem to go back in time
                self._until(current_wal_lsn(conn))
            return result

    def _until(self, lsn: int) -> None:
        with self._guard:
            self._primary_until = max(self._primary_until or 0, lsn)

    def _engine(self) -> Engine:
        with self._guard:
            until = self._primary_until
        if until is None:
            return self.read_engine
        with database_errors(), self.read_engine.connect() as conn:
            caught_up = replayed_past(conn, until)
        if not caught_up:
            return self.engine
        with self._guard:
            if self._primary_until == until:
                self._primary_until = None
        return self.read_engine
